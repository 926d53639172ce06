import { randomUUID } from 'node:crypto';
import type {
  ConnectPayload,
  MqttConnectProperties,
  MqttDisconnectedProperties,
} from './cloud-event.reader.js';
import { encodeConnectionState, type ConnectionStates } from './connection-state.js';
import {
  ContentType,
  DATA_TYPE_CONTENT_TYPES,
  EventType,
  ServiceHeader,
  SPEC_VERSION,
  type UserEventDataType,
} from './headers.js';
import { copyUserProperties, mqttUserPropertyHeaders, type MqttUserProperty } from './mqtt.js';
import { signatureHeader } from './signature.js';
import { toBuffer } from './user-event-response.js';

/** The `ce-awpsversion` the service sends. */
export const AWPS_VERSION = '1.0';

/** What every event carries: who sent it, where to, and how it is signed. */
export interface OutgoingEventContext {
  readonly hub: string;
  readonly connectionId: string;
  /** `ce-userId`; omitted when absent or empty. */
  readonly userId?: string;
  /** `ce-id`; default: a fresh UUID (the service never repeats an id, except on a retry). */
  readonly id?: string;
  /** `ce-time`; default: now, RFC 3339 UTC. */
  readonly time?: string | Date;
  /**
   * `ce-source`; default `/hubs/{hub}/client/{connectionId}`, and for an MQTT client
   * `/hubs/{hub}/client/{connectionId}/{physicalConnectionId}`.
   */
  readonly source?: string;
  /** `WebHook-Request-Origin`: the service host (`<resource>.webpubsub.azure.com`); omitted when absent. */
  readonly origin?: string;
  /** `ce-awpsversion`; default `1.0`. */
  readonly awpsVersion?: string;
  /** `ce-subprotocol`; default: none, or `mqtt` for an MQTT client. */
  readonly subprotocol?: string;
  /**
   * `ce-connectionState`: states (encoded as the module and `@azure/web-pubsub-express` decode
   * them), or a header value sent as it is; omitted when absent.
   */
  readonly connectionState?: ConnectionStates | string;
  /**
   * Access keys that sign the event (`ce-signature: sha256=<hex>` per key, comma separated, as the
   * service does with its primary and secondary key). Absent or empty: no `ce-signature` at all.
   */
  readonly accessKeys?: readonly string[];
  /**
   * MQTT clients: `ce-physicalConnectionId`. Its presence makes the event an MQTT client's
   * (with `ce-subprotocol: mqtt` unless another subprotocol is given).
   */
  readonly physicalConnectionId?: string;
  /** MQTT clients: `ce-sessionId`, sent on every event but `connect`. */
  readonly sessionId?: string;
  /** More request headers (e.g. `Authorization` for managed-identity tests), added last. */
  readonly headers?: Readonly<Record<string, string>>;
}

export interface OutgoingConnectEvent extends OutgoingEventContext {
  readonly kind: 'connect';
  readonly claims?: ConnectPayload['claims'];
  readonly query?: ConnectPayload['query'];
  /** The client's handshake headers (the body's `headers` field, not request headers). */
  readonly clientHeaders?: ConnectPayload['headers'];
  readonly subprotocols?: ConnectPayload['subprotocols'];
  readonly clientCertificates?: ConnectPayload['clientCertificates'];
  /**
   * MQTT clients: the CONNECT packet (the body's `mqtt` field). Give the password as bytes
   * (`passwordBytes`) or as the service sends it (`password`, base64).
   */
  readonly mqtt?: Omit<MqttConnectProperties, 'passwordBytes'> & {
    readonly passwordBytes?: Uint8Array;
  };
}

export interface OutgoingConnectedEvent extends OutgoingEventContext {
  readonly kind: 'connected';
}

export type OutgoingUserEvent = OutgoingEventContext & {
  readonly kind: 'user';
  /** The user event name (`ce-type: azure.webpubsub.user.<eventName>`). */
  readonly eventName: string;
  /** MQTT clients: user properties, sent as `mqtt-<name>` headers. */
  readonly mqttUserProperties?: readonly MqttUserProperty[];
  /** Overrides the `Content-Type` the data type implies (e.g. `application/x-protobuf`). */
  readonly contentType?: string;
} & (
    | { readonly dataType: 'text'; readonly data: string }
    | { readonly dataType: 'json'; readonly data: unknown }
    | { readonly dataType: 'binary' | 'protobuf'; readonly data: Uint8Array | ArrayBuffer }
  );

export interface OutgoingDisconnectedEvent extends OutgoingEventContext {
  readonly kind: 'disconnected';
  /** Omitted from the body when absent; `null` is sent as `null`. */
  readonly reason?: string | null;
  /** MQTT clients: the body's `mqtt` field. */
  readonly mqtt?: MqttDisconnectedProperties;
}

export interface OutgoingGroupEvent extends OutgoingEventContext {
  readonly kind: 'groupJoined' | 'groupLeft';
  readonly group: string;
}

/** An event as the service sends it to an event handler. */
export type OutgoingCloudEvent =
  | OutgoingConnectEvent
  | OutgoingConnectedEvent
  | OutgoingUserEvent
  | OutgoingDisconnectedEvent
  | OutgoingGroupEvent;

/** One HTTP request to an event handler, independent of the HTTP client. */
export interface WireRequest {
  readonly method: 'POST' | 'OPTIONS';
  /**
   * Header values are what the service puts on the wire: a non-ASCII value (a user id, say) is
   * its UTF-8 bytes read as Latin-1, the form Node's `http` client sends byte for byte and the
   * module's reader turns back into text.
   */
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

const SYSTEM_TYPES = {
  connect: EventType.connect,
  connected: EventType.connected,
  disconnected: EventType.disconnected,
  groupJoined: EventType.groupJoined,
  groupLeft: EventType.groupLeft,
} as const;
const SYSTEM_NAMES = {
  connect: 'connect',
  connected: 'connected',
  disconnected: 'disconnected',
  groupJoined: 'joined',
  groupLeft: 'left',
} as const;
// oxlint-disable-next-line no-control-regex -- the whole ASCII range, control characters included
const NON_ASCII = /[^\x00-\x7f]/;
// oxlint-disable-next-line no-control-regex -- control characters are exactly what is refused
const CONTROL = /[\x00-\x1f\x7f]/;

/** A header value as the service's bytes: UTF-8, carried in a Latin-1 string. */
export function wireHeaderValue(value: string): string {
  return NON_ASCII.test(value) ? Buffer.from(value, 'utf8').toString('latin1') : value;
}

/**
 * Writes an event as the service sends it: HTTP binary-mode CloudEvents, `POST`, every `ce-*`
 * attribute the service sets, `WebHook-Request-Origin`, signed with the given keys.
 * @throws TypeError for values that cannot travel (control characters in a header value, MQTT
 * user properties that are not header-safe, binary data that is not bytes).
 */
export function writeCloudEvent(event: OutgoingCloudEvent): WireRequest {
  const mqtt = event.physicalConnectionId !== undefined;
  const { type, eventName } = typeOf(event);
  const headers: Record<string, string> = {};
  const set = (name: string, value: string) => {
    if (CONTROL.test(value)) {
      throw new TypeError(
        `The ${name} header value ${JSON.stringify(value)} has control characters`,
      );
    }
    headers[name] = wireHeaderValue(value);
  };
  set(ServiceHeader.specVersion, SPEC_VERSION);
  set(ServiceHeader.type, type);
  set(ServiceHeader.source, event.source ?? sourceOf(event));
  set(ServiceHeader.id, event.id ?? randomUUID());
  set(ServiceHeader.time, timeOf(event.time));
  set(ServiceHeader.awpsVersion, event.awpsVersion ?? AWPS_VERSION);
  set(ServiceHeader.hub, event.hub);
  set(ServiceHeader.connectionId, event.connectionId);
  if (event.userId) set(ServiceHeader.userId, event.userId);
  set(ServiceHeader.eventName, eventName);
  const subprotocol = event.subprotocol ?? (mqtt ? 'mqtt' : undefined);
  if (subprotocol) set(ServiceHeader.subprotocol, subprotocol);
  if (event.connectionState !== undefined) {
    set(
      ServiceHeader.connectionState,
      typeof event.connectionState === 'string'
        ? event.connectionState
        : encodeConnectionState(event.connectionState),
    );
  }
  if (mqtt) {
    set(ServiceHeader.physicalConnectionId, event.physicalConnectionId as string);
    if (event.kind !== 'connect' && event.sessionId !== undefined)
      set(ServiceHeader.sessionId, event.sessionId);
  }
  if (event.accessKeys && event.accessKeys.length > 0) {
    set(ServiceHeader.signature, signatureHeader(event.connectionId, event.accessKeys));
  }
  if (event.origin !== undefined) set(ServiceHeader.webhookRequestOrigin, event.origin);
  const { contentType, body } = bodyOf(event, mqtt);
  set(ServiceHeader.contentType, contentType);
  if (event.kind === 'user' && mqtt && event.mqttUserProperties !== undefined) {
    const lines = mqttUserPropertyHeaders(event.mqttUserProperties, 'mqttUserProperties');
    for (const [name, value] of Object.entries(lines)) {
      // A repeated name travels as one line per value; Node joins them with ", " on receipt.
      set(name, typeof value === 'string' ? value : value.join(', '));
    }
  }
  for (const [name, value] of Object.entries(event.headers ?? {})) set(name, value);
  return { method: 'POST', headers, body };
}

/**
 * The abuse-protection handshake as the service sends it: `OPTIONS` with
 * `WebHook-Request-Origin` and `ce-awpsversion`, no signature, no body.
 */
export function writeHandshakeRequest(origin: string, awpsVersion = AWPS_VERSION): WireRequest {
  return {
    method: 'OPTIONS',
    headers: {
      [ServiceHeader.webhookRequestOrigin]: wireHeaderValue(origin),
      [ServiceHeader.awpsVersion]: awpsVersion,
    },
    body: Buffer.alloc(0),
  };
}

function typeOf(event: OutgoingCloudEvent): { type: string; eventName: string } {
  if (event.kind === 'user') {
    if (!event.eventName) throw new TypeError('A user event needs an event name');
    return { type: EventType.userPrefix + event.eventName, eventName: event.eventName };
  }
  return { type: SYSTEM_TYPES[event.kind], eventName: SYSTEM_NAMES[event.kind] };
}

function sourceOf(event: OutgoingCloudEvent): string {
  const base = `/hubs/${event.hub}/client/${event.connectionId}`;
  return event.physicalConnectionId !== undefined ? `${base}/${event.physicalConnectionId}` : base;
}

function timeOf(time: string | Date | undefined): string {
  if (typeof time === 'string') return time;
  // RFC 3339 UTC without fractions, as the service writes it.
  return (time ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function json(value: unknown): { contentType: string; body: Buffer } {
  return { contentType: ContentType.json, body: Buffer.from(JSON.stringify(value), 'utf8') };
}

function bodyOf(event: OutgoingCloudEvent, mqtt: boolean): { contentType: string; body: Buffer } {
  switch (event.kind) {
    case 'connect': {
      const body: Record<string, unknown> = {
        claims: event.claims ?? {},
        query: event.query ?? {},
        headers: event.clientHeaders ?? {},
        subprotocols: event.subprotocols ?? [],
        clientCertificates: event.clientCertificates ?? [],
      };
      if (mqtt || event.mqtt !== undefined) body.mqtt = mqttConnectBody(event.mqtt);
      return json(body);
    }
    case 'connected':
      return json({});
    case 'disconnected': {
      const body: Record<string, unknown> = {};
      if (event.reason !== undefined) body.reason = event.reason;
      if (event.mqtt !== undefined) {
        const packet = event.mqtt.disconnectPacket;
        body.mqtt = {
          initiatedByClient: event.mqtt.initiatedByClient,
          disconnectPacket:
            packet === null
              ? null
              : packet.userProperties === undefined
                ? { code: packet.code }
                : {
                    code: packet.code,
                    userProperties: copyUserProperties(
                      packet.userProperties,
                      'mqtt.disconnectPacket.userProperties',
                    ),
                  },
        };
      }
      return json(body);
    }
    case 'groupJoined':
    case 'groupLeft':
      return json({ group: event.group });
    case 'user':
      return {
        contentType: event.contentType ?? DATA_TYPE_CONTENT_TYPES[event.dataType],
        body: userEventBody(event.dataType, event.data),
      };
  }
}

function mqttConnectBody(mqtt: OutgoingConnectEvent['mqtt']): Record<string, unknown> {
  if (mqtt === undefined) {
    throw new TypeError(
      'An MQTT connect event needs its mqtt part (at least { protocolVersion: 4 | 5 })',
    );
  }
  const body: Record<string, unknown> = { protocolVersion: mqtt.protocolVersion };
  if (mqtt.username !== undefined) body.username = mqtt.username;
  if (mqtt.passwordBytes !== undefined) {
    body.password = Buffer.from(
      mqtt.passwordBytes.buffer,
      mqtt.passwordBytes.byteOffset,
      mqtt.passwordBytes.byteLength,
    ).toString('base64');
  } else if (mqtt.password !== undefined) {
    body.password = mqtt.password;
  }
  if (mqtt.userProperties !== undefined)
    body.userProperties = copyUserProperties(mqtt.userProperties, 'mqtt.userProperties');
  return body;
}

function userEventBody(dataType: UserEventDataType, data: unknown): Buffer {
  switch (dataType) {
    case 'text':
      if (typeof data !== 'string') throw new TypeError('Text user event data must be a string');
      return Buffer.from(data, 'utf8');
    case 'json': {
      const text = JSON.stringify(data);
      if (text === undefined) throw new TypeError('JSON user event data has no JSON form');
      return Buffer.from(text, 'utf8');
    }
    case 'binary':
    case 'protobuf': {
      const bytes = toBuffer(data);
      if (bytes === undefined)
        throw new TypeError(
          `${dataType === 'binary' ? 'Binary' : 'Protobuf'} user event data must be a Buffer, Uint8Array or ArrayBuffer`,
        );
      return bytes;
    }
  }
}
