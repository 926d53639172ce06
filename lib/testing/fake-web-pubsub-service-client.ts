import type {
  ClientTokenResponse,
  GenerateClientTokenOptions,
  Permission,
  WebPubSubGroup,
  WebPubSubGroupMember,
  WebPubSubServiceClient,
} from '@azure/web-pubsub';
import {
  signClientAccessToken,
  type ClientAccessProtocol,
} from '../protocol/client-access-token.js';
import { createTestConnectionString, TEST_HUB, testServiceOf } from './test-credentials.js';

/** One recorded call of the fake service client or one of its groups. */
export interface FakeServiceClientCall {
  /** The SDK method name (`sendToAll`, `closeConnection`, `addConnection`, ...). */
  readonly method: string;
  readonly hub: string;
  /** Set for calls made through `group(name)`. */
  readonly group?: string;
  /** The arguments as given (messages are not copied: keep them unchanged). */
  readonly args: readonly unknown[];
}

/** A message the code under test sent. */
export interface FakeSentMessage {
  readonly message: unknown;
  readonly options?: Record<string, unknown>;
}

export interface FakeWebPubSubServiceClientOptions {
  /** Default `chat`. */
  readonly hub?: string;
  /** The connection string whose endpoint and key `getClientAccessToken` uses. Default: the test one. */
  readonly connectionString?: string;
}

/** The public members of the SDK client, which the fake mirrors. */
type ServiceClientSurface = Pick<WebPubSubServiceClient, keyof WebPubSubServiceClient>;

/** A connection the fake service knows. */
export interface FakeConnection {
  userId?: string;
  /** The groups it is in. */
  readonly groups: Set<string>;
}

/**
 * An in-memory stand-in for `WebPubSubServiceClient`: the same method names and arguments, no
 * network. Every call is recorded in {@link calls}; sends are readable with {@link sentToAll},
 * {@link sentToUser}, {@link sentToConnection}, {@link sentToGroup}. Connections the test declares
 * with {@link addTestConnection} make `connectionExists`, `userExists`, `groupExists`,
 * `group().listConnections()` and the group membership calls answer as the service would.
 * `getClientAccessToken` signs a real token with the connection string's key.
 * `addConnectionsToGroups` / `removeConnectionsFromGroups` are recorded; their OData filter is not
 * evaluated.
 */
export class FakeWebPubSubServiceClient implements ServiceClientSurface {
  readonly hubName: string;
  readonly apiVersion = '2024-01-01';
  endpoint: string;
  /** Every call, in order. */
  readonly calls: FakeServiceClientCall[] = [];
  /**
   * The connections the fake service knows (declared with {@link addTestConnection}), with the
   * groups they are in as the group calls left them.
   */
  readonly connections = new Map<string, FakeConnection>();
  readonly #accessKey: string;
  readonly #permissions = new Set<string>();
  readonly #failures = new Map<string, Error>();

  constructor(options: FakeWebPubSubServiceClientOptions = {}) {
    const service = testServiceOf(options.connectionString ?? createTestConnectionString());
    this.hubName = options.hub ?? TEST_HUB;
    this.endpoint = service.endpoint;
    this.#accessKey = service.accessKey;
  }

  /** Declares a connection the fake service knows (as if it had connected). */
  addTestConnection(connectionId: string, userId?: string, groups: Iterable<string> = []): this {
    this.connections.set(connectionId, { userId, groups: new Set(groups) });
    return this;
  }

  /** Makes the next call of `method` (e.g. `'sendToAll'`) reject with `error` (once). */
  failNextCall(method: string, error: Error): this {
    this.#failures.set(method, error);
    return this;
  }

  /** The calls of one method (any group unless `group` is given). */
  callsOf(method: string, group?: string): FakeServiceClientCall[] {
    return this.calls.filter(
      call => call.method === method && (group === undefined || call.group === group),
    );
  }

  /** Messages sent to every connection of the hub. */
  sentToAll(): FakeSentMessage[] {
    return this.callsOf('sendToAll')
      .filter(call => call.group === undefined)
      .map(call => sent(call.args[0], call.args[1]));
  }

  /** Messages sent to a user (every user when absent). */
  sentToUser(userId?: string): (FakeSentMessage & { userId: string })[] {
    return this.callsOf('sendToUser')
      .filter(call => userId === undefined || call.args[0] === userId)
      .map(call => ({ userId: call.args[0] as string, ...sent(call.args[1], call.args[2]) }));
  }

  /** Messages sent to a connection (every connection when absent). */
  sentToConnection(connectionId?: string): (FakeSentMessage & { connectionId: string })[] {
    return this.callsOf('sendToConnection')
      .filter(call => connectionId === undefined || call.args[0] === connectionId)
      .map(call => ({ connectionId: call.args[0] as string, ...sent(call.args[1], call.args[2]) }));
  }

  /** Messages sent to a group through `group(name).sendToAll()`. */
  sentToGroup(group: string): FakeSentMessage[] {
    return this.callsOf('sendToAll', group).map(call => sent(call.args[0], call.args[1]));
  }

  /** Forgets the recorded calls (connections and permissions stay). */
  reset(): void {
    this.calls.length = 0;
  }

  /** This fake typed as the SDK client, for code that declares `WebPubSubServiceClient`. */
  asServiceClient(): WebPubSubServiceClient {
    return this as unknown as WebPubSubServiceClient;
  }

  /** @internal records a call; rejects when a failure was armed for it. */
  async record(method: string, args: unknown[], group?: string): Promise<void> {
    this.calls.push(
      group === undefined
        ? { method, hub: this.hubName, args }
        : { method, hub: this.hubName, group, args },
    );
    const failure = this.#failures.get(method);
    if (failure) {
      this.#failures.delete(method);
      throw failure;
    }
  }

  /** The known connections that pass `filter`, as group members. */
  connectionsWhere(filter: (connection: FakeConnection) => boolean): WebPubSubGroupMember[] {
    return [...this.connections]
      .filter(([, connection]) => filter(connection))
      .map(([connectionId, { userId }]) =>
        userId === undefined ? { connectionId } : { connectionId, userId },
      );
  }

  group(groupName: string): WebPubSubGroup {
    return new FakeWebPubSubGroup(this, groupName);
  }

  async sendToAll(message: unknown, options?: object): Promise<void> {
    await this.record('sendToAll', [message, options]);
  }

  async sendToUser(username: string, message: unknown, options?: object): Promise<void> {
    await this.record('sendToUser', [username, message, options]);
  }

  async sendToConnection(connectionId: string, message: unknown, options?: object): Promise<void> {
    await this.record('sendToConnection', [connectionId, message, options]);
  }

  async connectionExists(connectionId: string, options?: object): Promise<boolean> {
    await this.record('connectionExists', [connectionId, options]);
    return this.connections.has(connectionId);
  }

  async closeConnection(connectionId: string, options?: object): Promise<void> {
    await this.record('closeConnection', [connectionId, options]);
    this.connections.delete(connectionId);
  }

  async closeAllConnections(options?: object): Promise<void> {
    await this.record('closeAllConnections', [options]);
    this.connections.clear();
  }

  async closeUserConnections(userId: string, options?: object): Promise<void> {
    await this.record('closeUserConnections', [userId, options]);
    for (const [id, c] of this.connections) if (c.userId === userId) this.connections.delete(id);
  }

  async removeUserFromAllGroups(userId: string, options?: object): Promise<void> {
    await this.record('removeUserFromAllGroups', [userId, options]);
    for (const c of this.connections.values()) if (c.userId === userId) c.groups.clear();
  }

  async removeConnectionFromAllGroups(connectionId: string, options?: object): Promise<void> {
    await this.record('removeConnectionFromAllGroups', [connectionId, options]);
    this.connections.get(connectionId)?.groups.clear();
  }

  async addConnectionsToGroups(groups: string[], filter: string, options?: object): Promise<void> {
    await this.record('addConnectionsToGroups', [groups, filter, options]);
  }

  async removeConnectionsFromGroups(
    groups: string[],
    filter: string,
    options?: object,
  ): Promise<void> {
    await this.record('removeConnectionsFromGroups', [groups, filter, options]);
  }

  async groupExists(groupName: string, options?: object): Promise<boolean> {
    await this.record('groupExists', [groupName, options]);
    return this.connectionsWhere(c => c.groups.has(groupName)).length > 0;
  }

  async userExists(username: string, options?: object): Promise<boolean> {
    await this.record('userExists', [username, options]);
    return this.connectionsWhere(c => c.userId === username).length > 0;
  }

  async grantPermission(
    connectionId: string,
    permission: Permission,
    options?: { targetName?: string },
  ): Promise<void> {
    await this.record('grantPermission', [connectionId, permission, options]);
    this.#permissions.add(permissionKey(connectionId, permission, options?.targetName));
  }

  async revokePermission(
    connectionId: string,
    permission: Permission,
    options?: { targetName?: string },
  ): Promise<void> {
    await this.record('revokePermission', [connectionId, permission, options]);
    this.#permissions.delete(permissionKey(connectionId, permission, options?.targetName));
  }

  async hasPermission(
    connectionId: string,
    permission: Permission,
    options?: { targetName?: string },
  ): Promise<boolean> {
    await this.record('hasPermission', [connectionId, permission, options]);
    return (
      this.#permissions.has(permissionKey(connectionId, permission, options?.targetName)) ||
      this.#permissions.has(permissionKey(connectionId, permission, undefined))
    );
  }

  async getClientAccessToken(
    options: GenerateClientTokenOptions = {},
  ): Promise<ClientTokenResponse> {
    await this.record('getClientAccessToken', [options]);
    return signClientAccessToken({
      endpoint: this.endpoint,
      hub: this.hubName,
      accessKey: this.#accessKey,
      userId: options.userId,
      roles: options.roles,
      groups: options.groups,
      expirationTimeInMinutes: options.expirationTimeInMinutes,
      clientProtocol: options.clientProtocol as ClientAccessProtocol | undefined,
    });
  }
}

function sent(message: unknown, options: unknown): FakeSentMessage {
  return options === undefined
    ? { message }
    : { message, options: options as Record<string, unknown> };
}

function permissionKey(
  connectionId: string,
  permission: string,
  target: string | undefined,
): string {
  return `${connectionId}\n${permission}\n${target ?? ''}`;
}

/** `fake.group(name)`: records through its client, under the group's name. */
class FakeWebPubSubGroup implements WebPubSubGroup {
  readonly hubName: string;
  readonly apiVersion: string;
  readonly endpoint: string;

  constructor(
    private readonly client: FakeWebPubSubServiceClient,
    readonly groupName: string,
  ) {
    this.hubName = client.hubName;
    this.apiVersion = client.apiVersion;
    this.endpoint = client.endpoint;
  }

  async sendToAll(message: unknown, options?: object): Promise<void> {
    await this.client.record('sendToAll', [message, options], this.groupName);
  }

  async addConnection(connectionId: string, options?: object): Promise<void> {
    await this.client.record('addConnection', [connectionId, options], this.groupName);
    this.client.connections.get(connectionId)?.groups.add(this.groupName);
  }

  async removeConnection(connectionId: string, options?: object): Promise<void> {
    await this.client.record('removeConnection', [connectionId, options], this.groupName);
    this.client.connections.get(connectionId)?.groups.delete(this.groupName);
  }

  async addUser(username: string, options?: object): Promise<void> {
    await this.client.record('addUser', [username, options], this.groupName);
    for (const c of this.client.connections.values())
      if (c.userId === username) c.groups.add(this.groupName);
  }

  async removeUser(username: string, options?: object): Promise<void> {
    await this.client.record('removeUser', [username, options], this.groupName);
    for (const c of this.client.connections.values())
      if (c.userId === username) c.groups.delete(this.groupName);
  }

  async closeAllConnections(options?: object): Promise<void> {
    await this.client.record('closeAllConnections', [options], this.groupName);
    for (const [id, c] of this.client.connections)
      if (c.groups.has(this.groupName)) this.client.connections.delete(id);
  }

  async listConnections(options?: object): ReturnType<WebPubSubGroup['listConnections']> {
    await this.client.record('listConnections', [options], this.groupName);
    const members = this.client.connectionsWhere(c => c.groups.has(this.groupName));
    async function* all() {
      yield* members;
    }
    const iterator = all();
    return {
      next: () => iterator.next(),
      [Symbol.asyncIterator]() {
        return this;
      },
      byPage: () =>
        (async function* () {
          yield members;
        })(),
    } as Awaited<ReturnType<WebPubSubGroup['listConnections']>>;
  }
}

/** A new {@link FakeWebPubSubServiceClient}. */
export function createFakeWebPubSubServiceClient(
  options: FakeWebPubSubServiceClientOptions = {},
): FakeWebPubSubServiceClient {
  return new FakeWebPubSubServiceClient(options);
}
