import type {
  StoredResponse,
  WebPubSubDeduplicationStore,
} from '../interfaces/deduplication.interface.js';

/** The in-memory store: bounded, entries expire after their TTL. @publicApi */
export class MemoryDeduplicationStore implements WebPubSubDeduplicationStore {
  readonly #entries = new Map<string, { response: StoredResponse; expires: number }>();

  constructor(
    private readonly maxEntries = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.#entries.size;
  }

  get(key: string): StoredResponse | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.expires <= this.now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.response;
  }

  set(key: string, response: StoredResponse, ttlMs: number): void {
    this.#entries.delete(key);
    this.#entries.set(key, { response, expires: this.now() + ttlMs });
    while (this.#entries.size > this.maxEntries) {
      this.#entries.delete(this.#entries.keys().next().value as string);
    }
  }
}
