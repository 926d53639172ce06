/**
 * The chat sample's page in headless Chromium (`playwright-core`), against the sample app and its
 * embedded emulator, on Express and Fastify. Everyone is a tab of ONE browser context (one profile:
 * shared cookies), so each tab being its own person proves the identity is per tab. Console errors
 * and page errors fail the step; a screenshot of every page after every step goes to
 * `test/artifacts/chat-<platform>-<step>-<name>.png`.
 * - carol joins room b (the join form is hidden once joined; the live-view link is the emulator's);
 * - alice and bob, two tabs, join room a as two people (`#me` differs, each room list reads `alice
 *   (you), bob` / `alice, bob (you)`, the context has no cookie) and exchange messages (`<b>`
 *   arrives as text; own messages have class `mine`, read `You` and sit right of the other's; every
 *   line has a `<time>` within a minute of now);
 * - a reload keeps alice as alice and negotiates once more, bob sees her leave and come back, and
 *   they chat; a connection closed by the service comes back with one more negotiate call;
 * - a new tab starts at the join form; bob closes his tab and alice's room list shrinks to herself;
 *   alice's Leave shows the join form and empties her `sessionStorage` while carol's tab, reloaded,
 *   is still carol; carol's log is exactly her own join and message.
 */
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

/** One person: one tab of the shared browser context (same cookies and storage origin), its console errors. */
interface Person {
  readonly name: string;
  readonly page: Page;
  readonly errors: string[];
  negotiations: number;
}

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
    let context: BrowserContext;
    const people: Person[] = [];
    let step = 0;

    beforeAll(async () => {
      sample = await startChatSample(platform, page);
      context = await browser.newContext({ viewport: { width: 900, height: 640 } });
    });

    afterAll(async () => {
      await context?.close();
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
      const tab = await context.newPage();
      const person: Person = { name, page: tab, errors: [], negotiations: 0 };
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
    const members = (person: Person) => person.page.locator('#members li').allTextContents();
    /** Waits until `person` has seen `text` once more than `before` times. */
    async function noticeAgain(person: Person, text: string, before: number): Promise<void> {
      await person.page.locator('#log li.notice', { hasText: text }).nth(before).waitFor(WAIT);
    }
    const count = (person: Person, text: string) =>
      person.page.locator('#log li.notice', { hasText: text }).count();

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

    it('alice and bob, two tabs of the same browser, join room a as two people and see who is in the room', async () => {
      const alice = await open('alice', 'a');
      const bob = await open('bob', 'a');
      await notice(alice, 'bob joined').waitFor(WAIT);
      expect(await bob.page.locator('#me').textContent()).toBe('bob');
      expect(await alice.page.locator('#me').textContent()).toBe('alice');
      await alice.page.locator('#members li[data-user=bob]').waitFor(WAIT);
      expect(await members(alice)).toEqual(['alice (you)', 'bob']);
      expect(await members(bob)).toEqual(['alice', 'bob (you)']);
      expect(await alice.page.locator('#member-count').textContent()).toBe('2');
      // One browser context, one cookie jar: the sign-in is not a cookie.
      expect(await context.cookies()).toEqual([]);
    });

    it('alice and bob exchange messages: text as text, own messages set apart, each with its time', async () => {
      const [, alice, bob] = people;
      await say(alice, 'hi bob <b>not bold</b>');
      await message(bob, 'alice', 'hi bob <b>not bold</b>').waitFor(WAIT);
      expect(await bob.page.locator('#log li.message b').count()).toBe(0);
      await say(bob, 'hi alice');
      await message(alice, 'bob', 'hi alice').waitFor(WAIT);
      await message(bob, 'bob', 'hi alice').waitFor(WAIT);
      // Own messages carry the class "mine" and read "You"; the other's do not.
      expect(await message(alice, 'alice', 'not bold').getAttribute('class')).toBe('message mine');
      expect(await message(alice, 'bob', 'hi alice').getAttribute('class')).toBe('message');
      expect(await message(alice, 'alice', 'not bold').locator('.user').textContent()).toBe('You');
      const mine = await message(alice, 'alice', 'not bold').boundingBox();
      const theirs = await message(alice, 'bob', 'hi alice').boundingBox();
      expect(mine!.x).toBeGreaterThan(theirs!.x);
      // Every message and notice shows when it happened, from the event's ISO time.
      const times = await alice.page.locator('#log li time').evaluateAll(nodes =>
        nodes.map(node => ({
          iso: node.getAttribute('datetime'),
          text: node.textContent,
        })),
      );
      expect(times.length).toBe(await alice.page.locator('#log li').count());
      for (const time of times) {
        expect(Math.abs(Date.parse(time.iso!) - Date.now())).toBeLessThan(60_000);
        expect(time.text).toMatch(/\d{1,2}:\d{2}/);
      }
    });

    it('a reload keeps the tab alice and reconnects her with a fresh token; bob sees her leave and come back, and they still chat', async () => {
      const [, alice, bob] = people;
      const before = alice.negotiations;
      const joins = await count(bob, 'alice joined');
      await alice.page.reload();
      await alice.page.locator('#status[data-state=connected]').waitFor(WAIT);
      expect(await alice.page.locator('#me').textContent()).toBe('alice');
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

    it('a new tab of the same browser starts signed out', async () => {
      const tab = await context.newPage();
      try {
        await tab.goto(sample.url);
        await tab.locator('#join').waitFor(WAIT);
        expect(await tab.locator('#chat').isVisible()).toBe(false);
      } finally {
        await tab.close();
      }
    });

    it('bob closes his tab and alice sees him leave and the room list shrink', async () => {
      const [, alice, bob] = people;
      await bob.page.close();
      await notice(alice, 'bob left').waitFor(WAIT);
      expect(await members(alice)).toEqual(['alice (you)']);
    });

    it('alice leaves: her tab shows the join form again, and carol, in another room, is still signed in', async () => {
      const [carol, alice] = people;
      await alice.page.click('#leave');
      await alice.page.locator('#join').waitFor(WAIT);
      expect(await alice.page.evaluate(() => sessionStorage.length)).toBe(0);
      await carol.page.reload();
      await carol.page.locator('#status[data-state=connected]').waitFor(WAIT);
      expect(await carol.page.locator('#me').textContent()).toBe('carol');
    });

    it('carol, in room b, saw none of room a', async () => {
      const [carol] = people;
      // Positive sync point: room a's traffic all went out before carol's own message did.
      await say(carol, 'anyone?');
      await message(carol, 'carol', 'anyone?').waitFor(WAIT);
      const seen = await carol.page
        .locator('#log li')
        .evaluateAll(nodes =>
          nodes.map(node => (node.querySelector('.what, .text') as HTMLElement).textContent),
        );
      // Her reload shows a fresh page: her own join, then her message.
      expect(seen).toEqual(['carol joined', 'anyone?']);
      expect(await members(carol)).toEqual(['carol (you)']);
    });
  });
});
