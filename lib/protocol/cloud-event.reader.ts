import {
  EventType,
  Header,
  REQUIRED_EVENT_HEADERS,
  SPEC_VERSION,
  USER_EVENT_MEDIA_TYPES,
  type EventKind,
  type UserEventDataType,
} from './headers.js';
import {
  copyUserProperties,
  isMqttEvent,
  readMqttUserProperties,
  type MqttUserProperty,
  type WebPubSubClientProtocol,
} from './mqtt.js';
import { ProtocolError } from './protocol.error.js';
import { quote } from './text.js';

/** Request headers as Node delivers them: lower-case names. */
export type IncomingHeaders = Readonly<Record<string, string | string[] | undefined>>;

/** The CloudEvents attributes and Web PubSub extensions of one request, validated. */
export interface EventHeaders {
  readonly kind: EventKind;
  /** `ce-type` as sent. */
  readonly type: string;
  /** The user event name (from `ce-type`) or the system event name. */
  readonly eventName: string;
  readonly specVersion: string;
  readonly id: string;
  readonly hub: string;
  readonly connectionId: string;
  readonly userId?: string;
  readonly source?: string;
  readonly time?: string;
  readonly awpsVersion?: string;
  readonly signature?: string;
  readonly subprotocol?: string;
  readonly connectionState?: string;
  readonly origin?: string;
  readonly contentType?: string;
  /** `'mqtt'` when `ce-subprotocol` contains `mqtt` and `ce-physicalConnectionId` is present. */
  readonly clientProtocol: WebPubSubClientProtocol;
  /** MQTT clients only: `ce-physicalConnectionId`. */
  readonly physicalConnectionId?: string;
  /** MQTT clients only: `ce-sessionId` (absent on `connect`). */
  readonly sessionId?: string;
  /** MQTT user events only: the `mqtt-<name>` request headers, in order. */
  readonly mqttUserProperties?: readonly MqttUserProperty[];
  /** A user event's data type, set once its content type is checked ({@link assertUserEventContentType}). */
  dataType?: UserEventDataType;
}

/** The body of a request in whichever form the HTTP platform delivered it. */
export type EventBody =
  | { readonly form: 'bytes'; readonly bytes: Buffer }
  | { readonly form: 'text'; readonly text: string }
  | { readonly form: 'parsed'; readonly value: unknown };

export interface ConnectPayload {
  readonly claims: Record<string, string[]>;
  readonly query: Record<string, string[]>;
  readonly headers: Record<string, string[]>;
  readonly subprotocols: string[];
  readonly clientCertificates: { thumbprint: string; content?: string }[];
  /** MQTT clients only: the CONNECT packet. */
  readonly mqtt?: MqttConnectProperties;
}

/** The `mqtt` part of an MQTT client's connect event. */
export interface MqttConnectProperties {
  /** 4 for MQTT 3.1.1, 5 for MQTT 5.0. */
  readonly protocolVersion: number;
  readonly username?: string;
  /** The password as the service sent it: base64 of the CONNECT packet's binary password. */
  readonly password?: string;
  /** The password bytes ({@link password} decoded). */
  readonly passwordBytes?: Buffer;
  /** MQTT 5 CONNECT user properties. */
  readonly userProperties?: readonly MqttUserProperty[];
}

/** The `mqtt` part of an MQTT client's disconnected event. */
export interface MqttDisconnectedProperties {
  /** Whether the client ended the session (sent DISCONNECT or closed the connection). */
  readonly initiatedByClient: boolean;
  /** The client's DISCONNECT packet, or `null` when there was none. */
  readonly disconnectPacket: MqttDisconnectPacket | null;
}

export interface MqttDisconnectPacket {
  /** The MQTT 5 DISCONNECT reason code ({@link MqttDisconnectReasonCode}); 0 for MQTT 3.1.1. */
  readonly code: number;
  readonly userProperties?: readonly MqttUserProperty[];
}

export type UserEventPayload =
  | { readonly dataType: 'text'; readonly data: string }
  | { readonly dataType: 'json'; readonly data: unknown }
  | { readonly dataType: 'binary'; readonly data: Buffer }
  | { readonly dataType: 'protobuf'; readonly data: Buffer };

export interface DisconnectedPayload {
  readonly reason?: string;
  /** MQTT clients only. */
  readonly mqtt?: MqttDisconnectedProperties;
}

export interface GroupPayload {
  readonly group: string;
}

const USER_PREFIX_LENGTH = EventType.userPrefix.length;
// oxlint-disable-next-line no-control-regex -- control characters are exactly what is refused
const INVALID_EVENT_NAME = /[\s,\x00-\x1f\x7f]/;

/** Reads one header; a repeated header (an array) counts by its first value. */
export function headerValue(headers: IncomingHeaders, name: string): string | undefined {
  const value = headers[name];
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : value[0];
}

// oxlint-disable-next-line no-control-regex -- the whole ASCII range, control characters included
const NON_ASCII = /[^\x00-\x7f]/;

/**
 * Node reads header bytes as Latin-1; the service writes identifiers (user ids especially) as
 * UTF-8. Re-read non-ASCII values as UTF-8, so `ce-userId: 用户` is `用户` and a signature over a
 * non-ASCII connection id covers the same bytes the service signed. ASCII values pass untouched.
 */
function utf8<T extends string | undefined>(value: T): T {
  return (
    value !== undefined && NON_ASCII.test(value)
      ? Buffer.from(value, 'latin1').toString('utf8')
      : value
  ) as T;
}

/**
 * Validates the CloudEvents binary-mode attributes of a POST and classifies the event.
 * @throws ProtocolError 400 naming the missing or invalid attribute.
 */
export function readEventHeaders(headers: IncomingHeaders): EventHeaders {
  let missing: string[] | undefined;
  for (const name of REQUIRED_EVENT_HEADERS) {
    const value = headerValue(headers, name);
    if (value === undefined || value === '') (missing ??= []).push(name);
  }
  if (missing) {
    throw new ProtocolError(
      400,
      `Missing CloudEvents header${missing.length > 1 ? 's' : ''}: ${missing.join(', ')}`,
    );
  }
  const specVersion = headerValue(headers, Header.specVersion) as string;
  if (specVersion !== SPEC_VERSION) {
    throw new ProtocolError(
      400,
      `Unsupported ce-specversion ${quote(specVersion)}: expected "1.0"`,
    );
  }
  const type = utf8(headerValue(headers, Header.type) as string);
  const { kind, name } = classify(type);
  const systemName = utf8(headerValue(headers, Header.eventName) as string);
  const subprotocol = headerValue(headers, Header.subprotocol) || undefined;
  // The only MQTT cost a default client pays: this one lookup (absent for default clients).
  const physicalConnectionId = headerValue(headers, Header.physicalConnectionId);
  const mqtt = physicalConnectionId !== undefined && isMqttEvent(subprotocol, physicalConnectionId);
  return {
    kind,
    type,
    eventName: kind === 'user' ? name : systemName,
    specVersion,
    id: headerValue(headers, Header.id) as string,
    hub: utf8(headerValue(headers, Header.hub) as string),
    connectionId: utf8(headerValue(headers, Header.connectionId) as string),
    userId: utf8(headerValue(headers, Header.userId)) || undefined,
    source: headerValue(headers, Header.source),
    time: headerValue(headers, Header.time),
    awpsVersion: headerValue(headers, Header.awpsVersion),
    signature: headerValue(headers, Header.signature),
    subprotocol,
    connectionState: headerValue(headers, Header.connectionState),
    origin: headerValue(headers, Header.webhookRequestOrigin),
    contentType: headerValue(headers, Header.contentType),
    clientProtocol: mqtt ? 'mqtt' : 'default',
    physicalConnectionId: mqtt ? physicalConnectionId : undefined,
    sessionId: mqtt ? headerValue(headers, Header.sessionId) : undefined,
    mqttUserProperties: mqtt && kind === 'user' ? readMqttUserProperties(headers) : undefined,
  };
}

function classify(type: string): { kind: EventKind; name: string } {
  switch (type) {
    case EventType.connect:
      return { kind: 'connect', name: 'connect' };
    case EventType.connected:
      return { kind: 'connected', name: 'connected' };
    case EventType.disconnected:
      return { kind: 'disconnected', name: 'disconnected' };
    case EventType.groupJoined:
      return { kind: 'groupJoined', name: 'joined' };
    case EventType.groupLeft:
      return { kind: 'groupLeft', name: 'left' };
  }
  if (type.startsWith(EventType.userPrefix) && type.length > USER_PREFIX_LENGTH) {
    const name = type.slice(USER_PREFIX_LENGTH);
    // No whitespace, commas or control characters: Node joins a repeated header with ", ".
    if (!INVALID_EVENT_NAME.test(name)) return { kind: 'user', name };
  }
  throw new ProtocolError(
    400,
    `Unsupported ce-type ${quote(type)}: expected azure.webpubsub.sys.connect|connected|disconnected, ` +
      'azure.webpubsub.user.<event> or azure.webpubsub.gp.joined|left',
  );
}

/** Media type without parameters, lower case: `Application/JSON; charset=utf-8` → `application/json`. */
export function mediaType(contentType: string | undefined): string {
  if (!contentType) return '';
  const semicolon = contentType.indexOf(';');
  return (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
}

/** The data type a user event's content type maps to, or `undefined` when it is not supported. */
export function userEventDataType(contentType: string | undefined): UserEventDataType | undefined {
  const media = mediaType(contentType);
  // An own property only: `constructor` or `__proto__` is not a content type.
  return Object.hasOwn(USER_EVENT_MEDIA_TYPES, media)
    ? (USER_EVENT_MEDIA_TYPES as Record<string, UserEventDataType>)[media]
    : undefined;
}

/** Rejects a user event whose content type is missing or unsupported: 415, naming the supported types. */
export function assertUserEventContentType(contentType: string | undefined): UserEventDataType {
  const dataType = userEventDataType(contentType);
  if (dataType === undefined) {
    throw new ProtocolError(
      415,
      `${contentType ? `Unsupported Content-Type ${quote(contentType)}` : 'Missing Content-Type'} for a user event: ` +
        `expected ${Object.keys(USER_EVENT_MEDIA_TYPES).join(', ')}`,
    );
  }
  return dataType;
}

/**
 * Rejects a system or group presence event whose content type is not JSON (415): the service
 * always sends `application/json`.
 */
export function assertJsonContentType(contentType: string | undefined, what: string): void {
  if (mediaType(contentType) !== 'application/json') {
    throw new ProtocolError(
      415,
      `${contentType ? `Unsupported Content-Type ${quote(contentType)}` : 'Missing Content-Type'} for a ${what} event: expected application/json`,
    );
  }
}

/** Parses a system event body, which must be a JSON object. */
export function readJsonObjectBody(body: EventBody, what: string): Record<string, unknown> {
  let value: unknown;
  if (body.form === 'parsed') {
    value = body.value;
  } else {
    const text = body.form === 'text' ? body.text : body.bytes.toString('utf8');
    // The service always sends a JSON object; an empty body is refused, as Fastify's parser does.
    if (text.trim() === '')
      throw new ProtocolError(400, `The ${what} event body is empty: a JSON object is expected`);
    value = parseJson(text, what);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ProtocolError(400, `The ${what} event body must be a JSON object`);
  }
  return value as Record<string, unknown>;
}

/** Reads a connect body; with `mqtt` (an MQTT client's event) its `mqtt` part as well. */
export function readConnectPayload(body: EventBody, mqtt = false): ConnectPayload {
  const json = readJsonObjectBody(body, 'connect');
  const payload: { -readonly [K in keyof ConnectPayload]: ConnectPayload[K] } = {
    claims: objectField(json.claims),
    query: objectField(json.query),
    headers: objectField(json.headers),
    subprotocols: Array.isArray(json.subprotocols) ? (json.subprotocols as string[]) : [],
    clientCertificates: Array.isArray(json.clientCertificates)
      ? (json.clientCertificates as ConnectPayload['clientCertificates'])
      : [],
  };
  if (mqtt) payload.mqtt = readMqttConnectProperties(json.mqtt);
  return payload;
}

const BASE64 =
  /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2,3})?$/;

/**
 * The `mqtt` part of an MQTT connect. `protocolVersion` is required (the answer to a refused
 * connect depends on it) and `password` must be base64 (its bytes are what a handler checks):
 * otherwise 400. Other fields of the wrong type read as absent, like the rest of the connect body.
 */
function readMqttConnectProperties(value: unknown): MqttConnectProperties {
  const mqtt = objectField<unknown>(value);
  const { protocolVersion, username, password, userProperties } = mqtt;
  if (typeof protocolVersion !== 'number' || !Number.isInteger(protocolVersion)) {
    throw new ProtocolError(
      400,
      'The MQTT connect event body lacks an integer mqtt.protocolVersion',
    );
  }
  const properties: { -readonly [K in keyof MqttConnectProperties]: MqttConnectProperties[K] } = {
    protocolVersion,
  };
  if (typeof username === 'string') properties.username = username;
  if (typeof password === 'string') {
    if (!BASE64.test(password))
      throw new ProtocolError(400, 'The MQTT connect event mqtt.password is not base64');
    properties.password = password;
    properties.passwordBytes = Buffer.from(password, 'base64');
  }
  const userPropertyList = readUserPropertyList(userProperties);
  if (userPropertyList) properties.userProperties = userPropertyList;
  return properties;
}

/** Reads a disconnected body; with `mqtt` (an MQTT client's event) its `mqtt` part as well. */
export function readDisconnectedPayload(body: EventBody, mqtt = false): DisconnectedPayload {
  const json = readJsonObjectBody(body, 'disconnected');
  const reason = typeof json.reason === 'string' ? json.reason : undefined;
  if (!mqtt) return { reason };
  return { reason, mqtt: readMqttDisconnectedProperties(json.mqtt) };
}

/**
 * The `mqtt` part of an MQTT disconnected event, read leniently (the event is non-blocking and
 * nothing can be refused): `initiatedByClient` is `true` only when sent as `true`; a
 * `disconnectPacket` without a numeric `code` reads as `null`.
 */
function readMqttDisconnectedProperties(value: unknown): MqttDisconnectedProperties {
  const mqtt = objectField<unknown>(value);
  const packet = objectField<unknown>(mqtt.disconnectPacket);
  let disconnectPacket: MqttDisconnectPacket | null = null;
  if (typeof packet.code === 'number') {
    const userProperties = readUserPropertyList(packet.userProperties);
    disconnectPacket = userProperties
      ? { code: packet.code, userProperties }
      : { code: packet.code };
  }
  return { initiatedByClient: mqtt.initiatedByClient === true, disconnectPacket };
}

/** A `userProperties` array of the body, or `undefined` when absent or not a list of string pairs. */
function readUserPropertyList(value: unknown): readonly MqttUserProperty[] | undefined {
  if (value === undefined || value === null) return undefined;
  try {
    return copyUserProperties(value, 'userProperties');
  } catch {
    return undefined;
  }
}

/** Group presence body `{ "group": "<name>" }`; a missing or empty group is refused (400). */
export function readGroupPayload(body: EventBody, what: string): GroupPayload {
  const json = readJsonObjectBody(body, what);
  if (typeof json.group !== 'string' || json.group === '') {
    throw new ProtocolError(400, `The ${what} event body must name the group: {"group":"<name>"}`);
  }
  return { group: json.group };
}

/**
 * Decodes a user event body by its data type: text → string, json → parsed value, binary and
 * protobuf (a serialized `google.protobuf.Any`) → bytes.
 */
export function readUserEventPayload(
  body: EventBody,
  dataType: UserEventDataType,
): UserEventPayload {
  switch (dataType) {
    case 'text':
      return {
        dataType,
        data:
          body.form === 'text'
            ? body.text
            : body.form === 'bytes'
              ? body.bytes.toString('utf8')
              : String(body.value),
      };
    case 'json':
      if (body.form === 'parsed') return { dataType, data: body.value };
      return {
        dataType,
        data: parseJson(body.form === 'text' ? body.text : body.bytes.toString('utf8'), 'user'),
      };
    case 'binary':
    case 'protobuf':
      return {
        dataType,
        data:
          body.form === 'bytes'
            ? body.bytes
            : Buffer.from(body.form === 'text' ? body.text : JSON.stringify(body.value)),
      };
  }
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ProtocolError(
      400,
      `The ${what} event body is not valid JSON: ${(error as Error).message}`,
    );
  }
}

function objectField<T>(value: unknown): Record<string, T> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, T>)
    : {};
}
