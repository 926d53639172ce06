/**
 * The emulator with a Nest app of this module as its upstream, on Express and Fastify:
 * - configured with the emulator's connection string, the module serves it as the service does: the
 *   connect answer applied (user, the `lobby` group, the send role), a group message, user events
 *   with replies and states kept across events, `disconnected`; a client the module refuses fails
 *   with the handshake status; an emulator signing with another key is refused (401);
 * - the emulator started first and the app given `emulator.connectionString`:
 *   `@azure/web-pubsub-client` takes its URL from the module's negotiate route, `message` is
 *   echoed, and a handler's injected `WebPubSubServiceClient.sendToAll()` reaches the client (REST
 *   `sendToAll` 202 in the traffic log) before the handler's own reply.
 */
import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { WebPubSubServiceClient } from '@azure/web-pubsub';
import {
  WebPubSubClient,
  WebPubSubJsonProtocol,
  type OnGroupDataMessageArgs,
  type OnServerDataMessageArgs,
} from '@azure/web-pubsub-client';
import {
  InjectWebPubSubServiceClient,
  OnUserEvent,
  WebPubSubModule,
  type UserEventRequest,
} from '../../lib/index.js';
import { startEmulator, type RunningEmulator } from '../../lib/emulator/index.js';
import { ChatHandlers } from '../fixtures/chat.handlers.js';
import { createAdapter, PLATFORMS, type TestApp } from '../utils/app.js';
import { waitFor } from '../utils/wait.js';
import {
  clientUrl,
  FAST_TIMINGS,
  freePort,
  LogLines,
  RawClient,
  SDK_TEST_OPTIONS,
  startAppUpstream,
} from './harness.js';

/** A free loopback port, so the module's connection string can name the emulator before it starts. */

describe.each(PLATFORMS)('a Nest app with this module as the emulator upstream (%s)', platform => {
  let emulator: RunningEmulator;
  let app: TestApp;
  let handlers: ChatHandlers;
  const logs = new LogLines();

  beforeAll(async () => {
    ({ app, emulator, handlers } = await startAppUpstream(platform, ChatHandlers, logs.log));
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

/** A handler that answers through the REST data plane: the module's own service client. */
@Injectable()
class BroadcastHandlers {
  constructor(@InjectWebPubSubServiceClient() readonly service: WebPubSubServiceClient) {}

  @OnUserEvent('broadcast')
  async broadcast(request: UserEventRequest): Promise<string> {
    await this.service.sendToAll({ from: request.context.userId, text: request.data });
    return 'sent';
  }
}

describe.each(PLATFORMS)(
  'a Nest app configured with the connection string startEmulator() returns (%s)',
  platform => {
    it('negotiates, handles events, and calls the REST data plane of the emulator as it would of Azure', async () => {
      const appPort = await freePort();
      const emulator = await startEmulator({
        port: 0,
        log: () => undefined,
        timings: FAST_TIMINGS,
        hubs: {
          chat: {
            eventHandlers: [
              {
                urlTemplate: `http://127.0.0.1:${appPort}/eventhandler/{event}`,
                userEventPattern: '*',
                systemEvents: ['connect', 'connected', 'disconnected'],
              },
            ],
          },
        },
      });
      const moduleRef = await Test.createTestingModule({
        imports: [
          WebPubSubModule.forRoot({
            hub: 'chat',
            connectionString: emulator.connectionString,
            negotiate: {
              resolve: (request: { headers: Record<string, string | undefined> }) => ({
                userId: request.headers['x-user'] as string,
              }),
            },
          }),
        ],
        providers: [ChatHandlers, BroadcastHandlers],
      }).compile();
      const app = moduleRef.createNestApplication(createAdapter(platform), {
        rawBody: true,
        logger: false,
      });
      await app.listen(appPort, '127.0.0.1');
      const client = new WebPubSubClient(
        {
          getClientAccessUrl: async () => {
            const response = await fetch(`http://127.0.0.1:${appPort}/negotiate`, {
              headers: { 'x-user': 'zoe' },
            });
            return ((await response.json()) as { url: string }).url;
          },
        },
        { ...SDK_TEST_OPTIONS, protocol: WebPubSubJsonProtocol() },
      );
      try {
        const connected = new Promise<{ connectionId: string; userId: string }>(resolve =>
          client.on('connected', event => resolve(event)),
        );
        const serverMessages: OnServerDataMessageArgs[] = [];
        client.on('server-message', event => serverMessages.push(event));
        await client.start();
        expect(await connected).toMatchObject({ userId: 'zoe' });

        await client.sendEvent('message', 'hi', 'text');
        await client.sendEvent('broadcast', 'to everyone', 'text');
        expect(serverMessages.map(event => event.message.data)).toEqual([
          'echo: hi',
          { from: 'zoe', text: 'to everyone' },
          'sent',
        ]);
        expect(
          emulator.traffic
            .snapshot()
            .filter(record => record.kind === 'rest')
            .map(record => [record.action, record.status]),
        ).toEqual([['sendToAll', 202]]);
      } finally {
        client.stop();
        await app.close();
        await emulator.close();
      }
    });
  },
);
