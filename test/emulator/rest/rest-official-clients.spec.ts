/**
 * End to end: `startEmulator()` with the REST data plane, `WebPubSubServiceClient` with its
 * connection string, and real `@azure/web-pubsub-client` clients (reliable JSON and plain JSON)
 * that see the effect of each call: JSON, text and binary sends arrive with their data type
 * (sequence ids 1, 2, 3 for the reliable client); filter and `excluded` leave out exactly the right
 * clients; group and user membership, filter-based add/remove, `listConnections` by pages of 1;
 * permissions granted over REST let a client `sendToGroup` (received with `fromUserId`), revoked it
 * gets `Forbidden`; hub names are case-insensitive (`CHAT` reaches `chat`); closes by connection,
 * user, group and hub stop exactly those clients, with the reason in their `disconnected` event; a
 * reliable client closed over REST is not recovered. Negative checks wait for a later message to
 * the same client first (delivery is in order).
 */
import {
  WebPubSubClient,
  WebPubSubJsonProtocol,
  type GroupDataMessage,
  type OnDisconnectedArgs,
  type ServerDataMessage,
} from '@azure/web-pubsub-client';
import { WebPubSubServiceClient } from '@azure/web-pubsub';
import { startEmulator, type RunningEmulator } from '../../../lib/emulator/index.js';
import { waitFor } from '../../utils/wait.js';
import { FAST_TIMINGS, LogLines } from '../harness.js';

interface Member {
  readonly client: WebPubSubClient;
  readonly connectionId: string;
  readonly server: ServerDataMessage[];
  readonly group: GroupDataMessage[];
  readonly disconnected: OnDisconnectedArgs[];
  stopped: boolean;
}

describe('REST data plane end to end: WebPubSubServiceClient against the emulator, seen by @azure/web-pubsub-client', () => {
  let emulator: RunningEmulator;
  let service: WebPubSubServiceClient;
  const logs = new LogLines();
  const members: Member[] = [];

  beforeAll(async () => {
    emulator = await startEmulator({
      port: 0,
      log: logs.log,
      timings: FAST_TIMINGS,
      hubs: { chat: {} },
    });
    service = new WebPubSubServiceClient(emulator.connectionString, 'chat', {
      allowInsecureConnection: true,
    });
  });

  afterEach(async () => {
    const leaving = members.splice(0);
    for (const member of leaving) member.client.stop();
    await waitFor(() => leaving.every(member => member.stopped));
  });

  afterAll(async () => {
    await emulator?.close();
  });

  async function join(
    userId: string | undefined,
    reliable = true,
    roles: string[] = [],
  ): Promise<Member> {
    const { url } = await service.getClientAccessToken({ userId, roles });
    const client = new WebPubSubClient(url, {
      ...(reliable ? {} : { protocol: WebPubSubJsonProtocol() }),
      autoReconnect: false,
      messageRetryOptions: { maxRetries: 0, retryDelayInMs: 10 },
      // The client's keep-alive tasks sleep 20 s / 40 s past stop(); the emulator pings anyway.
      keepAliveIntervalInMs: 0,
      keepAliveTimeoutInMs: 0,
    });
    const member = {
      client,
      connectionId: '',
      server: [] as ServerDataMessage[],
      group: [] as GroupDataMessage[],
      disconnected: [] as OnDisconnectedArgs[],
      stopped: false,
    };
    client.on('connected', event => Object.assign(member, { connectionId: event.connectionId }));
    client.on('server-message', event => member.server.push(event.message));
    client.on('group-message', event => member.group.push(event.message));
    client.on('disconnected', event => member.disconnected.push(event));
    client.on('stopped', () => (member.stopped = true));
    await client.start();
    members.push(member);
    return member;
  }

  /** Sends a marker to each member and waits until each got it: earlier REST sends have arrived. */
  async function sync(...targets: Member[]): Promise<void> {
    const marker = `sync-${Math.random()}`;
    for (const target of targets) {
      await service.sendToConnection(target.connectionId, marker, { contentType: 'text/plain' });
    }
    await waitFor(() => targets.every(t => t.server.some(m => m.data === marker)));
    for (const target of targets) {
      target.server.splice(
        target.server.findIndex(m => m.data === marker),
        1,
      );
    }
  }

  const data = (messages: { data: unknown }[]) => messages.map(m => m.data);

  it('sends reach each kind of client with the right data type; excluded and filter select', async () => {
    const alice = await join('alice');
    const bob = await join('bob', false);
    const anonymous = await join(undefined);
    await service.sendToAll({ hello: 1 });
    await service.sendToAll('plain', { contentType: 'text/plain' });
    await service.sendToAll(new Uint8Array([1, 2, 3]));
    await waitFor(() => [alice, bob, anonymous].every(m => m.server.length === 3));
    for (const member of [alice, bob, anonymous]) {
      expect(member.server.map(m => [m.dataType, m.data])).toEqual([
        ['json', { hello: 1 }],
        ['text', 'plain'],
        ['binary', new Uint8Array([1, 2, 3]).buffer],
      ]);
    }
    // Reliable clients get sequence ids; plain JSON ones do not.
    expect(alice.server.map(m => m.sequenceId)).toEqual([1, 2, 3]);
    expect(bob.server.map(m => m.sequenceId)).toEqual([undefined, undefined, undefined]);

    for (const member of [alice, bob, anonymous]) member.server.length = 0;
    // null ne 'bob' holds: the anonymous client is selected too.
    await service.sendToAll('not bob', { contentType: 'text/plain', filter: "userId ne 'bob'" });
    await service.sendToAll('not alice', {
      contentType: 'text/plain',
      excludedConnections: [alice.connectionId],
    });
    await service.sendToUser('alice', 'to alice', { contentType: 'text/plain' });
    await service.sendToUser('alice', 'filtered out', {
      contentType: 'text/plain',
      filter: `connectionId ne '${alice.connectionId}'`,
    });
    await service.sendToConnection(anonymous.connectionId, 'to you', { contentType: 'text/plain' });
    await sync(alice, bob, anonymous);
    expect(data(alice.server)).toEqual(['not bob', 'to alice']);
    expect(data(bob.server)).toEqual(['not alice']);
    expect(data(anonymous.server)).toEqual(['not bob', 'not alice', 'to you']);
  });

  it('groups: add and remove connections and users, filter-based add/remove, exists and listConnections', async () => {
    const alice = await join('alice');
    const bob = await join('bob', false);
    const carol = await join('carol');
    const room = service.group('room 1');
    await room.addConnection(alice.connectionId);
    await room.addUser('bob');
    expect(await service.groupExists('room 1')).toBe(true);
    const listed = [];
    for await (const member of await room.listConnections({ maxPageSize: 1 })) listed.push(member);
    expect(listed.sort((a, b) => a.userId!.localeCompare(b.userId!))).toEqual([
      { connectionId: alice.connectionId, userId: 'alice' },
      { connectionId: bob.connectionId, userId: 'bob' },
    ]);
    await room.sendToAll({ to: 'room' });
    await room.sendToAll('not alice', {
      contentType: 'text/plain',
      excludedConnections: [alice.connectionId],
    });
    await waitFor(() => alice.group.length === 1 && bob.group.length === 2);
    expect(alice.group[0]).toMatchObject({
      group: 'room 1',
      dataType: 'json',
      data: { to: 'room' },
    });
    expect(alice.group[0].fromUserId).toBeUndefined();
    expect(data(bob.group)).toEqual([{ to: 'room' }, 'not alice']);

    await service.addConnectionsToGroups(['vip', 'news'], "userId in ('alice', 'carol')");
    await service.group('vip').sendToAll('vip only', { contentType: 'text/plain' });
    await waitFor(() => carol.group.length === 1);
    expect(carol.group[0]).toMatchObject({ group: 'vip', data: 'vip only' });
    await service.removeConnectionsFromGroups(['vip'], "userId eq 'carol'");
    await service.group('vip').sendToAll('vip again', { contentType: 'text/plain' });
    await waitFor(() => alice.group.some(m => m.data === 'vip again'));
    await sync(carol);
    expect(data(carol.group)).toEqual(['vip only']);

    await room.removeUser('bob');
    await room.removeConnection(alice.connectionId);
    expect(await service.groupExists('room 1')).toBe(false);
    await service.removeConnectionFromAllGroups(alice.connectionId);
    await service.removeUserFromAllGroups('carol');
    expect(await service.groupExists('news')).toBe(false);
    expect(await service.groupExists('vip')).toBe(false);
    await expect(room.addConnection('no-such-connection')).rejects.toMatchObject({
      statusCode: 404,
    });
  });

  it('permissions granted over REST let a client send to a group; revoked, it gets Forbidden', async () => {
    const alice = await join('alice');
    const bob = await join('bob', false, ['webpubsub.joinLeaveGroup']);
    await service.group('room').addConnection(alice.connectionId);
    await bob.client.joinGroup('room');
    await expect(bob.client.sendToGroup('room', 'denied', 'text')).rejects.toMatchObject({
      errorDetail: { name: 'Forbidden' },
    });
    expect(
      await service.hasPermission(bob.connectionId, 'sendToGroup', { targetName: 'room' }),
    ).toBe(false);
    await service.grantPermission(bob.connectionId, 'sendToGroup', { targetName: 'room' });
    expect(
      await service.hasPermission(bob.connectionId, 'sendToGroup', { targetName: 'room' }),
    ).toBe(true);
    expect(
      await service.hasPermission(bob.connectionId, 'sendToGroup', { targetName: 'other' }),
    ).toBe(false);
    await bob.client.sendToGroup('room', 'allowed', 'text');
    await waitFor(() => alice.group.length === 1);
    expect(alice.group[0]).toMatchObject({ group: 'room', data: 'allowed', fromUserId: 'bob' });
    await service.revokePermission(bob.connectionId, 'sendToGroup', { targetName: 'room' });
    await expect(bob.client.sendToGroup('room', 'denied again', 'text')).rejects.toMatchObject({
      errorDetail: { name: 'Forbidden' },
    });
    await expect(
      service.grantPermission('no-such-connection', 'sendToGroup', { targetName: 'room' }),
    ).rejects.toMatchObject({
      statusCode: 404,
      code: 'Info.Connection.NotExisted',
    });
  });

  it('closes: one connection with a reason, a user, a group and the rest; existence checks follow', async () => {
    const alice = await join('alice', false);
    const bob = await join('bob', false);
    const carol = await join('carol', false);
    const dave = await join('dave', false);
    expect(await service.connectionExists(alice.connectionId)).toBe(true);
    expect(await service.userExists('alice')).toBe(true);
    // Hub names are case-insensitive.
    const upper = new WebPubSubServiceClient(emulator.connectionString, 'CHAT', {
      allowInsecureConnection: true,
    });
    expect(await upper.connectionExists(alice.connectionId)).toBe(true);
    await upper.sendToUser('alice', 'via CHAT', { contentType: 'text/plain' });
    await waitFor(() => alice.server.some(m => m.data === 'via CHAT'));

    await service.closeConnection(alice.connectionId, { reason: 'bye alice' });
    await waitFor(() => alice.stopped);
    expect(alice.disconnected[0]?.message?.message).toBe('bye alice');
    expect(await service.connectionExists(alice.connectionId)).toBe(false);
    expect(await service.userExists('alice')).toBe(false);

    await service.closeUserConnections('bob', { reason: 'bye bob' });
    await waitFor(() => bob.stopped);
    expect(bob.disconnected[0]?.message?.message).toBe('bye bob');

    await service.group('g').addConnection(carol.connectionId);
    await service.group('g').closeAllConnections({ reason: 'group closed' });
    await waitFor(() => carol.stopped);
    expect(dave.stopped).toBe(false);

    await service.closeAllConnections({ reason: 'everyone' });
    await waitFor(() => dave.stopped);
    expect(dave.disconnected[0]?.message?.message).toBe('everyone');
    expect(await service.userExists('dave')).toBe(false);
  });

  it('a reliable client closed over REST is not recovered (the recovery is refused with 1008)', async () => {
    const erin = await join('erin');
    await service.closeConnection(erin.connectionId, { reason: 'done' });
    await waitFor(() => erin.stopped, 10_000);
    expect(await service.connectionExists(erin.connectionId)).toBe(false);
  });

  it('logs one line per REST call', async () => {
    const before = logs.matching(/^REST /).length;
    await service.sendToAll('x', { contentType: 'text/plain' });
    await service.groupExists('nothing');
    const lines = logs.matching(/^REST /).slice(before);
    expect(lines).toEqual([
      expect.stringMatching(
        /^REST POST \/api\/hubs\/chat\/:send\?api-version=2024-12-01 -> 202 sendToAll/,
      ),
      expect.stringMatching(
        /^REST HEAD \/api\/hubs\/chat\/groups\/nothing\?api-version=2024-12-01 -> 404 groupExists/,
      ),
    ]);
  });
});
