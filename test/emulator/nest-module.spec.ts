import { createServer } from 'node:net';
import {
  WebPubSubClient,
  WebPubSubJsonProtocol,
  type OnGroupDataMessageArgs,
  type OnServerDataMessageArgs,
} from '@azure/web-pubsub-client';
import { WebPubSubModule } from '../../lib/index.js';
import {
  EMULATOR_ACCESS_KEY,
  startEmulator,
  type RunningEmulator,
} from '../../lib/emulator/index.js';
import { ChatHandlers } from '../fixtures/chat.handlers.js';
import { PLATFORMS, startApp, type TestApp } from '../utils/app.js';
import { waitFor } from '../utils/wait.js';
import { clientUrl, FAST_TIMINGS, LogLines, RawClient, SDK_TEST_OPTIONS } from './harness.js';

/** A free loopback port, so the module's connection string can name the emulator before it starts. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise(resolve => server.close(resolve));
  return port;
}

describe.each(PLATFORMS)('a Nest app with this module as the emulator upstream (%s)', platform => {
  let emulator: RunningEmulator;
  let app: TestApp;
  let handlers: ChatHandlers;
  const logs = new LogLines();

  beforeAll(async () => {
    const port = await freePort();
    app = await startApp(
      platform,
      {
        imports: [
          WebPubSubModule.forRoot({
            hub: 'chat',
            connectionString: `Endpoint=http://127.0.0.1:${port};AccessKey=${EMULATOR_ACCESS_KEY};Version=1.0;`,
          }),
        ],
        providers: [ChatHandlers],
      },
      { rawBody: true },
    );
    handlers = app.app.get(ChatHandlers);
    emulator = await startEmulator({
      port,
      log: logs.log,
      timings: FAST_TIMINGS,
      hubs: {
        chat: {
          eventHandlers: [
            {
              urlTemplate: `${app.url}/eventhandler/{event}`,
              userEventPattern: '*',
              systemEvents: ['connect', 'connected', 'disconnected'],
            },
          ],
        },
      },
    });
  });

  afterAll(async () => {
    await emulator?.close();
    await app?.close();
  });

  it('connects through the module, which checks the signature; user events, state and disconnected round-trip', async () => {
    const client = new WebPubSubClient(
      await clientUrl(emulator.connectionString, 'chat', { userId: 'nest-user' }),
      {
        ...SDK_TEST_OPTIONS,
        protocol: WebPubSubJsonProtocol(),
      },
    );
    const connected = new Promise<string>(resolve =>
      client.on('connected', event => resolve(event.connectionId)),
    );
    const replies: OnServerDataMessageArgs[] = [];
    const groupMessages: OnGroupDataMessageArgs[] = [];
    client.on('server-message', event => replies.push(event));
    client.on('group-message', event => groupMessages.push(event));
    await client.start();
    const connectionId = await connected;
    await waitFor(() =>
      handlers.calls.some(
        call => call.event === 'connected' && call.request.context.connectionId === connectionId,
      ),
    );

    // The connect answer put the connection in `lobby` with the right to send there.
    await client.sendToGroup('lobby', 'hello lobby', 'text');
    await waitFor(() => groupMessages.length === 1);
    expect(groupMessages[0].message).toEqual(
      expect.objectContaining({ group: 'lobby', data: 'hello lobby', fromUserId: 'nest-user' }),
    );

    await client.sendEvent('message', 'hi', 'text');
    expect(replies.at(-1)?.message).toEqual(
      expect.objectContaining({ dataType: 'text', data: 'echo: hi' }),
    );
    await client.sendEvent('counter', {}, 'json');
    await client.sendEvent('counter', {}, 'json');
    expect(replies.at(-1)?.message.data).toEqual({
      count: 2,
      states: { lastMessage: 'hi', count: 2 },
    });
    const message = handlers.calls.find(
      call => call.event === 'message' && call.request.context.connectionId === connectionId,
    );
    expect(message?.request.context).toMatchObject({
      hub: 'chat',
      userId: 'nest-user',
      origin: '127.0.0.1',
    });

    client.stop();
    await waitFor(() =>
      handlers.calls.some(
        call => call.event === 'disconnected' && call.request.context.connectionId === connectionId,
      ),
    );
  });

  it('rejects a client the module refuses (no user) with the handshake status', async () => {
    const raw = new RawClient(
      await clientUrl(emulator.connectionString, 'chat'),
      'json.webpubsub.azure.v1',
    );
    await expect(raw.opened).rejects.toMatchObject({ status: 401 });
  });

  it('is refused by the module when the emulator signs with another key', async () => {
    const impostor = await startEmulator({
      port: 0,
      accessKey: 'not-the-key-the-app-knows',
      log: () => undefined,
      timings: FAST_TIMINGS,
      hubs: {
        chat: {
          eventHandlers: [
            { urlTemplate: `${app.url}/eventhandler/{event}`, systemEvents: ['connect'] },
          ],
        },
      },
    });
    try {
      const raw = new RawClient(
        await clientUrl(impostor.connectionString, 'chat', { userId: 'u' }),
        'json.webpubsub.azure.v1',
      );
      await expect(raw.opened).rejects.toMatchObject({ status: 401 });
      expect(handlers.calls.filter(call => call.request.context?.userId === 'u')).toEqual([]);
    } finally {
      await impostor.close();
    }
  });
});
