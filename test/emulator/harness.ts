/** Shared parts of the emulator specs: a recording log, an express upstream, a cuttable TCP proxy, raw sockets. */
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createTcpServer, connect, type Socket } from 'node:net';
import express from 'express';
import {
  WebPubSubEventHandler,
  type WebPubSubEventHandlerOptions,
} from '@azure/web-pubsub-express';
import { WebPubSubServiceClient } from '@azure/web-pubsub';
import WebSocket from 'ws';
import type { Type } from '@nestjs/common';
import { WebPubSubModule } from '../../lib/index.js';
import {
  EMULATOR_ACCESS_KEY,
  startEmulator,
  type EmulatorTimings,
  type RunningEmulator,
} from '../../lib/emulator/index.js';
import { startApp, type PlatformName, type TestApp } from '../utils/app.js';
import { freePort } from '../utils/ports.js';

/**
 * Options for @azure/web-pubsub-client in the specs: its keep-alive loop sleeps a whole interval
 * (20 s by default) after stop(), which would keep Jest waiting; its timeout monitor (a third
 * of keepAliveTimeoutInMs, 40 s by default) likewise, so it is off (the emulator pings on its own).
 */
export const SDK_TEST_OPTIONS = { keepAliveIntervalInMs: 300, keepAliveTimeoutInMs: 0 };

/** Short windows so the specs run in seconds; every other value stays the service's. */
export const FAST_TIMINGS: Partial<EmulatorTimings> = {
  blockingTimeoutMs: 2_000,
  nonBlockingTimeoutMs: 2_000,
  retryDelaysMs: [50, 100, 150],
  recoveryWindowMs: 2_000,
  keepAliveIntervalMs: 200,
};

/** Collects the emulator's log lines. */
export class LogLines {
  readonly lines: string[] = [];
  readonly log = (line: string): void => {
    this.lines.push(line);
  };
  matching(pattern: RegExp): string[] {
    return this.lines.filter(line => pattern.test(line));
  }
}

export interface Listening {
  readonly url: string;
  close(): Promise<void>;
}

/** Listens on a loopback port; `close()` also ends kept-alive sockets. */
export async function listen(server: Server): Promise<Listening> {
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>(resolve => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** `@azure/web-pubsub-express` in an express app: the upstream code we did not write. */
export async function expressUpstream(
  hub: string,
  options: WebPubSubEventHandlerOptions,
): Promise<Listening & { handlerUrl: string }> {
  const handler = new WebPubSubEventHandler(hub, { path: '/eventhandler', ...options });
  const app = express();
  app.use(handler.getMiddleware());
  const listening = await listen(createHttpServer(app));
  return { ...listening, handlerUrl: `${listening.url}/eventhandler` };
}

/** A client access URL signed locally by the official service SDK. */
export async function clientUrl(
  connectionString: string,
  hub: string,
  options: { userId?: string; roles?: string[]; groups?: string[] } = {},
): Promise<string> {
  const service = new WebPubSubServiceClient(connectionString, hub);
  return (await service.getClientAccessToken(options)).url;
}

/** A TCP proxy in front of the emulator whose live sockets can be cut without a close frame. */
export class CuttableProxy {
  readonly #sockets = new Set<Socket>();
  readonly #server = createTcpServer(client => {
    const upstream = connect(this.targetPort, '127.0.0.1');
    this.#sockets.add(client);
    this.#sockets.add(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
      this.#sockets.delete(client);
      this.#sockets.delete(upstream);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  port = 0;

  constructor(readonly targetPort: number) {}

  async start(): Promise<void> {
    await new Promise<void>(resolve => this.#server.listen(0, '127.0.0.1', resolve));
    this.port = (this.#server.address() as { port: number }).port;
  }

  /** Resets every proxied connection: both ends see the TCP connection die, no WebSocket close frame. */
  cut(): void {
    for (const socket of this.#sockets) socket.resetAndDestroy();
    this.#sockets.clear();
  }

  get openSockets(): number {
    return this.#sockets.size;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>(resolve => this.#server.close(() => resolve()));
  }
}

/** A raw `ws` client that records every frame it receives. */
export class RawClient {
  readonly frames: { data: string | Buffer; binary: boolean }[] = [];
  closed: { code: number; reason: string } | undefined;
  readonly ws: WebSocket;
  readonly opened: Promise<void>;
  readonly done: Promise<{ code: number; reason: string }>;

  constructor(url: string, protocols?: string | string[], headers?: Record<string, string>) {
    this.ws = new WebSocket(url, protocols, { headers });
    this.ws.on('message', (data: Buffer, binary: boolean) => {
      this.frames.push({ data: binary ? data : data.toString('utf8'), binary });
    });
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('unexpected-response', (_request, response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
        response.on('end', () =>
          reject(
            Object.assign(new Error(`status ${response.statusCode}`), {
              status: response.statusCode,
              body,
            }),
          ),
        );
      });
      this.ws.once('error', reject);
    });
    this.opened.catch(() => undefined);
    this.done = new Promise(resolve => {
      this.ws.once('close', (code: number, reason: Buffer) => {
        this.closed = { code, reason: reason.toString('utf8') };
        resolve(this.closed);
      });
    });
  }

  /** The JSON messages received, parsed. */
  messages(): any[] {
    return this.frames
      .filter(frame => !frame.binary)
      .map(frame => JSON.parse(frame.data as string));
  }

  send(value: unknown): void {
    this.ws.send(typeof value === 'string' ? value : JSON.stringify(value));
  }
}

/** The handles Node keeps the process alive with, minus those that existed before. */
export function newHandles(before: string[]): string[] {
  const remaining = [...before];
  const added: string[] = [];
  for (const handle of process.getActiveResourcesInfo()) {
    const index = remaining.indexOf(handle);
    if (index === -1) added.push(handle);
    else remaining.splice(index, 1);
  }
  return added;
}

export interface UpstreamRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
}

export type UpstreamAnswer = {
  status?: number;
  headers?: Record<string, string | undefined>;
  body?: string | Buffer;
  /** Destroy the socket after writing the headers and part of the body. */
  cutMidway?: boolean;
  /** Never answer. */
  hang?: boolean;
  /** Close the connection without any answer (the caller sees a reset). */
  reset?: boolean;
};

/** A bare node:http upstream that answers the handshake and records every event. */
export async function recordingUpstream(
  answer: (request: UpstreamRequest) => UpstreamAnswer | Promise<UpstreamAnswer> = () => ({
    status: 204,
  }),
  /** The WebHook-Allowed-Origin the handshake answers with; null: none. */
  allowedOrigin: string | null = '*',
): Promise<Listening & { requests: UpstreamRequest[]; events(name?: string): UpstreamRequest[] }> {
  const requests: UpstreamRequest[] = [];
  const server = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', async () => {
      const request: UpstreamRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks),
      };
      requests.push(request);
      if (req.method === 'OPTIONS') {
        res
          .writeHead(200, allowedOrigin === null ? {} : { 'webhook-allowed-origin': allowedOrigin })
          .end();
        return;
      }
      const reply = await answer(request);
      if (reply.hang) return;
      if (reply.reset) {
        res.socket?.destroy();
        return;
      }
      res.writeHead(reply.status ?? 200, reply.headers);
      if (reply.cutMidway) {
        res.write('{"partial":');
        setTimeout(() => res.socket?.destroy(), 10);
        return;
      }
      res.end(reply.body);
    });
  });
  const listening = await listen(server);
  return {
    ...listening,
    requests,
    events: name =>
      requests.filter(
        request =>
          request.method === 'POST' &&
          (name === undefined || request.headers['ce-eventname'] === name),
      ),
  };
}

export { freePort } from '../utils/ports.js';

/**
 * A Nest app with this module (hub `chat`, signatures checked with the emulator's key) serving
 * `handlers`, and an emulator whose hub `chat` calls it for every event.
 */
export async function startAppUpstream<T>(
  platform: PlatformName,
  handlers: Type<T>,
  log: (line: string) => void,
): Promise<{ app: TestApp; emulator: RunningEmulator; handlers: T }> {
  const port = await freePort();
  const app = await startApp(
    platform,
    {
      imports: [
        WebPubSubModule.forRoot({
          hub: 'chat',
          connectionString: `Endpoint=http://127.0.0.1:${port};AccessKey=${EMULATOR_ACCESS_KEY};Version=1.0;`,
        }),
      ],
      providers: [handlers],
    },
    { rawBody: true },
  );
  const emulator = await startEmulator({
    port,
    log,
    timings: FAST_TIMINGS,
    hubs: {
      chat: {
        eventHandlers: [
          {
            urlTemplate: `${app.url}/eventhandler/{event}`,
            userEventPattern: '*',
            systemEvents: ['connect', 'connected', 'disconnected'],
          },
        ],
      },
    },
  });
  return { app, emulator, handlers: app.app.get(handlers) };
}
