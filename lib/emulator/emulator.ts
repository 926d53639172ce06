/**
 * `startEmulator()`: a local Azure Web PubSub on one port — the client WebSocket endpoint, the REST
 * data plane under `/api/`, and the live view at `/`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { ClientEndpoint } from './clients/client-endpoint.js';
import { DEFAULT_SESSION_LIMITS, type SessionLimits } from './clients/session-limits.js';
import type { HubOperations } from './state/hub-operations.js';
import { HubRegistry } from './state/hubs.js';
import { createRestApi } from './rest/rest-api.js';
import { createLiveView } from './live-view/live-view.js';
import { MqttEndpoint } from './mqtt/mqtt-endpoint.js';
import { createSocketIoMode } from './socket-io/socket-io-mode.js';
import { ConfigFile } from './config-file.js';
import { TrafficLog } from './traffic-log.js';
import { validateEmulatorOptions, type EmulatorSettings } from './emulator-options.js';
import { DEFAULT_UPSTREAM_TIMINGS, Upstream, type UpstreamTimings } from './upstream/upstream.js';
import {
  clientErrorAnswer,
  DEFAULT_HTTP_LIMITS,
  serverTimeouts,
  StalledRequests,
  type HttpLimits,
} from './http-limits.js';

/** The development access key the emulator uses unless told otherwise. Not a secret: it is printed. */
export const EMULATOR_ACCESS_KEY = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH';
export const EMULATOR_DEFAULT_PORT = 8080;

export type { EventHandlerSettings, HubSettings } from './emulator-options.js';

/** The REST data plane's hook (`rest-api.ts`). */
export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;
/** The live view's hook: answers the request and returns true, or returns false when the path is not its own. */
export type ViewHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

export interface RestApiFactoryOptions {
  readonly hubs: HubOperations;
  readonly accessKey: string;
  readonly traffic: TrafficLog;
  readonly log: (line: string) => void;
  /** How slowly a request body may arrive (`http-limits.ts`). */
  readonly limits?: HttpLimits;
}
export type RestApiFactory = (options: RestApiFactoryOptions) => {
  handleRestRequest: RequestHandler;
};
export type LiveViewFactory = (options: {
  hubs: HubOperations;
  traffic: TrafficLog;
}) => ViewHandler;

/** Knobs for tests: the service's values by default. */
export interface EmulatorTimings extends UpstreamTimings, SessionLimits, HttpLimits {
  /** Interval of the server's pings; a socket that misses one is cut. Default 30 s. */
  keepAliveIntervalMs: number;
}

/**
 * Options of {@link startEmulator}: `port` (default 8080; 0 = a free port), `host` (default
 * `127.0.0.1`), `accessKey` (default {@link EMULATOR_ACCESS_KEY}), `hubs` (the service's hub
 * settings), `log` (one line per connection, upstream call and REST call; default: stdout).
 */
export interface EmulatorOptions extends EmulatorSettings {
  /** How many traffic records the live view keeps. Default 500. */
  readonly trafficCapacity?: number;
  /** Timeouts, retry delays, recovery window, buffer limits (tests shorten them); the service's values by default. */
  readonly timings?: Partial<EmulatorTimings>;
  /** @internal the REST data plane; default: `createRestApi` (tests may swap it). */
  readonly restApi?: RestApiFactory;
  /** @internal the live view (default: `createLiveView`); tests may swap it. */
  readonly liveView?: LiveViewFactory;
}

export interface RunningEmulator {
  /** `http://<host>:<port>` */
  readonly endpoint: string;
  /** `Endpoint=http://<host>:<port>;AccessKey=<key>;Version=1.0;` */
  readonly connectionString: string;
  readonly accessKey: string;
  readonly port: number;
  /** @internal state and traffic, for the bin and tests. */
  readonly hubs: HubOperations;
  readonly traffic: TrafficLog;
  /** Closes every client (1001), aborts upstream calls and stops listening; leaves no handle behind. */
  close(): Promise<void>;
}

/**
 * The message of a port already taken, naming the setting to change: the option `port` for code,
 * `--port` for the command line.
 */
export function portInUse(port: number, host: string, setting: 'port' | '--port'): string {
  const free = setting === 'port' ? 'port: 0' : '--port 0';
  return `emulator port ${port} on ${host} is in use (pick another with ${setting}, or ${free} for a free one)`;
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  const { timings: given, trafficCapacity, restApi, liveView, ...settings } = options;
  validateEmulatorOptions(settings);
  const port = options.port ?? EMULATOR_DEFAULT_PORT;
  const host = options.host ?? '127.0.0.1';
  const accessKey = options.accessKey ?? EMULATOR_ACCESS_KEY;
  const sink = options.log ?? ((line: string) => console.log(line));
  // A log sink that throws must not cut short what the emulator was doing (ending a connection).
  const log = (line: string): void => {
    try {
      sink(line);
    } catch {
      // nowhere left to say it
    }
  };
  const config =
    options.configFile === undefined
      ? undefined
      : new ConfigFile({ path: options.configFile, extra: options.hubs ?? {}, log });
  const hubSettings = config?.hubs ?? options.hubs ?? {};
  const timings: EmulatorTimings = {
    ...DEFAULT_UPSTREAM_TIMINGS,
    ...DEFAULT_SESSION_LIMITS,
    ...DEFAULT_HTTP_LIMITS,
    keepAliveIntervalMs: 30_000,
    ...given,
  };
  const traffic = new TrafficLog(trafficCapacity);
  const hubs = new HubRegistry(Object.keys(hubSettings));
  const publicHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
  const upstream = new Upstream(hubSettings, {
    accessKey,
    origin: publicHost,
    traffic,
    log,
    timings,
  });
  const clients = new ClientEndpoint({
    accessKey,
    hubs,
    upstream,
    traffic,
    log,
    limits: timings,
    keepAliveIntervalMs: timings.keepAliveIntervalMs,
  });
  const rest = (restApi ?? createRestApi)({
    hubs,
    accessKey,
    traffic,
    log,
    limits: timings,
  }).handleRestRequest;
  const view: ViewHandler & { close?(): void } = (liveView ?? createLiveView)({ hubs, traffic });
  const mqtt = new MqttEndpoint({ accessKey, hubs, upstream, traffic, log, limits: timings });
  const socketIo = createSocketIoMode({
    accessKey,
    hubs,
    traffic,
    log,
    origin: publicHost,
    anonymousConnectPolicy: hub => upstream.settings(hub)?.anonymousConnectPolicy,
    timings,
  });

  const sockets = new Set<Socket>();
  const stalled = new StalledRequests(timings, log);
  const server: Server = createServer(serverTimeouts(timings), (req, res) => {
    if (stalled.refused(req.socket)) return;
    const pathname = (req.url ?? '/').split('?')[0];
    if (socketIo.handles(pathname)) {
      socketIo.handleRequest(req, res);
      return;
    }
    if (pathname === '/api' || pathname.startsWith('/api/')) {
      rest(req, res);
      return;
    }
    if (view(req, res)) return;
    sendJson(res, 404, { code: 'NotFound', message: `nothing at ${pathname.slice(0, 200)}` });
  });
  server.on('connection', socket => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  stalled.watch(server);
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    if (stalled.refused(socket)) return;
    const pathname = (req.url ?? '/').split('?')[0];
    if (ClientEndpoint.handles(pathname)) {
      clients.handleUpgrade(req, socket, head);
    } else if (MqttEndpoint.handles(pathname)) {
      mqtt.handleUpgrade(req, socket, head);
    } else if (socketIo.handles(pathname)) {
      socketIo.handleUpgrade(req, socket, head);
    } else {
      socket.on('error', () => socket.destroy());
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    }
  });
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    // As Node's own handler: no raw answer once a response has begun on this socket.
    const response = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (socket.writable && !response?.headersSent && !stalled.refused(socket as Socket)) {
      // The socket goes with the answer: a client that stalled would keep it half open.
      socket.end(clientErrorAnswer(error, timings), () => socket.destroy());
    } else {
      socket.destroy();
    }
  });

  await new Promise<void>((resolve, reject) => {
    // The error's cause keeps the system error, so the command line can name its own flag.
    const onError = (error: NodeJS.ErrnoException) => {
      reject(
        new Error(
          error.code === 'EADDRINUSE'
            ? portInUse(port, host, 'port')
            : `emulator cannot listen on ${host}:${port}: ${error.message}`,
          { cause: error },
        ),
      );
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const actualPort = (server.address() as { port: number }).port;
  const urlHost = publicHost.includes(':') ? `[${publicHost}]` : publicHost;
  const endpoint = `http://${urlHost}:${actualPort}`;
  upstream.setEndpointHost(`${urlHost}:${actualPort}`);
  // A reloaded configuration routes the events that follow; new hubs show in the live view.
  config?.watch(changed => {
    upstream.reconfigure(changed);
    for (const name of Object.keys(changed)) hubs.hub(name);
  });
  let closing: Promise<void> | undefined;
  return {
    endpoint,
    connectionString: `Endpoint=${endpoint};AccessKey=${accessKey};Version=1.0;`,
    accessKey,
    port: actualPort,
    hubs,
    traffic,
    close() {
      closing ??= (async () => {
        clients.close();
        mqtt.close();
        socketIo.close();
        config?.close();
        upstream.close();
        view.close?.();
        const closed = new Promise<void>(resolve => server.close(() => resolve()));
        server.closeAllConnections();
        for (const socket of sockets) socket.destroy();
        await closed;
      })();
      return closing;
    },
  };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}
