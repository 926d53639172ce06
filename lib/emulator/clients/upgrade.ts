/**
 * What the client endpoints (JSON and MQTT) share before and during a WebSocket upgrade: the
 * guard that turns a failure into an HTTP refusal, the token's place in the request, the connect
 * event's body, and the plain-text refusal itself.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { JWTPayload } from 'jose';
import { verifyAccessToken } from '../../protocol/client-access-token.js';
import type { ConnectRequestBody } from '../upstream/upstream.js';
import { hubKey } from '../../protocol/names.js';

/** Frames are at most 1 MB. */
export const MAX_FRAME_BYTES = 1024 * 1024;

/**
 * A session's key in an endpoint's table: its hub, in any case (hub names are compared
 * case-insensitively, as the service does), and its id (a connection id, an MQTT client id).
 */
export function sessionKey(hub: string, id: string): string {
  return `${hubKey(hub)}\n${id}`;
}

/** An upgrade refused with an HTTP status and a body that says why. */
export class Refusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The part of an upgrade both WebSocket endpoints share: refuse while closing, track the socket
 * until it is accepted, and turn a failure into an HTTP refusal (a `Refusal`'s status, else 500,
 * logged once) instead of an unhandled rejection.
 */
export function guardUpgrade(
  socket: Duplex,
  state: { readonly closed: boolean; readonly pending: Set<Duplex> },
  accept: () => Promise<void>,
  log: (line: string) => void,
  what: string,
): void {
  socket.on('error', () => socket.destroy());
  if (state.closed) {
    refuse(socket, 503, 'the emulator is shutting down');
    return;
  }
  state.pending.add(socket);
  socket.once('close', () => state.pending.delete(socket));
  accept().catch((error: unknown) => {
    const status = error instanceof Refusal ? error.status : 500;
    const message = error instanceof Error ? error.message : 'internal error';
    state.pending.delete(socket);
    refuse(socket, status, message);
    if (!(error instanceof Refusal)) log(`${what} upgrade failed: ${message}`);
  });
}

/** What the upgrade request asks for. */
export interface ClientRequest {
  readonly hub: string;
  readonly query: URLSearchParams;
  readonly offered: string[];
}

export function accessToken(req: IncomingMessage, query: URLSearchParams): string | undefined {
  const fromQuery = query.get('access_token');
  if (fromQuery) return fromQuery;
  const authorization = req.headers.authorization;
  const match = authorization ? /^Bearer\s+(\S+)\s*$/i.exec(authorization) : null;
  return match ? match[1] : undefined;
}

/** The service's clock skew allowance for client tokens. */
const CLOCK_TOLERANCE_S = 300;

/** A client token's claims, or why it is refused (a 401). */
export type ClientTokenCheck =
  | { readonly ok: true; readonly claims: JWTPayload }
  | { readonly ok: false; readonly missing: boolean; readonly message: string };

/**
 * The one client-token check of the emulator's client endpoints (JSON, MQTT, Socket.IO): the
 * request's token (query or bearer) verified for the audience `<scheme>://<Host><path>` (the
 * request's Host, so a port mapping or a proxy works; the scheme is ignored). No token is an
 * anonymous client (no claims) where `anonymousAllowed` says so.
 */
export async function checkClientToken(
  req: IncomingMessage,
  query: URLSearchParams,
  path: string,
  accessKey: string,
  anonymousAllowed: boolean,
): Promise<ClientTokenCheck> {
  const token = accessToken(req, query);
  if (token === undefined) {
    return anonymousAllowed
      ? { ok: true, claims: {} }
      : {
          ok: false,
          missing: true,
          message: 'no access token (access_token query parameter or Authorization: Bearer)',
        };
  }
  const expected = `http://${req.headers.host ?? ''}${path}`;
  const result = await verifyAccessToken(token, accessKey, {
    audience: expected,
    clockToleranceSeconds: CLOCK_TOLERANCE_S,
  });
  if (result.ok) return { ok: true, claims: result.claims };
  const message =
    result.reason === 'wrong-audience'
      ? `${result.message}: expected ${expected.slice('http://'.length)} (any scheme)`
      : result.message;
  return { ok: false, missing: false, message };
}

export function stringList(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((item): item is string => typeof item === 'string');
  return [];
}

const HIDDEN_QUERY = new Set(['access_token']);
const HIDDEN_HEADERS = new Set(['authorization']);

/** The connect event body: claims as string lists, the query and headers without the token. */
export function connectBody(
  req: IncomingMessage,
  request: ClientRequest,
  claims: JWTPayload,
): ConnectRequestBody {
  const claimLists: Record<string, string[]> = Object.create(null);
  for (const [name, value] of Object.entries(claims)) {
    if (value === undefined || value === null) continue;
    claimLists[name] = (Array.isArray(value) ? value : [value]).map(item =>
      typeof item === 'string' ? item : JSON.stringify(item),
    );
  }
  const query: Record<string, string[]> = Object.create(null);
  for (const [name, value] of request.query) {
    if (HIDDEN_QUERY.has(name)) continue;
    (query[name] ??= []).push(value);
  }
  const headers: Record<string, string[]> = Object.create(null);
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i];
    if (HIDDEN_HEADERS.has(name.toLowerCase())) continue;
    (headers[name] ??= []).push(req.rawHeaders[i + 1]);
  }
  return {
    claims: claimLists,
    query,
    headers,
    subprotocols: request.offered,
    clientCertificates: [],
  };
}

/** Answers an upgrade request with a plain HTTP status before any WebSocket exists. */
export function refuse(socket: Duplex, status: number, message: string): void {
  if (socket.destroyed) return;
  const body = Buffer.from(`${message}\n`, 'utf8');
  const reason = STATUS_TEXT[status] ?? 'Error';
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n` +
      `Content-Length: ${body.length}\r\n\r\n${body.toString('utf8')}`,
  );
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};
