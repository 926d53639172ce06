/** A response as a de-duplication store keeps it (the body base64-encoded). @publicApi */
export interface StoredResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | readonly string[]>>;
  /** The body, base64; absent for an empty one. */
  readonly body?: string;
}

/**
 * What {@link WebPubSubDeduplicationStore.claim} found for an event:
 * - `claimed`: nobody had it, the caller now owns it and runs the handler;
 * - `answered`: it was answered (2xx) before, here is the answer;
 * - `pending`: another instance claimed it and has not answered yet.
 * @publicApi
 */
export type DeduplicationClaim =
  | { readonly state: 'claimed' }
  | { readonly state: 'answered'; readonly response: StoredResponse }
  | { readonly state: 'pending' };

/**
 * Where answered events are remembered, by event key, so a retried event (same `ce-id`) is
 * answered again without running the handler again. Implement it over Redis or a database to
 * share it between instances of the app.
 *
 * A store shared by several instances also implements `claim` and `release`, so that the same
 * event delivered to two instances at once runs the handler once (`RedisDeduplicationStore`
 * does). A store that throws or rejects is treated as unavailable: the event is handled without
 * de-duplication (logged once per outage).
 * @publicApi
 */
export interface WebPubSubDeduplicationStore {
  get(key: string): StoredResponse | undefined | Promise<StoredResponse | undefined>;
  set(key: string, response: StoredResponse, ttlMs: number): void | Promise<void>;
  /**
   * Atomically: the stored answer, or a claim on the event for `ttlMs` (after which another
   * instance may claim it, should the claimant die), or `pending` when another caller holds it.
   */
  claim?(key: string, ttlMs: number): DeduplicationClaim | Promise<DeduplicationClaim>;
  /** Gives up a claim whose handling did not end in a 2xx answer (a retry runs the handler). */
  release?(key: string): void | Promise<void>;
  /** Called once when the application shuts down, after the last event was answered. */
  close?(): void | Promise<void>;
}

/**
 * `deduplication.redis`: a store in Redis, shared by every instance of the app, through
 * `ioredis` (an optional peer dependency, loaded only when this option is used).
 * @publicApi
 */
export interface RedisDeduplicationOptions {
  /** An `ioredis` client (or cluster) of your own; the module never closes it. */
  client?: RedisClientLike;
  /**
   * Or: `ioredis` connection options or a `redis://` URL. The module creates the client (importing
   * `ioredis` then), and closes it when the application shuts down.
   */
  connection?: string | Record<string, unknown>;
  /** Key prefix. Default `webpubsub:dedup`: keys are `<prefix>:<hub>:<connectionId>:<type>:<ce-id>`. */
  prefix?: string;
  /**
   * How long one Redis command may take, in milliseconds, before the event is handled without
   * de-duplication. Default 500.
   */
  commandTimeout?: number;
}

/** The few `ioredis` members the Redis store uses (no import of `ioredis` for its types). */
export interface RedisClientLike {
  readonly status?: string;
  get(key: string): Promise<string | null>;
  set(key: string, value: string, mode: 'PX', ttlMs: number): Promise<unknown>;
  eval(script: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
  quit?(): Promise<unknown>;
  disconnect?(): void;
  on?(event: string, listener: (...args: unknown[]) => void): unknown;
}

/** `deduplication` option. @publicApi */
export interface DeduplicationOptions {
  /** Default: an in-memory store of at most 10,000 events (oldest forgotten first). */
  store?: WebPubSubDeduplicationStore;
  /** Share the store between instances in Redis (instead of `store`). */
  redis?: RedisDeduplicationOptions;
  /** How long an answered event is remembered, in milliseconds. Default 5 minutes. */
  ttl?: number;
}
