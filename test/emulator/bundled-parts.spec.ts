/**
 * `startEmulator()` as users call it (public options only) serves the REST data plane and the live
 * view: the sample and `nestjs-web-pubsub/emulator` users get both without internal hooks.
 * `@azure/web-pubsub` sends and queries work, the page and its feed are served at `/`, and
 * `close()` ends an open live-view feed. Seen failing (REST `501`, no page) before these parts were
 * on by default.
 */
import { request } from 'node:http';
import { WebPubSubServiceClient } from '@azure/web-pubsub';
import { startEmulator, type RunningEmulator } from '../../lib/emulator/index.js';
import { LIVE_FEED_PATH } from '../../lib/emulator/live-view/live-view.js';
import { http } from '../utils/http.js';
import { waitFor } from '../utils/wait.js';

describe('startEmulator() with public options only', () => {
  let emulator: RunningEmulator;

  beforeAll(async () => {
    emulator = await startEmulator({ port: 0, log: () => undefined, hubs: { chat: {} } });
  });

  afterAll(async () => {
    await emulator?.close();
  });

  it('answers the REST data plane (the SDK client works) instead of 501', async () => {
    expect((await http(`${emulator.endpoint}/api/health`, { method: 'HEAD' })).status).toBe(200);
    const service = new WebPubSubServiceClient(emulator.connectionString, 'chat', {
      allowInsecureConnection: true,
    });
    await service.sendToAll({ hello: 'nobody' }); // throws on anything but 202
    expect(await service.groupExists('room')).toBe(false);
  });

  it('serves the live view page at / and its feed', async () => {
    const page = await http(`${emulator.endpoint}/`);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.text).toMatch(/<html/i);
  });

  it('close() ends an open live-view feed', async () => {
    const other = await startEmulator({ port: 0, log: () => undefined });
    let ended = false;
    let status = 0;
    await new Promise<void>((resolve, reject) => {
      const req = request(`${other.endpoint}${LIVE_FEED_PATH}`, { agent: false }, res => {
        status = res.statusCode ?? 0;
        res.resume();
        res.on('close', () => (ended = true));
        resolve();
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(200);
    expect(ended).toBe(false);
    await other.close();
    await waitFor(() => ended);
  });
});
