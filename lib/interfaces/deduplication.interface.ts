/** A response as a de-duplication store keeps it (the body base64-encoded). @publicApi */
export interface StoredResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | readonly string[]>>;
  /** The body, base64; absent for an empty one. */
  readonly body?: string;
}

/**
 * Where answered events are remembered, by event key, so a retried event (same `ce-id`) is
 * answered again without running the handler again. Implement it over Redis or a database to
 * share it between instances of the app.
 * @publicApi
 */
export interface WebPubSubDeduplicationStore {
  get(key: string): StoredResponse | undefined | Promise<StoredResponse | undefined>;
  set(key: string, response: StoredResponse, ttlMs: number): void | Promise<void>;
}

/** `deduplication` option. @publicApi */
export interface DeduplicationOptions {
  /** Default: an in-memory store of at most 10,000 events (oldest forgotten first). */
  store?: WebPubSubDeduplicationStore;
  /** How long an answered event is remembered, in milliseconds. Default 5 minutes. */
  ttl?: number;
}
