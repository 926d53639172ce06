import { mediaType, userEventDataType } from './cloud-event.reader.js';
import { decodeConnectionState, type ConnectionStates } from './connection-state.js';
import { Header, type UserEventDataType } from './headers.js';
import { copyUserProperties, readMqttUserProperties, type MqttUserProperty } from './mqtt.js';
import { quote } from './text.js';
import { jsonDepthProblem } from './json-depth.js';

/** An event handler's answer as an HTTP client received it. Header names in any case. */
export interface WireAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | readonly string[] | number | undefined>>;
  /** The raw body; absent or empty when there was none. */
  readonly body?: Buffer | Uint8Array | string;
}

/** An answer the protocol does not allow (a connect body that is not a JSON object, ...). */
export class ResponseFormatError extends Error {
  constructor(
    /** The status of the answer that could not be read. */
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ResponseFormatError';
  }
}

/** What an answer does to the connection's state (`ce-connectionState`). */
export type StateChange =
  | { readonly changed: false }
  | {
      readonly changed: true;
      /** The header value as sent (opaque to the service; empty clears the state). */
      readonly header: string;
      /** The header decoded the module's way (base64 JSON object; anything else → `{}`). */
      readonly states: ConnectionStates;
    };

/**
 * An MQTT connect refusal as the answer carries it: `{"mqtt":{"code","reason"?,"userProperties"?}}`
 * (the class `MqttConnectError` of the main entry is what a handler throws to send one).
 */
export interface MqttConnectRefusal {
  readonly code: number;
  readonly reason?: string;
  readonly userProperties?: readonly MqttUserProperty[];
}

export type ConnectResult =
  | {
      readonly accepted: true;
      readonly status: number;
      readonly userId?: string;
      readonly groups?: readonly string[];
      readonly roles?: readonly string[];
      readonly subprotocol?: string;
      /** MQTT clients: user properties for the CONNACK. */
      readonly mqttUserProperties?: readonly MqttUserProperty[];
      readonly state: StateChange;
    }
  | {
      readonly accepted: false;
      readonly status: number;
      /** The body as text (a plain-text refusal's message, or the JSON of an MQTT refusal). */
      readonly message: string;
      /** Present when the body is an MQTT refusal. */
      readonly mqtt?: MqttConnectRefusal;
    };

export type UserEventResult =
  | ({
      readonly ok: true;
      readonly status: number;
      readonly state: StateChange;
      /** MQTT clients: the `mqtt-<name>` response headers, as user properties of the reply. */
      readonly mqttUserProperties: readonly MqttUserProperty[];
      /** The `Content-Type` as sent (absent when there is no reply). */
      readonly contentType?: string;
    } & (
      | { readonly dataType: undefined; readonly data: undefined }
      | { readonly dataType: 'text'; readonly data: string }
      | { readonly dataType: 'json'; readonly data: unknown }
      | { readonly dataType: 'binary'; readonly data: Buffer }
      | { readonly dataType: 'protobuf'; readonly data: Buffer }
    ))
  | { readonly ok: false; readonly status: number; readonly message: string };

export type HandshakeResult =
  | { readonly allowed: true; readonly status: number; readonly allowedOrigins: readonly string[] }
  | { readonly allowed: false; readonly status: number; readonly message: string };

/** Every value of a header, whatever the case of its name. */
export function answerHeaderValues(answer: WireAnswer, name: string): string[] {
  const wanted = name.toLowerCase();
  const values: string[] = [];
  for (const key in answer.headers) {
    if (key.toLowerCase() !== wanted) continue;
    const value = answer.headers[key];
    if (value === undefined) continue;
    if (typeof value === 'string') values.push(value);
    else if (typeof value === 'number') values.push(String(value));
    else values.push(...value);
  }
  return values;
}

function header(answer: WireAnswer, name: string): string | undefined {
  const values = answerHeaderValues(answer, name);
  return values.length === 0 ? undefined : values.join(', ');
}

function bodyBytes(answer: WireAnswer): Buffer {
  const { body } = answer;
  if (body === undefined) return Buffer.alloc(0);
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  return Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
}

const isSuccess = (status: number) => status >= 200 && status < 300;

/**
 * The state change an answer makes. Absent header → no change; one header → its value, decoded;
 * several `ce-connectionState` headers → {@link ResponseFormatError} (the service refuses them).
 */
export function readStateChange(answer: WireAnswer): StateChange {
  const values = answerHeaderValues(answer, Header.connectionState);
  if (values.length === 0) return { changed: false };
  if (values.length > 1) {
    throw new ResponseFormatError(
      answer.status,
      `The answer has ${values.length} ce-connectionState headers: at most one is allowed`,
    );
  }
  return { changed: true, header: values[0], states: decodeConnectionState(values[0]) };
}

/**
 * Reads the answer to a connect event. 2xx accepts (204 or an empty body: no fields; otherwise a
 * JSON object whose `userId`, `groups`, `roles`, `subprotocol` and `mqtt.userProperties` must have
 * their types); 4xx/5xx refuses, with the MQTT refusal body read when it is one.
 * @throws ResponseFormatError naming what is wrong with an accepting answer.
 */
export function readConnectResult(answer: WireAnswer): ConnectResult {
  const bytes = bodyBytes(answer);
  if (!isSuccess(answer.status)) {
    const message = bytes.toString('utf8');
    const mqtt =
      mediaType(header(answer, Header.contentType)) === 'application/json'
        ? readMqttConnectRefusal(message)
        : undefined;
    return mqtt
      ? { accepted: false, status: answer.status, message, mqtt }
      : { accepted: false, status: answer.status, message };
  }
  const state = readStateChange(answer);
  if (answer.status === 204 || bytes.length === 0) {
    return { accepted: true, status: answer.status, state };
  }
  const fail = (problem: string) =>
    new ResponseFormatError(answer.status, `The connect answer ${problem}`);
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw fail(`body is not JSON: ${(error as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw fail('body must be a JSON object');
  }
  const json = value as Record<string, unknown>;
  const result: {
    -readonly [K in keyof Extract<ConnectResult, { accepted: true }>]: Extract<
      ConnectResult,
      { accepted: true }
    >[K];
  } = { accepted: true, status: answer.status, state };
  if (json.userId !== undefined && json.userId !== null) {
    if (typeof json.userId !== 'string') throw fail('userId must be a string');
    result.userId = json.userId;
  }
  for (const field of ['groups', 'roles'] as const) {
    const list = json[field];
    if (list === undefined || list === null) continue;
    if (!Array.isArray(list) || list.some(item => typeof item !== 'string')) {
      throw fail(`${field} must be an array of strings`);
    }
    result[field] = list as string[];
  }
  if (json.subprotocol !== undefined && json.subprotocol !== null) {
    if (typeof json.subprotocol !== 'string') throw fail('subprotocol must be a string');
    result.subprotocol = json.subprotocol;
  }
  const mqtt = json.mqtt as { userProperties?: unknown } | null | undefined;
  if (mqtt !== undefined && mqtt !== null) {
    if (typeof mqtt !== 'object') throw fail('mqtt must be an object');
    if (mqtt.userProperties !== undefined && mqtt.userProperties !== null) {
      try {
        result.mqttUserProperties = copyUserProperties(mqtt.userProperties, 'mqtt.userProperties');
      } catch (error) {
        throw fail((error as Error).message);
      }
    }
  }
  return result;
}

/** The MQTT refusal in a JSON body, or `undefined` when the body is not one. */
function readMqttConnectRefusal(text: string): MqttConnectRefusal | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const mqtt = (value as { mqtt?: unknown } | null)?.mqtt as Record<string, unknown> | undefined;
  if (mqtt === null || typeof mqtt !== 'object' || typeof mqtt.code !== 'number') return undefined;
  const error: { code: number; reason?: string; userProperties?: readonly MqttUserProperty[] } = {
    code: mqtt.code,
  };
  if (typeof mqtt.reason === 'string') error.reason = mqtt.reason;
  if (Array.isArray(mqtt.userProperties)) {
    try {
      error.userProperties = copyUserProperties(mqtt.userProperties, 'mqtt.userProperties');
    } catch {
      // user properties of the wrong shape would not reach the client: read as absent
    }
  }
  return error;
}

/**
 * Reads the answer to a user event. 2xx: 204 or an empty body → no reply; otherwise the
 * `Content-Type` selects the data type (text/plain, application/json, application/octet-stream,
 * application/x-protobuf; no `Content-Type` → binary, as the service does), JSON is parsed. 4xx/5xx → `ok: false`.
 * @throws ResponseFormatError for an unsupported content type or a JSON reply that does not parse.
 */
export function readUserEventResult(answer: WireAnswer): UserEventResult {
  const bytes = bodyBytes(answer);
  if (!isSuccess(answer.status)) {
    return { ok: false, status: answer.status, message: bytes.toString('utf8') };
  }
  const state = readStateChange(answer);
  const mqttUserProperties = readMqttUserProperties(lowerCaseHeaders(answer));
  const contentType = header(answer, Header.contentType);
  const base = { ok: true as const, status: answer.status, state, mqttUserProperties, contentType };
  if (answer.status === 204 || bytes.length === 0) {
    return { ...base, dataType: undefined, data: undefined };
  }
  const dataType: UserEventDataType | undefined =
    contentType === undefined ? 'binary' : userEventDataType(contentType);
  switch (dataType) {
    case 'text':
      return { ...base, dataType, data: bytes.toString('utf8') };
    case 'binary':
    case 'protobuf':
      return { ...base, dataType, data: bytes };
    case 'json': {
      let data: unknown;
      const text = bytes.toString('utf8');
      const tooDeep = jsonDepthProblem(text);
      if (tooDeep) {
        throw new ResponseFormatError(
          answer.status,
          `The user event answer is refused: ${tooDeep}`,
        );
      }
      try {
        data = JSON.parse(text);
      } catch (error) {
        throw new ResponseFormatError(
          answer.status,
          `The user event answer is declared JSON but does not parse: ${(error as Error).message}`,
        );
      }
      return { ...base, dataType, data };
    }
    case undefined:
      throw new ResponseFormatError(
        answer.status,
        `The user event answer has an unsupported Content-Type ${quote(contentType as string)}: ` +
          'expected text/plain, application/json, application/octet-stream or application/x-protobuf',
      );
  }
}

function lowerCaseHeaders(answer: WireAnswer): Record<string, string[]> {
  // Keyed by the answer's header names: no prototype for `constructor` or `__proto__` to shadow.
  const headers: Record<string, string[]> = Object.create(null);
  for (const key in answer.headers) {
    const lower = key.toLowerCase();
    if (headers[lower] === undefined) headers[lower] = answerHeaderValues(answer, lower);
  }
  return headers;
}

/**
 * Reads the answer to the abuse-protection handshake: allowed when the status is 2xx and at least
 * one `WebHook-Allowed-Origin` value is present (one value per header line; a comma-joined line is
 * one value, as the service compares it).
 */
export function readHandshakeResult(answer: WireAnswer): HandshakeResult {
  const allowedOrigins = answerHeaderValues(answer, Header.webhookAllowedOrigin);
  if (isSuccess(answer.status) && allowedOrigins.length > 0) {
    return { allowed: true, status: answer.status, allowedOrigins };
  }
  const text = bodyBytes(answer).toString('utf8');
  return {
    allowed: false,
    status: answer.status,
    message:
      text ||
      (isSuccess(answer.status) ? 'The answer has no WebHook-Allowed-Origin header' : 'Refused'),
  };
}

/**
 * Whether the service would accept a handshake answer for `origin`: an allowed value is `*` or
 * the origin's host, compared case-insensitively.
 */
export function handshakeAllows(result: HandshakeResult, origin: string): boolean {
  if (!result.allowed) return false;
  const host = origin.toLowerCase();
  return result.allowedOrigins.some(value => {
    const allowed = value.trim().toLowerCase();
    return allowed === '*' || allowed === host;
  });
}
