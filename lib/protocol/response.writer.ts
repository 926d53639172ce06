import type { HandshakeAnswer } from './abuse-protection.js';
import { encodeConnectionState, type ConnectionStates } from './connection-state.js';
import { ContentType, DATA_TYPE_CONTENT_TYPES, Header } from './headers.js';
import { copyUserProperties, type MqttUserProperty } from './mqtt.js';
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
  /** MQTT clients only: user properties sent in the CONNACK (MQTT 5). */
  mqtt?: { userProperties?: MqttUserProperty[] };
}

const NO_HEADERS = Object.freeze({});
export const NO_CONTENT: WireResponse = Object.freeze({ status: 204, headers: NO_HEADERS });
/** `204` when there is nothing to say, otherwise `200` with a body; plus the state header if set. */
function respond(
  status: number,
  contentType: string | undefined,
  body: Buffer | string | undefined,
  state: string | undefined,
): WireResponse {
  if (body === undefined) {
    return state === undefined
      ? NO_CONTENT
      : { status: 204, headers: { [Header.connectionState]: state } };
  }
  const headers: Record<string, string> = { [Header.contentType]: contentType as string };
  if (state !== undefined) headers[Header.connectionState] = state;
  return { status, headers, body };
}

/** The `ce-connectionState` header value to send, or `undefined` when the handler changed nothing. */
export function stateHeader(states: ConnectionStates, changed: boolean): string | undefined {
  return changed ? encodeConnectionState(states) : undefined;
}

/**
 * Connect: an object → 200 JSON with the fields the service reads; nothing → 204. For an MQTT
 * client (`mqtt`), `mqtt.userProperties` is passed on as well (checked: `{ name, value }` strings).
 */
export function writeConnectResponse(result: unknown, state?: string, mqtt = false): WireResponse {
  if (result === undefined || result === null) return respond(204, undefined, undefined, state);
  if (typeof result !== 'object' || Array.isArray(result)) {
    throw new TypeError(
      `A connect handler must return an object or nothing, not ${Array.isArray(result) ? 'an array' : typeof result}`,
    );
  }
  const source = result as Record<string, unknown>;
  // The fields the service reads, in this order; named reads and writes (one object shape).
  const body: Record<string, unknown> = {};
  const { userId, groups, roles, subprotocol } = source;
  if (userId !== undefined && userId !== null) body.userId = userId;
  if (groups !== undefined && groups !== null) body.groups = groups;
  if (roles !== undefined && roles !== null) body.roles = roles;
  if (subprotocol !== undefined && subprotocol !== null) body.subprotocol = subprotocol;
  if (mqtt) {
    const userProperties = (source.mqtt as { userProperties?: unknown } | null | undefined)
      ?.userProperties;
    if (userProperties !== undefined && userProperties !== null) {
      body.mqtt = {
        userProperties: copyUserProperties(
          userProperties,
          'The connect response mqtt.userProperties',
        ),
      };
    }
  }
  return respond(200, ContentType.json, JSON.stringify(body), state);
}

/**
 * User event: string → text/plain; bytes → application/octet-stream; a {@link UserEventResponse}
 * → its own type (for an MQTT client (`mqtt`) with its user properties as `mqtt-<name>` headers);
 * any other value → JSON; `undefined`/`null` → 204.
 */
export function writeUserEventResponse(
  result: unknown,
  state?: string,
  mqtt = false,
): WireResponse {
  if (result === undefined || result === null) return respond(204, undefined, undefined, state);
  if (typeof result === 'string') return respond(200, ContentType.text, result, state);
  if (result instanceof UserEventResponse) {
    const response = respond(200, DATA_TYPE_CONTENT_TYPES[result.dataType], result.body, state);
    if (!mqtt || result.mqttHeaders === undefined) return response;
    return {
      status: response.status,
      headers: { ...response.headers, ...result.mqttHeaders },
      body: response.body,
    };
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
export function writeError(
  status: number,
  message: string,
  extraHeaders?: Record<string, string>,
): WireResponse {
  return {
    status,
    headers: { [Header.contentType]: ContentType.text, ...extraHeaders },
    body: message,
  };
}

/**
 * Refuses an MQTT client's connect: `status`, JSON `{"mqtt":{"code","reason"?,"userProperties"?}}`.
 * The service sends `code` in the CONNACK; `reason` and `userProperties` reach MQTT 5 clients only.
 */
export function writeMqttConnectError(
  status: number,
  code: number,
  reason?: string,
  userProperties?: readonly MqttUserProperty[],
): WireResponse {
  const mqtt: { code: number; reason?: string; userProperties?: readonly MqttUserProperty[] } = {
    code,
  };
  if (reason !== undefined) mqtt.reason = reason;
  if (userProperties !== undefined) mqtt.userProperties = userProperties;
  return {
    status,
    headers: { [Header.contentType]: ContentType.json },
    body: JSON.stringify({ mqtt }),
  };
}

/** The handshake answer: 200 with one `WebHook-Allowed-Origin` line per allowed origin, or 400. */
export function writeHandshakeResponse(answer: HandshakeAnswer): WireResponse {
  if (!answer.allowed) return writeError(answer.status, answer.message);
  return { status: 200, headers: { [Header.webhookAllowedOrigin]: answer.allowedOrigins } };
}
