import { randomUUID } from 'node:crypto';
import type {
  DeduplicationClaim,
  RedisClientLike,
  RedisDeduplicationOptions,
  StoredResponse,
  WebPubSubDeduplicationStore,
} from '../interfaces/deduplication.interface.js';

export const DEFAULT_REDIS_PREFIX = 'webpubsub:dedup';
export const DEFAULT_REDIS_COMMAND_TIMEOUT = 500;

const ANSWER = 'answer:';
const CLAIM = 'claim:';

/** SET NX PX, or the value that is there: in one step, so two instances never both claim. */
const CLAIM_SCRIPT = `if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return false end
return redis.call('GET', KEYS[1])`;
/** Deletes the key only if it still holds this claim (not an answer, not another's claim). */
const RELEASE_SCRIPT = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/** Connection states in which ioredis would queue a command until it reconnects: fail at once. */
const DOWN = new Set(['reconnecting', 'close', 'end']);

/**
 * De-duplication store in Redis, shared by every instance of the app: the first instance to
 * claim an event runs its handler, the others wait for its answer. Keys:
 * `<prefix>:<hub>:<connectionId>:<type>:<ce-id>` (hub lower-case; `%` and `:` inside a part
 * written `%25` and `%3A`), holding `claim:<token>` while an instance handles the event and
 * `answer:<JSON>` once it was answered 2xx; both expire (PX).
 *
 * Every command is bounded by `commandTimeout` and fails at once while the connection is down:
 * the module then handles the event without de-duplication.
 * @publicApi
 */
export class RedisDeduplicationStore implements WebPubSubDeduplicationStore {
  readonly prefix: string;
  readonly #timeout: number;
  readonly #client: Promise<RedisClientLike>;
  readonly #owned: boolean;
  /** This instance's claims by key: a claim is released only by its owner. */
  readonly #claims = new Map<string, string>();

  constructor(options: RedisDeduplicationOptions) {
    this.prefix = options.prefix ?? DEFAULT_REDIS_PREFIX;
    this.#timeout = options.commandTimeout ?? DEFAULT_REDIS_COMMAND_TIMEOUT;
    this.#owned = options.client === undefined;
    this.#client = options.client
      ? Promise.resolve(options.client)
      : createClient(options.connection ?? {});
    // A failure to load ioredis surfaces on the first command (and is handled there).
    this.#client.catch(() => undefined);
  }

  /** The Redis key of a module event key (`hub \n connectionId \n type \n id`). */
  redisKey(key: string): string {
    return `${this.prefix}:${key.split('\n').map(escapePart).join(':')}`;
  }

  async get(key: string): Promise<StoredResponse | undefined> {
    const value = await this.command(client => client.get(this.redisKey(key)));
    return typeof value === 'string' && value.startsWith(ANSWER) ? parseAnswer(value) : undefined;
  }

  async set(key: string, response: StoredResponse, ttlMs: number): Promise<void> {
    this.#claims.delete(key);
    await this.command(client =>
      client.set(this.redisKey(key), ANSWER + JSON.stringify(response), 'PX', ttlMs),
    );
  }

  async claim(key: string, ttlMs: number): Promise<DeduplicationClaim> {
    const token = CLAIM + randomUUID();
    // Remembered before the command: a claim that times out here may still land in Redis, and
    // release() must be able to remove it.
    this.#claims.set(key, token);
    const found = await this.command(client =>
      client.eval(CLAIM_SCRIPT, 1, this.redisKey(key), token, ttlMs),
    );
    if (found === null || found === undefined) return { state: 'claimed' };
    this.#claims.delete(key);
    if (typeof found === 'string' && found.startsWith(ANSWER))
      return { state: 'answered', response: parseAnswer(found) };
    return { state: 'pending' };
  }

  async release(key: string): Promise<void> {
    const token = this.#claims.get(key);
    if (token === undefined) return;
    this.#claims.delete(key);
    await this.command(client => client.eval(RELEASE_SCRIPT, 1, this.redisKey(key), token));
  }

  /** Closes the client the store created (never one it was given). */
  async close(): Promise<void> {
    if (!this.#owned) return;
    const client = await this.#client.catch(() => undefined);
    if (!client) return;
    try {
      await withTimeout(client.quit?.() ?? Promise.resolve(), this.#timeout);
    } catch {
      client.disconnect?.();
    }
  }

  private async command<T>(run: (client: RedisClientLike) => Promise<T>): Promise<T> {
    const client = await this.#client;
    if (client.status !== undefined && DOWN.has(client.status))
      throw new Error(`the Redis connection is ${client.status}`);
    return withTimeout(run(client), this.#timeout);
  }
}

async function createClient(
  connection: string | Record<string, unknown>,
): Promise<RedisClientLike> {
  let module: { Redis?: unknown; default?: unknown };
  try {
    module = (await import('ioredis')) as typeof module;
  } catch {
    throw new Error(
      'deduplication.redis.connection needs the ioredis package: npm install ioredis',
    );
  }
  const Redis = (module.Redis ?? module.default) as new (...args: unknown[]) => RedisClientLike;
  // One attempt per command: a command that cannot run fails, and the event is handled without
  // de-duplication, rather than waiting for a reconnection.
  const defaults = { maxRetriesPerRequest: 1 };
  const client =
    typeof connection === 'string'
      ? new Redis(connection, defaults)
      : new Redis({ ...defaults, ...connection });
  // Connection errors are reported by the module, once per outage.
  client.on?.('error', () => undefined);
  return client;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(
      () => reject(new Error(`a Redis command took longer than ${ms} ms (commandTimeout)`)),
      ms,
    );
  });
  promise.catch(() => undefined);
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function escapePart(part: string): string {
  return part.replace(/%/g, '%25').replace(/:/g, '%3A');
}

function parseAnswer(value: string): StoredResponse {
  return JSON.parse(value.slice(ANSWER.length)) as StoredResponse;
}
