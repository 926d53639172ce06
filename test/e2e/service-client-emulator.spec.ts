/**
 * The whole client side against the embedded emulator (`startEmulator()` with its REST data plane),
 * on Express and Fastify: without identity the negotiate route answers `401`;
 * `@azure/web-pubsub-client` with a function credential gets a URL from the route, the emulator
 * accepts its token (it checks it with its key) and reports user `alice`; the injected service
 * client's `sendToUser('alice')` and `group('room1').sendToAll()` over `http://` reach that
 * connection (the group came from `resolve`'s `groups`); `userExists` and `groupExists` are true.
 */
import { Injectable } from '@nestjs/common';
import {
  WebPubSubClient,
  WebPubSubJsonProtocol,
  type GroupDataMessage,
  type ServerDataMessage,
} from '@azure/web-pubsub-client';
import type { WebPubSubServiceClient } from '@azure/web-pubsub';
import { startEmulator, type RunningEmulator } from '../../lib/emulator/index.js';
import { createRestApi } from '../../lib/emulator/rest/rest-api.js';
import { InjectWebPubSubServiceClient, WebPubSubModule } from '../../lib/index.js';
import { PLATFORMS, startApp, type TestApp } from '../utils/app.js';
import { http } from '../utils/http.js';
import { waitFor } from '../utils/wait.js';

@Injectable()
class Chat {
  constructor(@InjectWebPubSubServiceClient() readonly client: WebPubSubServiceClient) {}
}

describe.each(PLATFORMS)('service client and negotiate against the emulator on %s', platform => {
  let emulator: RunningEmulator;
  let app: TestApp;
  let client: WebPubSubClient | undefined;

  beforeAll(async () => {
    emulator = await startEmulator({
      port: 0,
      log: () => undefined,
      hubs: { chat: {} },
      restApi: createRestApi,
    });
    app = await startApp(platform, {
      imports: [
        WebPubSubModule.forRoot({
          hub: 'chat',
          connectionString: emulator.connectionString,
          negotiate: {
            resolve: request =>
              request.headers['x-user'] === 'alice'
                ? { userId: 'alice', groups: ['room1'], roles: ['webpubsub.joinLeaveGroup'] }
                : null,
          },
        }),
      ],
      providers: [Chat],
    });
  });

  afterAll(async () => {
    if (client) {
      const stopped = new Promise(resolve => client!.on('stopped', resolve));
      client.stop();
      await stopped;
    }
    await app?.close();
    await emulator?.close();
  });

  it('negotiate → emulator connection as the resolved user; REST sends reach it by user and group', async () => {
    expect((await http(`${app.url}/negotiate`)).status).toBe(401);
    const server: ServerDataMessage[] = [];
    const group: GroupDataMessage[] = [];
    let userId: string | undefined;
    client = new WebPubSubClient(
      {
        getClientAccessUrl: async () => {
          const response = await http(`${app.url}/negotiate`, {
            method: 'POST',
            headers: { 'x-user': 'alice' },
          });
          return (JSON.parse(response.text) as { url: string }).url;
        },
      },
      {
        protocol: WebPubSubJsonProtocol(),
        autoReconnect: false,
        keepAliveIntervalInMs: 0,
        keepAliveTimeoutInMs: 0,
      },
    );
    client.on('connected', event => (userId = event.userId));
    client.on('server-message', event => server.push(event.message));
    client.on('group-message', event => group.push(event.message));
    await client.start();
    await waitFor(() => userId !== undefined);
    expect(userId).toBe('alice');

    const chat = app.app.get(Chat).client;
    await chat.sendToUser('alice', { hello: 'alice' });
    await chat.group('room1').sendToAll('to the room', { contentType: 'text/plain' });
    await waitFor(() => server.length === 1 && group.length === 1);
    expect(server[0].data).toEqual({ hello: 'alice' });
    expect(group[0]).toMatchObject({ group: 'room1', dataType: 'text', data: 'to the room' });
    expect(await chat.userExists('alice')).toBe(true);
    expect(await chat.groupExists('room1')).toBe(true);
  });
});
