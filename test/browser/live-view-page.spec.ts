/**
 * The live view page in headless Chromium, fed by a real `TrafficLog` and a listing-only hub state
 * set by the spec: user ids, group names, hub names, headers and bodies containing `<img onerror>`
 * and `<script>` appear as text (no element created, no handler run, no CSP violation); a client
 * frame's preview is one line of its body and its details a frame without headers; reach `→2`/`→0`,
 * duration `0.412 ms` as recorded, a 300-character body previewed at 160 characters; the filter
 * finds words of a request body and of a response body, and nothing for an absent word; Pause holds
 * a new record (`Resume (1 new)`) and Resume draws it; 400 entries leave the newest 300; two tabs,
 * then none, leave no feed listener.
 *
 * Seen failing with the page writing them through `innerHTML`.
 */
import type { Page } from 'playwright-core';
import { launchBrowser, type Browser } from '../utils/browser.js';
import { startLiveViewServer, type LiveViewServer } from '../utils/live-view-server.js';
import { waitFor } from '../utils/wait.js';

const HOSTILE = '<img src=x onerror="window.__pwned=1">';
const SCRIPT = '<script>window.__pwned=2</script>';

async function openPage(browser: Browser, url: string): Promise<Page> {
  const page = await browser.context.newPage();
  await page.addInitScript({
    content:
      "window.__violations = []; document.addEventListener('securitypolicyviolation', e => window.__violations.push(e.violatedDirective));",
  });
  await page.goto(`${url}/`);
  await page.waitForSelector('#feed-status.live');
  return page;
}

describe('live view page (Chromium)', () => {
  let browser: Browser;
  let live: LiveViewServer;
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(() => browser?.close());
  beforeEach(async () => {
    live = await startLiveViewServer();
  });
  afterEach(() => live.close());

  it('shows user ids, group names, hub names, headers and bodies as text, never as markup', async () => {
    live.hubs.add('chat', {
      connectionId: `conn-${HOSTILE}`,
      userId: HOSTILE,
      groups: new Set([SCRIPT, 'plain']),
      subprotocol: HOSTILE,
      connectedAt: Date.now(),
    });
    live.traffic.record({
      kind: 'upstream',
      hub: `chat${HOSTILE}`,
      action: HOSTILE,
      method: 'POST',
      url: `http://localhost/${HOSTILE}`,
      status: 200,
      durationMs: 3,
      connectionId: `conn-${HOSTILE}`,
      userId: HOSTILE,
      detail: SCRIPT,
      request: { headers: { [`x-${'h'}`]: HOSTILE }, body: `{"text":${JSON.stringify(SCRIPT)}}` },
      response: { headers: { 'content-type': 'text/plain' }, body: HOSTILE },
    });
    const page = await openPage(browser, live.url);
    const row = page.locator('#connections tr').first();
    await row.waitFor();
    expect(await row.locator('td').nth(2).textContent()).toBe(HOSTILE);
    expect(await row.locator('.chip').first().textContent()).toBe(SCRIPT);
    expect(await row.locator('td').nth(4).textContent()).toBe(HOSTILE);

    const entry = page.locator('#traffic > li').first();
    expect(await entry.locator('.action').textContent()).toBe(HOSTILE);
    expect(await entry.locator('.summary > .hub').textContent()).toBe(`chat${HOSTILE}`);
    await entry.locator('.summary').click();
    const details = entry.locator('.details');
    await details.waitFor();
    expect(await details.locator('pre.body').first().textContent()).toBe(
      JSON.stringify({ text: SCRIPT }, null, 2),
    );
    expect(await details.locator('pre.body').nth(1).textContent()).toBe(HOSTILE);
    expect(await details.locator('table.headers td').nth(1).textContent()).toBe(HOSTILE);

    // Nothing was parsed as HTML: no element but the page's own, no handler ran, no CSP violation.
    expect(await page.locator('main img, main script').count()).toBe(0);
    expect(await page.locator('script').count()).toBe(1);
    expect(await page.evaluate('window.__pwned')).toBeUndefined();
    expect(await page.evaluate('window.__violations')).toEqual([]);
    await page.close();
  });

  it('follows connections and traffic without a reload, newest first, and expands a call', async () => {
    const page = await openPage(browser, live.url);
    await page.waitForSelector('#no-connections:visible');
    let loads = 0;
    page.on('load', () => loads++);

    live.hubs.add('chat', {
      connectionId: 'c-1',
      userId: 'alice',
      groups: new Set(['room']),
      subprotocol: 'json.reliable.webpubsub.azure.v1',
      connectedAt: Date.now(),
    });
    live.hubs.add('iot', {
      connectionId: 'm-1',
      userId: 'sensor',
      groups: new Set(),
      subprotocol: 'mqtt',
      mqttVersion: 5,
      connectedAt: Date.now(),
    });
    await page.waitForSelector('#connections tr[data-connection-id="c-1"]');
    expect(
      await page.locator('#connections tr[data-connection-id="m-1"] td').nth(4).textContent(),
    ).toBe('MQTT 5.0');
    expect(await page.locator('#hubs button[data-hub="iot"] .n').textContent()).toBe('1');

    live.traffic.record({
      kind: 'upstream',
      hub: 'chat',
      action: 'connect',
      method: 'POST',
      status: 200,
      durationMs: 2,
    });
    live.traffic.record({
      kind: 'rest',
      hub: 'chat',
      action: 'sendToAll',
      method: 'POST',
      status: 202,
      durationMs: 1,
      request: { headers: { 'content-type': 'text/plain' }, body: 'hello all' },
    });
    await page.waitForSelector('#traffic > li >> nth=1');
    expect(await page.locator('#traffic > li .action').allTextContents()).toEqual([
      'sendToAll',
      'connect',
    ]);
    await page.locator('#traffic > li').first().locator('.summary').click();
    expect(await page.locator('#traffic > li .details pre.body').textContent()).toBe('hello all');

    // The kind filter hides the others.
    await page.click('.filters button[data-kind="upstream"]');
    expect(await page.locator('#traffic > li:visible .action').allTextContents()).toEqual([
      'connect',
    ]);
    await page.click('.filters button[data-kind="all"]');

    live.hubs.remove('chat', 'c-1');
    await page.waitForSelector('#connections tr[data-connection-id="c-1"]', { state: 'detached' });
    expect(loads).toBe(0);
    await page.close();
  });

  it('shows body previews, reach and durations as recorded; filters on a word of a body; pauses', async () => {
    const page = await openPage(browser, live.url);
    live.traffic.record({
      kind: 'client',
      hub: 'chat',
      action: 'sendToGroup',
      target: 'room',
      connectionId: 'c-1',
      userId: 'alice',
      dataType: 'json',
      reach: 2,
      request: { headers: {}, body: '{\n  "text": "the   quokka smiles"\n}' },
    });
    live.traffic.record({
      kind: 'rest',
      hub: 'chat',
      action: 'sendToGroup',
      target: 'room',
      method: 'POST',
      status: 202,
      durationMs: 0.412,
      reach: 0,
      request: { headers: { 'content-type': 'text/plain' }, body: 'x'.repeat(300) },
      response: { headers: { 'content-length': '0' }, body: '{"hidden":"wombat"}' },
    });
    await page.waitForSelector('#traffic > li >> nth=1');
    const client = page.locator('#traffic > li[data-kind="client"]');
    // The preview is one line of the body; the full body is in the details, as a frame (no headers).
    expect(await client.locator('.body-preview').textContent()).toBe(
      '{ "text": "the quokka smiles" }',
    );
    expect(await client.locator('.target').textContent()).toBe('room');
    expect(await client.locator('.reach').textContent()).toBe('→2');
    const rest = page.locator('#traffic > li[data-kind="rest"]');
    expect(await rest.locator('.reach').textContent()).toBe('→0');
    expect(await rest.locator('.duration').textContent()).toBe('0.412 ms');
    expect(await rest.locator('.body-preview').textContent()).toBe(`${'x'.repeat(159)}…`);
    await client.locator('.summary').click();
    expect(await client.locator('.details h3').allTextContents()).toEqual(['Frame']);
    expect(await client.locator('.details pre.body').textContent()).toBe(
      JSON.stringify({ text: 'the   quokka smiles' }, null, 2),
    );
    expect(await client.locator('.details table.headers').count()).toBe(0);
    await rest.locator('.summary').click();
    expect(await rest.locator('.details table.headers td').allTextContents()).toContain(
      'content-length',
    );

    // The filter looks into request and response bodies, not only the columns.
    await page.fill('#search', 'QUOKKA');
    expect(await page.locator('#traffic > li:visible').count()).toBe(1);
    expect(await page.locator('#traffic > li:visible').getAttribute('data-kind')).toBe('client');
    await page.fill('#search', 'wombat');
    expect(await page.locator('#traffic > li:visible').getAttribute('data-kind')).toBe('rest');
    await page.fill('#search', 'no such word');
    expect(await page.locator('#traffic > li:visible').count()).toBe(0);
    expect(await page.locator('#no-traffic').isVisible()).toBe(true);
    await page.fill('#search', '');
    await page.click('.filters button[data-kind="client"]');
    expect(await page.locator('#traffic > li:visible').count()).toBe(1);
    await page.click('.filters button[data-kind="all"]');

    // Paused, new records wait (counted on the button) and appear on resume.
    await page.click('#pause');
    live.traffic.record({ kind: 'rest', hub: 'chat', action: 'held-back', status: 202 });
    await page.waitForSelector('#pause:text("Resume (1 new)")');
    expect(await page.locator('#traffic > li').count()).toBe(2);
    await page.click('#pause');
    await page.waitForSelector('#traffic > li .action:text-is("held-back")');
    expect(await page.locator('#pause').textContent()).toBe('Pause');
    await page.close();
  });

  it('keeps the newest 300 entries', async () => {
    const page = await openPage(browser, live.url);
    for (let i = 1; i <= 400; i++)
      live.traffic.record({ kind: 'rest', hub: 'chat', action: `op-${i}`, status: 202 });
    await page.waitForSelector('#traffic > li[data-id="400"]');
    expect(await page.locator('#traffic > li').count()).toBe(300);
    expect(await page.locator('#traffic > li .action').first().textContent()).toBe('op-400');
    expect(await page.locator('#traffic > li .action').last().textContent()).toBe('op-101');
    await page.close();
  });

  it('leaves no listener behind once the page is closed', async () => {
    const pages = [await openPage(browser, live.url), await openPage(browser, live.url)];
    await waitFor(() => live.traffic.listenerCount === 2 && live.view.feedClients === 2);
    await pages[0].close();
    await waitFor(() => live.traffic.listenerCount === 1 && live.view.feedClients === 1);
    // Navigating away counts as leaving too.
    await pages[1].goto('about:blank');
    await waitFor(() => live.traffic.listenerCount === 0 && live.view.feedClients === 0);
    await pages[1].close();
  });
});
