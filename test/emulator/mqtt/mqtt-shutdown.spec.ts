/**
 * MQTT clients and the emulator's limits and shutdown, in a file of its own so the handles before
 * and after are this test's alone (timers of other emulators ending meanwhile would hide one left
 * behind):
 * - an MQTT client that stops reading is cut once more than `maxBufferedBytes` (256 KB here) wait,
 *   its session ends with that reason (logged once), while a reading client of the same group gets
 *   every 32 KB message; removing the check fails it (the client is still connected after 4,000
 *   messages);
 * - `close()` sends a live MQTT 5 client DISCONNECT 0x8B, ends a session kept for 60 s with a 30 s
 *   will delay and a link that never sent CONNECT, and leaves no new entry in
 *   `process.getActiveResourcesInfo()`; leaving the session's expiry timer fails it.
 */
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import WebSocket from 'ws';
import { WebPubSubServiceClient } from '@azure/web-pubsub';
import { startEmulator } from '../../../lib/emulator/index.js';
import { waitFor } from '../../utils/wait.js';
import { FAST_TIMINGS, newHandles } from '../harness.js';

async function connect(
  url: string,
  options: IClientOptions,
): Promise<{ client: MqttClient; packets: any[] }> {
  const packets: any[] = [];
  const client = mqtt.connect(url, { reconnectPeriod: 0, ...options });
  client.on('packetreceive', packet => packets.push(packet));
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  return { client, packets };
}

describe('MQTT and the emulator shutting down', () => {
  it('close() sends MQTT 5 clients DISCONNECT 0x8B, ends kept sessions and links still waiting for CONNECT, and leaves no handle', async () => {
    // Jest's own start-up timers settle first, so they cannot hide one left behind.
    await new Promise(resolve => setTimeout(resolve, 200));
    const before = process.getActiveResourcesInfo();
    // Sessions kept up to 60 s here, so a timer left behind would outlive the handle check.
    const emulator = await startEmulator({
      port: 0,
      log: () => undefined,
      timings: { ...FAST_TIMINGS, recoveryWindowMs: 60_000 },
    });
    const url = (
      await new WebPubSubServiceClient(emulator.connectionString, 'chat').getClientAccessToken({
        clientProtocol: 'mqtt',
      })
    ).url;
    const live = await connect(url, { protocolVersion: 5, clientId: 'live' });
    const kept = await connect(url, {
      protocolVersion: 5,
      clientId: 'kept',
      clean: false,
      properties: { sessionExpiryInterval: 60 },
      will: {
        topic: 'x',
        payload: Buffer.from('w'),
        qos: 0,
        retain: false,
        properties: { willDelayInterval: 30 },
      },
    });
    (kept.client.stream as unknown as { destroy(): void }).destroy();
    // A link that never sends CONNECT.
    const silent = new WebSocket(url, 'mqtt');
    await new Promise(resolve => silent.once('open', resolve));
    const silentClosed = new Promise(resolve => silent.once('close', resolve));
    await waitFor(() => emulator.traffic.snapshot().some(record => record.action === 'dropped'));
    const liveClosed = new Promise<void>(resolve => live.client.once('close', () => resolve()));
    await emulator.close();
    await liveClosed;
    expect(live.packets.find(packet => packet.cmd === 'disconnect')?.reasonCode).toBe(0x8b);
    await silentClosed;
    live.client.end(true);
    kept.client.end(true);
    await waitFor(() => newHandles(before).length === 0, 3000).catch(() => undefined);
    expect(newHandles(before)).toEqual([]);
  });
});

describe('MQTT clients that stop reading', () => {
  it('are cut once more than maxBufferedBytes wait in the send buffer; the session ends with the reason', async () => {
    const lines: string[] = [];
    const emulator = await startEmulator({
      port: 0,
      log: line => lines.push(line),
      timings: { ...FAST_TIMINGS, maxBufferedBytes: 256 * 1024 },
    });
    const url = (
      await new WebPubSubServiceClient(emulator.connectionString, 'chat').getClientAccessToken({
        clientProtocol: 'mqtt',
        roles: ['webpubsub.joinLeaveGroup'],
      })
    ).url;
    const reader = await connect(url, { protocolVersion: 5, clientId: 'stuck' });
    await reader.client.subscribeAsync('flood', { qos: 0 });
    const reading = await connect(url, { protocolVersion: 5, clientId: 'reading' });
    await reading.client.subscribeAsync('flood', { qos: 0 });
    let received = 0;
    reading.client.on('message', () => received++);
    // One client stops reading its socket; the other keeps reading.
    (reader.client.stream as unknown as { pause(): void }).pause();
    const chunk = { dataType: 'binary' as const, data: Buffer.alloc(32 * 1024, 1) };
    let sent = 0;
    while (sent < 4000 && emulator.hubs.connectionExists('chat', 'stuck')) {
      emulator.hubs.sendToGroup('chat', 'flood', chunk);
      sent++;
      // Each send is written out before the next: only a client that does not read falls behind.
      await new Promise(resolve => setTimeout(resolve, 0));
    }
    expect(emulator.hubs.connectionExists('chat', 'stuck')).toBe(false);
    expect(sent).toBeGreaterThan(8);
    expect(
      lines.filter(line =>
        /stuck session ended: the client does not read its messages \(more than 262144 bytes waiting\)/.test(
          line,
        ),
      ),
    ).toHaveLength(1);
    await waitFor(() => received === sent);
    expect(emulator.hubs.connectionExists('chat', 'reading')).toBe(true);
    reading.client.end(true);
    reader.client.end(true);
    await emulator.close();
  });
});
