import { Inject, Injectable } from '@nestjs/common';
import { ModuleRef, ModulesContainer } from '@nestjs/core';
import type { WebPubSubServiceClient } from '@azure/web-pubsub';
import { UnknownWebPubSubHubError } from '../errors/unknown-web-pubsub-hub.error.js';
import { WebPubSubOptionsError } from '../errors/web-pubsub-options.error.js';
import type { WebPubSubModuleOptions } from '../interfaces/web-pubsub-module-options.interface.js';
import { serviceEndpoints, WebPubSubConfigService } from '../config/web-pubsub-config.service.js';
import { hubNameProblem, hubKey, sameHub } from '../protocol/names.js';
import { WEB_PUBSUB_MODULE_OPTIONS } from '../web-pubsub.constants.js';
import { createServiceClient, resolveServiceClientSource } from './service-client.builder.js';
import { isTokenInjected } from './injected-tokens.js';
import {
  isUnavailableServiceClient,
  unavailableServiceClient,
} from './unavailable-service-client.js';
import { getWebPubSubServiceClientToken } from './web-pubsub-service-client.token.js';

/**
 * The `WebPubSubServiceClient` of each hub, for hub names known only at run time
 * (`clients.get(room.hub)`). Clients are built on first use and kept; a client put in place of a
 * hub's token (`overrideProvider(getWebPubSubServiceClientToken(hub))`) is the one returned.
 * @publicApi
 */
@Injectable()
export class WebPubSubServiceClients {
  readonly #clients = new Map<string, WebPubSubServiceClient>();

  constructor(
    private readonly config: WebPubSubConfigService,
    @Inject(WEB_PUBSUB_MODULE_OPTIONS) private readonly options: WebPubSubModuleOptions,
    private readonly moduleRef: ModuleRef,
    private readonly container: ModulesContainer,
  ) {}

  /** The hubs served, as configured (`[]` when every hub is served). */
  get hubs(): readonly string[] {
    return this.config.hubs ?? [];
  }

  /** The hub `get()` uses without an argument (`defaultHub`, else the only hub). */
  get defaultHub(): string | undefined {
    return this.config.defaultHub;
  }

  /**
   * The client of `hub` (case-insensitive), or of the default hub.
   * @throws UnknownWebPubSubHubError for a hub the module does not serve (listing those it does).
   * @throws WebPubSubOptionsError when no credentials are configured for the client.
   */
  get(hub?: string): WebPubSubServiceClient {
    const name = this.hubName(hub);
    const token = getWebPubSubServiceClientToken(name);
    const replacement = this.replacement(token);
    if (replacement) return replacement;
    return this.create(name);
  }

  /**
   * @internal the factory of a hub's token (`hub` undefined: the default hub's token). When the
   * client cannot be built, the start-up fails if something injects the token; otherwise the token
   * holds a placeholder whose first use throws the same error, so an app that never uses a client
   * needs no client credentials.
   */
  provide(hub: string | undefined, token: string): WebPubSubServiceClient {
    try {
      // The default token follows a replaced hub token (overrideProvider) like get() does.
      return hub === undefined ? this.get() : this.create(hub);
    } catch (error) {
      if (isTokenInjected(this.container, token)) throw error;
      return unavailableServiceClient(error);
    }
  }

  /** @internal builds (once) the SDK client of a served hub (`undefined`: the default hub). */
  create(hub: string | undefined): WebPubSubServiceClient {
    const name = this.hubName(hub);
    const key = hubKey(name);
    let client = this.#clients.get(key);
    if (!client) {
      const source = resolveServiceClientSource(
        name,
        this.options ?? {},
        serviceEndpoints(this.config),
      );
      if ('problem' in source) throw new WebPubSubOptionsError([source.problem]);
      client = createServiceClient(name, source);
      this.#clients.set(key, client);
    }
    return client;
  }

  /** The configured spelling of `hub`, or the default hub. */
  private hubName(hub: string | undefined): string {
    if (hub === undefined) {
      const fallback = this.config.defaultHub;
      if (fallback !== undefined) return fallback;
      throw new WebPubSubOptionsError([
        this.hubs.length === 0
          ? 'A WebPubSubServiceClient was asked for without a hub name, and no hub is configured: give hub (in forRootAsync(), next to useFactory)'
          : `A WebPubSubServiceClient was asked for without a hub name, but several hubs are served (${this.hubs.map(name => `"${name}"`).join(', ')}) and no defaultHub is set: name the hub`,
      ]);
    }
    if (typeof hub !== 'string') throw new UnknownWebPubSubHubError(String(hub), this.hubs);
    const problem = hubNameProblem(hub);
    if (problem) throw new WebPubSubOptionsError([`hub ${problem}`]);
    if (this.config.hubs === undefined) return hub;
    const match = this.config.hubs.find(served => sameHub(served, hub));
    if (match === undefined) throw new UnknownWebPubSubHubError(hub, this.hubs);
    return match;
  }

  /** A client registered in place of the module's (a test's `overrideProvider(...).useValue`). */
  private replacement(token: string): WebPubSubServiceClient | undefined {
    let instance: unknown;
    try {
      instance = this.moduleRef.get<WebPubSubServiceClient>(token, { strict: false });
    } catch {
      return undefined;
    }
    if (instance === null || instance === undefined || isUnavailableServiceClient(instance)) {
      return undefined;
    }
    return instance as WebPubSubServiceClient;
  }
}
