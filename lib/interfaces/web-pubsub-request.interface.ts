import type { CloudEvent } from 'cloudevents';
import type { ConnectionStates } from '../protocol/connection-state.js';

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
}

/** What an `@OnConnect()` handler may return (all optional); nothing → 204. @publicApi */
export interface ConnectResponse {
  /** The user id to give the connection. */
  userId?: string;
  /** Groups to join on connect. */
  groups?: string[];
  /** Roles, e.g. `webpubsub.sendToGroup`, `webpubsub.joinLeaveGroup.<group>`. */
  roles?: string[];
  /** One of the subprotocols the client offered. */
  subprotocol?: string;
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
}

/**
 * `@OnUserEvent(name)`: a client message. `data` is a string for `text/plain`, the parsed value
 * for `application/json`, a `Buffer` for `application/octet-stream`.
 * @publicApi
 */
export type UserEventRequest =
  | (UserEventRequestBase & { readonly dataType: 'text'; readonly data: string })
  | (UserEventRequestBase & { readonly dataType: 'json'; readonly data: unknown })
  | (UserEventRequestBase & { readonly dataType: 'binary'; readonly data: Buffer });
