/**
 * The live view of the real emulator in headless Chromium: an official client connects and sends
 * an event; the open page shows the connection and the upstream call without a reload, and the
 * call expands to its headers and body. Screenshot: test/artifacts/live-view.png.
 */
import { mkdirSync } from 'node:fs';
import { WebPubSubServiceClient } from '@azure/web-pubsub';
import { WebPubSubClient } from '@azure/web-pubsub-client';
import { startEmulator, type RunningEmulator } from '../../lib/emulator/index.js';
import { expressUpstream } from '../emulator/harness.js';
import { launchBrowser, type Browser } from '../utils/browser.js';
import { waitFor } from '../utils/wait.js';

const ARTIFACTS = 'test/artifacts';

describe('live view of the emulator (Chromium)', () => {
  let browser: Browser;
  let emulator: RunningEmulator;
  let upstream: Awaited<ReturnType<typeof expressUpstream>>;
  const received: unknown[] = [];
  let client: WebPubSubClient | undefined;

  beforeAll(async () => {
    upstream = await expressUpstream('chat', {
      handleConnect: (_req, res) => res.success({ groups: ['room-1'] }),
      handleUserEvent: (req, res) => {
        received.push(req.data);
        res.success(JSON.stringify({ echo: req.data }), 'json');
      },
    });
    emulator = await startEmulator({
      port: 0,
      log: () => undefined,
      hubs: {
        chat: {
          eventHandlers: [
            {
              urlTemplate: upstream.handlerUrl,
              userEventPattern: '*',
              systemEvents: ['connect', 'connected', 'disconnected'],
            },
          ],
        },
      },
    });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    client?.stop();
    await browser?.close();
    await emulator?.close();
    await upstream?.close();
  });

  it('shows a new connection and its upstream calls live, and expands a call to its body', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${emulator.endpoint}/`);
    await page.waitForSelector('#feed-status.live');
    let loads = 0;
    page.on('load', () => loads++);

    const service = new WebPubSubServiceClient(emulator.connectionString, 'chat');
    // No keep-alive tasks: their pending delays would hold the test process for 20 s after stop().
    const started = new WebPubSubClient(
      {
        getClientAccessUrl: async () =>
          (await service.getClientAccessToken({ userId: 'alice' })).url,
      },
      { keepAliveIntervalInMs: 0, keepAliveTimeoutInMs: 0 },
    );
    client = started;
    const connected = new Promise<string>(resolve =>
      started.on('connected', event => resolve(event.connectionId)),
    );
    await started.start();
    const connectionId = await connected;
    await started.sendEvent('chat', { text: 'hello from the browser spec' }, 'json');
    await waitFor(() => received.length === 1);

    // The connection, with its user, the group the connect handler gave it, and its subprotocol.
    const row = page.locator(`#connections tr[data-connection-id="${connectionId}"]`);
    await row.waitFor();
    const rowCells = await row.locator('td').allTextContents();
    expect(rowCells.slice(0, 5)).toEqual([
      'chat',
      connectionId,
      'alice',
      'room-1',
      'json.reliable.webpubsub.azure.v1',
    ]);
    expect(await page.locator('#hubs button[data-hub="chat"] .n').textContent()).toBe('1');

    // The upstream calls, newest first: the user event after connected and connect.
    const call = page
      .locator('#traffic > li[data-kind="upstream"]')
      .filter({ has: page.locator('.action', { hasText: /^chat$/ }) });
    await call.waitFor();
    expect(await call.locator('.status').textContent()).toBe('200');
    expect(await call.locator('.method').textContent()).toBe('POST');
    const actions = await page
      .locator('#traffic > li[data-kind="upstream"] .action')
      .allTextContents();
    expect(actions.indexOf('chat')).toBeLessThan(actions.indexOf('connect'));

    await call.locator('.summary').click();
    const details = call.locator('.details');
    await details.waitFor();
    const bodies = await details.locator('pre.body').allTextContents();
    expect(JSON.parse(bodies[0])).toEqual({ text: 'hello from the browser spec' });
    expect(JSON.parse(bodies[1])).toEqual({ echo: { text: 'hello from the browser spec' } });
    const cells = await details.locator('table.headers').first().locator('td').allTextContents();
    const headers = new Map<string, string>();
    for (let i = 0; i < cells.length; i += 2) headers.set(cells[i].toLowerCase(), cells[i + 1]);
    expect(headers.get('ce-eventname')).toBe('chat');
    expect(headers.get('ce-userid')).toBe('alice');
    expect(headers.get('ce-type')).toBe('azure.webpubsub.user.chat');

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: `${ARTIFACTS}/live-view.png`, fullPage: true });
    expect(loads).toBe(0);

    // The client leaves: its row goes, and the page's feed ends with the page.
    started.stop();
    await row.waitFor({ state: 'detached' });
    await page.close();
    await waitFor(() => emulator.traffic.listenerCount === 0);
  });
});
