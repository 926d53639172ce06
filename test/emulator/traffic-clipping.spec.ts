/**
 * Every producer of the traffic log hands it whole bodies, and the log clips them once, one way:
 * the first `MAX_BODY_CHARS` (64 Ki) characters of what it shows, then `\n… (<N> bytes, cut at
 * 65536)`. Shown here on a real emulator with real clients, a 100,000-byte body each: a REST send
 * (text, and binary shown as base64), a JSON client's `sendToGroup` frame and its user event, the
 * event handler's call and its answer (upstream), an MQTT publish, a Socket.IO client's packet to
 * its server and the server's broadcast through the tunnel's REST. Before, REST and Socket.IO kept
 * 4,096 characters, upstream 64 KiB of bytes, binary client frames 48 KiB, each with its own marker.
 */
import { WebPubSubServiceClient } from '@azure/web-pubsub';
import mqtt, { type MqttClient } from 'mqtt';
import { startEmulator, type RunningEmulator } from '../../lib/emulator/index.js';
import { MAX_BODY_CHARS, type TrafficRecord } from '../../lib/emulator/traffic-log.js';
import {
  connected,
  socketIoClient,
  startSocketIoServer,
  type SocketIoServer,
} from '../utils/socket-io.js';
import { waitFor } from '../utils/wait.js';
import {
  clientUrl,
  FAST_TIMINGS,
  RawClient,
  recordingUpstream,
  type Listening,
} from './harness.js';

const LONG = 100_000;

/** What every producer's long body becomes: its first characters shown, and the one marker. */
function clipped(shown: string): string {
  return `${shown.slice(0, MAX_BODY_CHARS)}\n… (${LONG} bytes, cut at ${MAX_BODY_CHARS})`;
}

describe('traffic log: every producer clips a long body the same way', () => {
  let emulator: RunningEmulator;
  let upstream: Listening;
  let sio: SocketIoServer;
  const records: TrafficRecord[] = [];
  const closing: (() => unknown)[] = [];

  beforeAll(async () => {
    upstream = await recordingUpstream(request =>
      request.headers['ce-eventname'] === 'long'
        ? { status: 200, headers: { 'content-type': 'text/plain' }, body: 'u'.repeat(LONG) }
        : { status: 204 },
    );
    emulator = await startEmulator({
      port: 0,
      log: () => undefined,
      timings: FAST_TIMINGS,
      hubs: {
        chat: {
          eventHandlers: [{ urlTemplate: `${upstream.url}/{event}`, userEventPattern: '*' }],
        },
      },
    });
    emulator.traffic.subscribe(record => records.push(record));
    sio = await startSocketIoServer(emulator.connectionString, 'sio', io =>
      io.on('connection', socket => socket.on('long', (text: string) => io.emit('back', text))),
    );
  });

  afterAll(async () => {
    for (const close of closing) await close();
    await sio.close();
    await emulator.close();
    await upstream.close();
  });

  async function recorded(match: (record: TrafficRecord) => boolean): Promise<TrafficRecord> {
    await waitFor(() => records.some(match));
    return records.find(match)!;
  }

  it('REST sends, text and binary', async () => {
    const service = new WebPubSubServiceClient(emulator.connectionString, 'chat', {
      allowInsecureConnection: true,
    });
    await service.sendToAll('r'.repeat(LONG), { contentType: 'text/plain' });
    await service.sendToAll(Buffer.alloc(LONG, 'b'));
    const sends = records.filter(r => r.kind === 'rest' && r.action === 'sendToAll');
    expect(sends.map(r => r.request?.body)).toEqual([
      clipped('r'.repeat(LONG)),
      clipped(`base64:${Buffer.alloc(LONG, 'b').toString('base64')}`),
    ]);
  });

  it("a JSON client's frames, the event handler's call and its answer", async () => {
    const client = new RawClient(
      await clientUrl(emulator.connectionString, 'chat', { roles: ['webpubsub.sendToGroup'] }),
      'json.webpubsub.azure.v1',
    );
    closing.push(() => client.ws.close());
    await client.opened;
    client.send({ type: 'sendToGroup', group: 'g', dataType: 'text', data: 'c'.repeat(LONG) });
    client.send({ type: 'event', event: 'long', dataType: 'text', data: 'e'.repeat(LONG) });
    const frame = await recorded(r => r.kind === 'client' && r.action === 'sendToGroup');
    expect(frame.request?.body).toBe(clipped('c'.repeat(LONG)));
    const call = await recorded(r => r.kind === 'upstream' && r.action === 'long');
    expect(call.request?.body).toBe(clipped('e'.repeat(LONG)));
    expect(call.response?.body).toBe(clipped('u'.repeat(LONG)));
  });

  it('an MQTT publish', async () => {
    const service = new WebPubSubServiceClient(emulator.connectionString, 'chat');
    const { url } = await service.getClientAccessToken({
      clientProtocol: 'mqtt',
      roles: ['webpubsub.sendToGroup'],
    });
    const device: MqttClient = mqtt.connect(url, {
      reconnectPeriod: 0,
      connectTimeout: 5000,
      clientId: 'clipper',
    });
    closing.push(() => device.endAsync(true));
    await new Promise<void>((resolve, reject) => {
      device.once('connect', () => resolve());
      device.once('error', reject);
    });
    await device.publishAsync('g', 'm'.repeat(LONG));
    const publish = await recorded(r => r.kind === 'client' && r.action === 'publish');
    expect(publish.request?.body).toBe(clipped('m'.repeat(LONG)));
  });

  it("a Socket.IO client's packet to its server, and the server's broadcast through the tunnel", async () => {
    const socket = socketIoClient(emulator.endpoint, 'sio', ['websocket']);
    closing.push(() => socket.disconnect());
    await connected(socket);
    const back = new Promise(resolve => socket.once('back', resolve));
    socket.emit('long', 's'.repeat(LONG));
    await back;
    const event = await recorded(
      r =>
        r.kind === 'upstream' &&
        r.subprotocol === 'socket.io' &&
        !!r.request?.body?.startsWith('42'),
    );
    const packet = `42["long","${'s'.repeat(LONG)}"]`;
    expect(event.request?.body).toBe(
      `${packet.slice(0, MAX_BODY_CHARS)}\n… (${packet.length} bytes, cut at ${MAX_BODY_CHARS})`,
    );
    const broadcast = await recorded(
      r =>
        r.kind === 'rest' &&
        r.action.startsWith('socket.io POST') &&
        !!r.request?.body?.includes('"back"'),
    );
    expect(broadcast.request?.body).toMatch(
      new RegExp(`^[^\\n]{${MAX_BODY_CHARS}}\\n… \\(\\d+ bytes, cut at ${MAX_BODY_CHARS}\\)$`),
    );
    expect(broadcast.request?.body).toContain('s'.repeat(1000));
  });
});
