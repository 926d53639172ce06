/**
 * The chat sample's gateway variant (`sample/gateway/chat.gateway.ts`, `SAMPLE_GATEWAY=1`) in
 * headless Chromium, against the sample app and its embedded emulator: two tabs of one browser
 * are two people of one room who see each other join (handleConnection), chat (@SubscribeMessage
 * relaying to the room's group), see a refused message's reason (the ValidationPipe's
 * WsException, answered as Nest's exception message) and see a tab leave (handleDisconnect).
 */
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { RunningSample } from '../../sample/start-sample.js';
import { PLATFORMS } from '../utils/app.js';
import { CHROMIUM_ARGS, findChromium } from '../utils/browser.js';
import { buildChatPage, type BuiltPage } from '../utils/chat-sample.js';
import { startSample } from '../../sample/start-sample.js';

const WAIT = { timeout: 10_000 };

describe('the chat page on the gateway variant in Chromium', () => {
  let browser: Browser;
  let page: BuiltPage;

  beforeAll(async () => {
    page = await buildChatPage();
    browser = await chromium.launch({
      executablePath: findChromium(),
      headless: true,
      args: CHROMIUM_ARGS,
    });
  });

  afterAll(async () => {
    await browser?.close();
    page?.remove();
  });

  describe.each(PLATFORMS)('on %s', platform => {
    let sample: RunningSample;
    let context: BrowserContext;
    const errors: string[] = [];

    beforeAll(async () => {
      sample = await startSample({
        platform,
        port: 0,
        host: '127.0.0.1',
        hub: 'chat',
        emulatorPort: 0,
        publicDir: page.dir,
        logger: false,
        gateway: true,
      });
      context = await browser.newContext({ viewport: { width: 900, height: 640 } });
    });

    afterAll(async () => {
      await context?.close();
      await sample?.close();
    });

    async function open(name: string, room: string): Promise<Page> {
      const tab = await context.newPage();
      tab.on('console', message => {
        if (message.type() === 'error') errors.push(`${name} console: ${message.text()}`);
      });
      tab.on('pageerror', error => errors.push(`${name} page error: ${error.message}`));
      await tab.goto(sample.url);
      await tab.fill('#join input[name=name]', name);
      await tab.fill('#join input[name=room]', room);
      await tab.click('#join button[type=submit]');
      await tab.locator('#status[data-state=connected]').waitFor(WAIT);
      await notice(tab, `${name} joined`).waitFor(WAIT);
      return tab;
    }

    const notice = (tab: Page, text: string) =>
      tab.locator('#log li.notice', { hasText: text }).last();
    const message = (tab: Page, user: string, text: string) =>
      tab.locator(`#log li.message[data-user="${user}"]`, { hasText: text }).last();

    async function say(tab: Page, text: string): Promise<void> {
      await tab.fill('#send input[name=text]', text);
      await tab.press('#send input[name=text]', 'Enter');
    }

    it('two tabs join one room, chat, see a refused message and a leave', async () => {
      const alice = await open('alice', 'g');
      const bob = await open('bob', 'g');
      await notice(alice, 'bob joined').waitFor(WAIT);
      await alice.locator('#members li[data-user=bob]').waitFor(WAIT);

      await say(alice, 'hello from a gateway');
      await message(bob, 'alice', 'hello from a gateway').waitFor(WAIT);
      await say(bob, 'hi alice');
      await message(alice, 'bob', 'hi alice').waitFor(WAIT);

      // Past the input's own limit: the gateway's ValidationPipe refuses it, and says why.
      await alice.evaluate(() =>
        document.querySelector('#send input[name=text]')?.removeAttribute('maxlength'),
      );
      await say(alice, 'x'.repeat(501));
      await alice
        .locator('#send-error', { hasText: 'text must be shorter than or equal to 500 characters' })
        .waitFor(WAIT);
      expect(await message(bob, 'alice', 'xxxxx').count()).toBe(0);

      await bob.click('#leave');
      await notice(alice, 'bob left').waitFor(WAIT);
      expect(errors).toEqual([]);
    });
  });
});
