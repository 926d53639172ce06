import type { INestApplication, INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { useAzureSocketIO } from '@azure/web-pubsub-socket.io';
import type { WebPubSubCredential } from '../interfaces/web-pubsub-service-client.interface.js';
import type { WebPubSubModuleOptions } from '../interfaces/web-pubsub-module-options.interface.js';
import { serviceEndpoints, WebPubSubConfigService } from '../config/web-pubsub-config.service.js';
import { resolveServiceClientSource } from '../service-client/service-client.builder.js';
import { WEB_PUBSUB_MODULE_OPTIONS } from '../web-pubsub.constants.js';
import { releaseSdkTimersOnClose } from './sdk-timers.js';
import { hubKey } from '../protocol/names.js';

/** Options of {@link WebPubSubSocketIoAdapter}; without them, the hub and credentials are `WebPubSubModule`'s. @publicApi */
export interface WebPubSubSocketIoAdapterOptions {
  /**
   * The Web PubSub for Socket.IO hub of the app's socket.io server. Default: the module's
   * `defaultHub` (or only hub). Gateways on another `path` make another server: give each its hub
   * in `hubsByPath`.
   */
  readonly hub?: string;
  /** A hub per socket.io `path` (the gateways' `path` option, default `/socket.io`). */
  readonly hubsByPath?: Readonly<Record<string, string>>;
  /** `Endpoint=https://<name>.webpubsub.azure.com;AccessKey=<key>;Version=1.0;`. Default: the module's. */
  readonly connectionString?: string;
  /** With `credential`, instead of a connection string. */
  readonly endpoint?: string;
  readonly credential?: WebPubSubCredential;
  /** How long start-up waits for the service to accept the server's tunnel. Default 30 000 ms. */
  readonly readyTimeoutMs?: number;
}

/** The service did not take the server in time, or refused its settings. @publicApi */
export class WebPubSubSocketIoStartupError extends Error {
  override readonly name = 'WebPubSubSocketIoStartupError';
}

/** The socket.io types of Nest's own copy (it pins one; the SDK brings another). */
type Server = ReturnType<IoAdapter['createIOServer']>;
type ServerOptions = NonNullable<Parameters<IoAdapter['createIOServer']>[1]>;

export const DEFAULT_READY_TIMEOUT_MS = 30_000;
const DEFAULT_PATH = '/socket.io';

type AzureSettings =
  | { hub: string; connectionString: string }
  | { hub: string; endpoint: string; credential: WebPubSubCredential };

/**
 * Nest's `IoAdapter`, with every socket.io server it creates served by Azure Web PubSub for
 * Socket.IO (`useAzureSocketIO`): clients connect to the service (or the emulator), the server
 * keeps its gateways, rooms, acks and namespaces. In `main.ts`:
 *
 * ```ts
 * const app = await NestFactory.create(AppModule);
 * app.useWebSocketAdapter(new WebPubSubSocketIoAdapter(app));
 * await app.listen(3000);
 * ```
 *
 * `app.init()` (and so `app.listen()`) waits until the service has accepted each server, and fails
 * with a {@link WebPubSubSocketIoStartupError} naming the hub and endpoint after `readyTimeoutMs`.
 * `app.close()` closes each server and its tunnel, and releases the SDK's timers that would keep
 * the process running after it (`sdk-timers.ts`). The SDK's socket.io (4.7) and Nest's (4.8)
 * are different copies: the adapter calls `useAzureSocketIO(server, ...)` as a function and never
 * relies on the SDK's `Server.prototype` additions or `negotiate(io)`; clients get their URL from
 * `WebPubSubModule`'s negotiate route with `?protocol=socketio`.
 * @publicApi
 */
export class WebPubSubSocketIoAdapter extends IoAdapter {
  readonly #app: INestApplicationContext;
  readonly #options: WebPubSubSocketIoAdapterOptions;
  readonly #starting: Promise<void>[] = [];
  /** Hub (lower case) → the path of the server on it. */
  readonly #hubs = new Map<string, string>();

  constructor(app: INestApplication, options: WebPubSubSocketIoAdapterOptions = {}) {
    super(app);
    this.#app = app;
    this.#options = options;
    // Nest creates the gateways' servers inside init() and cannot wait there; the app's own
    // init() (which listen() calls) waits for the service once they exist.
    const init = app.init.bind(app);
    app.init = async () => {
      await init();
      await this.ready();
      return app;
    };
  }

  /** Settles when the service has accepted every server created so far (rejects as start-up would). */
  async ready(): Promise<void> {
    await Promise.all(this.#starting);
  }

  override createIOServer(port: number, options?: ServerOptions): Server {
    if (port !== 0) {
      throw new WebPubSubSocketIoStartupError(
        `@WebSocketGateway(${port}) asks for a port of its own, but on Web PubSub for Socket.IO clients connect to the service, which reaches the app through its HTTP server: remove the port`,
      );
    }
    const path = options?.path ?? DEFAULT_PATH;
    const settings = this.#settings(path);
    const taken = this.#hubs.get(hubKey(settings.hub));
    if (taken !== undefined) {
      throw new WebPubSubSocketIoStartupError(
        `Two socket.io servers (paths ${taken} and ${path}) would share hub "${settings.hub}", and the service would split clients between them: give each path its hub in hubsByPath, or use one path`,
      );
    }
    this.#hubs.set(hubKey(settings.hub), path);
    const server = super.createIOServer(0, options);
    this.#starting.push(this.#start(server, settings));
    return server;
  }

  async #start(server: Server, settings: AzureSettings): Promise<void> {
    const timeoutMs = this.#options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
    const where =
      'connectionString' in settings ? endpointOf(settings.connectionString) : settings.endpoint;
    let timer: NodeJS.Timeout | undefined;
    // The SDK types its own socket.io copy (4.7); the server is Nest's (4.8): same shape.
    const started = useAzureSocketIO(server as never, settings as never);
    // Its synchronous part has built the engine and started the first tunnel.
    releaseSdkTimersOnClose(server);
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new WebPubSubSocketIoStartupError(
              `Web PubSub for Socket.IO did not accept the socket.io server of hub "${settings.hub}" at ${where} within ${timeoutMs} ms (its tunnel keeps failing): check the endpoint, the access key or credential, and that the resource is a Socket.IO one (or that the emulator runs)`,
            ),
          ),
        timeoutMs,
      );
    });
    try {
      await Promise.race([started, timedOut]);
    } catch (error) {
      // Stop the tunnel's retries: the SDK would try every 2 s forever.
      stopEngine(server);
      started.catch(() => undefined);
      if (error instanceof WebPubSubSocketIoStartupError) throw error;
      throw new WebPubSubSocketIoStartupError(
        `useAzureSocketIO failed for hub "${settings.hub}" at ${where}: ${error instanceof Error ? error.message : String(error)}`,
      );
    } finally {
      clearTimeout(timer);
    }
  }

  /** Closes the server and its tunnel (Nest's `IoAdapter` skips `close()` with `forceCloseConnections`). */
  override async close(server: Server): Promise<void> {
    if (this.forceCloseConnections && server.httpServer === this.httpServer) {
      await server.disconnectSockets(true);
      stopEngine(server);
      return;
    }
    await super.close(server);
  }

  #settings(path: string): AzureSettings {
    const options = this.#options;
    const config = this.#optional(WebPubSubConfigService);
    const hub =
      options.hubsByPath?.[path] ??
      (path === DEFAULT_PATH || options.hubsByPath === undefined ? options.hub : undefined) ??
      (path === DEFAULT_PATH ? config?.defaultHub : undefined);
    if (!hub) {
      throw new WebPubSubSocketIoStartupError(
        path === DEFAULT_PATH
          ? 'WebPubSubSocketIoAdapter needs a hub: give { hub } or configure WebPubSubModule with one hub (or defaultHub)'
          : `No hub for the socket.io server at path ${path}: give it one in hubsByPath`,
      );
    }
    if (options.connectionString) return { hub, connectionString: options.connectionString };
    if (options.endpoint && options.credential) {
      return { hub, endpoint: options.endpoint, credential: options.credential };
    }
    const moduleOptions = this.#optional<WebPubSubModuleOptions>(WEB_PUBSUB_MODULE_OPTIONS);
    if (config && moduleOptions) {
      const source = resolveServiceClientSource(hub, moduleOptions, serviceEndpoints(config));
      if (!('problem' in source)) {
        return {
          hub,
          endpoint: source.endpoint,
          credential: source.credential,
        };
      }
      throw new WebPubSubSocketIoStartupError(source.problem);
    }
    throw new WebPubSubSocketIoStartupError(
      'WebPubSubSocketIoAdapter needs credentials: give { connectionString } or { endpoint, credential }, or import WebPubSubModule with them',
    );
  }

  #optional<T>(token: string | (abstract new (...args: never[]) => T)): T | undefined {
    try {
      return this.#app.get<T>(token as never, { strict: false });
    } catch {
      return undefined;
    }
  }
}

function stopEngine(server: Server): void {
  try {
    server.engine.close();
  } catch {
    // Already closed.
  }
}

function endpointOf(connectionString: string): string {
  return (
    /(?:^|;)\s*Endpoint=([^;]+)/i.exec(connectionString)?.[1] ?? 'the connection string’s endpoint'
  );
}
