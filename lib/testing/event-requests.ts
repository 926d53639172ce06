import type { ConnectPayload } from '../protocol/cloud-event.reader.js';
import {
  writeCloudEvent,
  writeHandshakeRequest,
  type OutgoingCloudEvent,
  type OutgoingEventContext,
} from '../protocol/cloud-event.writer.js';
import type { ConnectionStates } from '../protocol/connection-state.js';
import type { UserEventDataType } from '../protocol/headers.js';
import type { MqttUserProperty } from '../protocol/mqtt.js';
import { packAny } from '../protocol/protobuf-any.js';
import { toBuffer } from '../protocol/user-event-response.js';
import { createTestConnectionString, TEST_HUB, testServiceOf } from './test-credentials.js';

/**
 * One request to the event handler, as the service would send it. The shape is what Fastify's
 * `inject()` takes as it is; with supertest use {@link sendWithSupertest}.
 */
export interface WebPubSubTestRequest {
  readonly method: 'POST' | 'OPTIONS';
  /** The event handler path, e.g. `/eventhandler`. */
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly payload: Buffer;
}

/** What every event builder takes. */
export interface WebPubSubTestEventOptions {
  /** The event handler path; default `/eventhandler` (the module's default). */
  readonly url?: string;
  /**
   * The connection string the app under test is configured with: the builders sign with its
   * access key and send its host as `WebHook-Request-Origin`. Default
   * {@link createTestConnectionString}`()`.
   */
  readonly connectionString?: string;
  /** Default `chat`. */
  readonly hub?: string;
  /** Default `test-connection`. */
  readonly connectionId?: string;
  readonly userId?: string;
  /** Sign with this key instead of the connection string's. */
  readonly accessKey?: string;
  /** Sign with several keys (key rotation: the service signs with its primary and secondary key). */
  readonly accessKeys?: readonly string[];
  /** `false`: no `ce-signature` at all (for tests that expect `401`). Default `true`. */
  readonly sign?: boolean;
  /** Connection states, encoded the way the module decodes them (`ce-connectionState`). */
  readonly states?: ConnectionStates;
  /** A raw `ce-connectionState` value, sent as it is (wins over `states`). */
  readonly connectionState?: string;
  /** `WebHook-Request-Origin`; default: the connection string's host. `null`: none. */
  readonly origin?: string | null;
  /** `ce-id`; default: a fresh UUID. */
  readonly id?: string;
  /** `ce-time`; default: now. */
  readonly time?: string | Date;
  /** `ce-subprotocol` (default: none; `mqtt` for MQTT clients). */
  readonly subprotocol?: string;
  /**
   * `'mqtt'`: the event of an MQTT client (`ce-subprotocol: mqtt`, `ce-physicalConnectionId`,
   * `ce-sessionId` except on connect).
   */
  readonly protocol?: 'default' | 'mqtt';
  /** MQTT clients: default `test-physical-connection`. */
  readonly physicalConnectionId?: string;
  /** MQTT clients: default `test-session`. */
  readonly sessionId?: string;
  /** More request headers (e.g. `Authorization`), added last. */
  readonly requestHeaders?: Readonly<Record<string, string>>;
}

export interface ConnectRequestOptions extends WebPubSubTestEventOptions {
  /** Token claims; default `{ sub: [userId] }` when `userId` is given, else `{}`. */
  readonly claims?: Record<string, string[]>;
  readonly query?: Record<string, string[]>;
  /** The client's handshake headers (the connect body's `headers`). */
  readonly headers?: Record<string, string[]>;
  /** Default `[]` (`['mqtt']` for MQTT clients). */
  readonly subprotocols?: string[];
  readonly clientCertificates?: ConnectPayload['clientCertificates'];
  /** MQTT clients: the CONNECT packet; default `{ protocolVersion: 5 }`. */
  readonly mqtt?: {
    /** 4 (MQTT 3.1.1) or 5 (MQTT 5.0); default 5. */
    readonly protocolVersion?: number;
    readonly username?: string;
    /** A string is taken as UTF-8 text, bytes as they are; sent base64 as the service does. */
    readonly password?: string | Uint8Array;
    readonly userProperties?: readonly MqttUserProperty[];
  };
}

export type UserEventRequestOptions = WebPubSubTestEventOptions & {
  /** The user event name; default `message`. */
  readonly event?: string;
  /**
   * The data: a string (text), bytes (binary) or any other value (JSON), unless `dataType` says
   * otherwise. JSON data is a value, serialised here: `dataType: 'json'` with the string `"a"`
   * sends `"a"` in quotes.
   */
  readonly data: unknown;
  readonly dataType?: UserEventDataType;
  /** Overrides the `Content-Type` the data type implies. */
  readonly contentType?: string;
  /** MQTT clients: user properties (`mqtt-<name>` headers). */
  readonly userProperties?: readonly MqttUserProperty[];
};

export interface DisconnectedRequestOptions extends WebPubSubTestEventOptions {
  readonly reason?: string | null;
  /** MQTT clients: default `{ initiatedByClient: true, disconnectPacket: { code: 0 } }`. */
  readonly mqtt?: {
    readonly initiatedByClient?: boolean;
    readonly disconnectPacket?: {
      readonly code: number;
      readonly userProperties?: readonly MqttUserProperty[];
    } | null;
  };
}

export interface GroupRequestOptions extends WebPubSubTestEventOptions {
  readonly group: string;
}

export interface AbuseProtectionRequestOptions {
  readonly url?: string;
  /** Default: the connection string's host. */
  readonly origin?: string;
  readonly connectionString?: string;
}

const DEFAULT_URL = '/eventhandler';

function context(options: WebPubSubTestEventOptions): OutgoingEventContext {
  const service = testServiceOf(options.connectionString ?? createTestConnectionString());
  const mqtt = options.protocol === 'mqtt';
  const keys =
    options.sign === false ? [] : (options.accessKeys ?? [options.accessKey ?? service.accessKey]);
  return {
    hub: options.hub ?? TEST_HUB,
    connectionId: options.connectionId ?? 'test-connection',
    userId: options.userId,
    id: options.id,
    time: options.time,
    origin: options.origin === null ? undefined : (options.origin ?? service.origin),
    subprotocol: options.subprotocol,
    connectionState: options.connectionState ?? options.states,
    accessKeys: keys,
    physicalConnectionId: mqtt
      ? (options.physicalConnectionId ?? 'test-physical-connection')
      : undefined,
    sessionId: mqtt ? (options.sessionId ?? 'test-session') : undefined,
    headers: options.requestHeaders,
  };
}

function request(event: OutgoingCloudEvent, url: string | undefined): WebPubSubTestRequest {
  const { method, headers, body } = writeCloudEvent(event);
  return { method, url: url ?? DEFAULT_URL, headers, payload: body };
}

/** A `connect` event (claims, query, client headers, subprotocols, certificates; MQTT CONNECT). */
export function createConnectRequest(options: ConnectRequestOptions = {}): WebPubSubTestRequest {
  const mqtt = options.protocol === 'mqtt';
  const password = options.mqtt?.password;
  return request(
    {
      ...context(options),
      kind: 'connect',
      claims: options.claims ?? (options.userId ? { sub: [options.userId] } : {}),
      query: options.query,
      clientHeaders: options.headers,
      subprotocols: options.subprotocols ?? (mqtt ? ['mqtt'] : []),
      clientCertificates: options.clientCertificates,
      mqtt: mqtt
        ? {
            protocolVersion: options.mqtt?.protocolVersion ?? 5,
            username: options.mqtt?.username,
            passwordBytes: typeof password === 'string' ? Buffer.from(password, 'utf8') : password,
            userProperties: options.mqtt?.userProperties,
          }
        : undefined,
    },
    options.url,
  );
}

/** A `connected` event. */
export function createConnectedRequest(
  options: WebPubSubTestEventOptions = {},
): WebPubSubTestRequest {
  return request({ ...context(options), kind: 'connected' }, options.url);
}

function inferDataType(data: unknown): UserEventDataType {
  if (typeof data === 'string') return 'text';
  return toBuffer(data) ? 'binary' : 'json';
}

/** A user event (`azure.webpubsub.user.<event>`) with text, JSON or binary data. */
export function createUserEventRequest(options: UserEventRequestOptions): WebPubSubTestRequest {
  const dataType = options.dataType ?? inferDataType(options.data);
  const base = {
    ...context(options),
    kind: 'user' as const,
    eventName: options.event ?? 'message',
    contentType: options.contentType,
    mqttUserProperties: options.protocol === 'mqtt' ? options.userProperties : undefined,
  };
  switch (dataType) {
    case 'text':
      return request({ ...base, dataType, data: options.data as string }, options.url);
    case 'binary':
    case 'protobuf':
      return request({ ...base, dataType, data: options.data as Uint8Array }, options.url);
    case 'json':
      return request({ ...base, dataType, data: options.data }, options.url);
  }
}

export type ProtobufUserEventRequestOptions = WebPubSubTestEventOptions & {
  /** The user event name; default `message`. */
  readonly event?: string;
  /** The `Any`'s type, e.g. `type.googleapis.com/my.package.MyMessage`. */
  readonly typeUrl: string;
  /** The message, serialized with its schema. */
  readonly value: Uint8Array;
};

/**
 * A user event from a protobuf subprotocol client that sent `protobuf_data`: the body is the
 * serialized `google.protobuf.Any` (`typeUrl` + `value`), `Content-Type: application/x-protobuf`.
 */
export function createProtobufUserEventRequest(
  options: ProtobufUserEventRequestOptions,
): WebPubSubTestRequest {
  const { typeUrl, value, ...rest } = options;
  return createUserEventRequest({ ...rest, dataType: 'protobuf', data: packAny(typeUrl, value) });
}

/** A `disconnected` event (reason; MQTT: who ended the session and the DISCONNECT packet). */
export function createDisconnectedRequest(
  options: DisconnectedRequestOptions = {},
): WebPubSubTestRequest {
  const mqtt = options.protocol === 'mqtt';
  return request(
    {
      ...context(options),
      kind: 'disconnected',
      reason: options.reason,
      mqtt: mqtt
        ? {
            initiatedByClient: options.mqtt?.initiatedByClient ?? true,
            disconnectPacket:
              options.mqtt?.disconnectPacket === undefined
                ? { code: 0 }
                : options.mqtt.disconnectPacket,
          }
        : undefined,
    },
    options.url,
  );
}

/** A group presence `joined` event. */
export function createGroupJoinedRequest(options: GroupRequestOptions): WebPubSubTestRequest {
  return request({ ...context(options), kind: 'groupJoined', group: options.group }, options.url);
}

/** A group presence `left` event. */
export function createGroupLeftRequest(options: GroupRequestOptions): WebPubSubTestRequest {
  return request({ ...context(options), kind: 'groupLeft', group: options.group }, options.url);
}

/** The abuse-protection handshake (`OPTIONS` with `WebHook-Request-Origin`). */
export function createAbuseProtectionRequest(
  options: AbuseProtectionRequestOptions = {},
): WebPubSubTestRequest {
  const origin =
    options.origin ??
    testServiceOf(options.connectionString ?? createTestConnectionString()).origin;
  const { method, headers, body } = writeHandshakeRequest(origin);
  return { method, url: options.url ?? DEFAULT_URL, headers, payload: body };
}
