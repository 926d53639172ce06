/**
 * The chat sample's whole flow below the browser (`sample/start-sample.ts`, its `AppModule`), on
 * Express and Fastify against the embedded emulator, with `@azure/web-pubsub-client` in Node:
 * - the page, its bundled script (no `process.env` in it) and a CSP whose `connect-src` is the
 *   emulator's socket only;
 * - negotiate reads only the tab's signed bearer pass: `401` to no pass, a bare `?userId=` query, a
 *   re-signed payload, a bad signature, a payload without signature, a `Basic` scheme and the pass
 *   sent as a cookie; `200` with `no-store` to the signed bearer pass; a pass signed with another
 *   secret or read after its expiry is refused; a bad join form is a `400` naming both fields, a
 *   good one a `200` pass with `no-store` and no cookie;
 * - alice and bob in one room see exactly `alice joined, bob joined, alice: hi bob, bob: hi alice,
 *   bob left`, the join notices carrying the members `[alice]` then `[alice, bob]`, the leave
 *   `[alice]`; carol in another room sees exactly her own join and message (her message is the sync
 *   point, sent after all of room a's traffic);
 * - six bad messages (empty, blank, 501 characters, an extra property, a number, plain text) are
 *   each refused (`SendMessageError`) and none is broadcast; 500 characters go through;
 * - a connection closed by the service reconnects through a second negotiate call and still chats.
 */
import {
  SendMessageError,
  WebPubSubClient,
  type OnGroupDataMessageArgs,
} from '@azure/web-pubsub-client';
import { WebPubSubServiceClients } from '../../lib/index.js';
import { jest } from '@jest/globals';
import type { ChatEvent } from '../../sample/chat-rules.js';
import { ChatSessions } from '../../sample/chat-sessions.js';
import type { RunningSample } from '../../sample/start-sample.js';
import { PLATFORMS } from '../utils/app.js';
import { buildChatPage, joinChat, startChatSample, type BuiltPage } from '../utils/chat-sample.js';
import { http } from '../utils/http.js';
import { waitFor } from '../utils/wait.js';

/** One chat participant: an `@azure/web-pubsub-client` in Node, with the page's negotiate call. */
interface Person {
  readonly name: string;
  readonly client: WebPubSubClient;
  readonly seen: ChatEvent[];
  negotiations: number;
}

function stopped(client: WebPubSubClient): Promise<void> {
  return new Promise(resolve => {
    // A client that was stopped already says nothing more.
    const timer = setTimeout(resolve, 2000);
    client.on('stopped', () => {
      clearTimeout(timer);
      resolve();
    });
    client.stop();
  });
}

const lines = (person: Person): string[] =>
  person.seen.map(event =>
    event.type === 'message' ? `${event.user}: ${event.text}` : `${event.user} ${event.type}`,
  );

describe.each(PLATFORMS)('the chat sample on %s', platform => {
  let page: BuiltPage;
  let sample: RunningSample;
  const people: Person[] = [];

  beforeAll(async () => {
    page = await buildChatPage();
    sample = await startChatSample(platform, page);
  });

  afterAll(async () => {
    await Promise.all(people.map(person => stopped(person.client)));
    await sample?.close();
    page?.remove();
  });

  async function person(name: string, room: string, retries = 3): Promise<Person> {
    const authorization = await joinChat(sample, name, room);
    const entry: Person = { name, client: undefined!, seen: [], negotiations: 0 };
    const client = new WebPubSubClient(
      {
        getClientAccessUrl: async () => {
          entry.negotiations++;
          const response = await http(`${sample.url}negotiate`, {
            method: 'POST',
            headers: { authorization },
          });
          if (response.status !== 200) throw new Error(`negotiate ${response.status}`);
          return (JSON.parse(response.text) as { url: string }).url;
        },
      },
      {
        messageRetryOptions: { maxRetries: retries, retryDelayInMs: 50 },
        reconnectRetryOptions: { maxRetries: 20, retryDelayInMs: 50 },
        // The SDK's keep-alive check timer (40 s) outlives stop(); the process would linger.
        keepAliveIntervalInMs: 0,
        keepAliveTimeoutInMs: 0,
      },
    );
    (entry as { client: WebPubSubClient }).client = client;
    client.on('group-message', (event: OnGroupDataMessageArgs) =>
      entry.seen.push(event.message.data as ChatEvent),
    );
    people.push(entry);
    await client.start();
    await waitFor(() => lines(entry).includes(`${name} joined`));
    return entry;
  }

  it('serves the page, its script and a CSP that allows only the service socket', async () => {
    const html = await http(sample.url);
    expect(html.status).toBe(200);
    expect(html.headers['content-type']).toMatch(/^text\/html/);
    expect(html.text).toContain('<script type="module" src="/chat.js">');
    const csp = String(html.headers['content-security-policy']);
    expect(csp).toContain(`connect-src 'self' ws://127.0.0.1:${sample.emulator!.port}`);
    expect(csp).toContain("script-src 'self'");
    const script = await http(`${sample.url}chat.js`);
    expect(script.status).toBe(200);
    expect(script.headers['content-type']).toMatch(/^text\/javascript/);
    // The bundle carries the client SDK and nothing of the build machine's environment.
    expect(script.text).toContain('json.reliable.webpubsub.azure.v1');
    expect(script.text).not.toMatch(/process\.env/);
  });

  it('signs in only through the form: negotiate refuses no token, a forged one, a cookie and a bare query; a pass expires after 12 hours', async () => {
    expect((await http(`${sample.url}negotiate`, { method: 'POST' })).status).toBe(401);
    expect((await http(`${sample.url}negotiate?userId=alice&user=alice`)).status).toBe(401);
    const authorization = await joinChat(sample, 'alice', 'room-a');
    const [payload, signature] = authorization.slice('Bearer '.length).split('.');
    const claims = (body: object) => Buffer.from(JSON.stringify(body)).toString('base64url');
    const forged = claims({ name: 'mallory', room: 'room-a', exp: 4102444800 });
    for (const bad of [
      `Bearer ${forged}.${signature}`,
      `Bearer ${payload}.x${signature}`,
      `Bearer ${payload}`,
      `Basic ${payload}.${signature}`,
    ]) {
      const refused = await http(`${sample.url}negotiate`, {
        method: 'POST',
        headers: { authorization: bad },
      });
      expect(refused.status).toBe(401);
    }
    // A session cookie is not a way in: the identity is the tab's bearer token only.
    const asCookie = await http(`${sample.url}negotiate`, {
      method: 'POST',
      headers: { cookie: `chat_session=${payload}.${signature}` },
    });
    expect(asCookie.status).toBe(401);
    const ok = await http(`${sample.url}negotiate`, { method: 'POST', headers: { authorization } });
    expect(ok.status).toBe(200);
    expect(ok.headers['cache-control']).toBe('no-store');
    expect(JSON.parse(ok.text).url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/client\/hubs\/chat\?/);
    const session = JSON.parse(
      (await http(`${sample.url}session`, { headers: { authorization } })).text,
    );
    expect(session).toEqual({
      user: { name: 'alice', room: 'room-a' },
      liveView: `${sample.emulator!.endpoint}/`,
    });
    const anonymous = JSON.parse((await http(`${sample.url}session`)).text);
    expect(anonymous.user).toBeNull();

    const sessions = new ChatSessions('a secret');
    const pass = sessions.issue({ name: 'alice', room: 'room-a' });
    const request = { headers: { authorization: `Bearer ${pass.token}` } };
    expect(sessions.read(request)).toEqual({ name: 'alice', room: 'room-a' });
    expect(new ChatSessions('another secret').read(request)).toBeNull();
    const later = jest.spyOn(Date, 'now').mockReturnValue((pass.expiresAt + 1) * 1000);
    try {
      expect(sessions.read(request)).toBeNull();
    } finally {
      later.mockRestore();
    }
  });

  it('refuses a bad join form with a 400 naming the field; a good one gets a pass and no cookie', async () => {
    const bad = await http(`${sample.url}join`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'name=&room=no%20spaces',
    });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('name: 1 to 24');
    expect(bad.text).toContain('room: 1 to 32');
    const good = await http(`${sample.url}join`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Zoë', room: 'lobby' }),
    });
    expect(good.status).toBe(200);
    expect(good.headers['cache-control']).toBe('no-store');
    expect(good.headerLines['set-cookie']).toBeUndefined();
    const pass = JSON.parse(good.text);
    expect(pass.user).toEqual({ name: 'Zoë', room: 'lobby' });
    expect(pass.token).toMatch(/^[\w-]+\.[\w-]+$/);
    expect(pass.expiresAt).toBeGreaterThan(Date.now() / 1000);
  });

  it('two people in a room chat and see each other join and leave; a third in another room sees none of it', async () => {
    const carol = await person('carol', 'room-b');
    const alice = await person('alice', 'room-a');
    const bob = await person('bob', 'room-a');
    await waitFor(() => lines(alice).includes('bob joined'));

    await alice.client.sendEvent('message', { text: 'hi bob' }, 'json');
    await waitFor(() => lines(bob).includes('alice: hi bob'));
    await bob.client.sendEvent('message', { text: 'hi alice' }, 'json');
    await waitFor(() => lines(alice).includes('bob: hi alice'));

    const joinedNotices = alice.seen.filter(event => event.type === 'joined');
    expect(joinedNotices.map(event => event.type !== 'message' && event.members)).toEqual([
      ['alice'],
      ['alice', 'bob'],
    ]);

    bob.client.stop();
    await waitFor(() => lines(alice).includes('bob left'));
    const leftNotice = alice.seen.find(event => event.type === 'left');
    expect(leftNotice?.type === 'left' && leftNotice.members).toEqual(['alice']);
    expect(lines(alice)).toEqual([
      'alice joined',
      'bob joined',
      'alice: hi bob',
      'bob: hi alice',
      'bob left',
    ]);

    // Positive sync point: everything of room-a went out before carol's own message did.
    await carol.client.sendEvent('message', { text: 'anyone?' }, 'json');
    await waitFor(() => lines(carol).includes('carol: anyone?'));
    expect(lines(carol)).toEqual(['carol joined', 'carol: anyone?']);
    expect(lines(alice)).not.toContain('carol: anyone?');
  });

  it('refuses messages that are not { text } (1 to 500 characters) and broadcasts none of them', async () => {
    const dave = await person('dave', 'room-v', 0);
    const erin = await person('erin', 'room-v');
    await waitFor(() => lines(dave).includes('erin joined'));
    for (const [data, type] of [
      [{ text: '' }, 'json'],
      [{ text: '   ' }, 'json'],
      [{ text: 'x'.repeat(501) }, 'json'],
      [{ text: 'hi', admin: true }, 'json'],
      [{ text: 42 }, 'json'],
      ['just text', 'text'],
    ] as const) {
      await expect(
        dave.client.sendEvent('message', data as never, type as 'json'),
      ).rejects.toBeInstanceOf(SendMessageError);
    }
    await dave.client.sendEvent('message', { text: 'x'.repeat(500) }, 'json');
    await waitFor(() => lines(erin).includes(`dave: ${'x'.repeat(500)}`));
    expect(lines(erin).filter(line => line.startsWith('dave:'))).toHaveLength(1);
  });

  it('a connection closed by the service reconnects with a freshly negotiated token and still chats', async () => {
    const frank = await person('frank', 'room-r');
    const grace = await person('grace', 'room-r');
    expect(frank.negotiations).toBe(1);
    const service = sample.app.get(WebPubSubServiceClients).get('chat');
    await service.closeUserConnections('frank', { reason: 'test' });
    await waitFor(
      () => lines(grace).includes('frank left') && lines(grace).includes('frank joined'),
    );
    expect(frank.negotiations).toBe(2);
    await frank.client.sendEvent('message', { text: 'back' }, 'json');
    await waitFor(() => lines(grace).includes('frank: back'));
  });
});
