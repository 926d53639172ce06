import {
  EventType,
  Header,
  REQUIRED_EVENT_HEADERS,
  SPEC_VERSION,
  USER_EVENT_MEDIA_TYPES,
  type EventKind,
  type UserEventDataType,
} from './headers.js';
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
}

export type UserEventPayload =
  | { readonly dataType: 'text'; readonly data: string }
  | { readonly dataType: 'json'; readonly data: unknown }
  | { readonly dataType: 'binary'; readonly data: Buffer };

export interface DisconnectedPayload {
  readonly reason?: string;
}

export interface GroupPayload {
  readonly group: string;
}

const USER_PREFIX_LENGTH = EventType.userPrefix.length;

/** Reads one header; a repeated header (an array) counts by its first value. */
export function headerValue(headers: IncomingHeaders, name: string): string | undefined {
  const value = headers[name];
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : value[0];
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
    throw new ProtocolError(400, `Missing CloudEvents header${missing.length > 1 ? 's' : ''}: ${missing.join(', ')}`);
  }
  const specVersion = headerValue(headers, Header.specVersion) as string;
  if (specVersion !== SPEC_VERSION) {
    throw new ProtocolError(400, `Unsupported ce-specversion ${quote(specVersion)}: expected "1.0"`);
  }
  const type = headerValue(headers, Header.type) as string;
  const { kind, name } = classify(type);
  const systemName = headerValue(headers, Header.eventName) as string;
  return {
    kind,
    type,
    eventName: kind === 'user' ? name : systemName,
    specVersion,
    id: headerValue(headers, Header.id) as string,
    hub: headerValue(headers, Header.hub) as string,
    connectionId: headerValue(headers, Header.connectionId) as string,
    userId: headerValue(headers, Header.userId) || undefined,
    source: headerValue(headers, Header.source),
    time: headerValue(headers, Header.time),
    awpsVersion: headerValue(headers, Header.awpsVersion),
    signature: headerValue(headers, Header.signature),
    subprotocol: headerValue(headers, Header.subprotocol) || undefined,
    connectionState: headerValue(headers, Header.connectionState),
    origin: headerValue(headers, Header.webhookRequestOrigin),
    contentType: headerValue(headers, Header.contentType),
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
    return { kind: 'user', name: type.slice(USER_PREFIX_LENGTH) };
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
  return (USER_EVENT_MEDIA_TYPES as Record<string, UserEventDataType | undefined>)[mediaType(contentType)];
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

/** Parses a system event body: a JSON object, or an empty body read as `{}`. */
export function readJsonObjectBody(body: EventBody, what: string): Record<string, unknown> {
  let value: unknown;
  if (body.form === 'parsed') {
    value = body.value;
  } else {
    const text = body.form === 'text' ? body.text : body.bytes.toString('utf8');
    if (text.trim() === '') return {};
    value = parseJson(text, what);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ProtocolError(400, `The ${what} event body must be a JSON object`);
  }
  return value as Record<string, unknown>;
}

export function readConnectPayload(body: EventBody): ConnectPayload {
  const json = readJsonObjectBody(body, 'connect');
  return {
    claims: objectField(json.claims),
    query: objectField(json.query),
    headers: objectField(json.headers),
    subprotocols: Array.isArray(json.subprotocols) ? (json.subprotocols as string[]) : [],
    clientCertificates: Array.isArray(json.clientCertificates)
      ? (json.clientCertificates as ConnectPayload['clientCertificates'])
      : [],
  };
}

export function readDisconnectedPayload(body: EventBody): DisconnectedPayload {
  const json = readJsonObjectBody(body, 'disconnected');
  return { reason: typeof json.reason === 'string' ? json.reason : undefined };
}

/** Group presence body `{ "group": "<name>" }`; a missing or empty group is refused (400). */
export function readGroupPayload(body: EventBody, what: string): GroupPayload {
  const json = readJsonObjectBody(body, what);
  if (typeof json.group !== 'string' || json.group === '') {
    throw new ProtocolError(400, `The ${what} event body must name the group: {"group":"<name>"}`);
  }
  return { group: json.group };
}

/** Decodes a user event body by its data type: text → string, json → parsed value, binary → bytes. */
export function readUserEventPayload(body: EventBody, dataType: UserEventDataType): UserEventPayload {
  switch (dataType) {
    case 'text':
      return { dataType, data: body.form === 'text' ? body.text : body.form === 'bytes' ? body.bytes.toString('utf8') : String(body.value) };
    case 'json':
      if (body.form === 'parsed') return { dataType, data: body.value };
      return { dataType, data: parseJson(body.form === 'text' ? body.text : body.bytes.toString('utf8'), 'user') };
    case 'binary':
      return { dataType, data: body.form === 'bytes' ? body.bytes : Buffer.from(body.form === 'text' ? body.text : JSON.stringify(body.value)) };
  }
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ProtocolError(400, `The ${what} event body is not valid JSON: ${(error as Error).message}`);
  }
}

function objectField<T>(value: unknown): Record<string, T> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, T>) : {};
}
