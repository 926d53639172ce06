import type { CloudEvent } from 'cloudevents';
import type {
  MqttConnectProperties,
  MqttDisconnectedProperties,
} from '../protocol/cloud-event.reader.js';
import type { ConnectionStates } from '../protocol/connection-state.js';
import type { MqttUserProperty, WebPubSubClientProtocol } from '../protocol/mqtt.js';

export type {
  MqttConnectProperties,
  MqttDisconnectedProperties,
  MqttDisconnectPacket,
} from '../protocol/cloud-event.reader.js';
export type { MqttUserProperty, WebPubSubClientProtocol } from '../protocol/mqtt.js';

/** What an MQTT client's events say about its connection. @publicApi */
export interface MqttConnectionContext {
  /** `ce-physicalConnectionId`: the network connection (a session may outlive it). */
  readonly physicalConnectionId: string;
  /** `ce-sessionId`: the MQTT session; absent on `connect`. */
  readonly sessionId?: string;
}

/**
 * What every event says about the connection it concerns.
 * @publicApi
 */
export interface ConnectionContext {
  /** The hub as the service sent it (`ce-hub`). */
  readonly hub: string;
  readonly connectionId: string;
  /** The user id, absent when the connection has none (yet). */
  readonly userId?: string;
  /** `connect`, `connected`, `disconnected` or the user event name. */
  readonly eventName: string;
  /** The service host that sent the event (`WebHook-Request-Origin`). */
  readonly origin?: string;
  /** `ce-signature` as sent. */
  readonly signature?: string;
  /** The subprotocol the client negotiated, e.g. `json.webpubsub.azure.v1`. */
  readonly subprotocol?: string;
  /** The CloudEvent id (`ce-id`); stable across the service's retries. */
  readonly eventId: string;
  /**
   * `'mqtt'` for an MQTT client (`ce-subprotocol` contains `mqtt` and `ce-physicalConnectionId` is
   * present), `'default'` otherwise. For `'mqtt'` the request objects carry their `mqtt` fields.
   */
  readonly clientProtocol: WebPubSubClientProtocol;
  /** MQTT clients only: their physical connection and session ids. */
  readonly mqtt?: MqttConnectionContext;
  /** `ce-source`, e.g. `/hubs/chat/client/<connectionId>`, when sent. */
  readonly source?: string;
  /** `ce-awpsversion` (the protocol version, `1.0`), when sent. */
  readonly awpsVersion?: string;
  /** The connection state, decoded from `ce-connectionState` (`{}` when absent or malformed). */
  readonly states: Readonly<ConnectionStates>;
  /**
   * Sets one state entry. On connect and user events the response carries the merged state in
   * `ce-connectionState`, and later events of this connection bring it back in `states`.
   */
  setState(key: string, value: unknown): void;
  /** Clears every state entry (the response carries an empty state). */
  clearStates(): void;
  /** The event as a `cloudevents` SDK object, built on first access. */
  readonly cloudEvent: CloudEvent<unknown>;
}

/** `@OnConnect()`: the client wants to connect. @publicApi */
export interface ConnectRequest {
  readonly context: ConnectionContext;
  /** Claims of the client access token, e.g. `sub`, `role`. */
  readonly claims: Record<string, string[]>;
  /** The client URL query. */
  readonly query: Record<string, string[]>;
  /** The client handshake headers. */
  readonly headers: Record<string, string[]>;
  /** The subprotocols the client offered. */
  readonly subprotocols: string[];
  readonly clientCertificates: { thumbprint: string; content?: string }[];
  /** MQTT clients only (see {@link MqttConnectRequest}). */
  readonly mqtt?: MqttConnectProperties;
}

/**
 * A {@link ConnectRequest} from an MQTT client (`context.clientProtocol === 'mqtt'`): `mqtt`
 * holds `protocolVersion` (4 = 3.1.1, 5 = 5.0), `username`, `password` (base64 as sent) and
 * `passwordBytes` (decoded), `userProperties`. Narrow with `isMqttConnectRequest()`.
 * @publicApi
 */
export interface MqttConnectRequest extends ConnectRequest {
  readonly mqtt: MqttConnectProperties;
}

/** What an `@OnConnect()` handler may return (all optional); nothing → 204. @publicApi */
export interface ConnectResponse {
  /** The user id to give the connection. */
  userId?: string;
  /** Groups to join on connect. */
  groups?: string[];
  /** Roles, e.g. `webpubsub.sendToGroup`, `webpubsub.joinLeaveGroup.<group>`. */
  roles?: string[];
  /** One of the subprotocols the client offered (MQTT: `mqtt` or nothing). */
  subprotocol?: string;
  /** MQTT clients only (dropped for others): user properties for the CONNACK (MQTT 5). */
  mqtt?: { userProperties?: MqttUserProperty[] };
}

/** `@OnConnected()`: the connection is established (non-blocking). @publicApi */
export interface ConnectedRequest {
  readonly context: ConnectionContext;
}

/** `@OnDisconnected()`: the connection ended (non-blocking). @publicApi */
export interface DisconnectedRequest {
  readonly context: ConnectionContext;
  /** Why the connection ended; empty or absent on a normal close. */
  readonly reason?: string;
  /** MQTT clients only (see {@link MqttDisconnectedRequest}). */
  readonly mqtt?: MqttDisconnectedProperties;
}

/**
 * A {@link DisconnectedRequest} from an MQTT client: sent when the MQTT **session** ends.
 * `mqtt.initiatedByClient`, and `mqtt.disconnectPacket` (`{ code, userProperties? }`, `null` when
 * the client sent no DISCONNECT). Narrow with `isMqttDisconnectedRequest()`.
 * @publicApi
 */
export interface MqttDisconnectedRequest extends DisconnectedRequest {
  readonly mqtt: MqttDisconnectedProperties;
}

/** `@OnGroupJoined()` / `@OnGroupLeft()`: group presence (preview, non-blocking). @publicApi */
export interface GroupPresenceRequest {
  readonly context: ConnectionContext;
  /** The group the connection joined or left. */
  readonly group: string;
}
export type GroupJoinedRequest = GroupPresenceRequest;
export type GroupLeftRequest = GroupPresenceRequest;

interface UserEventRequestBase {
  readonly context: ConnectionContext;
  /** MQTT clients only: the PUBLISH user properties (`mqtt-<name>` request headers), in order. */
  readonly mqtt?: MqttUserEventProperties;
}

/** The `mqtt` part of an MQTT client's user event. @publicApi */
export interface MqttUserEventProperties {
  readonly userProperties: readonly MqttUserProperty[];
}

/**
 * `@OnUserEvent(name)`: a client message. `data` is a string for `text/plain`, the parsed value
 * for `application/json`, a `Buffer` for `application/octet-stream`, and for
 * `application/x-protobuf` (`dataType: 'protobuf'`, from a protobuf subprotocol client) a `Buffer`
 * holding a serialized `google.protobuf.Any` (read it with `unpackAny()`).
 * @publicApi
 */
export type UserEventRequest =
  | (UserEventRequestBase & { readonly dataType: 'text'; readonly data: string })
  | (UserEventRequestBase & { readonly dataType: 'json'; readonly data: unknown })
  | (UserEventRequestBase & { readonly dataType: 'binary'; readonly data: Buffer })
  | (UserEventRequestBase & { readonly dataType: 'protobuf'; readonly data: Buffer });

/**
 * A {@link UserEventRequest} from an MQTT client: `mqtt.userProperties` is always present
 * (empty when the PUBLISH had none). Narrow with `isMqttUserEventRequest()`.
 * @publicApi
 */
export type MqttUserEventRequest = UserEventRequest & { readonly mqtt: MqttUserEventProperties };
