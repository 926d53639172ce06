/**
 * The contract between the emulator's state (`hubs.ts`) and its REST data plane (`rest-api.ts`).
 * Hub names are compared case-insensitively by the implementation; callers pass them as received.
 * Nothing here knows about HTTP or WebSockets.
 */

/** A message as REST, an upstream reply or a client carries it: raw bytes and their data type (`protobuf`: a serialized `google.protobuf.Any`). */
export interface OutboundMessage {
  readonly dataType: 'text' | 'json' | 'binary' | 'protobuf';
  /** The body as received (UTF-8 text for `text` and `json`). */
  readonly data: Buffer;
}

/** What a filter or a listing may look at. */
export interface ConnectionView {
  readonly connectionId: string;
  readonly userId: string | undefined;
  readonly groups: ReadonlySet<string>;
  /** For the live view: the negotiated subprotocol (`mqtt` for MQTT clients), when the socket opened, the MQTT version. */
  readonly subprotocol?: string;
  readonly connectedAt?: number;
  readonly mqttVersion?: number;
}

/** A predicate built from an OData `filter` (`odata-filter.ts`); `undefined` selects everything. */
export type ConnectionPredicate = (connection: ConnectionView) => boolean;

export interface SendOptions {
  readonly excluded?: readonly string[];
  readonly filter?: ConnectionPredicate;
  /** Accepted and ignored: the emulator has no delayed delivery; messages go out at once. */
  readonly messageTtlSeconds?: number;
}

export interface CloseOptions {
  readonly excluded?: readonly string[];
  readonly reason?: string;
}

export type PermissionName = 'joinLeaveGroup' | 'sendToGroup';

/**
 * Thrown by a `HubOperations` member for something the emulator does not do; the REST data plane
 * answers `501 Not Implemented` (which `@azure/web-pubsub` does not retry), never a wrong 2xx.
 * A member that is absent at run time is treated the same way.
 */
export class OperationNotImplementedError extends Error {
  constructor(
    /** The operation, e.g. `grantPermission`. */
    readonly operation: string,
    detail?: string,
  ) {
    super(`The emulator does not implement ${operation}${detail ? `: ${detail}` : ''}`);
    this.name = 'OperationNotImplementedError';
  }
}

/**
 * Every operation the REST data plane needs. Sends are fire-and-forget: unknown targets are not
 * errors. A send may return its reach (how many connections the message was handed to), which the
 * traffic log shows; `void` when the state does not count.
 */
export interface HubOperations {
  /** Hubs that are configured or have had connections, as first seen. */
  hubNames(): string[];
  /** Live connections of a hub (connections inside their recovery window count as live). */
  listConnections(hub: string): Iterable<ConnectionView>;
  connectionExists(hub: string, connectionId: string): boolean;
  userExists(hub: string, userId: string): boolean;
  groupExists(hub: string, group: string): boolean;

  sendToAll(hub: string, message: OutboundMessage, options?: SendOptions): number | void;
  sendToUser(
    hub: string,
    userId: string,
    message: OutboundMessage,
    options?: SendOptions,
  ): number | void;
  sendToConnection(hub: string, connectionId: string, message: OutboundMessage): number | void;
  sendToGroup(
    hub: string,
    group: string,
    message: OutboundMessage,
    options?: SendOptions,
  ): number | void;

  closeConnection(hub: string, connectionId: string, reason?: string): void;
  closeAllConnections(hub: string, options?: CloseOptions): void;
  closeUserConnections(hub: string, userId: string, options?: CloseOptions): void;
  closeGroupConnections(hub: string, group: string, options?: CloseOptions): void;

  /** Returns false when the connection does not exist (REST answers 404). */
  addConnectionToGroup(hub: string, group: string, connectionId: string): boolean;
  removeConnectionFromGroup(hub: string, group: string, connectionId: string): void;
  removeConnectionFromAllGroups(hub: string, connectionId: string): void;
  /** Adds the user's current connections and remembers the membership for the user's later connections. */
  addUserToGroup(hub: string, group: string, userId: string): void;
  removeUserFromGroup(hub: string, group: string, userId: string): void;
  removeUserFromAllGroups(hub: string, userId: string): void;
  addConnectionsToGroups(
    hub: string,
    groups: readonly string[],
    filter?: ConnectionPredicate,
  ): void;
  removeConnectionsFromGroups(
    hub: string,
    groups: readonly string[],
    filter?: ConnectionPredicate,
  ): void;

  /** `targetName` undefined means every group. Returns false when the connection does not exist. */
  grantPermission(
    hub: string,
    connectionId: string,
    permission: PermissionName,
    targetName?: string,
  ): boolean;
  revokePermission(
    hub: string,
    connectionId: string,
    permission: PermissionName,
    targetName?: string,
  ): void;
  hasPermission(
    hub: string,
    connectionId: string,
    permission: PermissionName,
    targetName?: string,
  ): boolean;
}
