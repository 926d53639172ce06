/**
 * The live view of the real emulator in headless Chromium: `@azure/web-pubsub-client` connects and
 * sends an event; the open page shows the connection (user, group, subprotocol) and the upstream
 * call without a reload, and the call expands to its CloudEvents headers and both bodies. Then
 * client-to-client traffic: two clients' `joinGroup` rows name the group; a client's `sendToGroup`
 * shows its group, its body `{"text":"a quokka says hi"}` and its reach `→2` (its details name the
 * user); a REST group send shows `202`, `→2`, its body, a duration in microseconds and its response
 * headers (`content-length`); the text filter keeps exactly the client row for `quokka` and the
 * REST row for `WOMBAT`, words only in bodies. Screenshots: test/artifacts/live-view.png,
 * live-view-traffic.png, live-view-filtered.png (git-ignored). Smoothness under 10,000 records a
 * minute is measured by `npm run bench:live-view` (bench/RESULTS.md), not asserted here.
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

  it("shows a client's joinGroup and sendToGroup with body and reach, a REST send with its reach, and filters on a body word", async () => {
    const page = await browser.context.newPage();
    await page.setViewportSize({ width: 1400, height: 900 });
    await page.goto(`${emulator.endpoint}/`);
    await page.waitForSelector('#feed-status.live');
    const service = new WebPubSubServiceClient(emulator.connectionString, 'chat', {
      allowInsecureConnection: true,
    });
    const clients: WebPubSubClient[] = [];
    const heard: unknown[] = [];
    try {
      for (const userId of ['bob', 'carol']) {
        const member = new WebPubSubClient(
          {
            getClientAccessUrl: async () =>
              (
                await service.getClientAccessToken({
                  userId,
                  roles: ['webpubsub.joinLeaveGroup.lounge', 'webpubsub.sendToGroup.lounge'],
                })
              ).url,
          },
          { keepAliveIntervalInMs: 0, keepAliveTimeoutInMs: 0 },
        );
        member.on('group-message', event => heard.push(event.message.data));
        clients.push(member);
        await member.start();
        await member.joinGroup('lounge');
      }
      await clients[0].sendToGroup('lounge', { text: 'a quokka says hi' }, 'json');
      await waitFor(() => heard.length === 2);
      await service.group('lounge').sendToAll({ notice: 'the wombat is asleep' });
      await waitFor(() => heard.length === 4);

      const joins = page.locator('#traffic > li[data-kind="client"]', {
        has: page.locator('.action', { hasText: /^joinGroup$/ }),
      });
      await joins.nth(1).waitFor();
      expect(await joins.first().locator('.target').textContent()).toBe('lounge');

      const sent = page.locator('#traffic > li[data-kind="client"]', {
        has: page.locator('.action', { hasText: /^sendToGroup$/ }),
      });
      await sent.waitFor();
      expect(await sent.locator('.target').textContent()).toBe('lounge');
      expect(await sent.locator('.body-preview').textContent()).toBe('{"text":"a quokka says hi"}');
      // Both members, the sender too (no noEcho).
      expect(await sent.locator('.reach').textContent()).toBe('→2');
      await sent.locator('.summary').click();
      expect(await sent.locator('.details dd').allTextContents()).toContain('bob');
      expect(await sent.locator('.details pre.body').textContent()).toBe(
        JSON.stringify({ text: 'a quokka says hi' }, null, 2),
      );

      const rest = page.locator('#traffic > li[data-kind="rest"]', {
        has: page.locator('.action', { hasText: /^sendToGroup$/ }),
      });
      await rest.waitFor();
      expect(await rest.locator('.status').textContent()).toBe('202');
      expect(await rest.locator('.reach').textContent()).toBe('→2');
      expect(await rest.locator('.target').textContent()).toBe('lounge');
      expect(await rest.locator('.body-preview').textContent()).toBe(
        '{"notice":"the wombat is asleep"}',
      );
      // The duration as measured: microseconds, not a rounded millisecond.
      expect(await rest.locator('.duration').textContent()).toMatch(/^\d+\.\d{1,3} ms$/);
      await rest.locator('.summary').click();
      const responseHeaders = rest.locator('.details table.headers').nth(1).locator('td');
      expect(await responseHeaders.allTextContents()).toContain('content-length');
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: `${ARTIFACTS}/live-view-traffic.png`, fullPage: true });

      // A word that is only in a body: the filter keeps exactly the rows that carry it.
      await page.fill('#search', 'quokka');
      await waitFor(async () => (await page.locator('#traffic > li:visible').count()) === 1);
      expect(await page.locator('#traffic > li:visible').getAttribute('data-kind')).toBe('client');
      await page.fill('#search', 'WOMBAT');
      await waitFor(async () => (await page.locator('#traffic > li:visible').count()) === 1);
      expect(await page.locator('#traffic > li:visible').getAttribute('data-kind')).toBe('rest');
      await page.screenshot({ path: `${ARTIFACTS}/live-view-filtered.png`, fullPage: true });
    } finally {
      for (const member of clients) member.stop();
      await page.close();
    }
  });
});
