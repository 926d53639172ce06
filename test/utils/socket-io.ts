/**
 * Socket.IO on the emulator for the specs: a plain socket.io `Server` made a Web PubSub for
 * Socket.IO server by `useAzureSocketIO` (the SDK's own socket.io 4.7, as a user of the SDK alone
 * gets it), and unmodified `socket.io-client`s at `/clients/socketio/hubs/{hub}`.
 */
import { createServer, type Server as HttpServer } from 'node:http';
import { createRequire } from 'node:module';
import {
  io as connectClient,
  type ManagerOptions,
  type Socket as ClientSocket,
  type SocketOptions,
} from 'socket.io-client';
import type { Server as IoServer } from 'socket.io';
import { releaseSdkTimersOnClose } from '../../lib/socket-io/sdk-timers.js';

const sdkRequire = createRequire(
  createRequire(import.meta.url).resolve('@azure/web-pubsub-socket.io'),
);

/** socket.io as `@azure/web-pubsub-socket.io` resolves it (4.7). */
export const SdkSocketIo = sdkRequire('socket.io') as typeof import('socket.io');
export const { useAzureSocketIO } = sdkRequire('@azure/web-pubsub-socket.io') as {
  useAzureSocketIO(
    io: unknown,
    options: { hub: string; connectionString: string },
  ): Promise<unknown>;
};

export type Transports = readonly ('polling' | 'websocket')[];

/** The three ways a socket.io-client reaches the service. */
export const TRANSPORT_CASES: readonly [string, Transports][] = [
  ['WebSocket', ['websocket']],
  ['long-polling, then the upgrade', ['polling', 'websocket']],
  ['long-polling only', ['polling']],
];

export interface SocketIoServer {
  readonly io: IoServer;
  readonly http: HttpServer;
  close(): Promise<void>;
}

/** A socket.io server on a loopback port, its engine on the emulator's hub. */
export async function startSocketIoServer(
  connectionString: string,
  hub: string,
  setup: (io: IoServer) => void = () => undefined,
): Promise<SocketIoServer> {
  const http = createServer();
  await new Promise<void>(resolve => http.listen(0, '127.0.0.1', () => resolve()));
  const io = new SdkSocketIo.Server(http) as unknown as IoServer;
  setup(io);
  const started = useAzureSocketIO(io, { hub, connectionString });
  // As the adapter does: the SDK's timers no longer hold the process after io.close().
  releaseSdkTimersOnClose(io);
  await started;
  return {
    io,
    http,
    close: () =>
      new Promise<void>(resolve => {
        io.close(() => resolve());
        // io.close() closes the http server only when it has been listening through it.
        if (http.listening) http.close();
      }),
  };
}

/** A socket.io-client for `hub`, not yet connected unless `connect` is awaited. */
export function socketIoClient(
  endpoint: string,
  hub: string,
  transports: Transports,
  options: Partial<ManagerOptions & SocketOptions> & { namespace?: string } = {},
): ClientSocket {
  const { namespace = '/', ...rest } = options;
  return connectClient(`${endpoint}${namespace}`, {
    path: `/clients/socketio/hubs/${hub}`,
    transports: [...transports],
    reconnection: false,
    forceNew: true,
    ...rest,
  });
}

/**
 * Disconnects each client and resolves once its Engine.IO connection is closed: over long-polling
 * the client's close goes out in a request of its own after the write buffer drains, which must not
 * start after the spec's environment is torn down. Gives up on a client after 5 s.
 */
export async function disconnectAll(sockets: readonly ClientSocket[]): Promise<void> {
  await Promise.all(
    sockets.map(socket => {
      const engine = socket.io.engine;
      const closed =
        !engine || engine.readyState === 'closed'
          ? Promise.resolve()
          : new Promise<void>(resolve => {
              const timer = setTimeout(resolve, 5_000);
              engine.once('close', () => {
                clearTimeout(timer);
                resolve();
              });
            });
      socket.disconnect();
      return closed;
    }),
  );
}

/** Resolves once connected; rejects with the connect error. */
export function connected(socket: ClientSocket): Promise<ClientSocket> {
  return new Promise((resolve, reject) => {
    if (socket.connected) return resolve(socket);
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

/** The next `event` on `socket`, with its arguments. */
export function next<T extends unknown[] = unknown[]>(
  socket: { once(event: string, listener: (...args: any[]) => void): unknown },
  event: string,
  timeoutMs = 5_000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no ${event} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    socket.once(event, (...args: unknown[]) => {
      clearTimeout(timer);
      resolve(args as T);
    });
  });
}

/** Resolves when nothing arrives on `event` for `ms` (and fails if something does). */
export function nothing(socket: ClientSocket, event: string, ms = 300): Promise<void> {
  return new Promise((resolve, reject) => {
    const listener = (...args: unknown[]) =>
      reject(new Error(`unexpected ${event}: ${JSON.stringify(args)}`));
    socket.once(event, listener);
    setTimeout(() => {
      socket.off(event, listener);
      resolve();
    }, ms);
  });
}
