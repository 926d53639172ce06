/**
 * One hub-name rule (the service's, `lib/protocol/names.ts`) everywhere a hub is named:
 * `forRoot`, the service clients, and the emulator's options, client endpoint, MQTT endpoint and
 * REST data plane. `a.b` and a 128-character name are accepted by each part, end to end: the
 * emulator calls the module's handler for them and the injected service client sends to them.
 * A 129-character name is refused by each part with the same words (`hubNameProblem`). Before,
 * `forRoot({ hub: 'a.b' })` and the service clients refused what the service accepts.
 * Hub names are case-insensitive everywhere (`hubKey` / `sameHub` in `lib/protocol/names.ts`):
 * a client that connects to `A.B` reaches the module's handler for `a.b` (the event names the hub
 * lower-cased, as the service does), the service client asked for `A.B` is the one for `a.b`
 * (with the configured spelling), and what it sends reaches the client of `A.B`.
 */
import { Injectable } from '@nestjs/common';
import { WebPubSubServiceClient } from '@azure/web-pubsub';
import { WebSocket } from 'ws';
import {
  OnConnect,
  WebPubSubModule,
  WebPubSubOptionsError,
  WebPubSubServiceClients,
  type ConnectRequest,
} from '../../lib/index.js';
import {
  EMULATOR_ACCESS_KEY,
  startEmulator,
  type RunningEmulator,
} from '../../lib/emulator/index.js';
import { hubNameProblem } from '../../lib/protocol/names.js';
import { FAST_TIMINGS, freePort } from '../emulator/harness.js';
import { PLATFORMS, startApp, type TestApp } from '../utils/app.js';
import { waitFor } from '../utils/wait.js';

const DOTTED = 'a.b';
const LONGEST = `h${'x'.repeat(127)}`;
const TOO_LONG = `h${'x'.repeat(128)}`;
const REFUSAL = hubNameProblem(TOO_LONG)!;

@Injectable()
class SeenHubs {
  readonly hubs: string[] = [];

  @OnConnect()
  connect(request: ConnectRequest): Record<string, never> {
    this.hubs.push(request.context.hub);
    return {};
  }
}

/** Opens a WebSocket and reports the HTTP status of the upgrade (101) or its refusal, with the body. */
function upgrade(url: string, protocol?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocol ? [protocol] : []);
    ws.once('open', () => {
      ws.close();
      resolve({ status: 101, body: '' });
    });
    ws.once('unexpected-response', (_request, response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', chunk => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    ws.once('error', reject);
  });
}

it('the rule is the service’s: 128 characters, a letter first, then letters, digits or _ ` , . [ ]', () => {
  expect(LONGEST).toHaveLength(128);
  expect(TOO_LONG).toHaveLength(129);
  expect(hubNameProblem(DOTTED)).toBeUndefined();
  expect(hubNameProblem(LONGEST)).toBeUndefined();
  expect(hubNameProblem('a`,.[]_1')).toBeUndefined();
  expect(REFUSAL).toBe(
    `"${TOO_LONG}" is not a valid hub name (a letter, then up to 127 letters, digits or _ \` , . [ ])`,
  );
});

describe.each(PLATFORMS)('hub names on %s', platform => {
  let app: TestApp;
  let emulator: RunningEmulator;

  beforeAll(async () => {
    const port = await freePort();
    const connectionString = `Endpoint=http://127.0.0.1:${port};AccessKey=${EMULATOR_ACCESS_KEY};Version=1.0;`;
    app = await startApp(
      platform,
      {
        imports: [WebPubSubModule.forRoot({ hub: [DOTTED, LONGEST], connectionString })],
        providers: [SeenHubs],
      },
      { rawBody: true },
    );
    const eventHandlers = [
      { urlTemplate: `${app.url}/eventhandler/{event}`, systemEvents: ['connect' as const] },
    ];
    emulator = await startEmulator({
      port,
      log: () => undefined,
      timings: FAST_TIMINGS,
      hubs: { [DOTTED]: { eventHandlers }, [LONGEST]: { eventHandlers } },
    });
  });

  afterAll(async () => {
    await emulator?.close();
    await app?.close();
  });

  it.each([
    ['a.b', DOTTED],
    ['a 128-character name', LONGEST],
  ])(
    'accepts %s in forRoot, the service client, the emulator and the module’s handler',
    async (_name, hub) => {
      const client = app.app.get(WebPubSubServiceClients).get(hub);
      expect(client.hubName).toBe(hub);
      const { url } = await client.getClientAccessToken({ userId: 'alice' });
      expect((await upgrade(url, 'json.webpubsub.azure.v1')).status).toBe(101);
      await waitFor(() => app.app.get(SeenHubs).hubs.includes(hub));
      const mqtt = await client.getClientAccessToken({ clientProtocol: 'mqtt' });
      expect((await upgrade(mqtt.url, 'mqtt')).status).toBe(101);
      await client.sendToAll('hello'); // the REST data plane: throws on anything but 202
      expect(await client.groupExists('room')).toBe(false);
    },
  );

  it('reaches the same hub whatever the case it is named in', async () => {
    const client = app.app.get(WebPubSubServiceClients).get('A.B');
    expect(client).toBe(app.app.get(WebPubSubServiceClients).get(DOTTED));
    expect(client.hubName).toBe(DOTTED);
    // a client of `A.B` (its token signed for `A.B`), on the emulator's client endpoint
    const upper = new WebPubSubServiceClient(emulator.connectionString, 'A.B', {
      allowInsecureConnection: true,
    });
    const { url } = await upper.getClientAccessToken({ userId: 'bob' });
    expect(url).toContain('/client/hubs/A.B');
    const seen = app.app.get(SeenHubs).hubs;
    const before = seen.length;
    const ws = new WebSocket(url, ['json.webpubsub.azure.v1']);
    const messages: unknown[] = [];
    ws.on('message', data => messages.push(JSON.parse(String(data))));
    try {
      await new Promise((resolve, reject) => {
        ws.once('open', resolve);
        ws.once('error', reject);
      });
      // the module's handler for `a.b` was called, with the hub as the service names it
      await waitFor(() => seen.length > before);
      expect(seen.slice(before)).toEqual([DOTTED]);
      await waitFor(() => messages.some(m => (m as { event?: string }).event === 'connected'));
      // the module's client for `a.b` sends to the connection of `A.B`
      await client.sendToUser('bob', 'same hub', { contentType: 'text/plain' });
      await waitFor(() => messages.some(m => (m as { data?: unknown }).data === 'same hub'));
      expect(await client.userExists('bob')).toBe(true);
    } finally {
      ws.close();
    }
  });

  it('refuses a 129-character hub in every part with the same words', async () => {
    // forRoot: the app does not start
    await expect(
      startApp(platform, { imports: [WebPubSubModule.forRoot({ hub: TOO_LONG })] }),
    ).rejects.toThrow(new WebPubSubOptionsError([`hub ${REFUSAL}`]).message);
    // the service clients
    const unconfigured = await startApp(platform, {
      imports: [WebPubSubModule.forRoot({ connectionString: emulator.connectionString })],
    });
    try {
      expect(() => unconfigured.app.get(WebPubSubServiceClients).get(TOO_LONG)).toThrow(REFUSAL);
    } finally {
      await unconfigured.close();
    }
    // the emulator's options
    await expect(
      startEmulator({ port: 0, log: () => undefined, hubs: { [TOO_LONG]: {} } }),
    ).rejects.toThrow(`hubs: ${REFUSAL}`);
    // the client and MQTT endpoints: 400 with the reason as the body
    const base = emulator.endpoint.replace(/^http/, 'ws');
    const service = new WebPubSubServiceClient(emulator.connectionString, TOO_LONG, {
      allowInsecureConnection: true,
    });
    const { token } = await service.getClientAccessToken();
    expect(await upgrade(`${base}/client/hubs/${TOO_LONG}?access_token=${token}`)).toEqual({
      status: 400,
      body: `${REFUSAL}\n`,
    });
    expect(
      await upgrade(`${base}/clients/mqtt/hubs/${TOO_LONG}?access_token=${token}`, 'mqtt'),
    ).toEqual({ status: 400, body: `${REFUSAL}\n` });
    // the REST data plane: 400 in the service's error format, the reason as its message
    const refused = await service.sendToAll('hello').catch((error: unknown) => error);
    expect(refused).toMatchObject({ statusCode: 400 });
    const body = JSON.parse((refused as { response: { bodyAsText: string } }).response.bodyAsText);
    expect(body).toMatchObject({ target: 'hub', message: REFUSAL });
  });
});
