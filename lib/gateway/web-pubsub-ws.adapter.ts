import {
  Logger,
  type INestApplicationContext,
  type WebSocketAdapter,
  type WsMessageHandler,
} from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import type { Observable } from 'rxjs';
import { InvalidWebPubSubHandlerError } from '../errors/invalid-web-pubsub-handler.error.js';
import { InFlightTracker } from '../events/in-flight.tracker.js';
import { WebPubSubHandlerRegistry } from '../events/web-pubsub-handler.registry.js';
import type {
  ConnectedRequest,
  DisconnectedRequest,
  UserEventRequest,
} from '../interfaces/web-pubsub-request.interface.js';
import { WebPubSubConfigService } from '../config/web-pubsub-config.service.js';
import { WebPubSubServiceClients } from '../service-client/web-pubsub-service-clients.js';
import { WEB_PUBSUB_LOGGER_CONTEXT } from '../web-pubsub.constants.js';
import { GatewayHub } from './gateway-hub.js';
import type { GatewayMessageHandler, GatewayOptions } from './gateway-metadata.js';
import { directMessageCall } from './direct-message-call.js';
import { findGateways, gatewayHub, type GatewayPlan } from './gateway-scanner.js';
import type { WebPubSubServer } from './web-pubsub-server.js';
import type { GatewaySocket, WebPubSubSocket } from './web-pubsub-socket.js';
import { hubKey } from '../protocol/names.js';

/** Options of {@link WebPubSubWsAdapter}. @publicApi */
export interface WebPubSubWsAdapterOptions {
  /**
   * Sockets kept per hub (default 100,000): beyond it a connection not active lately (second
   * chance) is forgotten, and its next event creates a new socket (`handleConnection` runs
   * again). A safety net for connections whose `disconnected` event went to another replica.
   */
  maxSockets?: number;
}

/** The module's parts the adapter works with, found at the first gateway. */
interface Parts {
  readonly config: WebPubSubConfigService;
  readonly registry: WebPubSubHandlerRegistry;
  readonly inFlight: InFlightTracker;
  readonly clients: WebPubSubServiceClients;
}

/** The server Nest asks for without a namespace when no gateway needs one (no default hub). */
const NO_DEFAULT_HUB = Object.freeze({}) as WebPubSubServer;

const DEFAULT_MAX_SOCKETS = 100_000;

/**
 * Runs Nest gateways (`@WebSocketGateway`, `@SubscribeMessage`, `@MessageBody`,
 * `@ConnectedSocket`, `@WebSocketServer`, guards, pipes, interceptors, filters) on Azure Web
 * PubSub: the service holds the sockets and the module's event handler brings their events.
 * A gateway's `namespace` names its hub (without one: the module's default hub).
 *
 * `app.useWebSocketAdapter(new WebPubSubWsAdapter(app))` before `listen()`/`init()`, with
 * `WebPubSubModule` imported. `@nestjs/websockets` is needed for the decorators only; this
 * adapter never loads it.
 * @publicApi
 */
export class WebPubSubWsAdapter implements WebSocketAdapter<WebPubSubServer, WebPubSubSocket> {
  /** Set by Nest from the app options; there is nothing to force-close here. */
  forceCloseConnections?: boolean;
  private readonly logger = new Logger(WEB_PUBSUB_LOGGER_CONTEXT);
  readonly #hubs = new Map<string, GatewayHub>();
  readonly #servers = new Map<WebPubSubServer, GatewayHub>();
  #parts: Parts | undefined;

  constructor(
    private readonly app: INestApplicationContext,
    private readonly options: WebPubSubWsAdapterOptions = {},
  ) {
    const max = options.maxSockets;
    if (max !== undefined && (!Number.isInteger(max) || max < 1))
      throw new TypeError('WebPubSubWsAdapter maxSockets must be a positive integer');
  }

  /** Nest asks for a server per gateway: the hub its namespace names. */
  create(_port: number, options: GatewayOptions = {}): WebPubSubServer {
    const parts = this.setUp();
    const namespace = options.namespace;
    if (namespace === undefined || namespace === null || namespace === '') {
      const hub = parts.config.defaultHub;
      return hub === undefined ? NO_DEFAULT_HUB : this.hub(hub).server;
    }
    return this.hub(gatewayHub(namespace, parts.config, 'A gateway')).server;
  }

  bindClientConnect(server: WebPubSubServer, callback: (socket: WebPubSubSocket) => void): void {
    const hub = this.#servers.get(server);
    if (!hub)
      throw new InvalidWebPubSubHandlerError('A gateway has no hub: name it with namespace');
    hub.onConnection(callback);
  }

  bindClientDisconnect(client: WebPubSubSocket, callback: (reason?: string) => void): void {
    (client as GatewaySocket).onDisconnect(callback);
  }

  bindMessageHandlers(
    client: WebPubSubSocket,
    handlers: WsMessageHandler[],
    _transform: (data: unknown) => Observable<unknown>,
  ): void {
    const socket = client as GatewaySocket;
    for (const handler of handlers as GatewayMessageHandler[])
      socket.handlers.set(String(handler.message), handler);
  }

  /** `app.close()`: streams of Observable results end; the connections stay with the service. */
  close(server: WebPubSubServer): void {
    this.#servers.get(server)?.close();
  }

  dispose(): void {
    this.#hubs.clear();
    this.#servers.clear();
  }

  /** Once, at the first gateway: every gateway's messages join the module's handlers. */
  private setUp(): Parts {
    if (this.#parts) return this.#parts;
    const parts = this.moduleParts();
    this.#parts = parts;
    const plans = findGateways(this.app.get(ModulesContainer, { strict: false }), parts.config);
    const connectionHubs = new Set<GatewayHub>();
    const globalEnhancers = this.hasGlobalEnhancers();
    for (const plan of plans) {
      const hub = this.hub(plan.hub);
      for (const { message, methodName } of plan.messages) {
        const direct = directMessageCall(plan.instance, methodName, message, globalEnhancers);
        if (direct) hub.direct(message, direct);
        parts.registry.add(
          { kind: 'user', event: message, hub: plan.hub },
          {
            name: `${plan.className}.${methodName} (@SubscribeMessage)`,
            source: 'gateway',
            call: request => hub.message(request as UserEventRequest, message),
          },
        );
      }
      if (typeof plan.instance.handleConnection === 'function') connectionHubs.add(hub);
      this.guardLifecycleHooks(plan);
      this.logger.log(
        `Gateway ${plan.className} serves hub "${plan.hub}" (${plan.messages.length} message${plan.messages.length === 1 ? '' : 's'})`,
      );
    }
    for (const hub of new Set(this.#hubs.values())) {
      if (connectionHubs.has(hub))
        parts.registry.add(
          { kind: 'connected', event: 'connected', hub: hub.hub },
          {
            name: `gateways of hub "${hub.hub}"`,
            call: request => hub.connected(request as ConnectedRequest),
          },
        );
      parts.registry.add(
        { kind: 'disconnected', event: 'disconnected', hub: hub.hub },
        {
          name: `gateways of hub "${hub.hub}"`,
          call: request => hub.disconnected(request as DisconnectedRequest),
        },
      );
    }
    return parts;
  }

  /**
   * Whether the app has global guards, interceptors, pipes or filters (Nest 12 applies them to
   * gateways): then every message goes through Nest's proxy. Unknown app internals count as yes.
   */
  private hasGlobalEnhancers(): boolean {
    const config = (this.app as unknown as { config?: Record<string, unknown> }).config;
    const getters = [
      'getGlobalGuards',
      'getGlobalInterceptors',
      'getGlobalPipes',
      'getGlobalFilters',
      'getGlobalRequestGuards',
      'getGlobalRequestInterceptors',
      'getGlobalRequestPipes',
      'getGlobalRequestFilters',
    ];
    if (!config || getters.some(name => typeof config[name] !== 'function')) return true;
    return getters.some(name => (config[name] as () => unknown[]).call(config).length > 0);
  }

  private moduleParts(): Parts {
    try {
      return {
        config: this.app.get(WebPubSubConfigService, { strict: false }),
        registry: this.app.get(WebPubSubHandlerRegistry, { strict: false }),
        inFlight: this.app.get(InFlightTracker, { strict: false }),
        clients: this.app.get(WebPubSubServiceClients, { strict: false }),
      };
    } catch {
      throw new InvalidWebPubSubHandlerError(
        'WebPubSubWsAdapter serves gateways through WebPubSubModule: import WebPubSubModule.forRoot() (or forRootAsync()) in the app',
      );
    }
  }

  private hub(name: string): GatewayHub {
    const key = hubKey(name);
    let hub = this.#hubs.get(key);
    if (!hub) {
      const parts = this.#parts as Parts;
      hub = new GatewayHub({
        hub: name,
        serviceClient: () => parts.clients.get(name),
        inFlight: parts.inFlight,
        logger: this.logger,
        maxSockets: this.options.maxSockets ?? DEFAULT_MAX_SOCKETS,
        ackTimeoutMs: parts.config.handlerTimeout,
      });
      this.#hubs.set(key, hub);
      this.#servers.set(hub.server, hub);
    }
    return hub;
  }

  /**
   * Nest ignores what `handleConnection`/`handleDisconnect` return, and an error they throw would
   * surface as an uncaught exception: each is wrapped on the instance so that its failure is
   * logged and its promise is counted in flight (app.close() waits for it).
   */
  private guardLifecycleHooks(plan: GatewayPlan): void {
    const { inFlight } = this.#parts as Parts;
    const logger = this.logger;
    for (const name of ['handleConnection', 'handleDisconnect']) {
      const original = plan.instance[name];
      if (typeof original !== 'function') continue;
      const where = `${plan.className}.${name}`;
      const failed = (error: unknown): void =>
        logger.error(`${where} failed`, error instanceof Error ? error.stack : String(error));
      Object.defineProperty(plan.instance, name, {
        configurable: true,
        writable: true,
        value: function guarded(this: unknown, ...args: unknown[]): unknown {
          inFlight.begin();
          let result: unknown;
          try {
            result = (original as (...args: unknown[]) => unknown).apply(this, args);
          } catch (error) {
            inFlight.end();
            failed(error);
            return undefined;
          }
          if (typeof (result as PromiseLike<unknown> | undefined)?.then !== 'function') {
            inFlight.end();
            return result;
          }
          return Promise.resolve(result).then(
            value => {
              inFlight.end();
              return value;
            },
            error => {
              inFlight.end();
              failed(error);
            },
          );
        },
      });
    }
  }
}
