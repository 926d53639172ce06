/**
 * The tunnel `useAzureSocketIO` opens: `ws://host/server/tunnel?hub=<hub>&access_token=<jwt>`
 * (no subprotocol; the token's `aud` is the tunnel URL itself). Each tunnel carries both ways the
 * HTTP requests of the service (upstream events, sent to one tunnel of the hub) and of the app (its
 * REST calls, answered on the tunnel they came on, streamed with `NotCompleted` when the body comes
 * in parts). The emulator greets with `ConnectionConnected` (which the SDK waits for before its
 * start-up promise settles) and sends a `ServiceStatus` frame every keep-alive interval, because
 * `@azure/web-pubsub-client` drops a connection that has heard nothing for 120 s.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { verifyAccessToken } from '../../protocol/client-access-token.js';
import { hubNameProblem, hubKey, sameHub } from '../../protocol/names.js';
import { guardUpgrade, Refusal } from '../clients/upgrade.js';
import { badRequest, writeRestError } from '../rest/rest-errors.js';
import type { TrafficLog } from '../traffic-log.js';
import {
  decodeTunnelFrame,
  encodeTunnelFrame,
  MAX_TUNNEL_FRAME_BYTES,
  TunnelFrameError,
  TunnelMessageType,
  type TunnelFrame,
} from './tunnel-frame.js';

export const TUNNEL_PATH = '/server/tunnel';

/** An HTTP request carried by the tunnel. */
export interface TunnelHttpRequest {
  readonly method: string;
  /** Absolute, as the SDK writes it (`https://host/api/hubs/...`). */
  readonly url: string;
  readonly headers: Readonly<Record<string, readonly string[]>>;
  readonly body: Buffer;
}

/** The answer to a request the service sent. */
export interface TunnelHttpResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, readonly string[]>>;
  readonly body: Buffer;
}

/** How the app's request is answered: the first call fixes the status; `more` keeps the stream open. */
export interface TunnelReply {
  /** `headers` go with the first frame of an answer. */
  write(
    status: number,
    body: Buffer | undefined,
    more: boolean,
    headers?: Readonly<Record<string, string>>,
  ): void;
  /** The tunnel the request came on has closed (a stream should stop). */
  readonly closed: boolean;
}

/** The app's REST calls: answered through `reply`, at once or streamed. */
export type AppRequestHandler = (
  hub: string,
  request: TunnelHttpRequest,
  reply: TunnelReply,
) => void;

export interface TunnelEndpointOptions {
  readonly accessKey: string;
  readonly traffic: TrafficLog;
  readonly log: (line: string) => void;
  readonly handleAppRequest: AppRequestHandler;
  /** A hub's last tunnel has closed. */
  readonly hubEmptied: (hub: string) => void;
  /** Interval of the keep-alive frames and WebSocket pings. Default 30 s. */
  readonly keepAliveIntervalMs: number;
}

/** No tunnel can carry an event: the hub has no Socket.IO server, or its tunnel broke. */
export class NoTunnelError extends Error {
  override readonly name = 'NoTunnelError';
}

interface Pending {
  readonly resolve: (response: TunnelHttpResponse) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/** One tunnel WebSocket of one hub. */
class TunnelLink {
  readonly id = randomBytes(12).toString('base64url');
  readonly #pending = new Map<number, Pending>();
  #nextAckId = 1;
  #alive = true;
  closed = false;

  constructor(
    readonly hub: string,
    readonly ws: WebSocket,
  ) {}

  send(frame: TunnelFrame): void {
    if (this.closed) return;
    this.ws.send(encodeTunnelFrame(frame));
  }

  request(request: TunnelHttpRequest, timeoutMs: number): Promise<TunnelHttpResponse> {
    if (this.closed) return Promise.reject(new NoTunnelError('the tunnel has closed'));
    const ackId = this.#nextAckId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(ackId);
        reject(new Error(`the Socket.IO server did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(ackId, { resolve, reject, timer });
      this.send({
        type: TunnelMessageType.HttpRequest,
        fields: {
          AckId: ackId,
          LocalRouting: false,
          ChannelName: '',
          HttpMethod: request.method,
          Url: request.url,
          Headers: request.headers,
        },
        content: request.body,
      });
    });
  }

  /** A response of the app to one of the service's requests. */
  answered(frame: TunnelFrame): boolean {
    const ackId = frame.fields.AckId;
    const pending = typeof ackId === 'number' ? this.#pending.get(ackId) : undefined;
    if (!pending) return false;
    this.#pending.delete(ackId as number);
    clearTimeout(pending.timer);
    pending.resolve({
      status: typeof frame.fields.StatusCode === 'number' ? frame.fields.StatusCode : 500,
      headers: headerLists(frame.fields.Headers),
      body: frame.content ? Buffer.from(frame.content) : Buffer.alloc(0),
    });
    return true;
  }

  /** Keep-alive: a ServiceStatus frame (the client's idle timer) and a ping (a dead peer is cut). */
  heartbeat(): void {
    if (!this.#alive) {
      this.ws.terminate();
      return;
    }
    this.#alive = false;
    this.ws.ping();
    this.send({ type: TunnelMessageType.ServiceStatus, fields: { Message: 'keep-alive' } });
  }

  pong(): void {
    this.#alive = true;
  }

  fail(): void {
    this.closed = true;
    for (const pending of this.#pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(new NoTunnelError('the tunnel closed before the Socket.IO server answered'));
    }
    this.#pending.clear();
  }
}

export class TunnelEndpoint {
  readonly #options: TunnelEndpointOptions;
  readonly #wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_TUNNEL_FRAME_BYTES,
    clientTracking: false,
    handleProtocols: () => false,
  });
  /** Tunnels by hub (lower case). */
  readonly #links = new Map<string, TunnelLink[]>();
  readonly #pendingSockets = new Set<Duplex>();
  readonly #keepAlive: NodeJS.Timeout;
  #turn = 0;
  #closed = false;

  constructor(options: TunnelEndpointOptions) {
    this.#options = options;
    this.#keepAlive = setInterval(() => {
      for (const links of this.#links.values()) for (const link of links) link.heartbeat();
    }, options.keepAliveIntervalMs);
    this.#keepAlive.unref();
  }

  static handles(pathname: string): boolean {
    return pathname === TUNNEL_PATH || pathname === `${TUNNEL_PATH}/`;
  }

  /** Whether a Socket.IO server is connected for `hub`. */
  connected(hub: string): boolean {
    return (this.#links.get(hubKey(hub))?.length ?? 0) > 0;
  }

  /** Tunnels per hub, for the live view and tests. */
  tunnelCount(hub: string): number {
    return this.#links.get(hubKey(hub))?.length ?? 0;
  }

  /** Sends a request to the app through one of the hub's tunnels (in turn). */
  request(hub: string, request: TunnelHttpRequest, timeoutMs: number): Promise<TunnelHttpResponse> {
    const links = this.#links.get(hubKey(hub));
    if (!links || links.length === 0) {
      return Promise.reject(
        new NoTunnelError(
          `no Socket.IO server is connected to hub ${JSON.stringify(hub)} (useAzureSocketIO opens its tunnel)`,
        ),
      );
    }
    const link = links[this.#turn++ % links.length];
    return link.request(request, timeoutMs);
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    guardUpgrade(
      socket,
      { closed: this.#closed, pending: this.#pendingSockets },
      () => this.#accept(req, socket, head),
      this.#options.log,
      'tunnel',
    );
  }

  async #accept(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://emulator');
    const hub = url.searchParams.get('hub');
    if (!hub) throw this.#refused('', 400, 'no hub: the tunnel URL is /server/tunnel?hub=<hub>');
    const problem = hubNameProblem(hub);
    if (problem) throw this.#refused(hub, 400, problem);
    const token = url.searchParams.get('access_token');
    if (!token) throw this.#refused(hub, 401, 'no access token (access_token query parameter)');
    const host = (req.headers.host ?? '').toLowerCase();
    const result = await verifyAccessToken(token, this.#options.accessKey, {
      // The SDK's audience is the tunnel URL it connects to (any scheme), `?hub=` included.
      audience: aud => {
        try {
          const audience = new URL(aud);
          return (
            audience.host.toLowerCase() === host &&
            TunnelEndpoint.handles(audience.pathname) &&
            sameHub(audience.searchParams.get('hub') ?? '', hub)
          );
        } catch {
          return false;
        }
      },
    });
    if (!result.ok) {
      throw this.#refused(
        hub,
        401,
        result.reason === 'wrong-audience'
          ? `${result.message}: expected the tunnel URL, ws://${host}${TUNNEL_PATH}?hub=${hub}`
          : result.message,
      );
    }
    this.#pendingSockets.delete(socket);
    if (socket.destroyed) return;
    this.#wss.handleUpgrade(req, socket, head, ws => this.#attach(hub, ws));
  }

  #attach(hub: string, ws: WebSocket): void {
    const key = hubKey(hub);
    const link = new TunnelLink(hub, ws);
    const links = this.#links.get(key) ?? [];
    links.push(link);
    this.#links.set(key, links);
    this.#options.traffic.record({
      kind: 'connection',
      hub,
      action: 'connected',
      connectionId: link.id,
      subprotocol: 'socket.io tunnel',
    });
    this.#options.log(`tunnel ${hub}/${link.id} connected (${links.length} for the hub)`);
    ws.on('message', (data: RawData, isBinary: boolean) => this.#received(link, data, isBinary));
    ws.on('pong', () => link.pong());
    ws.on('error', () => ws.terminate());
    ws.on('close', (code: number) => {
      link.fail();
      const rest = (this.#links.get(key) ?? []).filter(other => other !== link);
      if (rest.length > 0) this.#links.set(key, rest);
      else this.#links.delete(key);
      this.#options.traffic.record({
        kind: 'connection',
        hub,
        action: 'disconnected',
        connectionId: link.id,
        subprotocol: 'socket.io tunnel',
        detail: `close code ${code}`,
      });
      this.#options.log(`tunnel ${hub}/${link.id} closed (${code})`);
      if (rest.length === 0 && !this.#closed) this.#options.hubEmptied(hub);
    });
    link.send({
      type: TunnelMessageType.ConnectionConnected,
      fields: { ConnectionId: link.id },
    });
  }

  #received(link: TunnelLink, data: RawData, isBinary: boolean): void {
    if (!isBinary) {
      this.#drop(link, 1003, 'tunnel frames are binary');
      return;
    }
    let frame: TunnelFrame;
    try {
      frame = decodeTunnelFrame(toBuffer(data));
    } catch (error) {
      const message = error instanceof TunnelFrameError ? error.message : 'not a tunnel frame';
      this.#drop(link, 1007, `bad tunnel frame: ${message}`);
      return;
    }
    switch (frame.type) {
      case TunnelMessageType.HttpResponse:
        if (!link.answered(frame)) {
          this.#options.log(
            `tunnel ${link.hub}/${link.id}: a response to no pending request (AckId ${String(frame.fields.AckId)}) was ignored`,
          );
        }
        return;
      case TunnelMessageType.HttpRequest:
        this.#appRequest(link, frame);
        return;
      default:
        this.#options.log(
          `tunnel ${link.hub}/${link.id}: message type ${frame.type} is not one the app sends; ignored`,
        );
    }
  }

  #appRequest(link: TunnelLink, frame: TunnelFrame): void {
    const { AckId: ackId, HttpMethod: method, Url: url } = frame.fields;
    if (typeof ackId !== 'number') {
      this.#drop(link, 1007, 'an HttpRequest without a numeric AckId');
      return;
    }
    let started = false;
    let done = false;
    const reply: TunnelReply = {
      get closed() {
        return link.closed;
      },
      write: (status, body, more, headers) => {
        if (done) return;
        done = !more;
        const first = !started;
        started = true;
        link.send({
          type: TunnelMessageType.HttpResponse,
          fields: {
            AckId: ackId,
            LocalRouting: frame.fields.LocalRouting ?? true,
            StatusCode: status,
            ChannelName: frame.fields.ChannelName ?? '',
            NotCompleted: more,
            Headers: first && headers ? headerListsOf(headers) : {},
          },
          content: body,
        });
      },
    };
    if (typeof method !== 'string' || typeof url !== 'string') {
      const { headers, body } = writeRestError(
        badRequest('The tunnel request needs HttpMethod and Url'),
      );
      reply.write(400, Buffer.from(body, 'utf8'), false, headers);
      return;
    }
    this.#options.handleAppRequest(
      link.hub,
      {
        method: method.toUpperCase(),
        url,
        headers: headerLists(frame.fields.Headers),
        body: frame.content ? Buffer.from(frame.content) : Buffer.alloc(0),
      },
      reply,
    );
  }

  #drop(link: TunnelLink, code: number, reason: string): void {
    this.#options.log(`tunnel ${link.hub}/${link.id} closed by the emulator: ${reason}`);
    link.ws.close(code, reason.slice(0, 120));
  }

  #refused(hub: string, status: number, message: string): Refusal {
    this.#options.traffic.record({
      kind: 'connection',
      hub,
      action: 'rejected',
      status,
      subprotocol: 'socket.io tunnel',
      detail: message,
    });
    this.#options.log(`tunnel ${hub} refused with ${status}: ${message}`);
    return new Refusal(status, message);
  }

  close(): void {
    this.#closed = true;
    clearInterval(this.#keepAlive);
    for (const links of this.#links.values()) {
      for (const link of links) {
        link.fail();
        link.ws.close(1001, 'the emulator is shutting down');
      }
    }
    this.#links.clear();
    for (const socket of this.#pendingSockets) socket.destroy();
    this.#pendingSockets.clear();
    this.#wss.close();
  }
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

function headerLists(value: unknown): Record<string, string[]> {
  // Keyed by the tunnel client's names: no prototype.
  const headers: Record<string, string[]> = Object.create(null);
  if (typeof value !== 'object' || value === null) return headers;
  for (const [name, list] of Object.entries(value)) {
    if (Array.isArray(list)) headers[name] = list.filter(item => typeof item === 'string');
    else if (typeof list === 'string') headers[name] = [list];
  }
  return headers;
}

function headerListsOf(headers: Readonly<Record<string, string>>): Record<string, string[]> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, [value]]));
}
