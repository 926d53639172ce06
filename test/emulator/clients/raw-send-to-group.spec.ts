/**
 * Clients without subprotocol publishing to a group:
 * `webpubsub_mode=sendToGroup&group=<g>[&noEcho=true]`. Text and binary frames reach a raw member
 * as the same frames and an `@azure/web-pubsub-client` member as group messages (`text`, `binary`),
 * not a member of another group, and never go upstream; the sender in the group gets its own frame
 * unless `noEcho=true` (a wildcard role suffices to publish); without the mode or with `sendEvent`
 * frames stay `message` user events. Six bad queries are refused before the upgrade (a 400 naming
 * the parameter, before any `connect`; a 403 naming the role after it); the mode is refused to a
 * JSON-subprotocol client. A permission revoked over REST (`@azure/web-pubsub`) closes the
 * publisher with 1008 at its next frame.
 *
 * Broken on purpose once: with the session ignoring the mode, three delivery tests failed (the
 * frames went upstream as `message` events and no member received them).
 */
import { WebPubSubClient, type OnGroupDataMessageArgs } from '@azure/web-pubsub-client';
import { WebPubSubServiceClient } from '@azure/web-pubsub';
import { startEmulator, type RunningEmulator } from '../../../lib/emulator/index.js';
import { waitFor } from '../../utils/wait.js';
import {
  SDK_TEST_OPTIONS,
  clientUrl,
  FAST_TIMINGS,
  RawClient,
  recordingUpstream,
  type UpstreamRequest,
} from '../harness.js';

const SEND_ROOM = ['webpubsub.sendToGroup.room'];

describe('raw clients publishing to a group (webpubsub_mode=sendToGroup)', () => {
  let emulator: RunningEmulator;
  let upstream: Awaited<ReturnType<typeof recordingUpstream>>;
  const opened: RawClient[] = [];
  const clients: WebPubSubClient[] = [];

  beforeAll(async () => {
    upstream = await recordingUpstream(() => ({ status: 204 }));
    emulator = await startEmulator({
      port: 0,
      log: () => undefined,
      timings: FAST_TIMINGS,
      hubs: {
        chat: {
          eventHandlers: [
            {
              urlTemplate: `${upstream.url}/{event}`,
              userEventPattern: '*',
              systemEvents: ['connect'],
            },
          ],
        },
      },
    });
  });
  afterEach(async () => {
    for (const client of clients.splice(0)) client.stop();
    for (const raw of opened.splice(0)) raw.ws.terminate();
  });
  afterAll(async () => {
    await emulator.close();
    await upstream.close();
  });

  /** A raw client on `/client/hubs/chat` with a token of `roles`/`groups` and `query` appended. */
  async function raw(
    query: string,
    token: { roles?: string[]; groups?: string[]; userId?: string } = {},
    protocols?: string,
  ): Promise<RawClient> {
    const url = `${await clientUrl(emulator.connectionString, 'chat', token)}${query ? `&${query}` : ''}`;
    const client = new RawClient(url, protocols);
    opened.push(client);
    return client;
  }

  async function jsonMember(groups: string[]): Promise<OnGroupDataMessageArgs[]> {
    const client = new WebPubSubClient(
      await clientUrl(emulator.connectionString, 'chat', { groups }),
      SDK_TEST_OPTIONS,
    );
    clients.push(client);
    const received: OnGroupDataMessageArgs[] = [];
    client.on('group-message', event => received.push(event));
    await client.start();
    return received;
  }

  const userEvents = (): UpstreamRequest[] =>
    upstream.requests.filter(
      r => r.method === 'POST' && r.headers['ce-type'] !== 'azure.webpubsub.sys.connect',
    );

  it('delivers text and binary frames to raw and JSON members of the group, not to others, not upstream', async () => {
    const json = await jsonMember(['room']);
    const outsider = await jsonMember(['other']);
    const member = await raw('', { groups: ['room'] });
    await member.opened;
    const before = userEvents().length;
    const sender = await raw('webpubsub_mode=sendToGroup&group=room', {
      roles: SEND_ROOM,
      userId: 'publisher',
    });
    await sender.opened;
    sender.ws.send('hello room');
    sender.ws.send(Buffer.from([0, 1, 2, 255]), { binary: true });
    await waitFor(() => json.length === 2 && member.frames.length === 2);
    expect(json.map(event => event.message)).toEqual([
      expect.objectContaining({
        kind: 'groupData',
        group: 'room',
        fromUserId: 'publisher',
        dataType: 'text',
        data: 'hello room',
      }),
      expect.objectContaining({ group: 'room', fromUserId: 'publisher', dataType: 'binary' }),
    ]);
    expect(Buffer.from(json[1].message.data as ArrayBuffer)).toEqual(Buffer.from([0, 1, 2, 255]));
    expect(member.frames).toEqual([
      { data: 'hello room', binary: false },
      { data: Buffer.from([0, 1, 2, 255]), binary: true },
    ]);
    expect(outsider).toEqual([]);
    expect(userEvents().length).toBe(before);
  });

  it('echoes to a sender in the group unless noEcho=true', async () => {
    const echoed = await raw('webpubsub_mode=sendToGroup&group=room', {
      roles: SEND_ROOM,
      groups: ['room'],
    });
    const quiet = await raw('webpubsub_mode=sendToGroup&group=room&noEcho=TRUE', {
      roles: ['webpubsub.sendToGroups.ro*'],
      groups: ['room'],
    });
    await Promise.all([echoed.opened, quiet.opened]);
    quiet.ws.send('from quiet');
    echoed.ws.send('from echoed');
    await waitFor(() => echoed.frames.length === 2 && quiet.frames.length === 1);
    expect(echoed.frames.map(f => f.data).sort()).toEqual(['from echoed', 'from quiet']);
    expect(quiet.frames.map(f => f.data)).toEqual(['from echoed']);
  });

  it('keeps sendEvent the default: frames are message events, with or without webpubsub_mode=sendEvent', async () => {
    const before = userEvents().length;
    for (const query of ['', 'webpubsub_mode=sendEvent']) {
      const client = await raw(query, { roles: SEND_ROOM });
      await client.opened;
      client.ws.send(`event via "${query}"`);
    }
    await waitFor(() => userEvents().length === before + 2);
    expect(
      userEvents()
        .slice(before)
        .map(r => [r.headers['ce-eventname'], r.body.toString()]),
    ).toEqual([
      ['message', 'event via ""'],
      ['message', 'event via "webpubsub_mode=sendEvent"'],
    ]);
  });

  it.each([
    [
      'webpubsub_mode=broadcast&group=room',
      400,
      'webpubsub_mode "broadcast" is not sendEvent (the default) or sendToGroup',
    ],
    ['webpubsub_mode=sendToGroup', 400, 'needs the group to publish to: add group=<name>'],
    ['webpubsub_mode=sendToGroup&group=%20%20', 400, 'group "  " is not a valid group name'],
    ['webpubsub_mode=sendToGroup&group=a&group=b', 400, 'group is given more than once'],
    [
      'webpubsub_mode=sendToGroup&group=room&noEcho=yes',
      400,
      'noEcho must be true or false, not "yes"',
    ],
    [
      'webpubsub_mode=sendToGroup&group=secret',
      403,
      'may not send to group "secret" (role webpubsub.sendToGroup or webpubsub.sendToGroup.secret needed)',
    ],
  ])('refuses %s before the upgrade with %d', async (query, status, message) => {
    const connects = upstream.events('connect').length;
    const client = await raw(query, { roles: SEND_ROOM });
    await expect(client.opened).rejects.toMatchObject({
      status,
      body: expect.stringContaining(message),
    });
    // A bad query is refused before the connect event; the permission needs the connect answer's roles.
    expect(upstream.events('connect').length).toBe(status === 400 ? connects : connects + 1);
  });

  it('refuses the mode for a Web PubSub subprotocol client (400)', async () => {
    const client = await raw(
      'webpubsub_mode=sendToGroup&group=room',
      { roles: SEND_ROOM },
      'json.webpubsub.azure.v1',
    );
    await expect(client.opened).rejects.toMatchObject({
      status: 400,
      body: expect.stringContaining('webpubsub_mode is for clients without a subprotocol'),
    });
  });

  it('closes the publisher with 1008 at its next frame once REST revokes the permission', async () => {
    const json = await jsonMember(['room']);
    const sender = await raw('webpubsub_mode=sendToGroup&group=room', {
      roles: SEND_ROOM,
      userId: 'revoked',
    });
    await sender.opened;
    sender.ws.send('allowed');
    await waitFor(() => json.length === 1);
    const [connection] = [...emulator.hubs.listConnections('chat')].filter(
      c => c.userId === 'revoked',
    );
    const service = new WebPubSubServiceClient(emulator.connectionString, 'chat', {
      allowInsecureConnection: true,
    });
    await service.revokePermission(connection.connectionId, 'sendToGroup', { targetName: 'room' });
    sender.ws.send('denied');
    expect(await sender.done).toEqual({
      code: 1008,
      reason: 'no permission to send to group "room" (webpubsub_mode=sendToGroup)',
    });
    expect(json.map(event => event.message.data)).toEqual(['allowed']);
  });
});
