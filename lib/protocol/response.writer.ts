import type { HandshakeAnswer } from './abuse-protection.js';
import { encodeConnectionState, type ConnectionStates } from './connection-state.js';
import { ContentType, Header } from './headers.js';
import { toBuffer, UserEventResponse } from './user-event-response.js';

/** An HTTP response as the protocol asks for it, independent of the HTTP platform. */
export interface WireResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | readonly string[]>>;
  readonly body?: Buffer | string;
}

/** The fields of a connect response the service reads. */
export interface ConnectResponseBody {
  userId?: string;
  groups?: string[];
  roles?: string[];
  subprotocol?: string;
}

const NO_HEADERS = Object.freeze({});
export const NO_CONTENT: WireResponse = Object.freeze({ status: 204, headers: NO_HEADERS });
const CONNECT_FIELDS = ['userId', 'groups', 'roles', 'subprotocol'] as const;
const USER_EVENT_CONTENT_TYPES = {
  text: ContentType.text,
  json: ContentType.json,
  binary: ContentType.binary,
} as const;

/** `204` when there is nothing to say, otherwise `200` with a body; plus the state header if set. */
function respond(status: number, contentType: string | undefined, body: Buffer | string | undefined, state: string | undefined): WireResponse {
  if (body === undefined) {
    return state === undefined ? NO_CONTENT : { status: 204, headers: { [Header.connectionState]: state } };
  }
  const headers: Record<string, string> = { [Header.contentType]: contentType as string };
  if (state !== undefined) headers[Header.connectionState] = state;
  return { status, headers, body };
}

/** The `ce-connectionState` header value to send, or `undefined` when the handler changed nothing. */
export function stateHeader(states: ConnectionStates, changed: boolean): string | undefined {
  return changed ? encodeConnectionState(states) : undefined;
}

/** Connect: an object → 200 JSON with the fields the service reads; nothing → 204. */
export function writeConnectResponse(result: unknown, state?: string): WireResponse {
  if (result === undefined || result === null) return respond(204, undefined, undefined, state);
  if (typeof result !== 'object' || Array.isArray(result)) {
    throw new TypeError(`A connect handler must return an object or nothing, not ${Array.isArray(result) ? 'an array' : typeof result}`);
  }
  const source = result as Record<string, unknown>;
  const body: Record<string, unknown> = {};
  for (const field of CONNECT_FIELDS) {
    const value = source[field];
    if (value !== undefined && value !== null) body[field] = value;
  }
  return respond(200, ContentType.json, JSON.stringify(body), state);
}

/**
 * User event: string → text/plain; bytes → application/octet-stream; a {@link UserEventResponse}
 * → its own type; any other value → JSON; `undefined`/`null` → 204.
 */
export function writeUserEventResponse(result: unknown, state?: string): WireResponse {
  if (result === undefined || result === null) return respond(204, undefined, undefined, state);
  if (typeof result === 'string') return respond(200, ContentType.text, result, state);
  if (result instanceof UserEventResponse) {
    return respond(200, USER_EVENT_CONTENT_TYPES[result.dataType], result.body, state);
  }
  const bytes = toBuffer(result);
  if (bytes) return respond(200, ContentType.binary, bytes, state);
  const json = JSON.stringify(result);
  if (json === undefined) {
    throw new TypeError(`A user event handler returned a ${typeof result}, which has no JSON form`);
  }
  return respond(200, ContentType.json, json, state);
}

/** A refusal: the status and a plain-text message. */
export function writeError(status: number, message: string, extraHeaders?: Record<string, string>): WireResponse {
  return { status, headers: { [Header.contentType]: ContentType.text, ...extraHeaders }, body: message };
}

/** The handshake answer: 200 with one `WebHook-Allowed-Origin` line per allowed origin, or 400. */
export function writeHandshakeResponse(answer: HandshakeAnswer): WireResponse {
  if (!answer.allowed) return writeError(answer.status, answer.message);
  return { status: 200, headers: { [Header.webhookAllowedOrigin]: answer.allowedOrigins } };
}
