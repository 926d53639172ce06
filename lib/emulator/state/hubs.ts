import type {
  CloseOptions,
  ConnectionPredicate,
  ConnectionView,
  HubOperations,
  OutboundMessage,
  PermissionName,
  SendOptions,
} from './hub-operations.js';
import { hubKey } from '../../protocol/names.js';

/** A stream error as group members and writers see it. */
export interface StreamError {
  readonly name: string;
  readonly message: string;
  readonly userErrorCode?: string;
}

/** What a group stream's fragment carries to members (`stream` of a group data message). */
export interface StreamInfo {
  readonly streamId: string;
  readonly streamSequenceId: number;
  readonly endOfStream: boolean;
  readonly error?: StreamError;
}

/** A message on its way to one client: who sent it and what it carries. */
export interface ClientDelivery {
  readonly from: 'server' | 'group';
  readonly group?: string;
  /** Client `sendToGroup` only: the sender's user id. */
  readonly fromUserId?: string;
  readonly message: OutboundMessage;
  /** A group stream's fragment or end marker. */
  readonly stream?: StreamInfo;
}

/** What a connection's session does for the state: put messages on the wire, end the connection. */
export interface ClientSink {
  deliver(delivery: ClientDelivery): void;
  /** Ends the connection from the service side (REST close): `disconnected` to the client, then close. */
  close(reason: string | undefined): void;
  /**
   * Whether the client reads group streams (PubSub subprotocols). Others get a stream's fragments
   * as plain group messages and not its end marker (which carries no data).
   */
  readonly speaksStreams?: boolean;
}

const ROLE_PREFIX = 'webpubsub.';

/** One logical client connection: it outlives a dropped socket while a reliable client may recover. */
export class Connection implements ConnectionView {
  readonly groups = new Set<string>();
  readonly roles: Set<string>;
  /** REST grants: `joinLeaveGroup` (every group) or `joinLeaveGroup.<group>`. */
  readonly #grants = new Set<string>();
  /** REST revocations of one group, which override a role that would allow it. */
  readonly #revoked = new Set<string>();
  /** MQTT clients: 4 (3.1.1) or 5 (5.0), for the live view. */
  mqttVersion: number | undefined;

  constructor(
    readonly hub: string,
    readonly connectionId: string,
    readonly userId: string | undefined,
    roles: Iterable<string>,
    readonly subprotocol: string | undefined,
    readonly sink: ClientSink,
    readonly connectedAt = Date.now(),
  ) {
    this.roles = new Set(roles);
  }

  can(permission: PermissionName, group: string): boolean {
    if (this.#revoked.has(`${permission}.${group}`)) return false;
    if (this.#grants.has(permission) || this.#grants.has(`${permission}.${group}`)) return true;
    if (
      this.roles.has(ROLE_PREFIX + permission) ||
      this.roles.has(`${ROLE_PREFIX}${permission}.${group}`)
    )
      return true;
    const plural = `${ROLE_PREFIX}${permission}s.`;
    for (const role of this.roles) {
      if (role.startsWith(plural) && wildcardMatches(role.slice(plural.length), group)) return true;
    }
    return false;
  }

  grant(permission: PermissionName, targetName: string | undefined): void {
    const key = targetName === undefined ? permission : `${permission}.${targetName}`;
    this.#grants.add(key);
    this.#revoked.delete(key);
  }

  revoke(permission: PermissionName, targetName: string | undefined): void {
    if (targetName === undefined) {
      for (const key of this.#grants) {
        if (key === permission || key.startsWith(`${permission}.`)) this.#grants.delete(key);
      }
      this.roles.delete(ROLE_PREFIX + permission);
      for (const role of this.roles) {
        if (
          role.startsWith(`${ROLE_PREFIX}${permission}.`) ||
          role.startsWith(`${ROLE_PREFIX}${permission}s.`)
        )
          this.roles.delete(role);
      }
      return;
    }
    this.#grants.delete(`${permission}.${targetName}`);
    this.#revoked.add(`${permission}.${targetName}`);
  }

  /** REST `hasPermission`: without a target, only a grant or role for every group counts. */
  has(permission: PermissionName, targetName: string | undefined): boolean {
    if (targetName === undefined)
      return this.#grants.has(permission) || this.roles.has(ROLE_PREFIX + permission);
    return this.can(permission, targetName);
  }
}

/**
 * Wildcard group roles (`webpubsub.joinLeaveGroups.<pattern>`): `?` one character but `.`,
 * `*` any run without `.`, `**` any run, `\` escapes. Case-sensitive.
 */
export function wildcardMatches(pattern: string, group: string): boolean {
  let source = '^';
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i];
    if (char === '\\' && i + 1 < pattern.length) {
      source += escapeRegExp(pattern[++i]);
    } else if (char === '*' && pattern[i + 1] === '*') {
      source += '.*';
      i++;
    } else if (char === '*') {
      source += '[^.]*';
    } else if (char === '?') {
      source += '[^.]';
    } else {
      source += escapeRegExp(char);
    }
  }
  return new RegExp(`${source}$`, 's').test(group);
}

function escapeRegExp(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** One hub's connections, users and groups. */
export class Hub {
  readonly connections = new Map<string, Connection>();
  readonly groups = new Map<string, Set<Connection>>();
  readonly users = new Map<string, Set<Connection>>();
  /** Groups REST added users to: later connections of the user join them too. */
  readonly userGroups = new Map<string, Set<string>>();

  constructor(readonly name: string) {}

  connectionsOfUser(userId: string): Connection[] {
    return [...(this.users.get(userId) ?? [])];
  }

  membersOf(group: string): Connection[] {
    return [...(this.groups.get(group) ?? [])];
  }
}

/**
 * Every hub's state, and the operations the REST data plane and the client sessions perform on it.
 * Hub names are compared case-insensitively; a hub is created when first configured or used.
 */
export class HubRegistry implements HubOperations {
  readonly #hubs = new Map<string, Hub>();

  constructor(configuredHubs: Iterable<string> = []) {
    for (const name of configuredHubs) this.hub(name);
  }

  /** The hub named `name` in any case, created on first use. */
  hub(name: string): Hub {
    const key = hubKey(name);
    let hub = this.#hubs.get(key);
    if (!hub) {
      hub = new Hub(name);
      this.#hubs.set(key, hub);
    }
    return hub;
  }

  #existing(name: string): Hub | undefined {
    return this.#hubs.get(hubKey(name));
  }

  hubNames(): string[] {
    return [...this.#hubs.values()].map(hub => hub.name);
  }

  /** Every live connection of every hub (for shutting down). */
  allConnections(): Connection[] {
    return [...this.#hubs.values()].flatMap(hub => [...hub.connections.values()]);
  }

  connection(hub: string, connectionId: string): Connection | undefined {
    return this.#existing(hub)?.connections.get(connectionId);
  }

  /** Registers a connection and joins its initial groups (no permission needed) and the user's REST groups. */
  add(connection: Connection, groups: Iterable<string> = []): void {
    const hub = this.hub(connection.hub);
    hub.connections.set(connection.connectionId, connection);
    if (connection.userId !== undefined) {
      let set = hub.users.get(connection.userId);
      if (!set) hub.users.set(connection.userId, (set = new Set()));
      set.add(connection);
      for (const group of hub.userGroups.get(connection.userId) ?? []) this.join(connection, group);
    }
    for (const group of groups) this.join(connection, group);
  }

  /** Forgets a connection that has ended. */
  remove(connection: Connection): void {
    const hub = this.#existing(connection.hub);
    if (!hub || hub.connections.get(connection.connectionId) !== connection) return;
    hub.connections.delete(connection.connectionId);
    for (const group of connection.groups) this.leave(connection, group);
    if (connection.userId !== undefined) {
      const set = hub.users.get(connection.userId);
      set?.delete(connection);
      if (set?.size === 0) hub.users.delete(connection.userId);
    }
  }

  join(connection: Connection, group: string): void {
    if (connection.groups.has(group)) return;
    const hub = this.hub(connection.hub);
    let members = hub.groups.get(group);
    if (!members) hub.groups.set(group, (members = new Set()));
    members.add(connection);
    connection.groups.add(group);
  }

  leave(connection: Connection, group: string): void {
    if (!connection.groups.delete(group)) return;
    const hub = this.hub(connection.hub);
    const members = hub.groups.get(group);
    members?.delete(connection);
    if (members?.size === 0) hub.groups.delete(group);
  }

  /** A client `sendToGroup` or group stream fragment: to every member, the sender too unless `noEcho`. Returns the reach. */
  publishFromClient(
    sender: Connection,
    group: string,
    message: OutboundMessage,
    noEcho: boolean,
    stream?: StreamInfo,
  ): number {
    const hub = this.#existing(sender.hub);
    if (!hub) return 0;
    const delivery: ClientDelivery = {
      from: 'group',
      group,
      fromUserId: sender.userId,
      message,
      stream,
    };
    const endMarker = stream?.endOfStream === true;
    let reach = 0;
    for (const member of hub.groups.get(group) ?? []) {
      if (noEcho && member === sender) continue;
      if (endMarker && member.sink.speaksStreams !== true) continue;
      member.sink.deliver(delivery);
      reach++;
    }
    return reach;
  }

  // ---- HubOperations (REST) ----

  listConnections(hub: string): Iterable<ConnectionView> {
    return [...(this.#existing(hub)?.connections.values() ?? [])];
  }

  connectionExists(hub: string, connectionId: string): boolean {
    return this.connection(hub, connectionId) !== undefined;
  }

  userExists(hub: string, userId: string): boolean {
    return (this.#existing(hub)?.users.get(userId)?.size ?? 0) > 0;
  }

  groupExists(hub: string, group: string): boolean {
    return (this.#existing(hub)?.groups.get(group)?.size ?? 0) > 0;
  }

  sendToAll(hub: string, message: OutboundMessage, options?: SendOptions): number {
    const target = this.#existing(hub);
    if (!target) return 0;
    return this.#send([...target.connections.values()], { from: 'server', message }, options);
  }

  sendToUser(hub: string, userId: string, message: OutboundMessage, options?: SendOptions): number {
    const target = this.#existing(hub);
    if (!target) return 0;
    return this.#send(target.connectionsOfUser(userId), { from: 'server', message }, options);
  }

  sendToConnection(hub: string, connectionId: string, message: OutboundMessage): number {
    const connection = this.connection(hub, connectionId);
    connection?.sink.deliver({ from: 'server', message });
    return connection ? 1 : 0;
  }

  sendToGroup(hub: string, group: string, message: OutboundMessage, options?: SendOptions): number {
    const target = this.#existing(hub);
    if (!target) return 0;
    return this.#send(target.membersOf(group), { from: 'group', group, message }, options);
  }

  /** Hands `delivery` to each selected connection; how many that was. */
  #send(
    connections: Connection[],
    delivery: ClientDelivery,
    options: SendOptions | undefined,
  ): number {
    let reach = 0;
    for (const connection of select(connections, options?.excluded, options?.filter)) {
      connection.sink.deliver(delivery);
      reach++;
    }
    return reach;
  }

  closeConnection(hub: string, connectionId: string, reason?: string): void {
    this.connection(hub, connectionId)?.sink.close(reason);
  }

  closeAllConnections(hub: string, options?: CloseOptions): void {
    const target = this.#existing(hub);
    if (target) closeAll([...target.connections.values()], options);
  }

  closeUserConnections(hub: string, userId: string, options?: CloseOptions): void {
    const target = this.#existing(hub);
    if (target) closeAll(target.connectionsOfUser(userId), options);
  }

  closeGroupConnections(hub: string, group: string, options?: CloseOptions): void {
    const target = this.#existing(hub);
    if (target) closeAll(target.membersOf(group), options);
  }

  addConnectionToGroup(hub: string, group: string, connectionId: string): boolean {
    const connection = this.connection(hub, connectionId);
    if (!connection) return false;
    this.join(connection, group);
    return true;
  }

  removeConnectionFromGroup(hub: string, group: string, connectionId: string): void {
    const connection = this.connection(hub, connectionId);
    if (connection) this.leave(connection, group);
  }

  removeConnectionFromAllGroups(hub: string, connectionId: string): void {
    const connection = this.connection(hub, connectionId);
    if (connection) for (const group of connection.groups) this.leave(connection, group);
  }

  addUserToGroup(hub: string, group: string, userId: string): void {
    const target = this.hub(hub);
    let groups = target.userGroups.get(userId);
    if (!groups) target.userGroups.set(userId, (groups = new Set()));
    groups.add(group);
    for (const connection of target.connectionsOfUser(userId)) this.join(connection, group);
  }

  removeUserFromGroup(hub: string, group: string, userId: string): void {
    const target = this.#existing(hub);
    if (!target) return;
    target.userGroups.get(userId)?.delete(group);
    for (const connection of target.connectionsOfUser(userId)) this.leave(connection, group);
  }

  removeUserFromAllGroups(hub: string, userId: string): void {
    const target = this.#existing(hub);
    if (!target) return;
    target.userGroups.delete(userId);
    for (const connection of target.connectionsOfUser(userId)) {
      for (const group of connection.groups) this.leave(connection, group);
    }
  }

  addConnectionsToGroups(
    hub: string,
    groups: readonly string[],
    filter?: ConnectionPredicate,
  ): void {
    const target = this.#existing(hub);
    if (!target) return;
    for (const connection of select([...target.connections.values()], undefined, filter)) {
      for (const group of groups) this.join(connection, group);
    }
  }

  removeConnectionsFromGroups(
    hub: string,
    groups: readonly string[],
    filter?: ConnectionPredicate,
  ): void {
    const target = this.#existing(hub);
    if (!target) return;
    for (const connection of select([...target.connections.values()], undefined, filter)) {
      for (const group of groups) this.leave(connection, group);
    }
  }

  grantPermission(
    hub: string,
    connectionId: string,
    permission: PermissionName,
    targetName?: string,
  ): boolean {
    const connection = this.connection(hub, connectionId);
    if (!connection) return false;
    connection.grant(permission, targetName);
    return true;
  }

  revokePermission(
    hub: string,
    connectionId: string,
    permission: PermissionName,
    targetName?: string,
  ): void {
    this.connection(hub, connectionId)?.revoke(permission, targetName);
  }

  hasPermission(
    hub: string,
    connectionId: string,
    permission: PermissionName,
    targetName?: string,
  ): boolean {
    return this.connection(hub, connectionId)?.has(permission, targetName) ?? false;
  }
}

function select(
  connections: Connection[],
  excluded: readonly string[] | undefined,
  filter: ConnectionPredicate | undefined,
): Connection[] {
  const skip = excluded && excluded.length > 0 ? new Set(excluded) : undefined;
  return connections.filter(
    connection =>
      !skip?.has(connection.connectionId) && (filter === undefined || filter(connection)),
  );
}

function closeAll(connections: Connection[], options: CloseOptions | undefined): void {
  for (const connection of select(connections, options?.excluded, undefined)) {
    connection.sink.close(options?.reason);
  }
}
