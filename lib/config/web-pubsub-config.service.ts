import { Inject, Injectable, Optional } from '@nestjs/common';
import { WebPubSubOptionsError } from '../errors/web-pubsub-options.error.js';
import type { WebPubSubModuleOptions } from '../interfaces/web-pubsub-module-options.interface.js';
import { AbuseProtection } from '../protocol/abuse-protection.js';
import {
  WEB_PUBSUB_MODULE_OPTIONS,
  WEB_PUBSUB_PATH,
  WEB_PUBSUB_STATIC_HUBS,
  type StaticHubs,
} from '../web-pubsub.constants.js';
import { resolveWebPubSubOptions, type ResolvedWebPubSubOptions } from './web-pubsub-options.js';
import { hubKey, sameHub } from '../protocol/names.js';

/** A Web PubSub resource the module accepts events from (keys are never exposed). @publicApi */
export interface WebPubSubServiceEndpointInfo {
  /** e.g. `https://my-pubsub.webpubsub.azure.com` */
  readonly endpoint: string;
  readonly host: string;
  /** Whether its connection string has an access key (and so signs the events it sends). */
  readonly hasAccessKey: boolean;
}

/** The resolved options without key material (access keys, connection strings). */
export type ResolvedWebPubSubSettings = Omit<
  ResolvedWebPubSubOptions,
  'keysByHost' | 'accessKeys' | 'endpoints'
>;

/** Key material of each config service, kept out of every member of the (public) class. */
const ACCESS_KEYS = new WeakMap<WebPubSubConfigService, ResolvedWebPubSubOptions['keysByHost']>();

/**
 * The access keys of each service host, for the module's authenticator only: not a member of
 * `WebPubSubConfigService` and not exported from the package.
 */
export function accessKeysByHost(
  config: WebPubSubConfigService,
): ResolvedWebPubSubOptions['keysByHost'] {
  const keys = ACCESS_KEYS.get(config);
  if (!keys) throw new Error('WebPubSubConfigService was not constructed by the module');
  return keys;
}

/** Connection strings' endpoints (with their keys), for the module's service clients only. */
const ENDPOINTS = new WeakMap<WebPubSubConfigService, ResolvedWebPubSubOptions['endpoints']>();

/**
 * The parsed connection strings, keys included, for the service-client builder only: not a
 * member of `WebPubSubConfigService` and not exported from the package.
 */
export function serviceEndpoints(
  config: WebPubSubConfigService,
): ResolvedWebPubSubOptions['endpoints'] {
  const endpoints = ENDPOINTS.get(config);
  if (!endpoints) throw new Error('WebPubSubConfigService was not constructed by the module');
  return endpoints;
}

/**
 * The module's resolved configuration, injectable anywhere the module is visible.
 * Built (and validated) once at start-up: invalid options make the app fail to start.
 * No member, public or private, holds an access key or a connection string.
 * @publicApi
 */
@Injectable()
export class WebPubSubConfigService {
  /** The hubs served as configured; `undefined` when every hub is served. */
  readonly hubs: readonly string[] | undefined;
  /**
   * The hub `@InjectWebPubSubServiceClient()` and the negotiate route use without a hub name:
   * `defaultHub`, else the only hub served.
   */
  readonly defaultHub: string | undefined;
  /** The controller path, e.g. `/eventhandler` (before any global prefix). */
  readonly path: string;
  readonly endpoints: readonly WebPubSubServiceEndpointInfo[];
  /** Hosts the abuse-protection handshake allows; empty when every origin is allowed. */
  readonly allowedOrigins: readonly string[];
  /** Whether `ce-signature` is checked (an access key or a key provider is configured). */
  readonly signatureValidation: boolean;
  /** Whether the managed-identity bearer token is required and verified. */
  readonly bearerTokenValidation: boolean;
  /** Whether a POST must come from an allowed service origin (any endpoint is configured). */
  readonly originValidation: boolean;
  readonly maxBodySize: number;
  /** Whether retried events are answered from the de-duplication store. */
  readonly deduplication: boolean;
  /** Milliseconds a handler may take (`0`: no limit). */
  readonly handlerTimeout: number;
  /** Whether OpenTelemetry spans and metrics are recorded (when `@opentelemetry/api` is installed). */
  readonly telemetry: boolean;

  /** @internal */
  readonly abuseProtection: AbuseProtection;
  readonly #hubs: ReadonlySet<string> | undefined;
  readonly #settings: ResolvedWebPubSubSettings;

  constructor(
    @Inject(WEB_PUBSUB_MODULE_OPTIONS) options: WebPubSubModuleOptions,
    @Inject(WEB_PUBSUB_PATH) path: string,
    @Optional() @Inject(WEB_PUBSUB_STATIC_HUBS) staticHubs?: StaticHubs,
  ) {
    const resolved = resolveWebPubSubOptions(withStaticHubs(options, staticHubs));
    const { keysByHost, accessKeys: _keys, endpoints, ...settings } = resolved;
    ACCESS_KEYS.set(this, keysByHost);
    ENDPOINTS.set(this, endpoints);
    this.#settings = settings;
    this.hubs = resolved.hubs;
    this.#hubs = resolved.hubs && new Set(resolved.hubs.map(hubKey));
    this.path = path;
    this.endpoints = resolved.endpoints.map(({ endpoint, host, accessKey }) => ({
      endpoint,
      host,
      hasAccessKey: accessKey !== undefined,
    }));
    this.allowedOrigins = resolved.allowedHosts;
    this.maxBodySize = resolved.maxBodySize;
    this.handlerTimeout = resolved.handlerTimeout;
    this.telemetry = resolved.telemetry;
    this.deduplication = resolved.deduplication !== undefined;
    this.signatureValidation =
      resolved.accessKeys.length > 0 || resolved.accessKeyProvider !== undefined;
    this.bearerTokenValidation = resolved.managedIdentity !== undefined;
    this.originValidation = resolved.allowedHosts.length > 0;
    this.abuseProtection = new AbuseProtection(resolved.allowedHosts);
    this.defaultHub = resolveDefaultHub(resolved.hubs, staticHubs?.defaultHub);
  }

  /** @internal the resolved options for the module's own providers, without any key. */
  resolvedOptions(): ResolvedWebPubSubSettings {
    return this.#settings;
  }

  /** Whether events for `hub` are served (case-insensitive). */
  servesHub(hub: string): boolean {
    return this.#hubs === undefined || this.#hubs.has(hubKey(hub));
  }
}

/**
 * `hub` given next to `useFactory` (static, for the per-hub injection tokens) stands for the
 * factory's `hub` when the factory gives none; both given must name the same hubs.
 */
function withStaticHubs(
  options: WebPubSubModuleOptions,
  staticHubs: StaticHubs | undefined,
): WebPubSubModuleOptions {
  const fixed = staticHubs?.hub;
  if (fixed === undefined || fixed === null) return options;
  const given = options?.hub;
  if (given === undefined || given === null) return { ...options, hub: fixed };
  const names = (hub: string | string[]) =>
    [...new Set((Array.isArray(hub) ? hub : [hub]).map(name => hubKey(String(name))))]
      .sort()
      .join(', ');
  if (names(given) !== names(fixed)) {
    throw new WebPubSubOptionsError([
      `hub given next to useFactory (${names(fixed)}) differs from the hub the factory returned (${names(given)})`,
    ]);
  }
  return options;
}

function resolveDefaultHub(
  hubs: readonly string[] | undefined,
  defaultHub: string | undefined,
): string | undefined {
  if (defaultHub === undefined || defaultHub === null) {
    return hubs?.length === 1 ? hubs[0] : undefined;
  }
  const match = hubs?.find(hub => sameHub(hub, String(defaultHub)));
  if (match === undefined) {
    throw new WebPubSubOptionsError([
      hubs === undefined
        ? `defaultHub "${defaultHub}" needs hub: list the hubs served`
        : `defaultHub "${defaultHub}" is not one of the hubs served (${hubs.map(hub => `"${hub}"`).join(', ')})`,
    ]);
  }
  return match;
}
