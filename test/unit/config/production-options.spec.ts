/**
 * The production options: `deduplication.redis` builds a `RedisDeduplicationStore` (prefix
 * `webpubsub:dedup`), `true` still the in-memory store; keys namespaced and escaped (`conn:1` →
 * `conn%3A1`, `100%` → `100%25`); 9 malformed `redis` options and a non-boolean `telemetry` each
 * refused at start-up with a message naming the problem; `telemetry` defaults to `true` and is off
 * with `false`.
 */
import { WebPubSubOptionsError } from '../../../lib/errors/web-pubsub-options.error.js';
import { createDeduplicationStore } from '../../../lib/deduplication/deduplicator.js';
import { MemoryDeduplicationStore } from '../../../lib/deduplication/memory-deduplication.store.js';
import { RedisDeduplicationStore } from '../../../lib/deduplication/redis-deduplication.store.js';
import type { WebPubSubModuleOptions } from '../../../lib/interfaces/web-pubsub-module-options.interface.js';
import { resolveWebPubSubOptions } from '../../../lib/config/web-pubsub-options.js';

/** A stand-in with the members the option check looks for (never connected here). */
const client = {
  status: 'ready',
  get: () => Promise.resolve(null),
  set: () => Promise.resolve('OK'),
  eval: () => Promise.resolve(null),
};

function refusal(options: unknown): string {
  try {
    resolveWebPubSubOptions(options as WebPubSubModuleOptions);
  } catch (error) {
    expect(error).toBeInstanceOf(WebPubSubOptionsError);
    return (error as Error).message;
  }
  throw new Error('expected a WebPubSubOptionsError');
}

describe('production options', () => {
  it('builds a Redis store for deduplication.redis and keeps the in-memory default', () => {
    const redis = resolveWebPubSubOptions({ deduplication: { redis: { client }, ttl: 1000 } });
    const redisStore = createDeduplicationStore(redis.deduplication!);
    expect(redisStore).toBeInstanceOf(RedisDeduplicationStore);
    expect(redis.deduplication?.ttl).toBe(1000);
    expect((redisStore as RedisDeduplicationStore).prefix).toBe('webpubsub:dedup');
    const memory = resolveWebPubSubOptions({ deduplication: true });
    expect(createDeduplicationStore(memory.deduplication!)).toBeInstanceOf(
      MemoryDeduplicationStore,
    );
  });

  it('writes namespaced, escaped keys', () => {
    const store = new RedisDeduplicationStore({ client, prefix: 'app1' });
    expect(store.redisKey('chat\nconn:1\nazure.webpubsub.user.message\n100%')).toBe(
      'app1:chat:conn%3A1:azure.webpubsub.user.message:100%25',
    );
  });

  it.each([
    [
      { store: new MemoryDeduplicationStore(), redis: { client } },
      'takes store or redis, not both',
    ],
    [{ redis: {} }, 'needs either client (an ioredis client) or connection'],
    [{ redis: { client, connection: 'redis://x' } }, 'needs either client'],
    [{ redis: { client: {} } }, 'client must be an ioredis client (get, set, eval)'],
    [{ redis: { connection: 42 } }, 'connection must be ioredis options or a redis:// URL'],
    [{ redis: { client, prefix: '' } }, 'prefix must be a non-empty string'],
    [{ redis: { client, commandTimeout: 0 } }, 'commandTimeout must be a positive integer (ms)'],
    [{ redis: { client, db: 1 } }, 'has an unknown option "db"'],
    [{ redis: 'redis://x' }, 'must be { client } or { connection }'],
  ])('refuses deduplication %j', (deduplication, problem) => {
    const message = refusal({ deduplication });
    expect(message).toContain(problem);
    expect(message).toContain('deduplication');
  });

  it('refuses a telemetry option that is not a boolean', () => {
    expect(refusal({ telemetry: 'yes' })).toMatch(/telemetry must be a boolean/);
  });

  it('turns telemetry on by default and off with telemetry: false', () => {
    expect(resolveWebPubSubOptions({}).telemetry).toBe(true);
    expect(resolveWebPubSubOptions({ telemetry: false }).telemetry).toBe(false);
  });
});
