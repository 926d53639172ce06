import type { ConnectionStates } from '../protocol/connection-state.js';
import { mqttConnectCodeName } from '../protocol/mqtt.js';
import {
  readConnectResult,
  readHandshakeResult,
  readStateChange,
  readUserEventResult,
  type ConnectResult,
  type HandshakeResult,
  type MqttConnectRefusal,
  type StateChange,
  type UserEventResult,
  type WireAnswer,
} from '../protocol/response.reader.js';
import type { TestResponseLike } from './http-clients.js';

/** The `ce-connectionState` of an answer, decoded; `undefined` when the handler changed nothing. */
type WithStates<T> = T & { readonly states?: ConnectionStates };

/** A supertest / `inject()` / `{ status, headers, body }` response as the protocol reader takes it. */
export function toWireAnswer(response: TestResponseLike | WireAnswer): WireAnswer {
  const like = response as TestResponseLike;
  const status = like.status ?? like.statusCode;
  if (typeof status !== 'number') {
    throw new TypeError('Not a response: it has neither status nor statusCode');
  }
  let headers: WireAnswer['headers'] = like.headers ?? {};
  const raw = like.res?.rawHeaders;
  if (raw) {
    const lines: Record<string, string[]> = {};
    for (let i = 0; i + 1 < raw.length; i += 2)
      (lines[raw[i].toLowerCase()] ??= []).push(raw[i + 1]);
    headers = lines;
  }
  return { status, headers, body: bodyOf(like) };
}

function bodyOf(response: TestResponseLike): Buffer | string | undefined {
  if (Buffer.isBuffer(response.rawPayload)) return response.rawPayload;
  const { body } = response;
  if (Buffer.isBuffer(body)) return body;
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (typeof response.text === 'string') return response.text;
  if (typeof response.payload === 'string') return response.payload;
  if (typeof body === 'string') return body;
  return undefined;
}

function withStates<T extends object>(result: T): WithStates<T> {
  const state = (result as { state?: StateChange }).state;
  return state?.changed ? { ...result, states: state.states } : result;
}

/**
 * The answer to a connect event: `accepted`, and `userId`, `groups`, `roles`, `subprotocol`,
 * `mqttUserProperties`, `states`; or the refusal's `status`, `message` and `mqtt` error.
 * @throws when the answer breaks the protocol (e.g. a 200 body that is not a JSON object).
 */
export function readConnectResponse(
  response: TestResponseLike | WireAnswer,
): WithStates<ConnectResult> {
  return withStates(readConnectResult(toWireAnswer(response)));
}

/**
 * The answer to a user event: `dataType` (`text`, `json`, `binary`, or `undefined` for no reply),
 * `data` (string, parsed JSON, Buffer), `states`, `mqttUserProperties`; or `ok: false`.
 * @throws when the answer breaks the protocol (an unsupported content type, JSON that does not parse).
 */
export function readUserEventResponse(
  response: TestResponseLike | WireAnswer,
): WithStates<UserEventResult> {
  return withStates(readUserEventResult(toWireAnswer(response)));
}

/** What an answer does to the connection's state (`changed`, `header`, decoded `states`). */
export function readConnectionState(response: TestResponseLike | WireAnswer): StateChange {
  return readStateChange(toWireAnswer(response));
}

/** An MQTT connect refusal, with the code's name (`NotAuthorized`, ...). */
export interface MqttErrorResponse extends MqttConnectRefusal {
  readonly status: number;
  readonly codeName: string;
}

/**
 * The MQTT refusal of a connect: `{ status, code, codeName, reason?, userProperties? }`.
 * @throws Error when the answer is not an MQTT refusal (an acceptance, or a plain-text refusal).
 */
export function readMqttError(response: TestResponseLike | WireAnswer): MqttErrorResponse {
  const result = readConnectResult(toWireAnswer(response));
  if (result.accepted) {
    throw new Error(`The connect was accepted (${result.status}), not refused with an MQTT code`);
  }
  if (!result.mqtt) {
    throw new Error(
      `The connect was refused (${result.status}) without an MQTT error body: ${JSON.stringify(result.message.slice(0, 200))}`,
    );
  }
  return { status: result.status, ...result.mqtt, codeName: mqttConnectCodeName(result.mqtt.code) };
}

/** The answer to the abuse-protection handshake: `allowed` and the `allowedOrigins`. */
export function readAbuseProtectionResponse(
  response: TestResponseLike | WireAnswer,
): HandshakeResult {
  return readHandshakeResult(toWireAnswer(response));
}
