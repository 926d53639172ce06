/**
 * Group streams with the real `@azure/web-pubsub-client` 1.1.0 against the emulator: a writer's
 * `openGroupStream()` resolves (the open is acknowledged), its text, JSON and binary fragments
 * reach a second client's `onGroupStream()` in order and the stream ends; `abort()` ends it with
 * the writer's error (the reader's iteration fails with `UserError` and the user error code); an
 * open without the send role rejects `Forbidden` instead of hanging; a writer whose reliable
 * connection is cut (TCP reset through a proxy) mid-stream recovers, its paused stream resumes on
 * the recovered socket and the reader gets fragments 1–10 once, in order (with no `connected` on
 * the recovered socket the client never resumes and the test times out).
 */
import {
  WebPubSubClient,
  type GroupStream,
  type GroupStreamMessage,
} from '@azure/web-pubsub-client';
import { startEmulator, type RunningEmulator } from '../../../lib/emulator/index.js';
import { waitFor } from '../../utils/wait.js';
import { SDK_TEST_OPTIONS, clientUrl, CuttableProxy, FAST_TIMINGS, LogLines } from '../harness.js';

const ROLES = ['webpubsub.joinLeaveGroup', 'webpubsub.sendToGroup'];

interface Collected {
  readonly fragments: GroupStreamMessage[];
  readonly done: Promise<{ error?: unknown }>;
}

/** Reads one inbound stream to its end (or error). */
function collect(stream: GroupStream): Collected {
  const fragments: GroupStreamMessage[] = [];
  const done = (async () => {
    try {
      for await (const fragment of stream) fragments.push(fragment);
      return {};
    } catch (error) {
      return { error };
    }
  })();
  return { fragments, done };
}

describe('group streams with @azure/web-pubsub-client 1.1.0', () => {
  let emulator: RunningEmulator;
  const logs = new LogLines();
  const clients: WebPubSubClient[] = [];

  beforeAll(async () => {
    emulator = await startEmulator({ port: 0, log: logs.log, timings: FAST_TIMINGS });
  });

  afterEach(() => {
    for (const client of clients.splice(0)) client.stop();
  });

  afterAll(async () => {
    await emulator.close();
  });

  async function started(
    userId: string,
    roles = ROLES,
    connectionString = emulator.connectionString,
  ): Promise<WebPubSubClient> {
    const client = new WebPubSubClient(
      await clientUrl(connectionString, 'chat', { userId, roles }),
      { ...SDK_TEST_OPTIONS, messageRetryOptions: { maxRetries: 0 } },
    );
    clients.push(client);
    await client.start();
    await waitFor(async () => logs.matching(new RegExp(`connected as ${userId}`)).length > 0);
    return client;
  }

  /** A reader in `group` whose next inbound stream is collected. */
  async function reader(userId: string, group: string): Promise<{ next: Promise<Collected> }> {
    const client = await started(userId);
    await client.joinGroup(group);
    const next = new Promise<Collected>(resolve => {
      client.onGroupStream(stream => resolve(collect(stream)), { groupNames: [group] });
    });
    // Wrapped so that awaiting the reader does not wait for the stream.
    return { next };
  }

  it('opens, delivers fragments in order to another member, and ends', async () => {
    const inbound = await reader('reader1', 'live');
    const writer = await started('writer1');
    const stream = await writer.openGroupStream('live', { noEcho: true });
    await stream.write('a', 'text');
    await stream.write({ n: 2 }, 'json');
    await stream.write(new Uint8Array([1, 2, 3]).buffer, 'binary');
    await stream.end();
    const { fragments, done } = await inbound.next;
    expect(await done).toEqual({});
    expect(fragments.map(f => [f.stream.streamSequenceId, f.dataType, f.data])).toEqual([
      [1, 'text', 'a'],
      [2, 'json', { n: 2 }],
      [3, 'binary', new Uint8Array([1, 2, 3]).buffer],
    ]);
    expect(fragments.every(f => f.groupName === 'live' && f.fromUserId === 'writer1')).toBe(true);
    expect(fragments.every(f => f.stream.streamId === stream.streamId)).toBe(true);
  });

  it("ends with the writer's error: the reader's iteration fails with UserError and the code", async () => {
    const inbound = await reader('reader2', 'errors');
    const writer = await started('writer2');
    const stream = await writer.openGroupStream('errors');
    await stream.write('partial', 'text');
    await stream.abort({ message: 'upstream model failed', userErrorCode: 'E_MODEL' });
    const { fragments, done } = await inbound.next;
    expect(await done).toEqual({
      error: { name: 'UserError', message: 'upstream model failed', userErrorCode: 'E_MODEL' },
    });
    expect(fragments.map(f => f.data)).toEqual(['partial']);
  });

  it('refuses an open without the send role: openGroupStream rejects with Forbidden, no hang', async () => {
    const writer = await started('nobody', ['webpubsub.joinLeaveGroup']);
    await expect(writer.openGroupStream('closed')).rejects.toMatchObject({
      name: 'Forbidden',
      message: expect.stringContaining('no permission to send to group "closed"'),
    });
  });

  it('a writer on a reliable connection dropped mid-stream recovers and the reader gets every fragment once, in order', async () => {
    const proxy = new CuttableProxy(emulator.port);
    await proxy.start();
    try {
      const inbound = await reader('reader3', 'recover');
      const viaProxy = emulator.connectionString.replace(`:${emulator.port}`, `:${proxy.port}`);
      const writer = await started('writer3', ROLES, viaProxy);
      const stream = await writer.openGroupStream('recover');
      for (let i = 1; i <= 5; i++) await stream.write(`before ${i}`, 'text');
      proxy.cut();
      // The emulator logs the drop, unless the client's recovery arrives first and takes over.
      await waitFor(() => logs.matching(/chat\/\S+ (dropped|recovered)/).length > 0);
      // Written while the socket is gone: queued by the client, sent after the recovery.
      const pending = [6, 7, 8].map(i => stream.write(`during ${i}`, 'text'));
      await waitFor(() => logs.matching(/chat\/\S+ recovered/).length > 0, 10_000);
      await Promise.all(pending);
      for (let i = 9; i <= 10; i++) await stream.write(`after ${i}`, 'text');
      await stream.end();
      const { fragments, done } = await inbound.next;
      expect(await done).toEqual({});
      expect(fragments.map(f => f.stream.streamSequenceId)).toEqual([
        1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
      ]);
      expect(fragments.map(f => f.data)).toEqual([
        'before 1',
        'before 2',
        'before 3',
        'before 4',
        'before 5',
        'during 6',
        'during 7',
        'during 8',
        'after 9',
        'after 10',
      ]);
    } finally {
      await proxy.close();
    }
  });
});
