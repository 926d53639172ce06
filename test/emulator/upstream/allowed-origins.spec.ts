/**
 * Headers an upstream sends on several lines are read line by line, as the service reads them:
 * `@azure/web-pubsub-express` configured with `allowedEndpoints: [another service, the emulator]`
 * (as its README recommends) answers the abuse-protection handshake with two
 * `WebHook-Allowed-Origin` lines (checked on the wire), and three `@azure/web-pubsub-client`
 * connects and a user event then succeed; with only other hosts allowed the connect is refused
 * `500`, the log naming both lines once; two `ce-connectionState` lines refuse the connect instead
 * of being read as one; two `mqtt-tag` lines of an answer to an MQTT user event (one of them `a,
 * b`) are two user properties, not one `a, b, c`; the module (Express and Fastify) answers each
 * allowed origin of several `WebHook-Request-Origin` lines on its own line and the emulator
 * connects through it.
 *
 * Broken on purpose once: with the emulator reading Node's comma-joined `response.headers` again,
 * the first three tests failed (the first with `500 ... allows neither * nor 127.0.0.1`; the third
 * because the two state lines were read as one state).
 */
import { createServer as createHttpServer } from 'node:http';
import { Injectable } from '@nestjs/common';
import { WebPubSubClient } from '@azure/web-pubsub-client';
import { OnConnect, WebPubSubModule, type ConnectRequest } from '../../../lib/index.js';
import { startEmulator, type RunningEmulator } from '../../../lib/emulator/index.js';
import { TrafficLog } from '../../../lib/emulator/traffic-log.js';
import { DEFAULT_UPSTREAM_TIMINGS, Upstream } from '../../../lib/emulator/upstream/upstream.js';
import { PLATFORMS, startApp } from '../../utils/app.js';
import { http } from '../../utils/http.js';
import { waitFor } from '../../utils/wait.js';
import {
  SDK_TEST_OPTIONS,
  clientUrl,
  expressUpstream,
  FAST_TIMINGS,
  freePort,
  listen,
  LogLines,
  RawClient,
} from '../harness.js';

const OTHER_SERVICE = 'https://other-resource.webpubsub.azure.com';

describe('several WebHook-Allowed-Origin lines: @azure/web-pubsub-express with allowedEndpoints as the upstream', () => {
  const clients: WebPubSubClient[] = [];
  afterEach(() => {
    for (const client of clients.splice(0)) client.stop();
  });

  it('answers the handshake with one line per endpoint, and every connect succeeds', async () => {
    const port = await freePort();
    const endpoint = `http://127.0.0.1:${port}`;
    const connects: string[] = [];
    const upstream = await expressUpstream('chat', {
      allowedEndpoints: [OTHER_SERVICE, endpoint],
      handleConnect: (request, response) => {
        connects.push(request.context.connectionId);
        response.success({ userId: `user-${connects.length}` });
      },
      handleUserEvent: (request, response) => {
        response.success(`echo ${String(request.data)} to ${request.context.userId}`, 'text');
      },
    });
    const logs = new LogLines();
    const emulator = await startEmulator({
      port,
      log: logs.log,
      timings: FAST_TIMINGS,
      hubs: {
        chat: {
          eventHandlers: [
            {
              urlTemplate: upstream.handlerUrl,
              userEventPattern: '*',
              systemEvents: ['connect'],
            },
          ],
        },
      },
    });
    try {
      // The precondition: the official handler really answers with two lines.
      const handshake = await http(upstream.handlerUrl, {
        method: 'OPTIONS',
        headers: { 'WebHook-Request-Origin': '127.0.0.1', 'ce-awpsversion': '1.0' },
      });
      expect(handshake.headerLines['webhook-allowed-origin']).toEqual([
        'other-resource.webpubsub.azure.com',
        `127.0.0.1:${port}`,
      ]);

      for (let i = 0; i < 3; i++) {
        const client = new WebPubSubClient(
          await clientUrl(emulator.connectionString, 'chat'),
          SDK_TEST_OPTIONS,
        );
        clients.push(client);
        await client.start();
      }
      expect(connects).toHaveLength(3);
      const replies: unknown[] = [];
      clients[2].on('server-message', message => replies.push(message.message.data));
      await clients[2].sendEvent('hello', 'hi', 'text');
      await waitFor(() => replies.length === 1);
      expect(replies).toEqual(['echo hi to user-3']);
      expect(logs.matching(/validation of .* failed/)).toEqual([]);
    } finally {
      for (const client of clients.splice(0)) client.stop();
      await emulator.close();
      await upstream.close();
    }
  });

  it('refuses connects when no line names the emulator, and the log names every line', async () => {
    const logs = new LogLines();
    const upstream = await expressUpstream('chat', {
      allowedEndpoints: [OTHER_SERVICE, 'https://third.webpubsub.azure.com'],
      handleConnect: (_request, response) => response.success(),
    });
    const emulator = await startEmulator({
      port: 0,
      log: logs.log,
      timings: FAST_TIMINGS,
      hubs: {
        chat: { eventHandlers: [{ urlTemplate: upstream.handlerUrl, systemEvents: ['connect'] }] },
      },
    });
    try {
      const raw = new RawClient(await clientUrl(emulator.connectionString, 'chat'));
      await expect(raw.opened).rejects.toMatchObject({
        status: 500,
        body: expect.stringContaining(
          'WebHook-Allowed-Origin "other-resource.webpubsub.azure.com", "third.webpubsub.azure.com" allows neither * nor 127.0.0.1',
        ),
      });
      expect(logs.matching(/validation of .* failed/)).toHaveLength(1);
    } finally {
      await emulator.close();
      await upstream.close();
    }
  });

  it('makes each mqtt-<name> line of an answer to an MQTT user event its own user property', async () => {
    const server = createHttpServer((req, res) => {
      req.resume();
      req.on('end', () => {
        if (req.method === 'OPTIONS') {
          res.writeHead(200, { 'WebHook-Allowed-Origin': '*' }).end();
          return;
        }
        res.writeHead(200, { 'content-type': 'text/plain', 'mqtt-tag': ['a, b', 'c'] }).end('ok');
      });
    });
    const listening = await listen(server);
    const upstream = new Upstream(
      { chat: { eventHandlers: [{ urlTemplate: listening.url, userEventPattern: '*' }] } },
      {
        accessKey: 'key',
        origin: '127.0.0.1',
        traffic: new TrafficLog(),
        log: () => undefined,
        timings: DEFAULT_UPSTREAM_TIMINGS,
      },
    );
    try {
      const subject = {
        hub: 'chat',
        connectionId: 'device1',
        userId: undefined,
        subprotocol: 'mqtt',
        state: undefined,
        nextEventId: 1,
        physicalConnectionId: 'p1',
        sessionId: 's1',
      };
      const answer = await upstream.mqttUserEvent(subject, 'telemetry', Buffer.from('x'), {});
      expect(answer).toMatchObject({ succeeded: true, status: 200, contentType: 'text/plain' });
      expect(answer.userProperties).toEqual([
        { name: 'tag', value: 'a, b' },
        { name: 'tag', value: 'c' },
      ]);
    } finally {
      upstream.close();
      await listening.close();
    }
  });

  it('refuses a connect answer with two ce-connectionState lines instead of merging them', async () => {
    const server = createHttpServer((req, res) => {
      req.resume();
      req.on('end', () => {
        if (req.method === 'OPTIONS') {
          res.writeHead(200, { 'WebHook-Allowed-Origin': ['other.example', '*'] }).end();
          return;
        }
        res.writeHead(200, { 'ce-connectionState': ['e30=', 'e30='] }).end();
      });
    });
    const upstream = await listen(server);
    const emulator = await startEmulator({
      port: 0,
      log: () => undefined,
      timings: FAST_TIMINGS,
      hubs: { chat: { eventHandlers: [{ urlTemplate: upstream.url, systemEvents: ['connect'] }] } },
    });
    try {
      const raw = new RawClient(await clientUrl(emulator.connectionString, 'chat'));
      await expect(raw.opened).rejects.toMatchObject({
        status: 500,
        body: expect.stringContaining('2 ce-connectionState headers: at most one is allowed'),
      });
    } finally {
      await emulator.close();
      await upstream.close();
    }
  });
});

@Injectable()
class Accept {
  @OnConnect()
  connect(_request: ConnectRequest): void {}
}

describe.each(PLATFORMS)('the module reads each WebHook-Request-Origin line on %s', platform => {
  it('answers every allowed origin of several lines on its own line, and the emulator connects through it', async () => {
    const port = await freePort();
    const app = await startApp(platform, {
      imports: [
        WebPubSubModule.forRoot({
          hub: 'chat',
          connectionString: `Endpoint=http://127.0.0.1:${port};AccessKey=ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH;Version=1.0;`,
          allowedEndpoints: [OTHER_SERVICE],
        }),
      ],
      providers: [Accept],
    });
    let emulator: RunningEmulator | undefined;
    try {
      const answer = await http(`${app.url}/eventhandler`, {
        method: 'OPTIONS',
        headers: {
          'WebHook-Request-Origin': [
            '127.0.0.1',
            'attacker.example',
            'other-resource.webpubsub.azure.com',
          ],
        },
      });
      expect(answer.status).toBe(200);
      expect(answer.headerLines['webhook-allowed-origin']).toEqual([
        '127.0.0.1',
        'other-resource.webpubsub.azure.com',
      ]);
      emulator = await startEmulator({
        port,
        log: () => undefined,
        timings: FAST_TIMINGS,
        hubs: {
          chat: {
            eventHandlers: [{ urlTemplate: `${app.url}/eventhandler`, systemEvents: ['connect'] }],
          },
        },
      });
      const raw = new RawClient(await clientUrl(emulator.connectionString, 'chat'));
      await raw.opened;
      raw.ws.close();
      await raw.done;
    } finally {
      await emulator?.close();
      await app.close();
    }
  });
});
