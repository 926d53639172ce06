/**
 * The emulator with `@azure/web-pubsub-client` and `@azure/web-pubsub-express` as the upstream,
 * with the reliable (default) and the plain JSON protocol: connect through `connect`/`connected`;
 * join, send to a group, the other member gets it with `fromUserId` (sequence ids 1, 2); an event's
 * reply arrives before its ack, with the state the upstream set (`{greeted}` then `{greeted, count:
 * 1}`); `invokeEvent()`; an `InternalServerError` ack on an upstream 500 with the connection kept;
 * `Forbidden` for a join without the role; a refused `connect` fails `start()` with 401; `stop()`
 * ends the connection at once: `disconnected` with reason `closed by the client (1005)` sent
 * upstream, no `dropped` log line (treating 1005 as recoverable makes it fail). Recovery: a socket
 * reset by a TCP proxy, 20 group messages sent meanwhile and 5 after: all 26 received in order,
 * once, same connection id, one `connected`, group kept, no `disconnected` upstream.
 */
import {
  WebPubSubClient,
  WebPubSubJsonProtocol,
  type OnGroupDataMessageArgs,
  type OnServerDataMessageArgs,
} from '@azure/web-pubsub-client';
import { startEmulator, type RunningEmulator } from '../../../lib/emulator/index.js';
import { waitFor } from '../../utils/wait.js';
import {
  SDK_TEST_OPTIONS,
  clientUrl,
  CuttableProxy,
  expressUpstream,
  FAST_TIMINGS,
  LogLines,
  type Listening,
} from '../harness.js';

const ROLES = ['webpubsub.joinLeaveGroup', 'webpubsub.sendToGroup'];
const NO_RETRY = { maxRetries: 0, retryDelayInMs: 10 };

describe('the emulator with @azure/web-pubsub-client and @azure/web-pubsub-express as upstream', () => {
  let emulator: RunningEmulator;
  let upstream: Listening;
  const logs = new LogLines();
  const seen: {
    event: string;
    connectionId: string;
    userId?: string;
    data?: unknown;
    states?: unknown;
    reason?: string;
  }[] = [];
  const clients: WebPubSubClient[] = [];

  beforeAll(async () => {
    const express = await expressUpstream('chat', {
      handleConnect: (request, response) => {
        seen.push({
          event: 'connect',
          connectionId: request.context.connectionId,
          userId: request.context.userId,
        });
        if (request.queries?.refuse) {
          response.fail(401, 'not today');
          return;
        }
        response.setState('greeted', 'yes');
        response.success();
      },
      onConnected: request => {
        seen.push({
          event: 'connected',
          connectionId: request.context.connectionId,
          userId: request.context.userId,
        });
      },
      handleUserEvent: (request, response) => {
        const count = Number(request.context.states.count ?? 0) + 1;
        seen.push({
          event: request.context.eventName,
          connectionId: request.context.connectionId,
          data: request.data,
          states: { ...request.context.states },
        });
        response.setState('count', count);
        if (request.context.eventName === 'fail') {
          response.fail(500, 'handler broke');
          return;
        }
        if (request.context.eventName === 'json') {
          response.success(JSON.stringify({ got: request.data, count }), 'json');
          return;
        }
        response.success(`echo: ${String(request.data)}`, 'text');
      },
      onDisconnected: request => {
        seen.push({
          event: 'disconnected',
          connectionId: request.context.connectionId,
          reason: request.reason,
        });
      },
    });
    upstream = express;
    emulator = await startEmulator({
      port: 0,
      log: logs.log,
      timings: FAST_TIMINGS,
      hubs: {
        Chat: {
          eventHandlers: [
            {
              urlTemplate: express.handlerUrl,
              userEventPattern: '*',
              systemEvents: ['connect', 'connected', 'disconnected'],
            },
          ],
        },
      },
    });
  });

  afterEach(() => {
    for (const client of clients.splice(0)) client.stop();
  });

  afterAll(async () => {
    await emulator?.close();
    await upstream?.close();
  });

  async function started(
    userId: string,
    options: ConstructorParameters<typeof WebPubSubClient>[1] = {},
    roles = ROLES,
  ) {
    const client = new WebPubSubClient(
      await clientUrl(emulator.connectionString, 'chat', { userId, roles }),
      {
        ...SDK_TEST_OPTIONS,
        messageRetryOptions: NO_RETRY,
        ...options,
      },
    );
    clients.push(client);
    const connected = new Promise<string>(resolve =>
      client.on('connected', event => resolve(event.connectionId)),
    );
    await client.start();
    return { client, connectionId: await connected };
  }

  for (const [name, protocol] of [
    ['reliable JSON (the default)', undefined],
    ['JSON', WebPubSubJsonProtocol()],
  ] as const) {
    describe(name, () => {
      it('connects through connect and connected, joins a group, and a member receives a group message with fromUserId', async () => {
        const alice = await started('alice', protocol ? { protocol } : {});
        const bob = await started('bob', protocol ? { protocol } : {});
        expect(seen).toEqual(
          expect.arrayContaining([
            { event: 'connect', connectionId: alice.connectionId, userId: 'alice' },
            { event: 'connected', connectionId: alice.connectionId, userId: 'alice' },
          ]),
        );
        const received: OnGroupDataMessageArgs[] = [];
        bob.client.on('group-message', event => received.push(event));
        await bob.client.joinGroup('room');
        await alice.client.joinGroup('room');
        await alice.client.sendToGroup('room', { hello: 'bob' }, 'json', { noEcho: true });
        await alice.client.sendToGroup('room', 'plain', 'text');
        await waitFor(() => received.length === 2);
        expect(received.map(event => event.message)).toEqual([
          expect.objectContaining({
            group: 'room',
            dataType: 'json',
            data: { hello: 'bob' },
            fromUserId: 'alice',
          }),
          expect.objectContaining({
            group: 'room',
            dataType: 'text',
            data: 'plain',
            fromUserId: 'alice',
          }),
        ]);
        if (!protocol) expect(received.map(event => event.message.sequenceId)).toEqual([1, 2]);
      });

      it('sends an event whose reply arrives before the ack, with the state the upstream set', async () => {
        const carol = await started('carol', protocol ? { protocol } : {});
        const replies: OnServerDataMessageArgs[] = [];
        carol.client.on('server-message', event => replies.push(event));
        await carol.client.sendEvent('echo', 'hi', 'text');
        // The reply came before the ack resolved sendEvent.
        expect(replies.map(event => event.message.data)).toEqual(['echo: hi']);
        await carol.client.sendEvent('json', { n: 1 }, 'json');
        expect(replies[1].message).toEqual(
          expect.objectContaining({ dataType: 'json', data: { got: { n: 1 }, count: 2 } }),
        );
        const events = seen.filter(
          entry => entry.connectionId === carol.connectionId && entry.data !== undefined,
        );
        expect(events.map(entry => entry.states)).toEqual([
          { greeted: 'yes' },
          { greeted: 'yes', count: 1 },
        ]);
        const invoked = await carol.client.invokeEvent('echo', 'call', 'text');
        expect(invoked).toEqual(expect.objectContaining({ dataType: 'text', data: 'echo: call' }));
      });

      it('answers a failing upstream with an InternalServerError ack and keeps the connection', async () => {
        const dave = await started('dave', protocol ? { protocol } : {});
        await expect(dave.client.sendEvent('fail', 'x', 'text')).rejects.toMatchObject({
          errorDetail: { name: 'InternalServerError' },
        });
        await expect(dave.client.sendEvent('echo', 'still here', 'text')).resolves.toBeDefined();
      });

      it('refuses a join without the role with a Forbidden ack', async () => {
        const erin = await started('erin', protocol ? { protocol } : {}, []);
        await expect(erin.client.joinGroup('room')).rejects.toMatchObject({
          errorDetail: { name: 'Forbidden' },
        });
        await expect(erin.client.sendToGroup('room', 'x', 'text')).rejects.toMatchObject({
          errorDetail: { name: 'Forbidden' },
        });
      });
    });
  }

  it('rejects a connect the upstream refuses: start() fails with the handshake status', async () => {
    const url = `${await clientUrl(emulator.connectionString, 'chat', { userId: 'mallory' })}&refuse=1`;
    const client = new WebPubSubClient(url, { ...SDK_TEST_OPTIONS, autoReconnect: false });
    await expect(client.start()).rejects.toThrow(/401/);
    client.stop();
  });

  it('sends disconnected upstream with the reason when a client stops (close frame 1005 is final)', async () => {
    const frank = await started('frank');
    clients.splice(clients.indexOf(frank.client), 1);
    frank.client.stop();
    await waitFor(() =>
      seen.some(
        entry => entry.event === 'disconnected' && entry.connectionId === frank.connectionId,
      ),
    );
    expect(emulator.hubs.connectionExists('chat', frank.connectionId)).toBe(false);
    // Final at once, not after the recovery window: the reason is the close frame's code.
    expect(
      seen.find(
        entry => entry.event === 'disconnected' && entry.connectionId === frank.connectionId,
      )?.reason,
    ).toBe('closed by the client (1005)');
    expect(logs.matching(new RegExp(`${frank.connectionId} dropped`))).toEqual([]);
  });

  it('recovers a dropped socket: same connection, group kept, every message in order, no duplicates', async () => {
    const proxy = new CuttableProxy(emulator.port);
    await proxy.start();
    try {
      const viaProxy = emulator.connectionString.replace(`:${emulator.port}`, `:${proxy.port}`);
      const client = new WebPubSubClient(
        await clientUrl(viaProxy, 'chat', { userId: 'gina', roles: ROLES }),
        {
          ...SDK_TEST_OPTIONS,
          messageRetryOptions: NO_RETRY,
          reconnectRetryOptions: { maxRetries: 100, retryDelayInMs: 50 },
        },
      );
      clients.push(client);
      const connectedIds: string[] = [];
      client.on('connected', event => connectedIds.push(event.connectionId));
      const received: unknown[] = [];
      client.on('group-message', event => received.push(event.message.data));
      await client.start();
      await waitFor(() => connectedIds.length === 1);
      await client.joinGroup('recovery');
      const sender = await started('henry');
      await sender.client.sendToGroup('recovery', 0, 'json');
      await waitFor(() => received.length === 1);

      proxy.cut();
      await waitFor(() => logs.matching(new RegExp(`${connectedIds[0]} dropped`)).length === 1);
      for (let i = 1; i <= 20; i++) await sender.client.sendToGroup('recovery', i, 'json');
      await waitFor(() => received.length === 21, 10_000);
      for (let i = 21; i <= 25; i++) await sender.client.sendToGroup('recovery', i, 'json');
      await waitFor(() => received.length === 26);

      expect(received).toEqual(Array.from({ length: 26 }, (_, i) => i));
      expect(connectedIds).toHaveLength(1);
      expect(logs.matching(new RegExp(`${connectedIds[0]} recovered`))).toHaveLength(1);
      expect(emulator.hubs.groupExists('chat', 'recovery')).toBe(true);
      expect(
        seen.some(
          entry => entry.event === 'disconnected' && entry.connectionId === connectedIds[0],
        ),
      ).toBe(false);
    } finally {
      for (const client of clients.splice(0)) client.stop();
      await proxy.close();
    }
  });
});
