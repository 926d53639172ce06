/**
 * The Socket.IO client endpoint, `/clients/socketio/hubs/{hub}/`: Engine.IO 4 over long-polling
 * (GET and POST by `sid`) and WebSocket (from the start, or as the upgrade of a polling connection).
 * A new connection is checked (protocol 4, a known transport, the access token when one is given
 * or the hub denies anonymous clients), then offered to the hub's Socket.IO server as `connect`
 * through the tunnel; the server's answer carries the Engine.IO open packet. Refusals are Engine.IO's
 * own answers (`{"code","message"}` JSON with a 4xx/5xx status) before any socket exists.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { JWTPayload } from 'jose';
import { WebSocketServer, type WebSocket } from 'ws';
import { BodyReadError, readBoundedBody, type BodyDeadline } from '../../protocol/body.reader.js';
import { hubNameProblem, sameHub } from '../../protocol/names.js';
import {
  checkClientToken,
  connectBody,
  guardUpgrade,
  Refusal,
  stringList,
} from '../clients/upgrade.js';
import { Connection, type HubRegistry } from '../state/hubs.js';
import type { TrafficLog } from '../traffic-log.js';
import { EioSession, SOCKET_IO_SUBPROTOCOL } from './eio-session.js';
import type { EioSessionLimits } from './eio-session-limits.js';
import { EIO_PROTOCOL, EioError } from './packets.js';
import type { TunnelEndpoint } from './tunnel-endpoint.js';
import type { TunnelEvents } from './tunnel-events.js';

export const SOCKET_IO_CLIENT_PREFIX = '/clients/socketio/hubs/';
/** Long-polling bodies and WebSocket frames are at most 1 MB (engine.io's `maxHttpBufferSize`). */
export const MAX_EIO_PAYLOAD_BYTES = 1024 * 1024;

export interface EioEndpointOptions {
  readonly accessKey: string;
  readonly hubs: HubRegistry;
  readonly tunnel: TunnelEndpoint;
  readonly events: TunnelEvents;
  readonly traffic: TrafficLog;
  readonly log: (line: string) => void;
  readonly limits: EioSessionLimits;
  /** How slowly a long-polling POST body may arrive (the HTTP limits'); unbounded without it. */
  readonly bodyDeadline?: BodyDeadline;
  /** Whether a client without a token may connect to `hub`. */
  readonly anonymousAllowed: (hub: string) => boolean;
}

type EioRefusal = { readonly code: number; readonly message: string };

/** A refusal as Engine.IO answers it: a status and `{"code","message"}`. */
class EioRefused extends Refusal {
  constructor(
    status: number,
    readonly error: EioRefusal,
    /** Whether the answer closes the connection (a body that was refused). */
    readonly closeConnection = false,
  ) {
    super(status, error.message);
  }
}

export class EioEndpoint {
  readonly #options: EioEndpointOptions;
  readonly #wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_EIO_PAYLOAD_BYTES,
    clientTracking: false,
    handleProtocols: () => false,
    perMessageDeflate: false,
  });
  readonly #sessions = new Map<string, EioSession>();
  readonly #pendingSockets = new Set<Duplex>();
  #closed = false;

  constructor(options: EioEndpointOptions) {
    this.#options = options;
  }

  static handles(pathname: string): boolean {
    return pathname.startsWith(SOCKET_IO_CLIENT_PREFIX);
  }

  get sessionCount(): number {
    return this.#sessions.size;
  }

  /** Ends every connection of `hub` (its Socket.IO server has gone). */
  closeHub(hub: string, reason: string): void {
    for (const session of Array.from(this.#sessions.values())) {
      if (sameHub(session.subject.hub, hub)) session.shutdown(reason);
    }
  }

  /** Long-polling requests (and CORS preflights). */
  handleRequest(req: IncomingMessage, res: ServerResponse): void {
    cors(req, res);
    if (req.method === 'OPTIONS') {
      res.writeHead(204);
      res.end();
      return;
    }
    this.#request(req, res).catch((error: unknown) => {
      const refused =
        error instanceof EioRefused
          ? error
          : new EioRefused(500, {
              code: 3,
              message: `the emulator failed: ${error instanceof Error ? error.message : String(error)}`,
            });
      if (!res.headersSent) {
        res.writeHead(refused.status, {
          'content-type': 'application/json',
          ...(refused.closeConnection && { connection: 'close' }),
        });
        res.end(JSON.stringify(refused.error));
      } else {
        res.destroy();
      }
    });
  }

  async #request(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { hub, query } = parseRequest(req);
    const transport = query.get('transport');
    if (transport !== 'polling') {
      throw new EioRefused(
        400,
        transport === 'websocket' ? EioError.BAD_REQUEST : EioError.UNKNOWN_TRANSPORT,
      );
    }
    const sid = query.get('sid');
    if (sid !== null) {
      const session = this.#sessions.get(sid);
      if (!session || !sameHub(session.subject.hub, hub)) {
        throw new EioRefused(400, EioError.UNKNOWN_SID);
      }
      if (req.method === 'GET') {
        session.poll(res);
      } else if (req.method === 'POST') {
        const body = await readPayload(req, this.#options.bodyDeadline);
        if (!session.post(body)) throw new EioRefused(400, EioError.BAD_REQUEST);
        res.writeHead(200, { 'content-type': 'text/html', 'content-length': '2' });
        res.end('ok');
      } else {
        throw new EioRefused(400, EioError.BAD_REQUEST);
      }
      return;
    }
    if (req.method !== 'GET') throw new EioRefused(400, EioError.BAD_HANDSHAKE_METHOD);
    const { session, claims } = await this.#handshake(req, hub, query, 'polling');
    const open = await this.#connect(session, req, query, claims);
    if (res.destroyed) {
      session.shutdown('the client went away during the handshake');
      return;
    }
    session.open(open, res);
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    guardUpgrade(
      socket,
      { closed: this.#closed, pending: this.#pendingSockets },
      () => this.#upgrade(req, socket, head),
      this.#options.log,
      'socket.io',
    );
  }

  async #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const { hub, query } = parseRequest(req);
    if (query.get('transport') !== 'websocket') throw new EioRefused(400, EioError.BAD_REQUEST);
    const sid = query.get('sid');
    if (sid !== null) {
      const session = this.#sessions.get(sid);
      if (!session || session.ended || !sameHub(session.subject.hub, hub)) {
        throw new EioRefused(400, EioError.UNKNOWN_SID);
      }
      this.#pendingSockets.delete(socket);
      this.#wss.handleUpgrade(req, socket, head, ws => session.probe(ws));
      return;
    }
    const { session, claims } = await this.#handshake(req, hub, query, 'websocket');
    const open = await this.#connect(session, req, query, claims);
    this.#pendingSockets.delete(socket);
    if (socket.destroyed || this.#closed) {
      session.shutdown('the client went away during the handshake');
      return;
    }
    this.#wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      session.attachWebSocket(ws);
      session.open(open);
    });
  }

  /** Checks a new connection and registers its session (before `connect`, so early sends are kept). */
  async #handshake(
    req: IncomingMessage,
    hub: string,
    query: URLSearchParams,
    transport: 'polling' | 'websocket',
  ): Promise<{ session: EioSession; claims: JWTPayload }> {
    if (this.#closed)
      throw new EioRefused(503, { code: 3, message: 'the emulator is shutting down' });
    if (query.get('EIO') !== EIO_PROTOCOL) {
      throw this.#rejected(hub, 400, EioError.UNSUPPORTED_PROTOCOL_VERSION);
    }
    const checked = await checkClientToken(
      req,
      query,
      `/clients/socketio/hubs/${hub}`,
      this.#options.accessKey,
      this.#options.anonymousAllowed(hub),
    );
    if (!checked.ok) {
      throw this.#rejected(hub, 401, {
        code: 4,
        message: checked.missing
          ? 'no access token (access_token query parameter); this hub denies anonymous clients'
          : checked.message,
      });
    }
    const claims = checked.claims;
    if (!this.#options.tunnel.connected(hub)) {
      throw this.#rejected(hub, 503, {
        code: 3,
        message: `no Socket.IO server is connected to hub ${JSON.stringify(hub)} (useAzureSocketIO opens its tunnel)`,
      });
    }
    const hubName = this.#options.hubs.hub(hub).name;
    const userId = typeof claims.sub === 'string' && claims.sub !== '' ? claims.sub : undefined;
    const connectionId = randomBytes(16).toString('base64url');
    const session = new EioSession(
      {
        hubs: this.#options.hubs,
        events: this.#options.events,
        traffic: this.#options.traffic,
        log: this.#options.log,
        limits: this.#options.limits,
        ended: ended => {
          // A polling client may still fetch the server's last packets for a moment.
          const forget = () => {
            if (this.#sessions.get(ended.id) === ended) this.#sessions.delete(ended.id);
          };
          if (ended.lingering) setTimeout(forget, 5_000).unref();
          else forget();
        },
      },
      { hub: hubName, connectionId, userId, nextEventId: 0 },
      transport,
    );
    session.connection = new Connection(
      hubName,
      connectionId,
      userId,
      stringList(claims.role),
      SOCKET_IO_SUBPROTOCOL,
      session,
    );
    this.#options.hubs.add(session.connection, stringList(claims['webpubsub.group']));
    this.#sessions.set(connectionId, session);
    return { session, claims };
  }

  /** Asks the server (`connect`) and returns the open packet's JSON for the client. */
  async #connect(
    session: EioSession,
    req: IncomingMessage,
    query: URLSearchParams,
    claims: JWTPayload,
  ): Promise<string> {
    const hub = session.subject.hub;
    let answer;
    try {
      answer = await this.#options.events.connect(
        session.subject,
        connectBody(req, { hub, query, offered: [] }, claims),
      );
    } catch (error) {
      session.shutdown('the Socket.IO server did not answer connect');
      throw this.#rejected(hub, 502, {
        code: 3,
        message: `the Socket.IO server did not answer connect: ${error instanceof Error ? error.message : String(error)}`,
      });
    }
    const text = answer.body.toString('utf8');
    if (answer.status !== 200) {
      session.shutdown('refused by the Socket.IO server');
      throw this.#rejected(hub, answer.status >= 400 && answer.status < 600 ? answer.status : 500, {
        code: 4,
        message:
          text.slice(0, 1024) || `the Socket.IO server refused the connection (${answer.status})`,
      });
    }
    let open: Record<string, unknown>;
    try {
      const parsed = JSON.parse(text) as { socketio?: unknown };
      if (typeof parsed.socketio !== 'object' || parsed.socketio === null)
        throw new Error('no socketio field');
      open = { ...(parsed.socketio as Record<string, unknown>) };
    } catch (error) {
      session.shutdown('the Socket.IO server answered connect without an open packet');
      throw this.#rejected(hub, 500, {
        code: 3,
        message: `the Socket.IO server's answer to connect has no open packet ({"socketio":{...}}): ${(error as Error).message}`,
      });
    }
    if (open.sid !== session.id) {
      session.shutdown('the Socket.IO server gave another sid');
      throw this.#rejected(hub, 500, {
        code: 3,
        message: `the Socket.IO server's open packet has sid ${JSON.stringify(open.sid)}, not the connection id`,
      });
    }
    // The server always says `upgrades: []` (it sees one transport); the service offers the upgrade.
    open.upgrades = session.transport === 'polling' ? ['websocket'] : [];
    this.#options.traffic.record({
      kind: 'connection',
      hub,
      action: 'connected',
      connectionId: session.id,
      userId: session.subject.userId,
      subprotocol: SOCKET_IO_SUBPROTOCOL,
      detail: `Engine.IO ${session.transport}`,
    });
    this.#options.log(
      `socket.io ${hub}/${session.id} connected over ${session.transport}` +
        (session.subject.userId ? ` as ${session.subject.userId}` : ''),
    );
    return JSON.stringify(open);
  }

  #rejected(hub: string, status: number, error: EioRefusal): EioRefused {
    this.#options.traffic.record({
      kind: 'connection',
      hub,
      action: 'rejected',
      status,
      subprotocol: SOCKET_IO_SUBPROTOCOL,
      detail: error.message,
    });
    this.#options.log(`socket.io ${hub} refused with ${status}: ${error.message}`);
    return new EioRefused(status, error);
  }

  close(): void {
    this.#closed = true;
    for (const session of Array.from(this.#sessions.values()))
      session.shutdown('the emulator is shutting down');
    this.#sessions.clear();
    for (const socket of this.#pendingSockets) socket.destroy();
    this.#pendingSockets.clear();
    this.#wss.close();
  }
}

function parseRequest(req: IncomingMessage): { hub: string; query: URLSearchParams } {
  const url = new URL(req.url ?? '/', 'http://emulator');
  const match = /^\/clients\/socketio\/hubs\/([^/]+)\/?$/.exec(url.pathname);
  if (!match) {
    throw new EioRefused(404, {
      code: 3,
      message: `no Socket.IO endpoint at ${url.pathname.slice(0, 200)}; use /clients/socketio/hubs/{hub}/`,
    });
  }
  let hub: string;
  try {
    hub = decodeURIComponent(match[1]);
  } catch {
    throw new EioRefused(400, {
      code: 3,
      message: 'the hub name in the path is not valid percent-encoding',
    });
  }
  const problem = hubNameProblem(hub);
  if (problem) throw new EioRefused(400, { code: 3, message: problem });
  return { hub, query: url.searchParams };
}

function cors(req: IncomingMessage, res: ServerResponse): void {
  const origin = req.headers.origin;
  if (!origin) return;
  res.setHeader('access-control-allow-origin', origin);
  res.setHeader('access-control-allow-credentials', 'true');
  res.setHeader('vary', 'Origin');
  if (req.method === 'OPTIONS') {
    res.setHeader('access-control-allow-methods', 'GET, POST, OPTIONS');
    const requested = req.headers['access-control-request-headers'];
    if (requested) res.setHeader('access-control-allow-headers', requested);
    res.setHeader('access-control-max-age', '600');
  }
}

/** A long-polling POST's payload, read with the one bounded reader; refusals as Engine.IO JSON. */
async function readPayload(
  req: IncomingMessage,
  deadline: BodyDeadline | undefined,
): Promise<string> {
  try {
    const body = await readBoundedBody(req, { limit: MAX_EIO_PAYLOAD_BYTES, deadline });
    return body.toString('utf8');
  } catch (error) {
    if (!(error instanceof BodyReadError)) throw error;
    const message =
      error.problem === 'too-large'
        ? `the payload is larger than ${MAX_EIO_PAYLOAD_BYTES} bytes`
        : error.message;
    // The client has sent too much, too slowly or not all: its connection is not reused.
    throw new EioRefused(error.status, { code: EioError.BAD_REQUEST.code, message }, true);
  }
}
