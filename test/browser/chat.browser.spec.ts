import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { WebPubSubServiceClients } from '../../lib/index.js';
import type { RunningSample } from '../../sample/start-sample.js';
import { CHROMIUM_ARGS, findChromium } from '../utils/browser.js';
import { buildChatPage, startChatSample, type BuiltPage } from '../utils/chat-sample.js';
import { PLATFORMS } from '../utils/app.js';

const ARTIFACTS = join(import.meta.dirname ?? process.cwd(), '..', 'artifacts');
const WAIT = { timeout: 10_000 };

/** One person: a browser context of their own (own cookies), one page, its console errors. */
interface Person {
  readonly name: string;
  readonly context: BrowserContext;
  readonly page: Page;
  readonly errors: string[];
  negotiations: number;
}

/**
 * The chat sample's page in headless Chromium, against the sample app and its embedded emulator:
 * two people in a room see each other join, chat and leave; a third in another room sees none of
 * it; a reload and a connection closed by the service both come back with a fresh token.
 */
describe('the chat page in Chromium', () => {
  let browser: Browser;
  let page: BuiltPage;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    page = await buildChatPage();
    // Playwright gives the browser a fresh temporary profile of its own and removes it on close.
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
    const people: Person[] = [];
    let step = 0;

    beforeAll(async () => {
      sample = await startChatSample(platform, page);
    });

    afterAll(async () => {
      for (const person of people) await person.context.close();
      await sample?.close();
    });

    afterEach(async () => {
      // Every step ends with a screenshot of every open page (on failure too).
      for (const person of people) {
        if (!person.page.isClosed()) {
          await person.page.screenshot({
            path: join(
              ARTIFACTS,
              `chat-${platform}-${String(step).padStart(2, '0')}-${person.name}.png`,
            ),
          });
        }
      }
      step++;
      for (const person of people) expect(person.errors).toEqual([]);
    });

    async function open(name: string, room: string): Promise<Person> {
      const context = await browser.newContext({ viewport: { width: 900, height: 640 } });
      const tab = await context.newPage();
      const person: Person = { name, context, page: tab, errors: [], negotiations: 0 };
      tab.on('console', message => {
        if (message.type() === 'error') person.errors.push(`console: ${message.text()}`);
      });
      tab.on('pageerror', error => person.errors.push(`page error: ${error.message}`));
      tab.on('request', request => {
        if (new URL(request.url()).pathname === '/negotiate') person.negotiations++;
      });
      people.push(person);
      await tab.goto(sample.url);
      await tab.locator('#join').waitFor(WAIT);
      expect(await tab.locator('#chat').isVisible()).toBe(false);
      await tab.fill('#join input[name=name]', name);
      await tab.fill('#join input[name=room]', room);
      await tab.click('#join button[type=submit]');
      await tab.locator('#status[data-state=connected]').waitFor(WAIT);
      await notice(person, `${name} joined`).waitFor(WAIT);
      expect(await tab.locator('#join').isVisible()).toBe(false);
      return person;
    }

    const notice = (person: Person, text: string) =>
      person.page.locator('#log li.notice', { hasText: text }).last();
    const message = (person: Person, user: string, text: string) =>
      person.page.locator(`#log li.message[data-user="${user}"]`, { hasText: text }).last();
    /** Waits until `person` has seen `text` once more than `before` times. */
    async function noticeAgain(person: Person, text: string, before: number): Promise<void> {
      await person.page.locator('#log li.notice', { hasText: text }).nth(before).waitFor(WAIT);
    }
    const count = (person: Person, text: string) =>
      person.page.locator('#log li.notice', { hasText: text }).count();
    const log = (person: Person) => person.page.locator('#log li').allTextContents();

    async function say(person: Person, text: string): Promise<void> {
      await person.page.fill('#send input[name=text]', text);
      await person.page.press('#send input[name=text]', 'Enter');
    }

    it('carol joins room b and sees her own join notice', async () => {
      const carol = await open('carol', 'b');
      expect(await carol.page.locator('#me').textContent()).toBe('carol');
      expect(await carol.page.locator('#room').textContent()).toBe('b');
      expect(await carol.page.locator('#live-view').getAttribute('href')).toBe(
        `${sample.emulator!.endpoint}/`,
      );
    });

    it('alice and bob join room a and each sees the other join', async () => {
      const alice = await open('alice', 'a');
      await open('bob', 'a');
      await notice(alice, 'bob joined').waitFor(WAIT);
    });

    it('alice and bob exchange messages (text reaches the page as text)', async () => {
      const [, alice, bob] = people;
      await say(alice, 'hi bob <b>not bold</b>');
      await message(bob, 'alice', 'hi bob <b>not bold</b>').waitFor(WAIT);
      expect(await bob.page.locator('#log li.message b').count()).toBe(0);
      await say(bob, 'hi alice');
      await message(alice, 'bob', 'hi alice').waitFor(WAIT);
    });

    it('a reload reconnects alice with a fresh token, bob sees her leave and come back, and they still chat', async () => {
      const [, alice, bob] = people;
      const before = alice.negotiations;
      const joins = await count(bob, 'alice joined');
      await alice.page.reload();
      await alice.page.locator('#status[data-state=connected]').waitFor(WAIT);
      await notice(bob, 'alice left').waitFor(WAIT);
      await noticeAgain(bob, 'alice joined', joins);
      expect(alice.negotiations).toBe(before + 1);
      await say(alice, 'back again');
      await message(bob, 'alice', 'back again').waitFor(WAIT);
    });

    it('a connection closed by the service comes back with a freshly negotiated token', async () => {
      const [, alice, bob] = people;
      const before = alice.negotiations;
      const joins = await count(bob, 'alice joined');
      const service = sample.app.get(WebPubSubServiceClients).get('chat');
      await service.closeUserConnections('alice', { reason: 'browser test' });
      await noticeAgain(bob, 'alice joined', joins);
      await alice.page.locator('#status[data-state=connected]').waitFor(WAIT);
      expect(alice.negotiations).toBe(before + 1);
      await say(alice, 'still here');
      await message(bob, 'alice', 'still here').waitFor(WAIT);
    });

    it('bob closes his page and alice sees him leave', async () => {
      const [, alice, bob] = people;
      await bob.page.close();
      await notice(alice, 'bob left').waitFor(WAIT);
    });

    it('carol, in room b, saw none of room a', async () => {
      const [carol] = people;
      // Positive sync point: room a's traffic all went out before carol's own message did.
      await say(carol, 'anyone?');
      await message(carol, 'carol', 'anyone?').waitFor(WAIT);
      expect(await log(carol)).toEqual(['carol joined', 'carolanyone?']);
    });
  });
});
