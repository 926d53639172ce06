/**
 * The REST data plane (`handleRestRequest` on `node:http` over a recording `HubOperations`) against
 * the real `WebPubSubServiceClient`:
 * - all 24 operations plus the health probe answer their exact status (seen through `onResponse`)
 *   and the state receives the decoded arguments (hub, ids with `/`, space, `?`, `#`, `%`;
 *   `excluded`; the filter's selection on 6 sample connections; data type and bytes of JSON, text
 *   and binary; `reason`; `targetName`); HEADs map to true/false; `listConnections` pages 5 members
 *   by 2 and by `top` 3, `nextLink` carrying `api-version`; `:generateToken` tokens verify with the
 *   key for `/client/hubs/chat` and, with `clientType=MQTT`, `/clients/mqtt/hubs/chat`;
 * - refusals: 7 kinds of bad token → 401 with the reason (nothing reaches the state); 3 accepted
 *   audience forms (other scheme and query, decoded path, upper case); a bad filter → 400 with its
 *   position; `messageTtlSeconds` 301, -1, 1.5, `ten` → 400; 4 content-type cases → 415 naming the
 *   type, invalid JSON/UTF-8 → 400; 1 MB + 1 byte, declared or chunked → 413 while exactly 1 MB
 *   passes; 11 invalid hub, group, permission, paging, token and percent-encoding cases → 400; 4
 *   unknown paths → 404, a wrong method → 405 with `Allow`; an unimplemented operation → 501 after
 *   exactly 1 request (no SDK retry), a missing member → 501, a failing state → 500 without a
 *   stack;
 * - every call is one log line and one traffic record (with its target, data type and the response
 *   headers written: `content-length`, `api-supported-versions`, `x-ms-error-code`); no JWT and no
 *   key appear in either; a throwing traffic listener costs a log line, not the answer;
 * - a `fast-check` property sends 400 random requests per run (routes, methods, hub names,
 *   percent-encoded segments, query parameters, content types, bodies, signed or not): every answer
 *   is one of 200, 202, 204, 400, 401, 404, 405, 413, 415, every error in one of the service's two
 *   forms (`ErrorDetail` JSON or a problem+json validation answer) with the matching
 *   `x-ms-error-code` and no stack; each run reaches 200, 202, 204, 400, 401 and 404 (a typical
 *   run: 404 ×150, 405 ×170, 401 ×30, 400 ×14, 200 ×11, 204 ×12, 202 ×5, 415 ×5).
 *
 * Broken on purpose: skipping authentication or accepting any audience fails the 401 tests.
 */
import { createServer, type Server } from 'node:http';
import fc from 'fast-check';
import type { AddressInfo } from 'node:net';
import { RestError } from '@azure/core-rest-pipeline';
import { odata, WebPubSubServiceClient } from '@azure/web-pubsub';
import {
  OperationNotImplementedError,
  type CloseOptions,
  type ConnectionPredicate,
  type ConnectionView,
  type HubOperations,
  type OutboundMessage,
  type PermissionName,
  type SendOptions,
} from '../../../lib/emulator/state/hub-operations.js';
import { createRestApi, REST_MAX_BODY_BYTES } from '../../../lib/emulator/rest/rest-api.js';
import { TrafficLog } from '../../../lib/emulator/traffic-log.js';
import { signRestToken, verifyAccessToken } from '../../../lib/protocol/client-access-token.js';
import { http, type HttpOptions } from '../../utils/http.js';

const ACCESS_KEY = 'rest-api-test-key-0123456789abcdef';

interface RecordedCall {
  readonly op: string;
  readonly hub: string;
  readonly args: Record<string, unknown>;
}

const conn = (
  connectionId: string,
  userId: string | undefined,
  groups: string[],
): ConnectionView => ({
  connectionId,
  userId,
  groups: new Set(groups),
});

/**
 * An in-memory `HubOperations` of one hub that records every call. Filters are evaluated on its
 * connections and recorded as the ids they select; messages as data type and text.
 */
class RecordingHubs implements HubOperations {
  readonly calls: RecordedCall[] = [];
  readonly connections: ConnectionView[];
  readonly permissions = new Set<string>();

  constructor(connections: ConnectionView[]) {
    this.connections = connections;
  }

  #record(op: string, hub: string, args: Record<string, unknown> = {}): void {
    this.calls.push({ op, hub, args });
  }
  #inHub(hub: string): ConnectionView[] {
    return hub.toLowerCase() === 'chat' ? this.connections : [];
  }
  #selected(hub: string, filter?: ConnectionPredicate): string[] | 'all' {
    return filter
      ? this.#inHub(hub)
          .filter(filter)
          .map(c => c.connectionId)
      : 'all';
  }
  #message(message: OutboundMessage) {
    return {
      dataType: message.dataType,
      text:
        message.dataType === 'binary'
          ? message.data.toString('hex')
          : message.data.toString('utf8'),
    };
  }
  #send(hub: string, options: SendOptions | undefined) {
    return {
      excluded: options?.excluded,
      selected: this.#selected(hub, options?.filter),
      messageTtlSeconds: options?.messageTtlSeconds,
    };
  }
  #find(hub: string, connectionId: string) {
    return this.#inHub(hub).find(c => c.connectionId === connectionId);
  }

  hubNames(): string[] {
    return ['chat'];
  }
  listConnections(hub: string): Iterable<ConnectionView> {
    this.#record('listConnections', hub);
    return this.#inHub(hub);
  }
  connectionExists(hub: string, connectionId: string): boolean {
    this.#record('connectionExists', hub, { connectionId });
    return this.#find(hub, connectionId) !== undefined;
  }
  userExists(hub: string, userId: string): boolean {
    this.#record('userExists', hub, { userId });
    return this.#inHub(hub).some(c => c.userId === userId);
  }
  groupExists(hub: string, group: string): boolean {
    this.#record('groupExists', hub, { group });
    return this.#inHub(hub).some(c => c.groups.has(group));
  }
  sendToAll(hub: string, message: OutboundMessage, options?: SendOptions): void {
    this.#record('sendToAll', hub, { ...this.#message(message), ...this.#send(hub, options) });
  }
  sendToUser(hub: string, userId: string, message: OutboundMessage, options?: SendOptions): void {
    this.#record('sendToUser', hub, {
      userId,
      ...this.#message(message),
      ...this.#send(hub, options),
    });
  }
  sendToConnection(hub: string, connectionId: string, message: OutboundMessage): void {
    this.#record('sendToConnection', hub, { connectionId, ...this.#message(message) });
  }
  sendToGroup(hub: string, group: string, message: OutboundMessage, options?: SendOptions): void {
    this.#record('sendToGroup', hub, {
      group,
      ...this.#message(message),
      ...this.#send(hub, options),
    });
  }
  closeConnection(hub: string, connectionId: string, reason?: string): void {
    this.#record('closeConnection', hub, { connectionId, reason });
  }
  closeAllConnections(hub: string, options?: CloseOptions): void {
    this.#record('closeAllConnections', hub, { ...options });
  }
  closeUserConnections(hub: string, userId: string, options?: CloseOptions): void {
    this.#record('closeUserConnections', hub, { userId, ...options });
  }
  closeGroupConnections(hub: string, group: string, options?: CloseOptions): void {
    this.#record('closeGroupConnections', hub, { group, ...options });
  }
  addConnectionToGroup(hub: string, group: string, connectionId: string): boolean {
    this.#record('addConnectionToGroup', hub, { group, connectionId });
    return this.#find(hub, connectionId) !== undefined;
  }
  removeConnectionFromGroup(hub: string, group: string, connectionId: string): void {
    this.#record('removeConnectionFromGroup', hub, { group, connectionId });
  }
  removeConnectionFromAllGroups(hub: string, connectionId: string): void {
    this.#record('removeConnectionFromAllGroups', hub, { connectionId });
  }
  addUserToGroup(hub: string, group: string, userId: string): void {
    this.#record('addUserToGroup', hub, { group, userId });
  }
  removeUserFromGroup(hub: string, group: string, userId: string): void {
    this.#record('removeUserFromGroup', hub, { group, userId });
  }
  removeUserFromAllGroups(hub: string, userId: string): void {
    this.#record('removeUserFromAllGroups', hub, { userId });
  }
  addConnectionsToGroups(
    hub: string,
    groups: readonly string[],
    filter?: ConnectionPredicate,
  ): void {
    this.#record('addConnectionsToGroups', hub, { groups, selected: this.#selected(hub, filter) });
  }
  removeConnectionsFromGroups(
    hub: string,
    groups: readonly string[],
    filter?: ConnectionPredicate,
  ): void {
    this.#record('removeConnectionsFromGroups', hub, {
      groups,
      selected: this.#selected(hub, filter),
    });
  }
  grantPermission(
    hub: string,
    connectionId: string,
    permission: PermissionName,
    targetName?: string,
  ): boolean {
    this.#record('grantPermission', hub, { connectionId, permission, targetName });
    if (!this.#find(hub, connectionId)) return false;
    this.permissions.add(`${connectionId}|${permission}|${targetName ?? '*'}`);
    return true;
  }
  revokePermission(
    hub: string,
    connectionId: string,
    permission: PermissionName,
    targetName?: string,
  ): void {
    this.#record('revokePermission', hub, { connectionId, permission, targetName });
    this.permissions.delete(`${connectionId}|${permission}|${targetName ?? '*'}`);
  }
  hasPermission(
    hub: string,
    connectionId: string,
    permission: PermissionName,
    targetName?: string,
  ): boolean {
    this.#record('hasPermission', hub, { connectionId, permission, targetName });
    return (
      this.permissions.has(`${connectionId}|${permission}|*`) ||
      this.permissions.has(`${connectionId}|${permission}|${targetName ?? '*'}`)
    );
  }
}

const SAMPLE = () => [
  conn('c1', 'u1', ['g1']),
  conn('c2', 'u2', ['g1', 'g2']),
  conn('c3', undefined, ['g1']),
  conn('c4', 'tenant/alice', ['my group/x']),
  conn('c5', 'u1', ['g1']),
  conn('c0', 'u3', ['g1']),
];

interface Harness {
  server: Server;
  endpoint: string;
  connectionString: string;
  hubs: RecordingHubs;
  traffic: TrafficLog;
  lines: string[];
  /** Requests the server received. */
  requests: number;
  client(hub?: string, key?: string): WebPubSubServiceClient;
  /** A raw request signed like the SDK signs (unless `auth` says otherwise). */
  raw(
    method: string,
    path: string,
    options?: HttpOptions & { auth?: string | false },
  ): ReturnType<typeof http>;
}

async function start(hubs: HubOperations = new RecordingHubs(SAMPLE())): Promise<Harness> {
  const traffic = new TrafficLog(1000);
  const lines: string[] = [];
  const { handleRestRequest } = createRestApi({
    hubs,
    accessKey: ACCESS_KEY,
    traffic,
    log: line => lines.push(line),
  });
  const harness = { requests: 0 } as Harness;
  const server = createServer((req, res) => {
    harness.requests++;
    if (req.url?.startsWith('/api/')) void handleRestRequest(req, res);
    else res.writeHead(404).end();
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  return Object.assign(harness, {
    server,
    endpoint,
    connectionString: `Endpoint=${endpoint};AccessKey=${ACCESS_KEY};Version=1.0;`,
    hubs: hubs as RecordingHubs,
    traffic,
    lines,
    client: (hub = 'chat', key = ACCESS_KEY) =>
      new WebPubSubServiceClient(`Endpoint=${endpoint};AccessKey=${key};Version=1.0;`, hub, {
        // core-rest-pipeline refuses http:// endpoints without it.
        allowInsecureConnection: true,
      }),
    raw: async (
      method: string,
      path: string,
      options: HttpOptions & { auth?: string | false } = {},
    ) => {
      const headers: Record<string, string | string[] | number> = { ...options.headers };
      if (options.auth !== false) {
        headers.authorization =
          options.auth ??
          `Bearer ${await signRestToken({ url: endpoint + path, accessKey: ACCESS_KEY })}`;
      }
      return http(endpoint + path, { ...options, method, headers });
    },
  });
}

async function stop(harness: Harness): Promise<void> {
  harness.server.closeAllConnections();
  await new Promise<void>(resolve => harness.server.close(() => resolve()));
}

/** Records the HTTP status the SDK saw. */
function statusOf(): { status: number[]; onResponse: (response: { status: number }) => void } {
  const status: number[] = [];
  return { status, onResponse: response => status.push(response.status) };
}

async function restError(promise: Promise<unknown>): Promise<RestError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(RestError);
    return error as RestError;
  }
  throw new Error('the call succeeded');
}

describe('REST data plane with the real WebPubSubServiceClient', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await start();
  });
  afterEach(() => stop(h));

  const last = () => h.hubs.calls[h.hubs.calls.length - 1];

  it('sendToAll: 202; JSON, text and binary reach the hub with their data type; excluded, filter, TTL', async () => {
    const client = h.client();
    const s = statusOf();
    await client.sendToAll({ hello: 'world' }, { onResponse: s.onResponse });
    expect(last()).toEqual({
      op: 'sendToAll',
      hub: 'chat',
      args: {
        dataType: 'json',
        text: '{"hello":"world"}',
        excluded: undefined,
        selected: 'all',
        messageTtlSeconds: undefined,
      },
    });
    // A bare string without contentType goes as JSON, quotes kept.
    await client.sendToAll('hi', { onResponse: s.onResponse });
    expect(last().args).toMatchObject({ dataType: 'json', text: '"hi"' });
    await client.sendToAll('hi', { contentType: 'text/plain', onResponse: s.onResponse });
    expect(last().args).toMatchObject({ dataType: 'text', text: 'hi' });
    await client.sendToAll(new Uint8Array([0, 1, 254, 255]).buffer, { onResponse: s.onResponse });
    expect(last().args).toMatchObject({ dataType: 'binary', text: '0001feff' });
    await client.sendToAll(
      { x: 1 },
      {
        excludedConnections: ['c1', 'c 2/x'],
        filter: odata`userId ne ${'u2'} and 'g1' in groups`,
        messageTtlSeconds: 300,
        onResponse: s.onResponse,
      },
    );
    expect(last().args).toMatchObject({
      excluded: ['c1', 'c 2/x'],
      // null ne 'u2' holds: the anonymous c3 is selected.
      selected: ['c1', 'c3', 'c5', 'c0'],
      messageTtlSeconds: 300,
    });
    expect(s.status).toEqual([202, 202, 202, 202, 202]);
  });

  it('sendToUser, sendToConnection and group(g).sendToAll: 202, with decoded path segments', async () => {
    const client = h.client();
    const s = statusOf();
    await client.sendToUser('tenant/alice', 'to alice', {
      contentType: 'text/plain',
      filter: "connectionId eq 'c4'",
      onResponse: s.onResponse,
    });
    expect(last()).toEqual({
      op: 'sendToUser',
      hub: 'chat',
      args: {
        userId: 'tenant/alice',
        dataType: 'text',
        text: 'to alice',
        excluded: undefined,
        selected: ['c4'],
        messageTtlSeconds: undefined,
      },
    });
    await client.sendToConnection('c 1?#%', Buffer.from('bytes'), {
      messageTtlSeconds: 0,
      onResponse: s.onResponse,
    });
    expect(last()).toEqual({
      op: 'sendToConnection',
      hub: 'chat',
      args: {
        connectionId: 'c 1?#%',
        dataType: 'binary',
        text: Buffer.from('bytes').toString('hex'),
      },
    });
    await client
      .group('my group/x')
      .sendToAll(
        { n: 1 },
        { excludedConnections: ['c4'], filter: 'length(groups) eq 1', onResponse: s.onResponse },
      );
    expect(last()).toEqual({
      op: 'sendToGroup',
      hub: 'chat',
      args: {
        group: 'my group/x',
        dataType: 'json',
        text: '{"n":1}',
        excluded: ['c4'],
        selected: ['c1', 'c3', 'c4', 'c5', 'c0'],
        messageTtlSeconds: undefined,
      },
    });
    expect(s.status).toEqual([202, 202, 202]);
  });

  it('HEAD answers 200/404 and the SDK maps them to true/false', async () => {
    const client = h.client();
    const s = statusOf();
    expect(await client.connectionExists('c1', { onResponse: s.onResponse })).toBe(true);
    expect(await client.connectionExists('nope', { onResponse: s.onResponse })).toBe(false);
    expect(await client.userExists('tenant/alice', { onResponse: s.onResponse })).toBe(true);
    expect(await client.userExists('nobody', { onResponse: s.onResponse })).toBe(false);
    expect(await client.groupExists('my group/x', { onResponse: s.onResponse })).toBe(true);
    expect(await client.groupExists('g9', { onResponse: s.onResponse })).toBe(false);
    expect(s.status).toEqual([200, 404, 200, 404, 200, 404]);
    expect(h.hubs.calls.map(c => [c.op, Object.values(c.args)[0]])).toEqual([
      ['connectionExists', 'c1'],
      ['connectionExists', 'nope'],
      ['userExists', 'tenant/alice'],
      ['userExists', 'nobody'],
      ['groupExists', 'my group/x'],
      ['groupExists', 'g9'],
    ]);
  });

  it('closes: 204 with reason and excluded', async () => {
    const client = h.client();
    const s = statusOf();
    await client.closeConnection('c1', { reason: 'bye now', onResponse: s.onResponse });
    // The generated operations send options.excluded; the public option types omit it.
    const withExcluded = (excluded: string[], reason: string) =>
      ({ excluded, reason, onResponse: s.onResponse }) as { reason: string };
    await client.closeAllConnections(withExcluded(['c2', 'c3'], 'maintenance'));
    await client.closeUserConnections('u1', withExcluded(['c5'], 'kicked'));
    await client
      .group('g1')
      .closeAllConnections({ reason: 'room closed', onResponse: s.onResponse });
    expect(s.status).toEqual([204, 204, 204, 204]);
    expect(h.hubs.calls).toEqual([
      { op: 'closeConnection', hub: 'chat', args: { connectionId: 'c1', reason: 'bye now' } },
      {
        op: 'closeAllConnections',
        hub: 'chat',
        args: { excluded: ['c2', 'c3'], reason: 'maintenance' },
      },
      {
        op: 'closeUserConnections',
        hub: 'chat',
        args: { userId: 'u1', excluded: ['c5'], reason: 'kicked' },
      },
      {
        op: 'closeGroupConnections',
        hub: 'chat',
        args: { group: 'g1', excluded: undefined, reason: 'room closed' },
      },
    ]);
  });

  it('group membership: 200 for PUTs, 204 for DELETEs, 404 RestError for an unknown connection', async () => {
    const client = h.client();
    const group = client.group('g/2');
    const s = statusOf();
    await group.addConnection('c1', { onResponse: s.onResponse });
    await group.removeConnection('c1', { onResponse: s.onResponse });
    await group.addUser('u1', { onResponse: s.onResponse });
    await group.removeUser('u1', { onResponse: s.onResponse });
    await client.removeConnectionFromAllGroups('c2', { onResponse: s.onResponse });
    await client.removeUserFromAllGroups('u2', { onResponse: s.onResponse });
    expect(s.status).toEqual([200, 204, 200, 204, 204, 204]);
    expect(h.hubs.calls.map(c => [c.op, c.args])).toEqual([
      ['addConnectionToGroup', { group: 'g/2', connectionId: 'c1' }],
      ['removeConnectionFromGroup', { group: 'g/2', connectionId: 'c1' }],
      ['addUserToGroup', { group: 'g/2', userId: 'u1' }],
      ['removeUserFromGroup', { group: 'g/2', userId: 'u1' }],
      ['removeConnectionFromAllGroups', { connectionId: 'c2' }],
      ['removeUserFromAllGroups', { userId: 'u2' }],
    ]);
    const error = await restError(group.addConnection('ghost'));
    expect([error.statusCode, error.code, error.message]).toEqual([
      404,
      'Error.Connection.NotExisted',
      'Connection `ghost` is not found.',
    ]);
  });

  it('addConnectionsToGroups / removeConnectionsFromGroups: 200, the filter selects the connections', async () => {
    const client = h.client();
    const s = statusOf();
    await client.addConnectionsToGroups(['a', 'b'], "userId eq 'u1'", { onResponse: s.onResponse });
    await client.removeConnectionsFromGroups(['a'], "not ('g1' in groups)", {
      onResponse: s.onResponse,
    });
    expect(s.status).toEqual([200, 200]);
    expect(h.hubs.calls).toEqual([
      {
        op: 'addConnectionsToGroups',
        hub: 'chat',
        args: { groups: ['a', 'b'], selected: ['c1', 'c5'] },
      },
      { op: 'removeConnectionsFromGroups', hub: 'chat', args: { groups: ['a'], selected: ['c4'] } },
    ]);
    // An empty filter selects every connection.
    await client.addConnectionsToGroups(['z'], '');
    expect(last().args).toEqual({ groups: ['z'], selected: 'all' });
  });

  it('permissions with targetName: grant 200, check 200/404, revoke 204; unknown connection 404; no targetName 400', async () => {
    const client = h.client();
    const s = statusOf();
    await client.grantPermission('c1', 'sendToGroup', {
      targetName: 'room 1',
      onResponse: s.onResponse,
    });
    expect(
      await client.hasPermission('c1', 'sendToGroup', {
        targetName: 'room 1',
        onResponse: s.onResponse,
      }),
    ).toBe(true);
    expect(
      await client.hasPermission('c1', 'sendToGroup', {
        targetName: 'room 2',
        onResponse: s.onResponse,
      }),
    ).toBe(false);
    await client.revokePermission('c1', 'sendToGroup', {
      targetName: 'room 1',
      onResponse: s.onResponse,
    });
    expect(
      await client.hasPermission('c1', 'sendToGroup', {
        targetName: 'room 1',
        onResponse: s.onResponse,
      }),
    ).toBe(false);
    expect(s.status).toEqual([200, 200, 404, 204, 404]);
    expect(h.hubs.calls[0]).toEqual({
      op: 'grantPermission',
      hub: 'chat',
      args: { connectionId: 'c1', permission: 'sendToGroup', targetName: 'room 1' },
    });
    const ghost = await restError(
      client.grantPermission('ghost', 'sendToGroup', { targetName: 'x' }),
    );
    expect([ghost.statusCode, ghost.code, ghost.message]).toEqual([
      404,
      'Info.Connection.NotExisted',
      'Connection `ghost` is not found.',
    ]);
    // The service requires targetName for both permissions (a group name).
    const calls = h.hubs.calls.length;
    // (HEAD answers carry no body: the SDK's error has only the status.)
    expect((await restError(client.hasPermission('c2', 'joinLeaveGroup'))).statusCode).toBe(400);
    for (const call of [
      client.grantPermission('c2', 'joinLeaveGroup'),
      client.revokePermission('c2', 'joinLeaveGroup'),
    ]) {
      const error = await restError(call);
      expect([error.statusCode, error.code, error.message]).toEqual([
        400,
        'Error.BadRequest',
        'Invalid group name. Valid group name should be in between 1 and 1024 characters long.',
      ]);
    }
    expect(h.hubs.calls.length).toBe(calls);
  });

  it('listConnections pages with maxpagesize and top; nextLink carries api-version', async () => {
    const group = h.client().group('g1');
    const all = [];
    for await (const member of await group.listConnections()) all.push(member);
    expect(all).toEqual([
      { connectionId: 'c0', userId: 'u3' },
      { connectionId: 'c1', userId: 'u1' },
      { connectionId: 'c2', userId: 'u2' },
      { connectionId: 'c3' },
      { connectionId: 'c5', userId: 'u1' },
    ]);
    const pages: string[][] = [];
    for await (const page of (await group.listConnections({ maxPageSize: 2 })).byPage()) {
      pages.push(page.map(m => m.connectionId));
    }
    expect(pages).toEqual([['c0', 'c1'], ['c2', 'c3'], ['c5']]);
    const top: string[] = [];
    for await (const member of await group.listConnections({ maxPageSize: 2, top: 3 }))
      top.push(member.connectionId);
    expect(top).toEqual(['c0', 'c1', 'c2']);
    const nextLinks = h.traffic
      .snapshot()
      .filter(r => r.action === 'listConnectionsInGroup')
      .map(r => r.url as string);
    expect(nextLinks).toHaveLength(1 + 3 + 2);
    expect(nextLinks[2]).toMatch(
      /^\/api\/hubs\/chat\/groups\/g1\/connections\?api-version=2024-12-01&maxpagesize=2&continuationToken=/,
    );
    expect(nextLinks[5]).toMatch(/[?&]top=1(&|$)/);
  });

  it(':generateToken signs a client token with the access key (userId, roles, groups, expiry, MQTT audience)', async () => {
    const client = h.client();
    // The public getClientAccessToken() signs locally with a key; the generated operation is what it calls with Entra ID.
    const generated = (client as any).client.webPubSub;
    const s = statusOf();
    const { token } = await generated.generateClientToken('chat', {
      userId: 'u1',
      roles: ['webpubsub.joinLeaveGroup', 'webpubsub.sendToGroup.g1'],
      groups: ['g1', 'g 2'],
      expirationTimeInMinutes: 7,
      onResponse: s.onResponse,
    });
    expect(s.status).toEqual([200]);
    const verified = await verifyAccessToken(token, ACCESS_KEY, {
      audience: `${h.endpoint}/client/hubs/chat`,
    });
    expect(verified.ok).toBe(true);
    const claims = verified.ok ? verified.claims : {};
    expect(claims).toMatchObject({
      sub: 'u1',
      role: ['webpubsub.joinLeaveGroup', 'webpubsub.sendToGroup.g1'],
      'webpubsub.group': ['g1', 'g 2'],
      aud: `${h.endpoint}/client/hubs/chat`,
    });
    expect((claims.exp as number) - (claims.iat as number)).toBe(7 * 60);
    const mqtt = await generated.generateClientToken('chat', { clientType: 'MQTT' });
    expect(
      await verifyAccessToken(mqtt.token, ACCESS_KEY, {
        audience: `${h.endpoint}/clients/mqtt/hubs/chat`,
      }),
    ).toMatchObject({ ok: true });
    const plain = await verifyAccessToken(mqtt.token, ACCESS_KEY);
    expect(plain.ok && plain.claims.sub).toBe(undefined);
    // The token never reaches the traffic log.
    const record = h.traffic.snapshot().find(r => r.action === 'generateClientToken');
    expect(record?.response?.body).toBe('{"token":"<redacted>"}');
    expect(JSON.stringify(h.traffic.snapshot())).not.toContain(token);
  });

  it('HEAD /api/health answers 200 (the SDK generated health operation)', async () => {
    const s = statusOf();
    await (h.client() as any).client.healthApi.getServiceStatus({ onResponse: s.onResponse });
    expect(s.status).toEqual([200]);
    expect((await h.raw('HEAD', '/api/health', { auth: false })).status).toBe(200);
  });

  it('records each call in the traffic log and logs one line, with Authorization redacted', async () => {
    const client = h.client();
    await client.sendToAll('x', { contentType: 'text/plain', filter: "userId eq 'u1'" });
    await client.connectionExists('nope');
    expect(h.lines).toHaveLength(2);
    expect(h.lines[0]).toMatch(
      /^REST POST \/api\/hubs\/chat\/:send\?api-version=2024-12-01&filter=.* -> 202 sendToAll \(\d+(?:\.\d{1,3})? ms\)$/,
    );
    expect(h.lines[1]).toMatch(
      /^REST HEAD \/api\/hubs\/chat\/connections\/nope\?api-version=2024-12-01 -> 404 connectionExists/,
    );
    const [send, head] = h.traffic.snapshot();
    expect(send).toMatchObject({
      kind: 'rest',
      hub: 'chat',
      action: 'sendToAll',
      method: 'POST',
      status: 202,
    });
    expect(send.request?.headers.authorization).toBe('Bearer <redacted>');
    expect(send.request?.body).toBe('x');
    expect(head).toMatchObject({ action: 'connectionExists', status: 404, target: 'nope' });
    // What the call was answered, headers too (written with writeHead, not setHeader).
    expect(send.dataType).toBe('text');
    expect(send.response?.headers['content-length']).toBe('0');
    expect(send.response?.headers['api-supported-versions']).toBeDefined();
    expect(head.response?.headers['x-ms-error-code']).toBeDefined();
    const everything = JSON.stringify(h.traffic.snapshot()) + h.lines.join('\n');
    expect(everything).not.toMatch(/eyJ[\w-]+\.eyJ/); // no JWT
    expect(everything).not.toContain(ACCESS_KEY);
  });
});

describe('REST data plane refusals', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await start();
  });
  afterEach(() => stop(h));

  it('401 for a token signed with another key, naming the reason; nothing reaches the hub', async () => {
    const error = await restError(h.client('chat', 'another-key').sendToAll('x'));
    expect(error.statusCode).toBe(401);
    expect(error.code).toBe('Error.Unauthorized');
    expect(error.message).toBe('The access token signature does not match any access key');
    expect(h.hubs.calls).toEqual([]);
  });

  it('401 for a missing, malformed, expired or misdirected token', async () => {
    const path = '/api/hubs/chat/:send?api-version=2024-12-01';
    const body = { body: '"x"', headers: { 'content-type': 'application/json' } };
    const missing = await h.raw('POST', path, { ...body, auth: false });
    expect([missing.status, JSON.parse(missing.text).message]).toEqual([
      401,
      expect.stringContaining('Authorization header is missing'),
    ]);
    expect(missing.headers['www-authenticate']).toContain('Bearer');
    const basic = await h.raw('POST', path, { ...body, auth: 'Basic abc' });
    expect(JSON.parse(basic.text).message).toContain('not "Bearer <token>"');
    const garbage = await h.raw('POST', path, { ...body, auth: 'Bearer not-a-jwt' });
    expect(JSON.parse(garbage.text).message).toContain('not a well-formed JWT');
    const old = await signRestToken({
      url: h.endpoint + path,
      accessKey: ACCESS_KEY,
      now: new Date(Date.now() - 2 * 3600_000),
    });
    const expired = await h.raw('POST', path, { ...body, auth: `Bearer ${old}` });
    expect([expired.status, JSON.parse(expired.text).message]).toEqual([
      401,
      expect.stringContaining('expired'),
    ]);
    const other = await signRestToken({
      url: `${h.endpoint}/api/hubs/other/:send`,
      accessKey: ACCESS_KEY,
    });
    const misdirected = await h.raw('POST', path, { ...body, auth: `Bearer ${other}` });
    expect(misdirected.status).toBe(401);
    expect(JSON.parse(misdirected.text).message).toContain('another audience');
    const otherHost = await signRestToken({
      url: `http://elsewhere:1/api/hubs/chat/:send`,
      accessKey: ACCESS_KEY,
    });
    expect((await h.raw('POST', path, { ...body, auth: `Bearer ${otherHost}` })).status).toBe(401);
    expect(h.hubs.calls).toEqual([]);
  });

  it('accepts an audience with another scheme or query, or with the path decoded once; api-version optional', async () => {
    const path = '/api/hubs/chat/users/a%2Fb/:send';
    const host = h.endpoint.slice('http://'.length);
    const body = { body: 'x', headers: { 'content-type': 'text/plain' } };
    for (const aud of [
      `https://${host}${path}?other=1`,
      `wss://${host}/api/hubs/chat/users/a/b/:send`,
      `http://${host.toUpperCase()}${path.toUpperCase()}`,
    ]) {
      const token = await signRestToken({ url: aud, accessKey: ACCESS_KEY });
      const res = await h.raw('POST', path, { ...body, auth: `Bearer ${token}` });
      expect([aud, res.status]).toEqual([aud, 202]);
    }
    expect((await h.raw('POST', `${path}?api-version=2021-10-01`, body)).status).toBe(202);
    expect(h.hubs.calls.map(c => c.args.userId)).toEqual(['a/b', 'a/b', 'a/b', 'a/b']);
  });

  it('400 for a bad filter through the SDK, naming the problem and its position', async () => {
    const error = await restError(
      h.client().sendToAll('x', { filter: "userId eq 'a' and length(userId)" }),
    );
    // A validation problem (application/problem+json): the SDK leaves the body as the message.
    expect(error.statusCode).toBe(400);
    expect(JSON.parse(error.message)).toMatchObject({
      code: 'Error.BadRequest',
      message:
        "Invalid syntax for 'userId eq 'a' and length(userId)': 'and' needs boolean operands; " +
        '"length(userId)" is an integer (position 18). (Parameter \'filter\')',
      target: 'filter',
    });
    const group = await restError(
      h.client().group('g1').sendToAll('x', { filter: 'not length(userId) gt 5' }),
    );
    expect(JSON.parse(group.message).message).toContain("'not' needs a boolean operand");
    const add = await restError(h.client().addConnectionsToGroups(['g'], 'userId eq'));
    expect(JSON.parse(add.message)).toMatchObject({
      message: expect.stringContaining('the filter ends where a value was expected (position 9).'),
      target: 'Filter',
    });
    expect(h.hubs.calls).toEqual([]);
  });

  it('400 for messageTtlSeconds outside 0..300, from the SDK and from raw HTTP', async () => {
    // The SDK 1.2 sends it as given (its 0..300 constraint is not enforced when serializing).
    const error = await restError(h.client().sendToAll('x', { messageTtlSeconds: 301 }));
    expect([error.statusCode, JSON.parse(error.message).message]).toEqual([
      400,
      'messageTtlSeconds must be an integer from 0 to 300, got "301"',
    ]);
    expect(h.requests).toBe(1);
    for (const ttl of ['301', '-1', '1.5', 'ten']) {
      const res = await h.raw('POST', `/api/hubs/chat/:send?messageTtlSeconds=${ttl}`, {
        body: '"x"',
        headers: { 'content-type': 'application/json' },
      });
      expect([ttl, res.status, JSON.parse(res.text)]).toEqual([
        ttl,
        400,
        expect.objectContaining({
          code: 'Error.BadRequest',
          message: `messageTtlSeconds must be an integer from 0 to 300, got "${ttl}"`,
          target: 'messageTtlSeconds',
        }),
      ]);
    }
    const conn = await h.raw('POST', '/api/hubs/chat/connections/c1/:send?messageTtlSeconds=1000', {
      body: 'x',
      headers: { 'content-type': 'text/plain' },
    });
    expect(conn.status).toBe(400);
    expect(h.hubs.calls).toEqual([]);
  });

  it('415 for other content types, naming them; 400 for invalid JSON or UTF-8', async () => {
    const send = (contentType: string | undefined, body: string | Buffer) =>
      h.raw('POST', '/api/hubs/chat/:send', {
        body,
        headers: contentType ? { 'content-type': contentType } : {},
      });
    const html = await send('text/html', '<p>');
    expect([html.status, JSON.parse(html.text)]).toEqual([
      415,
      {
        code: 'Error.UnsupportedMediaType',
        message:
          'Content-Type "text/html" is not supported: use text/plain, application/json or application/octet-stream',
        target: 'Content-Type',
        details: null,
        inner: null,
      },
    ]);
    expect(html.headers['x-ms-error-code']).toBe('Error.UnsupportedMediaType');
    expect(JSON.parse((await send(undefined, 'x')).text).message).toContain(
      'Content-Type is missing',
    );
    expect((await send('text/plain; charset=latin1', 'x')).status).toBe(415);
    expect((await send('Text/Plain; charset=UTF-8', 'ok')).status).toBe(202);
    const json = await send('application/json', '{oops');
    expect([json.status, JSON.parse(json.text).message]).toEqual([
      400,
      expect.stringContaining('The body is not valid JSON'),
    ]);
    expect(JSON.parse((await send('text/plain', Buffer.from([0xff, 0xfe]))).text).message).toBe(
      'The body is not valid UTF-8',
    );
    expect((await send('application/octet-stream', Buffer.from([0xff, 0xfe]))).status).toBe(202);
    const groups = await h.raw('POST', '/api/hubs/chat/:addToGroups', {
      body: 'groups=a',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect([groups.status, JSON.parse(groups.text).message]).toEqual([
      415,
      'Content-Type must be application/json, got "application/x-www-form-urlencoded"',
    ]);
    const badGroups = await h.raw('POST', '/api/hubs/chat/:addToGroups', {
      body: '{"groups":[1]}',
      headers: { 'content-type': 'application/json' },
    });
    expect(JSON.parse(badGroups.text).message).toBe('"groups" must be an array of group names');
    expect(h.hubs.calls.map(c => c.op)).toEqual(['sendToAll', 'sendToAll']);
  });

  it(`413 for a body over ${REST_MAX_BODY_BYTES} bytes, declared or chunked; exactly the limit passes`, async () => {
    const headers = { 'content-type': 'application/octet-stream' };
    const over = Buffer.alloc(REST_MAX_BODY_BYTES + 1);
    const declared = await h.raw('POST', '/api/hubs/chat/:send', { body: over, headers });
    expect([declared.status, JSON.parse(declared.text)]).toEqual([
      413,
      {
        code: 'Error.PayloadTooLarge',
        message: `The body is larger than ${REST_MAX_BODY_BYTES} bytes`,
        target: 'Request',
        details: null,
        inner: null,
      },
    ]);
    const chunked = await h.raw('POST', '/api/hubs/chat/:send', {
      body: over,
      headers,
      chunked: true,
    });
    expect(chunked.status).toBe(413);
    const exact = await h.raw('POST', '/api/hubs/chat/:send', {
      body: Buffer.alloc(REST_MAX_BODY_BYTES),
      headers,
    });
    expect(exact.status).toBe(202);
    expect(h.hubs.calls).toHaveLength(1);
  });

  it('400 for an invalid hub name, group name, permission or paging parameter', async () => {
    const badHub = await restError(h.client('1chat').sendToAll('x'));
    expect([badHub.statusCode, JSON.parse(badHub.message).message]).toEqual([
      400,
      expect.stringContaining('"1chat" is not a valid hub name'),
    ]);
    const cases: [string, string, string][] = [
      [
        'PUT',
        '/api/hubs/chat/groups/%20%20/connections/c1',
        'Invalid group name. Valid group name should be in between 1 and 1024 characters long.',
      ],
      [
        'PUT',
        `/api/hubs/chat/groups/${'g'.repeat(1025)}/connections/c1`,
        'Invalid group name. Valid group name should be in between 1 and 1024 characters long.',
      ],
      [
        'PUT',
        '/api/hubs/chat/permissions/sendToAll/connections/c1',
        'Permission "sendToAll" is not one of joinLeaveGroup, sendToGroup',
      ],
      [
        'PUT',
        '/api/hubs/chat/permissions/sendToGroup/connections/c1?targetName=',
        'Invalid group name. Valid group name should be in between 1 and 1024 characters long.',
      ],
      [
        'GET',
        '/api/hubs/chat/groups/g1/connections?maxpagesize=201',
        'maxpagesize must be an integer from 1 to 200, got "201"',
      ],
      [
        'GET',
        '/api/hubs/chat/groups/g1/connections?top=0',
        'top must be an integer from 1 to 2147483647',
      ],
      [
        'GET',
        '/api/hubs/chat/groups/g1/connections?continuationToken=%25%25',
        'continuationToken is not one this emulator issued',
      ],
      [
        'POST',
        '/api/hubs/chat/:generateToken?clientType=signalr',
        'clientType "signalr" is not one of Default, MQTT, SocketIO',
      ],
      [
        'POST',
        '/api/hubs/chat/:generateToken?minutesToExpire=0',
        'minutesToExpire must be an integer from 1',
      ],
      [
        'DELETE',
        '/api/hubs/chat/connections/%E0%A4%A',
        'Path segment "%E0%A4%A" is not valid percent-encoding',
      ],
    ];
    for (const [method, path, message] of cases) {
      const res = await h.raw(method, path);
      expect([path, res.status, JSON.parse(res.text).message]).toEqual([
        path,
        400,
        expect.stringContaining(message),
      ]);
    }
    expect(h.hubs.calls.filter(c => c.op !== 'listConnections')).toEqual([]);
  });

  it('404 for unknown routes, 405 with Allow for a known path with another method', async () => {
    for (const path of [
      '/api/hubs/chat/:publish',
      '/api/hubs/chat',
      '/api/other',
      '/api/hubs/chat/users/u1/connections',
    ]) {
      const res = await h.raw('POST', path);
      expect([path, res.status, JSON.parse(res.text).code]).toEqual([path, 404, 'Error.NotFound']);
    }
    const res = await h.raw('GET', '/api/hubs/chat/connections/c1');
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('HEAD, DELETE');
    expect(h.hubs.calls).toEqual([]);
  });
});

describe('REST data plane: operations the hub does not implement', () => {
  it('answer 501, which the SDK does not retry; a failing hub answers 500 without a stack', async () => {
    const hubs = new RecordingHubs(SAMPLE());
    let attempts = 0;
    hubs.grantPermission = () => {
      attempts++;
      throw new OperationNotImplementedError('grantPermission', 'permissions are not emulated');
    };
    (hubs as Partial<HubOperations>).addUserToGroup = undefined;
    hubs.removeUserFromAllGroups = () => {
      throw new Error('state is broken');
    };
    const h = await start(hubs);
    try {
      const error = await restError(
        h.client().grantPermission('c1', 'sendToGroup', { targetName: 'g' }),
      );
      expect([error.statusCode, error.code, error.message]).toEqual([
        501,
        'Error.NotImplemented',
        'The emulator does not implement grantPermission: permissions are not emulated',
      ]);
      expect(attempts).toBe(1);
      expect(h.requests).toBe(1);
      const missing = await restError(h.client().group('g').addUser('u1'));
      expect([missing.statusCode, missing.message]).toEqual([
        501,
        'The emulator does not implement addUserToGroup',
      ]);
      expect(h.requests).toBe(2);
      const broken = await h.raw('DELETE', '/api/hubs/chat/users/u1/groups');
      expect([broken.status, JSON.parse(broken.text)]).toEqual([
        500,
        {
          code: 'Error.InternalServerError',
          message: 'The emulator failed: state is broken',
          target: 'Request',
          details: null,
          inner: null,
        },
      ]);
      expect(h.lines.at(-1)).toContain('-> 500 removeUserFromAllGroups');
    } finally {
      await stop(h);
    }
  });
});

describe('REST data plane: bookkeeping faults and random requests', () => {
  it('answers even when a traffic listener throws, and logs that the record failed', async () => {
    const h = await start();
    try {
      h.traffic.subscribe(() => {
        throw new Error('listener broke');
      });
      const s = statusOf();
      await h.client().sendToAll('x', { contentType: 'text/plain', onResponse: s.onResponse });
      expect(s.status).toEqual([202]);
      expect(h.lines.at(-1)).toBe('REST traffic record failed: listener broke');
    } finally {
      await stop(h);
    }
  });

  it('answers random requests with a documented status, errors in one of the service forms, never 5xx', async () => {
    const h = await start();
    const segment = fc.constantFrom(
      'users',
      'u1',
      'tenant%2Falice',
      'connections',
      'c1',
      'groups',
      'g1',
      '%20',
      'permissions',
      'sendToGroup',
      'joinLeaveGroup',
      'SENDTOGROUP',
      ':send',
      ':closeConnections',
      ':addToGroups',
      ':removeFromGroups',
      ':generateToken',
      '%3Asend',
      'health',
      '',
      'x',
      '%E0%A4',
    );
    const hub = fc.constantFrom('chat', 'Chat', '1bad', '', 'a'.repeat(129), 'h%20b');
    const route = fc.constantFrom(
      'hubs/chat/:send',
      'hubs/chat/users/u1/:send',
      'hubs/chat/connections/c1/:send',
      'hubs/chat/groups/g1/:send',
      'hubs/chat/connections/c1',
      'hubs/chat/groups/g1/connections',
      'hubs/chat/:addToGroups',
      'hubs/chat/:closeConnections',
      'hubs/chat/permissions/sendToGroup/connections/c1',
      'hubs/chat/users/u1/groups/g1',
      'hubs/chat/:generateToken',
      'health',
    );
    const path = fc.oneof(
      { weight: 3, arbitrary: route },
      fc
        .tuple(hub, fc.array(segment, { maxLength: 4 }))
        .map(([h, rest]) => ['hubs', h, ...rest].join('/')),
      fc.array(segment, { maxLength: 3 }).map(rest => rest.join('/')),
    );
    const queryValue = fc.oneof(
      fc.constantFrom('', '1', '0', '300', '301', '-1', 'c1', 'g1', 'MQTT', 'socketio', 'abc_-'),
      fc.constantFrom(
        "userId eq 'u1'",
        'not length(userId) gt 5',
        "'g1' in groups",
        '((',
        "userId in ('a', 1)",
      ),
      fc.string({ maxLength: 8 }),
    );
    const query = fc.array(
      fc.tuple(
        fc.constantFrom(
          'excluded',
          'filter',
          'messageTtlSeconds',
          'reason',
          'targetName',
          'maxpagesize',
          'top',
          'continuationToken',
          'clientType',
          'minutesToExpire',
          'userId',
          'role',
          'group',
          'api-version',
        ),
        queryValue,
      ),
      { maxLength: 4 },
    );
    const contentType = fc.constantFrom(
      undefined,
      'text/plain',
      'application/json',
      'application/octet-stream',
      'text/html',
      'application/json; charset=utf-16',
      'TEXT/PLAIN; charset="utf-8"',
    );
    const body = fc.oneof(
      fc.constant(undefined),
      fc.string({ maxLength: 40 }),
      fc.json({ maxDepth: 2 }),
      fc.constantFrom(
        '{"groups":["a"],"filter":"userId eq \'u1\'"}',
        '{"groups":[""]}',
        '{"groups":"a"}',
      ),
      fc.uint8Array({ maxLength: 16 }).map(bytes => Buffer.from(bytes)),
    );
    const seen = new Map<number, number>();
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom('POST', 'POST', 'GET', 'HEAD', 'PUT', 'DELETE', 'PATCH'),
          path,
          query,
          contentType,
          body,
          fc.boolean(),
          async (method, rawPath, params, type, payload, signed) => {
            const search = params.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
            const url = `/api/${rawPath}${search ? `?${search}` : ''}`;
            const res = await h.raw(method, url, {
              headers: type ? { 'content-type': type } : {},
              body: method === 'GET' || method === 'HEAD' ? undefined : payload,
              auth: signed ? undefined : false,
            });
            seen.set(res.status, (seen.get(res.status) ?? 0) + 1);
            expect([200, 202, 204, 400, 401, 404, 405, 413, 415]).toContain(res.status);
            if (res.status >= 400 && method !== 'HEAD') {
              const error = JSON.parse(res.text);
              const problem =
                res.headers['content-type'] === 'application/problem+json; charset=utf-8';
              expect(Object.keys(error)).toEqual(
                problem
                  ? ['code', 'message', 'target', 'errors', 'type', 'title', 'status'].concat([
                      'detail',
                      'instance',
                      'extensions',
                    ])
                  : ['code', 'message', 'target', 'details', 'inner'],
              );
              if (!problem) {
                expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
              }
              expect(error.message).not.toMatch(/\n\s+at /);
              expect(res.headers['x-ms-error-code']).toBe(error.code);
            }
          },
        ),
        { numRuns: 400 },
      );
      // The generator reaches past routing and authentication.
      expect([...seen.keys()]).toEqual(expect.arrayContaining([200, 202, 204, 400, 401, 404]));
      expect(h.lines).toHaveLength(h.requests);
    } finally {
      await stop(h);
    }
  });
});
