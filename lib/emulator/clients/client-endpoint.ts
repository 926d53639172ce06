/**
 * The client WebSocket endpoint: `/client/hubs/{hub}` and `/client/?hub={hub}`. Checks the access
 * token (or a recovery), asks the upstream `connect`, negotiates the subprotocol, then upgrades.
 * Every refusal before the upgrade is an HTTP status with a plain-text body naming the problem.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { hubNameProblem } from '../../protocol/names.js';
import { WebSocketServer, type WebSocket } from 'ws';
import type { HubRegistry } from '../state/hubs.js';
import { Connection } from '../state/hubs.js';
import { JSON_RELIABLE_SUBPROTOCOL, JSON_SUBPROTOCOL } from './json-protocol.js';
import { PROTOBUF_RELIABLE_SUBPROTOCOL, PROTOBUF_SUBPROTOCOL } from './protobuf-protocol.js';
import { ClientSession } from './client-session.js';
import { CloseCode } from './close-codes.js';
import { RawSendModeError, readRawSendMode, type RawSendToGroup } from './raw-send-mode.js';
import type { SessionLimits } from './session-limits.js';
import {
  connectBody,
  guardUpgrade,
  MAX_FRAME_BYTES,
  Refusal,
  sessionKey,
  stringList,
  checkClientToken,
  type ClientRequest,
} from './upgrade.js';
import type { TrafficLog } from '../traffic-log.js';
import type { EventSubject, Upstream } from '../upstream/upstream.js';

/** Clock skew tolerated on `exp` and `nbf`. */

export interface ClientEndpointOptions {
  readonly accessKey: string;
  readonly hubs: HubRegistry;
  readonly upstream: Upstream;
  readonly traffic: TrafficLog;
  readonly log: (line: string) => void;
  readonly limits: SessionLimits;
  /** Interval of the server's pings; a socket that misses one is cut. Default 30 s. */
  readonly keepAliveIntervalMs: number;
}

export class ClientEndpoint {
  readonly #options: ClientEndpointOptions;
  readonly #wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_FRAME_BYTES,
    clientTracking: false,
  });
  readonly #sessions = new Set<ClientSession>();
  /** Sessions by hub (lower case) and connection id, for recovery. */
  readonly #byId = new Map<string, ClientSession>();
  readonly #pendingSockets = new Set<Duplex>();
  readonly #keepAlive: NodeJS.Timeout;
  #closed = false;

  constructor(options: ClientEndpointOptions) {
    this.#options = options;
    this.#keepAlive = setInterval(() => {
      for (const session of this.#sessions) session.heartbeat();
    }, options.keepAliveIntervalMs);
    this.#keepAlive.unref();
  }

  /** Whether `pathname` belongs to this endpoint. */
  static handles(pathname: string): boolean {
    return pathname === '/client' || pathname.startsWith('/client/');
  }

  get sessionCount(): number {
    return this.#sessions.size;
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    guardUpgrade(
      socket,
      { closed: this.#closed, pending: this.#pendingSockets },
      () => this.#accept(req, socket, head),
      this.#options.log,
      'client',
    );
  }

  async #accept(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const request = parseRequest(req);
    const recoveryId = request.query.get('awps_connection_id');
    if (recoveryId !== null) {
      this.#recover(req, socket, head, request, recoveryId);
      return;
    }
    const rawSend = this.#rawSendMode(request);
    const settings = this.#options.upstream.settings(request.hub);
    const checked = await checkClientToken(
      req,
      request.query,
      `/client/hubs/${request.hub}`,
      this.#options.accessKey,
      settings?.anonymousConnectPolicy === 'allow',
    );
    if (!checked.ok) this.#rejected(request.hub, 401, checked.message);
    const claims = checked.claims;
    const userId = typeof claims.sub === 'string' && claims.sub !== '' ? claims.sub : undefined;
    const roles = stringList(claims.role);
    const groups = stringList(claims['webpubsub.group']);
    const connectionId = randomBytes(16).toString('base64url');
    const subject: EventSubject = {
      hub: request.hub,
      connectionId,
      userId,
      subprotocol: undefined,
      state: undefined,
      nextEventId: 0,
    };
    const outcome = await this.#options.upstream.connect(
      subject,
      connectBody(req, request, claims),
    );
    if (!outcome.accepted) {
      const body =
        outcome.body && outcome.body.length > 0
          ? outcome.body.toString('utf8').slice(0, 1024)
          : outcome.reason;
      this.#rejected(request.hub, outcome.status, body, outcome.reason);
    }
    const response = outcome.response;
    let chosen: string | undefined;
    if (response?.subprotocol) {
      if (!request.offered.includes(response.subprotocol)) {
        this.#rejected(
          request.hub,
          500,
          `the connect handler chose the subprotocol ${JSON.stringify(response.subprotocol)}, which the client did not offer`,
        );
      }
      chosen = response.subprotocol;
    } else {
      chosen = pickSubprotocol(request.offered);
      if (chosen === undefined && request.offered.length > 1) {
        this.#rejected(
          request.hub,
          400,
          'the client offered several subprotocols the emulator does not know; a connect handler must choose one',
        );
      }
    }
    if (socket.destroyed || this.#closed) return;
    // The hub as first configured or seen: one spelling in the state, the log and the live view.
    const hubName = this.#options.hubs.hub(request.hub).name;
    const finalUserId =
      response?.userId !== undefined && response.userId !== null
        ? response.userId || undefined
        : userId;
    const finalRoles = response?.roles ?? roles;
    const finalGroups =
      response?.groups && response.groups.length > 0 ? [...groups, ...response.groups] : groups;
    const accepted: EventSubject = {
      ...subject,
      hub: hubName,
      userId: finalUserId,
      subprotocol: chosen,
    };
    const session = new ClientSession(
      {
        hubs: this.#options.hubs,
        upstream: this.#options.upstream,
        traffic: this.#options.traffic,
        log: this.#options.log,
        limits: this.#options.limits,
        ended: ended => {
          this.#sessions.delete(ended);
          this.#byId.delete(sessionKey(ended.connection.hub, ended.connection.connectionId));
        },
      },
      accepted,
      rawSend,
    );
    session.connection = new Connection(
      hubName,
      connectionId,
      finalUserId,
      finalRoles,
      chosen,
      session,
    );
    if (rawSend && !session.connection.can('sendToGroup', rawSend.group)) {
      this.#rejected(
        request.hub,
        403,
        `webpubsub_mode=sendToGroup: the connection may not send to group ${JSON.stringify(rawSend.group)} ` +
          `(role webpubsub.sendToGroup or webpubsub.sendToGroup.${rawSend.group} needed)`,
      );
    }
    this.#pendingSockets.delete(socket);
    this.#upgrade(req, socket, head, chosen, ws => {
      this.#options.hubs.add(session.connection, finalGroups);
      this.#sessions.add(session);
      this.#byId.set(sessionKey(hubName, connectionId), session);
      session.attach(ws, false);
      this.#options.traffic.record({
        kind: 'connection',
        hub: hubName,
        action: 'connected',
        connectionId,
        userId: finalUserId,
        subprotocol: chosen,
      });
      this.#options.log(
        `client ${hubName}/${connectionId} connected` +
          (finalUserId ? ` as ${finalUserId}` : '') +
          (chosen ? ` (${chosen})` : ' (simple)'),
      );
      this.#options.upstream.notify(accepted, 'connected');
    });
  }

  /** A reliable client coming back: accepted and given its connection, or accepted and closed with 1008. */
  #recover(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    request: ClientRequest,
    connectionId: string,
  ): void {
    const session = this.#byId.get(sessionKey(request.hub, connectionId));
    const token = request.query.get('awps_reconnection_token');
    const subprotocol = session?.subject.subprotocol ?? pickSubprotocol(request.offered);
    const echoed =
      subprotocol !== undefined && request.offered.includes(subprotocol) ? subprotocol : undefined;
    this.#pendingSockets.delete(socket);
    this.#upgrade(req, socket, head, echoed, ws => {
      // Checked once upgraded: the connection may have ended during the handshake. A socket still
      // attached (its drop not yet seen here) is replaced by the one that holds the token.
      let problem: string | undefined;
      if (!session || session.ended) problem = 'the connection is gone; it cannot be recovered';
      else if (!token || token !== session.reconnectionToken)
        problem = 'the reconnection token does not match';
      if (problem || !session) {
        ws.close(CloseCode.policyViolation, problem);
        this.#options.traffic.record({
          kind: 'connection',
          hub: request.hub,
          action: 'rejected',
          connectionId,
          detail: `recovery refused: ${problem}`,
        });
        this.#options.log(`client ${request.hub}/${connectionId} recovery refused: ${problem}`);
        return;
      }
      session.attach(ws, true);
      this.#options.traffic.record({
        kind: 'connection',
        hub: request.hub,
        action: 'recovered',
        connectionId,
        userId: session.connection.userId,
        subprotocol: session.connection.subprotocol,
      });
      this.#options.log(`client ${request.hub}/${connectionId} recovered`);
    });
  }

  /** `webpubsub_mode` of a client without subprotocol; a 400 refusal when it cannot be honoured. */
  #rawSendMode(request: ClientRequest): RawSendToGroup | undefined {
    const subprotocolClient = request.offered.some(name => PREFERRED_SUBPROTOCOLS.includes(name));
    try {
      return readRawSendMode(request.query, subprotocolClient);
    } catch (error) {
      if (error instanceof RawSendModeError) this.#rejected(request.hub, 400, error.message);
      throw error;
    }
  }

  #upgrade(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    subprotocol: string | undefined,
    done: (ws: WebSocket) => void,
  ): void {
    const wss = this.#wss;
    wss.options.handleProtocols = () => subprotocol ?? false;
    wss.handleUpgrade(req, socket, head, ws => done(ws));
  }

  #rejected(hub: string, status: number, body: string, detail = body): never {
    this.#options.traffic.record({ kind: 'connection', hub, action: 'rejected', status, detail });
    this.#options.log(`client ${hub} refused with ${status}: ${detail}`);
    throw new Refusal(status, body);
  }

  /** Closes every connection (close frame 1001, no upstream events) and the keep-alive timer. */
  close(): void {
    this.#closed = true;
    clearInterval(this.#keepAlive);
    for (const session of this.#sessions) session.shutdown();
    for (const socket of this.#pendingSockets) socket.destroy();
    this.#pendingSockets.clear();
    this.#wss.close();
  }
}

function parseRequest(req: IncomingMessage): ClientRequest {
  const url = new URL(req.url ?? '/', 'http://emulator');
  let hub: string | null;
  const match = /^\/client\/hubs\/([^/]+)\/?$/.exec(url.pathname);
  if (match) {
    try {
      hub = decodeURIComponent(match[1]);
    } catch {
      throw new Refusal(400, 'the hub name in the path is not valid percent-encoding');
    }
  } else if (url.pathname === '/client' || url.pathname === '/client/') {
    hub = url.searchParams.get('hub');
    if (!hub) throw new Refusal(400, 'no hub: use /client/hubs/{hub} or /client/?hub={hub}');
  } else {
    throw new Refusal(
      404,
      `no client endpoint at ${url.pathname.slice(0, 200)}; use /client/hubs/{hub}`,
    );
  }
  const problem = hubNameProblem(hub);
  if (problem) throw new Refusal(400, problem);
  const offered = (req.headers['sec-websocket-protocol'] ?? '')
    .split(',')
    .map(name => name.trim())
    .filter(name => name !== '');
  return { hub, query: url.searchParams, offered };
}

/**
 * The PubSub subprotocols in the order the emulator prefers them when a client offers several
 * (the official emulator prefers reliable JSON, then JSON).
 */
const PREFERRED_SUBPROTOCOLS: readonly string[] = [
  JSON_RELIABLE_SUBPROTOCOL,
  JSON_SUBPROTOCOL,
  PROTOBUF_RELIABLE_SUBPROTOCOL,
  PROTOBUF_SUBPROTOCOL,
];

function pickSubprotocol(offered: string[]): string | undefined {
  for (const name of PREFERRED_SUBPROTOCOLS) if (offered.includes(name)) return name;
  // One unknown name: a simple client that names its own protocol; echo it.
  return offered.length === 1 ? offered[0] : undefined;
}
