/**
 * De-duplication in a real `redis-server` shared by two app instances, on Express and Fastify. The
 * spec starts Redis itself (free loopback port, `--save '' --appendonly no`, stopped after;
 * `test/utils/redis.ts` fails with an install hint when `redis-server` is missing, never skips).
 * One instance is given an `ioredis` client, the other creates its own from a URL:
 * - a retry sent to the other instance is answered from Redis (same status, body, content type,
 *   `ce-connectionState`) with its handler run 0 times; the same slow event sent to both at once
 *   runs 1 handler;
 * - a 5xx is not stored (key absent) and the retry runs the handler again; the key is
 *   `webpubsub:dedup:chat:conn%3A9:azure.webpubsub.user.message:r%3A2` with a PTTL within the
 *   `ttl`;
 * - a claim held elsewhere past the wait (`handlerTimeout` 200 ms) → 503, `Retry-After: 1`, handler
 *   not run;
 * - Redis stopped: 10 events (5 per instance) all answered 200 by their handler, exactly 1 warning
 *   per instance; after a restart exactly 1 recovery line per instance and de-duplication works
 *   again;
 * - Redis paused for 5 s (`CLIENT PAUSE`): the event is answered by its handler after 450 ms–4 s
 *   (the 500 ms `commandTimeout`, not the pause), 1 more warning, 1 recovery line, and the claim
 *   that reached Redis late is overwritten by the answer (a retry on the other instance is
 *   replayed, its handler run 0 times).
 */
import { Redis } from 'ioredis';
import { WebPubSubModule, type WebPubSubModuleOptions } from '../../lib/index.js';
import { RetryHandlers } from '../fixtures/retry.handlers.js';
import { CapturingLogger, startApp, PLATFORMS, type TestApp } from '../utils/app.js';
import { CONNECTION_STRING, eventHeaders, type EventOptions } from '../utils/events.js';
import { http } from '../utils/http.js';
import { startRedis, type RedisServer } from '../utils/redis.js';
import { waitFor } from '../utils/wait.js';

const TTL = 60_000;

describe.each(PLATFORMS)('de-duplication in Redis shared by two instances on %s', platform => {
  let redis: RedisServer;
  let userClient: Redis;
  let inspector: Redis;
  let a: TestApp;
  let b: TestApp;
  const logger = new CapturingLogger();

  const start = (deduplication: WebPubSubModuleOptions['deduplication'], handlerTimeout?: number) =>
    startApp(
      platform,
      {
        imports: [
          WebPubSubModule.forRoot({
            hub: 'chat',
            connectionString: CONNECTION_STRING,
            deduplication,
            ...(handlerTimeout === undefined ? {} : { handlerTimeout }),
          }),
        ],
        providers: [RetryHandlers],
      },
      { logger },
    );

  beforeAll(async () => {
    redis = await startRedis();
    userClient = new Redis({ port: redis.port, host: '127.0.0.1', lazyConnect: true });
    userClient.on('error', () => undefined);
    await userClient.connect();
    inspector = new Redis({ port: redis.port, host: '127.0.0.1' });
    inspector.on('error', () => undefined);
    // Instance A is given a client; instance B creates its own from connection options.
    a = await start({ redis: { client: userClient }, ttl: TTL });
    b = await start({ redis: { connection: redis.url }, ttl: TTL });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    inspector?.disconnect();
    userClient?.disconnect();
    await redis?.stop();
  });

  const runs = (app: TestApp, key: string) => app.app.get(RetryHandlers).runs.get(key) ?? 0;
  const post = (app: TestApp, event: string, id: string, options: EventOptions = {}) =>
    http(`${app.url}/eventhandler`, {
      method: 'POST',
      headers: eventHeaders(event, { ...options, extra: { 'ce-id': id, ...options.extra } }),
      body: 'x',
    });

  it('answers a retry sent to the other instance from Redis, without running its handler', async () => {
    const first = await post(a, 'message', 'r1');
    const retry = await post(b, 'message', 'r1');
    expect(first.status).toBe(200);
    expect(first.text).toBe('run 1 of r1');
    expect(retry.status).toBe(200);
    expect(retry.text).toBe(first.text);
    expect(retry.headers['content-type']).toBe(first.headers['content-type']);
    expect(retry.headers['ce-connectionstate']).toBeDefined();
    expect(retry.headers['ce-connectionstate']).toBe(first.headers['ce-connectionstate']);
    expect(runs(a, 'message:conn-1:r1')).toBe(1);
    expect(runs(b, 'message:conn-1:r1')).toBe(0);
  });

  it('keeps the answer under a namespaced key that expires with the ttl', async () => {
    await post(a, 'message', 'r:2', { connectionId: 'conn:9' });
    const key = 'webpubsub:dedup:chat:conn%3A9:azure.webpubsub.user.message:r%3A2';
    const value = await inspector.get(key);
    expect(value).toMatch(/^answer:\{"status":200,/);
    const ttl = await inspector.pttl(key);
    expect(ttl).toBeGreaterThan(TTL - 5_000);
    expect(ttl).toBeLessThanOrEqual(TTL);
  });

  it('runs the handler once when the same event reaches both instances at once', async () => {
    const [fromA, fromB] = await Promise.all([post(a, 'slow', 'r3'), post(b, 'slow', 'r3')]);
    expect(fromA.status).toBe(200);
    expect(fromB.status).toBe(200);
    expect(fromA.text).toBe(fromB.text);
    expect(runs(a, 'slow:r3') + runs(b, 'slow:r3')).toBe(1);
  });

  it('does not store a 5xx: a retry on either instance runs the handler again', async () => {
    // The fixture fails the first run of "flaky" on each instance.
    const first = await post(a, 'flaky', 'r4');
    expect(first.status).toBe(500);
    const key = 'webpubsub:dedup:chat:conn-1:azure.webpubsub.user.flaky:r4';
    expect(await inspector.exists(key)).toBe(0);
    const onB = await post(b, 'flaky', 'r4');
    expect(onB.status).toBe(500);
    expect(runs(b, 'flaky:r4')).toBe(1);
    const onA = await post(a, 'flaky', 'r4');
    expect(onA.status).toBe(200);
    expect(onA.text).toBe('run 2');
    const replayed = await post(b, 'flaky', 'r4');
    expect(replayed.text).toBe('run 2');
    expect(runs(b, 'flaky:r4')).toBe(1);
  });

  it('answers 503 with Retry-After when another instance holds the event past the wait', async () => {
    const c = await start({ redis: { client: userClient } }, 200);
    try {
      const key = 'webpubsub:dedup:chat:conn-1:azure.webpubsub.user.message:r5';
      await inspector.set(key, 'claim:another-instance', 'PX', 30_000);
      const res = await post(c, 'message', 'r5');
      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toBe('1');
      expect(res.text).toMatch(/another instance/);
      expect(runs(c, 'message:conn-1:r5')).toBe(0);
    } finally {
      await c.close();
    }
  });

  const unavailable = () =>
    logger.messages('warn').filter(line => line.includes('de-duplication store is unavailable'));
  const recovered = () =>
    logger.messages('log').filter(line => line.includes('de-duplication store is available'));

  it('keeps serving events while Redis is down, logs the outage and the recovery once per instance', async () => {
    expect(unavailable()).toHaveLength(0);
    await redis.stop();
    for (let i = 0; i < 5; i++) {
      for (const app of [a, b]) {
        const res = await post(app, 'message', `down-${i}`);
        expect(res.status).toBe(200);
        expect(res.text).toBe(`run 1 of down-${i}`);
      }
    }
    // One line per instance (A and B), not one per event.
    expect(unavailable()).toHaveLength(2);
    expect(recovered()).toHaveLength(0);
    await redis.restart();
    let probe = 0;
    await waitFor(async () => {
      probe++;
      await post(a, 'message', `up-a-${probe}`);
      await post(b, 'message', `up-b-${probe}`);
      return recovered().length === 2;
    }, 10_000);
    expect(unavailable()).toHaveLength(2);
    // De-duplicated across the instances again.
    await post(a, 'message', 'r6');
    await post(b, 'message', 'r6');
    expect(runs(a, 'message:conn-1:r6') + runs(b, 'message:conn-1:r6')).toBe(1);
  });

  it('does not wait on a Redis that stops answering: handled after commandTimeout (500 ms)', async () => {
    const warnings = unavailable().length;
    const recoveries = recovered().length;
    // Redis holds every command of every client for 5 s.
    await inspector.call('CLIENT', 'PAUSE', '5000', 'ALL');
    const started = Date.now();
    const res = await post(a, 'message', 'slow-redis');
    const elapsed = Date.now() - started;
    expect(res.status).toBe(200);
    expect(res.text).toBe('run 1 of slow-redis');
    expect(elapsed).toBeGreaterThanOrEqual(450);
    expect(elapsed).toBeLessThan(4_000);
    expect(unavailable()).toHaveLength(warnings + 1);
    await inspector.call('CLIENT', 'UNPAUSE');
    await waitFor(async () => {
      await post(a, 'message', `after-pause-${Date.now()}`);
      return recovered().length === recoveries + 1;
    }, 10_000);
    // The claim that reached Redis late does not block the event's retries: the answer was
    // written through once Redis answered again, and a retry on B is replayed.
    const key = 'webpubsub:dedup:chat:conn-1:azure.webpubsub.user.message:slow-redis';
    await waitFor(async () => (await inspector.get(key))?.startsWith('answer:') === true);
    const retry = await post(b, 'message', 'slow-redis');
    expect(retry.text).toBe('run 1 of slow-redis');
    expect(runs(b, 'message:conn-1:slow-redis')).toBe(0);
  });
});
