/**
 * The emulator when upstreams and clients misbehave, against a recording `node:http` upstream and
 * raw clients:
 * - upstream down: the client gets 500 with the reason, the validation failure logged once for 3
 *   attempts; a handshake that allows another origin: no event sent, the ack and the log say why; a
 *   URL that failed its handshake is checked again after `validationRetryMs` and then called
 *   (`OPTIONS`, `OPTIONS`, `POST`), the failure logged once;
 * - a 300 ms timeout, a cut answer, a 500: `InternalServerError` acks while another connection is
 *   served; a `connect` slower than the blocking timeout → 500 `no answer within 300 ms`, logged
 *   once; `connected` retried after two 503s with the same `ce-id` (log: 503, 503 retry 1, 204
 *   retry 2), and after a timeout and then a reset (log: timeout, reset retry 1, 204 retry 2);
 * - a client that vanished without a close frame is cut by keep-alive, one `disconnected`; 500
 *   events flooded by one client are all acked in order while another client is served; a reliable
 *   client with 3 unacked messages at most gets 1008 and one `disconnected`, a `sequenceAck` makes
 *   room; a client that stops reading is cut once its send buffer passes the limit (256 KiB in the
 *   spec, 16 MB by default), logged once, others still served;
 * - no token or access key in any traffic record;
 * - `close()` with clients, a pending connect, a recovery window and a pending retry leaves no new
 *   entry in `process.getActiveResourcesInfo()`.
 */
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { startEmulator, type RunningEmulator } from '../../../lib/emulator/index.js';
import { waitFor } from '../../utils/wait.js';
import {
  clientUrl,
  FAST_TIMINGS,
  listen,
  LogLines,
  newHandles,
  RawClient,
  recordingUpstream,
  type UpstreamRequest,
} from '../harness.js';

const JSON_V1 = 'json.webpubsub.azure.v1';
const RELIABLE = 'json.reliable.webpubsub.azure.v1';
const ALL_EVENTS = ['connect', 'connected', 'disconnected'] as const;

/** A loopback port nothing listens on. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise(resolve => server.close(resolve));
  return port;
}

async function jsonClient(
  emulator: RunningEmulator,
  hub: string,
  protocol = JSON_V1,
): Promise<RawClient> {
  const raw = new RawClient(await clientUrl(emulator.connectionString, hub), protocol);
  await raw.opened;
  await waitFor(() => raw.messages().length === 1);
  return raw;
}

function acks(raw: RawClient): any[] {
  return raw.messages().filter(message => message.type === 'ack');
}

describe('emulator faults', () => {
  const opened: RawClient[] = [];
  afterEach(() => {
    for (const raw of opened.splice(0)) raw.ws.terminate();
  });

  it('an upstream that is down fails the handshake; the client gets 500 saying why; the fault is logged once', async () => {
    const logs = new LogLines();
    const port = await deadPort();
    const emulator = await startEmulator({
      port: 0,
      log: logs.log,
      timings: FAST_TIMINGS,
      hubs: {
        chat: {
          eventHandlers: [
            { urlTemplate: `http://127.0.0.1:${port}/{event}`, systemEvents: ALL_EVENTS },
          ],
        },
      },
    });
    try {
      for (let i = 0; i < 3; i++) {
        const raw = new RawClient(await clientUrl(emulator.connectionString, 'chat'));
        opened.push(raw);
        await expect(raw.opened).rejects.toMatchObject({
          status: 500,
          body: expect.stringContaining('failed validation: connection refused'),
        });
      }
      expect(logs.matching(/validation of .* failed/)).toEqual([
        `upstream validation of http://127.0.0.1:${port}/validate failed: connection refused (is the event handler running?); no events are sent to it`,
      ]);
    } finally {
      await emulator.close();
    }
  });

  it('an upstream whose handshake does not allow the origin is not called; the ack and the log say why', async () => {
    const logs = new LogLines();
    const upstream = await recordingUpstream(undefined, 'someone-else.example');
    const emulator = await startEmulator({
      port: 0,
      log: logs.log,
      timings: FAST_TIMINGS,
      hubs: {
        chat: {
          eventHandlers: [{ urlTemplate: `${upstream.url}/{event}`, userEventPattern: '*' }],
        },
      },
    });
    try {
      const raw = await jsonClient(emulator, 'chat');
      opened.push(raw);
      raw.send({ type: 'event', event: 'hello', ackId: 1, dataType: 'text', data: 'x' });
      raw.send({ type: 'event', event: 'hello', ackId: 2, dataType: 'text', data: 'x' });
      await waitFor(() => acks(raw).length === 2);
      expect(acks(raw)[0]).toEqual({
        type: 'ack',
        ackId: 1,
        success: false,
        error: {
          name: 'InternalServerError',
          message: expect.stringContaining('allows neither * nor 127.0.0.1'),
        },
      });
      expect(upstream.requests.map(request => request.method)).toEqual(['OPTIONS']);
      expect(logs.matching(/validation of/)).toHaveLength(1);
    } finally {
      await emulator.close();
      await upstream.close();
    }
  });

  it('checks a URL that failed its handshake again after validationRetryMs, and calls it once it passes', async () => {
    const logs = new LogLines();
    let allowed = 'someone-else.example';
    const methods: string[] = [];
    const server = createHttpServer((req, res) => {
      methods.push(req.method ?? '');
      req.resume();
      if (req.method === 'OPTIONS') res.writeHead(200, { 'webhook-allowed-origin': allowed });
      else res.writeHead(204);
      res.end();
    });
    const upstream = await listen(server);
    const emulator = await startEmulator({
      port: 0,
      log: logs.log,
      timings: { ...FAST_TIMINGS, validationRetryMs: 200 },
      hubs: {
        chat: {
          eventHandlers: [{ urlTemplate: `${upstream.url}/{event}`, userEventPattern: '*' }],
        },
      },
    });
    try {
      const raw = await jsonClient(emulator, 'chat');
      opened.push(raw);
      raw.send({ type: 'event', event: 'hello', ackId: 1, dataType: 'text', data: 'x' });
      await waitFor(() => acks(raw).length === 1);
      expect(acks(raw)[0]).toMatchObject({
        success: false,
        error: { name: 'InternalServerError' },
      });
      allowed = '*';
      const failedAt = Date.now();
      await waitFor(() => Date.now() - failedAt > 250);
      raw.send({ type: 'event', event: 'hello', ackId: 2, dataType: 'text', data: 'x' });
      await waitFor(() => acks(raw).length === 2);
      expect(acks(raw)[1]).toEqual({ type: 'ack', ackId: 2, success: true });
      expect(methods).toEqual(['OPTIONS', 'OPTIONS', 'POST']);
      expect(logs.matching(/validation of .* failed/)).toHaveLength(1);
    } finally {
      await emulator.close();
      await upstream.close();
    }
  });

  describe('with a misbehaving upstream', () => {
    let emulator: RunningEmulator;
    let upstream: Awaited<ReturnType<typeof recordingUpstream>>;
    const logs = new LogLines();
    let connectedFailures = 0;
    const sleepyAttempts = new Map<string, number>();

    beforeAll(async () => {
      upstream = await recordingUpstream(async (request: UpstreamRequest) => {
        const event = request.headers['ce-eventname'];
        const text = request.body.toString('utf8');
        if (event === 'connected' && request.url.includes('flaky') && connectedFailures < 2) {
          connectedFailures++;
          return { status: 503 };
        }
        if (request.url.startsWith('/sleepy/')) {
          if (event === 'connect')
            return text.includes('"hang"') ? { hang: true } : { status: 204 };
          // connected: the first attempt times out, the second is reset, the third succeeds.
          const id = request.headers['ce-connectionid'] as string;
          const attempt = (sleepyAttempts.get(id) ?? 0) + 1;
          sleepyAttempts.set(id, attempt);
          return attempt === 1 ? { hang: true } : attempt === 2 ? { reset: true } : { status: 204 };
        }
        if (event === 'slow') return { hang: true };
        if (event === 'cut')
          return { status: 200, headers: { 'content-type': 'application/json' }, cutMidway: true };
        if (event === 'boom') return { status: 500, body: 'stack trace would be here' };
        if (event === 'connect' || event === 'connected' || event === 'disconnected')
          return { status: 204 };
        return { status: 200, headers: { 'content-type': 'text/plain' }, body: `re: ${text}` };
      });
      emulator = await startEmulator({
        port: 0,
        log: logs.log,
        timings: { ...FAST_TIMINGS, blockingTimeoutMs: 300, nonBlockingTimeoutMs: 300 },
        hubs: {
          chat: {
            eventHandlers: [
              {
                urlTemplate: `${upstream.url}/{event}`,
                userEventPattern: '*',
                systemEvents: ALL_EVENTS,
              },
            ],
          },
          flaky: {
            eventHandlers: [
              { urlTemplate: `${upstream.url}/flaky/{event}`, systemEvents: ['connected'] },
            ],
          },
          sleepy: {
            eventHandlers: [
              {
                urlTemplate: `${upstream.url}/sleepy/{event}`,
                systemEvents: ['connect', 'connected'],
              },
            ],
          },
        },
      });
    });

    afterAll(async () => {
      await emulator?.close();
      await upstream?.close();
    });

    it('times out a slow event, answers a cut response and a 5xx with InternalServerError acks, and keeps serving', async () => {
      const slow = await jsonClient(emulator, 'chat');
      const other = await jsonClient(emulator, 'chat');
      opened.push(slow, other);
      slow.send({ type: 'event', event: 'slow', ackId: 1, dataType: 'text', data: 'x' });
      await waitFor(() => upstream.events('slow').length === 1);
      // While the slow call waits, another connection is served.
      other.send({ type: 'event', event: 'fast', ackId: 1, dataType: 'text', data: 'y' });
      await waitFor(() => acks(other).length === 1);
      expect(acks(slow)).toHaveLength(0);
      await waitFor(() => acks(slow).length === 1);
      expect(acks(slow)[0]).toEqual({
        type: 'ack',
        ackId: 1,
        success: false,
        error: { name: 'InternalServerError', message: 'no answer within 300 ms' },
      });
      slow.send({ type: 'event', event: 'cut', ackId: 2, dataType: 'text', data: 'x' });
      slow.send({ type: 'event', event: 'boom', ackId: 3, dataType: 'text', data: 'x' });
      slow.send({ type: 'event', event: 'fine', ackId: 4, dataType: 'text', data: 'x' });
      await waitFor(() => acks(slow).length === 4);
      expect(acks(slow).slice(1)).toEqual([
        {
          type: 'ack',
          ackId: 2,
          success: false,
          error: {
            name: 'InternalServerError',
            message: 'the connection closed in the middle of the answer',
          },
        },
        {
          type: 'ack',
          ackId: 3,
          success: false,
          error: { name: 'InternalServerError', message: 'the event handler answered 500' },
        },
        { type: 'ack', ackId: 4, success: true },
      ]);
      expect(slow.closed).toBeUndefined();
      // One log line per call, each fault once.
      for (const event of ['slow', 'cut', 'boom']) {
        expect(logs.matching(new RegExp(`^upstream ${event} `))).toHaveLength(1);
      }
    });

    it('retries a non-blocking event after 5xx with the same ce-id, on the retry schedule', async () => {
      const raw = await jsonClient(emulator, 'flaky');
      opened.push(raw);
      const { connectionId } = raw.messages()[0];
      await waitFor(
        () =>
          upstream.events('connected').filter(e => e.headers['ce-connectionid'] === connectionId)
            .length === 3,
      );
      await waitFor(
        () => logs.matching(new RegExp(`^upstream connected .*${connectionId}`)).length === 3,
      );
      const attempts = upstream
        .events('connected')
        .filter(e => e.headers['ce-connectionid'] === connectionId);
      expect(new Set(attempts.map(attempt => attempt.headers['ce-id'])).size).toBe(1);
      expect(
        logs
          .matching(new RegExp(`^upstream connected .*${connectionId}`))
          .map(line => line.replace(/ in [\d.]+ ms/, '')),
      ).toEqual([
        expect.stringMatching(/→ 503$/),
        expect.stringMatching(/→ 503 \(retry 1\)$/),
        expect.stringMatching(/→ 204 \(retry 2\)$/),
      ]);
    });

    it('refuses a client whose connect handler is slower than the blocking timeout (500, saying so)', async () => {
      const raw = new RawClient(
        `${await clientUrl(emulator.connectionString, 'sleepy')}&mode=hang`,
      );
      opened.push(raw);
      await expect(raw.opened).rejects.toMatchObject({
        status: 500,
        body: 'no answer within 300 ms\n',
      });
      expect(
        logs.matching(/^upstream connect .*\/sleepy\/connect .*failed: no answer within 300 ms/),
      ).toHaveLength(1);
    });

    it('retries a non-blocking event after a timeout and a reset, with the same ce-id', async () => {
      const raw = await jsonClient(emulator, 'sleepy');
      opened.push(raw);
      const { connectionId } = raw.messages()[0];
      const lines = () => logs.matching(new RegExp(`^upstream connected .*${connectionId}`));
      await waitFor(() => lines().length === 3);
      expect(lines().map(line => line.replace(/ in [\d.]+ ms/, ''))).toEqual([
        expect.stringMatching(/→ failed: no answer within 300 ms$/),
        expect.stringMatching(/→ failed: the connection was reset \(retry 1\)$/),
        expect.stringMatching(/→ 204 \(retry 2\)$/),
      ]);
      const attempts = upstream
        .events('connected')
        .filter(e => e.headers['ce-connectionid'] === connectionId);
      expect(attempts).toHaveLength(3);
      expect(new Set(attempts.map(attempt => attempt.headers['ce-id'])).size).toBe(1);
    });

    it('cuts a client that vanished without a close frame (no pong) and sends disconnected once', async () => {
      const raw = new RawClient(await clientUrl(emulator.connectionString, 'chat'));
      opened.push(raw);
      await raw.opened;
      await waitFor(() =>
        emulator.traffic.snapshot().some(r => r.action === 'connected' && r.kind === 'connection'),
      );
      const record = emulator.traffic
        .snapshot()
        .filter(r => r.kind === 'connection' && r.action === 'connected')
        .at(-1);
      const connectionId = record?.connectionId as string;
      // The client stops reading: it answers no ping, as a laptop that went to sleep.
      (raw.ws as unknown as { _socket: { pause(): void } })._socket.pause();
      await waitFor(
        () =>
          upstream.events('disconnected').some(e => e.headers['ce-connectionid'] === connectionId),
        5000,
      );
      const disconnected = upstream
        .events('disconnected')
        .filter(e => e.headers['ce-connectionid'] === connectionId);
      expect(disconnected).toHaveLength(1);
      expect(JSON.parse(disconnected[0].body.toString('utf8'))).toEqual({
        reason: 'the socket closed without a close frame',
      });
    });

    it('keeps serving others while one client floods it, and loses none of the flood', async () => {
      const flooder = await jsonClient(emulator, 'chat');
      const other = await jsonClient(emulator, 'chat');
      opened.push(flooder, other);
      const count = 500;
      for (let i = 1; i <= count; i++) {
        flooder.send({
          type: 'event',
          event: 'flood',
          ackId: i,
          dataType: 'text',
          data: String(i),
        });
      }
      await waitFor(() => acks(flooder).length > 10);
      other.send({ type: 'event', event: 'fast', ackId: 1, dataType: 'text', data: 'me too' });
      await waitFor(() => acks(other).length === 1);
      const floodAcksWhenServed = acks(flooder).length;
      await waitFor(() => acks(flooder).length === count, 20_000);
      expect(floodAcksWhenServed).toBeLessThan(count);
      expect(acks(flooder).map(ack => ack.ackId)).toEqual(
        Array.from({ length: count }, (_, i) => i + 1),
      );
      expect(acks(flooder).every(ack => ack.success)).toBe(true);
    });
  });

  it('ends a reliable connection whose unacked messages overflow the buffer, with 1008 and disconnected', async () => {
    const emulator = await startEmulator({
      port: 0,
      log: () => undefined,
      timings: { ...FAST_TIMINGS, maxUnackedMessages: 3 },
    });
    try {
      const raw = await jsonClient(emulator, 'chat', RELIABLE);
      opened.push(raw);
      const { connectionId } = raw.messages()[0];
      for (let i = 1; i <= 3; i++)
        emulator.hubs.sendToConnection('chat', connectionId, {
          dataType: 'text',
          data: Buffer.from(String(i)),
        });
      await waitFor(() => raw.messages().length === 4);
      // Acknowledging makes room again.
      raw.send({ type: 'sequenceAck', sequenceId: 3 });
      // A ping after the ack: its pong shows the ack was read.
      raw.send({ type: 'ping' });
      await waitFor(() => raw.messages().some(m => m.type === 'pong'));
      for (let i = 4; i <= 6; i++)
        emulator.hubs.sendToConnection('chat', connectionId, {
          dataType: 'text',
          data: Buffer.from(String(i)),
        });
      await waitFor(() => raw.messages().length === 8);
      expect(raw.closed).toBeUndefined();
      emulator.hubs.sendToConnection('chat', connectionId, {
        dataType: 'text',
        data: Buffer.from('7'),
      });
      expect(await raw.done).toEqual({
        code: 1008,
        reason: expect.stringContaining('did not acknowledge'),
      });
      expect(raw.messages().map(m => m.sequenceId ?? m.event ?? m.type)).toEqual([
        'connected',
        1,
        2,
        3,
        'pong',
        4,
        5,
        6,
        'disconnected',
      ]);
    } finally {
      await emulator.close();
    }
  });

  it('cuts a client that stops reading while messages pile up, once, and keeps serving others', async () => {
    const logs = new LogLines();
    const emulator = await startEmulator({
      port: 0,
      log: logs.log,
      timings: { ...FAST_TIMINGS, maxBufferedBytes: 256 * 1024 },
    });
    try {
      const stalled = new RawClient(
        await clientUrl(emulator.connectionString, 'chat', { userId: 'slow' }),
      );
      const reader = await jsonClient(emulator, 'chat');
      opened.push(stalled, reader);
      await stalled.opened;
      await waitFor(() => emulator.hubs.userExists('chat', 'slow'));
      (stalled.ws as unknown as { _socket: { pause(): void } })._socket.pause();
      const chunk = { dataType: 'binary' as const, data: Buffer.alloc(256 * 1024) };
      for (let i = 0; i < 200 && emulator.hubs.userExists('chat', 'slow'); i++) {
        emulator.hubs.sendToUser('chat', 'slow', chunk);
        await new Promise(resolve => setImmediate(resolve));
      }
      await waitFor(() => !emulator.hubs.userExists('chat', 'slow'));
      expect(logs.matching(/does not read its messages/)).toHaveLength(1);
      emulator.hubs.sendToAll('chat', { dataType: 'text', data: Buffer.from('still here') });
      await waitFor(() => reader.messages().length === 2);
      expect(reader.messages()[1]).toMatchObject({ data: 'still here' });
    } finally {
      await emulator.close();
    }
  });

  it('keeps tokens and the access key out of every traffic record', async () => {
    const upstream = await recordingUpstream();
    const emulator = await startEmulator({
      port: 0,
      log: () => undefined,
      timings: FAST_TIMINGS,
      hubs: {
        chat: {
          eventHandlers: [
            {
              urlTemplate: `${upstream.url}/{event}`,
              userEventPattern: '*',
              systemEvents: [...ALL_EVENTS],
            },
          ],
        },
      },
    });
    try {
      const url = await clientUrl(emulator.connectionString, 'chat', { userId: 'u' });
      const raw = new RawClient(url, JSON_V1, {
        authorization: `Bearer ${new URL(url).searchParams.get('access_token')}`,
      });
      opened.push(raw);
      await raw.opened;
      await waitFor(() => upstream.events('connected').length === 1);
      const records = JSON.stringify(emulator.traffic.snapshot());
      expect(records).toContain('"action":"connect"');
      expect(records).not.toContain(new URL(url).searchParams.get('access_token'));
      expect(records).not.toContain(emulator.accessKey);
      expect(records.toLowerCase()).not.toContain('authorization');
    } finally {
      await emulator.close();
      await upstream.close();
    }
  });

  it('close() leaves no socket or timer behind: clients, a pending connect, a recovery window, a retry', async () => {
    const before = process.getActiveResourcesInfo();
    const upstream = await recordingUpstream((request: UpstreamRequest) => {
      const event = request.headers['ce-eventname'];
      if (event === 'connect' && request.body.toString('utf8').includes('"hang"'))
        return { hang: true };
      if (event === 'disconnected') return { status: 500 };
      return { status: 204 };
    });
    const emulator = await startEmulator({
      port: 0,
      log: () => undefined,
      timings: {
        ...FAST_TIMINGS,
        recoveryWindowMs: 60_000,
        retryDelaysMs: [60_000],
        keepAliveIntervalMs: 60_000,
      },
      hubs: {
        chat: {
          eventHandlers: [
            {
              urlTemplate: `${upstream.url}/{event}`,
              userEventPattern: '*',
              systemEvents: ALL_EVENTS,
            },
          ],
        },
      },
    });
    const simple = new RawClient(await clientUrl(emulator.connectionString, 'chat'));
    await simple.opened;
    const json = await jsonClient(emulator, 'chat');
    const reliable = await jsonClient(emulator, 'chat', RELIABLE);
    const dropped = await jsonClient(emulator, 'chat', RELIABLE);
    dropped.ws.terminate();
    // A simple client ending makes a disconnected event that fails and waits 60 s to retry.
    const leaving = new RawClient(await clientUrl(emulator.connectionString, 'chat'));
    await leaving.opened;
    leaving.ws.close();
    await waitFor(() => upstream.events('disconnected').length === 1);
    const pending = new RawClient(
      `${await clientUrl(emulator.connectionString, 'chat')}&mode=hang`,
    );
    await waitFor(() =>
      upstream.events('connect').some(e => e.body.toString('utf8').includes('"hang"')),
    );
    expect(newHandles(before).length).toBeGreaterThan(0);

    await emulator.close();
    for (const raw of [simple, json, reliable]) {
      expect(await raw.done).toEqual({ code: 1001, reason: 'the emulator is shutting down' });
    }
    await expect(pending.opened).rejects.toBeDefined();
    await upstream.close();
    await waitFor(() => newHandles(before).length === 0, 3000).catch(() => undefined);
    expect(newHandles(before)).toEqual([]);
  });
});
