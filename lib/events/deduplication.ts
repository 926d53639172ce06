import type { EventHeaders } from '../protocol/cloud-event.reader.js';
import type { WireResponse } from '../protocol/response.writer.js';
import type {
  DeduplicationOptions,
  StoredResponse,
  WebPubSubDeduplicationStore,
} from '../interfaces/deduplication.interface.js';

export type { DeduplicationOptions, StoredResponse, WebPubSubDeduplicationStore };

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

export const DEFAULT_DEDUPLICATION_TTL = 300_000;

/**
 * Answers a retried event with the response its first delivery got. Only successful (2xx)
 * answers are remembered: after a 5xx the service's retry runs the handler again, as it should.
 * A retry that arrives while the first delivery is still being handled waits for its answer.
 */
export class Deduplicator {
  readonly #inFlight = new Map<string, Promise<WireResponse>>();

  constructor(
    private readonly store: WebPubSubDeduplicationStore,
    private readonly ttlMs: number,
  ) {}

  static key(event: EventHeaders): string {
    return `${event.hub.toLowerCase()}\n${event.connectionId}\n${event.type}\n${event.id}`;
  }

  async run(event: EventHeaders, handle: () => Promise<WireResponse>): Promise<WireResponse> {
    const key = Deduplicator.key(event);
    const inFlight = this.#inFlight.get(key);
    if (inFlight) return inFlight;
    const stored = await this.store.get(key);
    if (stored) return fromStored(stored);
    const pending = handle();
    this.#inFlight.set(key, pending);
    try {
      const response = await pending;
      if (response.status >= 200 && response.status < 300)
        await this.store.set(key, toStored(response), this.ttlMs);
      return response;
    } finally {
      this.#inFlight.delete(key);
    }
  }
}

function toStored(response: WireResponse): StoredResponse {
  const body = response.body;
  return {
    status: response.status,
    headers: response.headers,
    body:
      body === undefined || body.length === 0
        ? undefined
        : (typeof body === 'string' ? Buffer.from(body) : body).toString('base64'),
  };
}

function fromStored(stored: StoredResponse): WireResponse {
  return {
    status: stored.status,
    headers: stored.headers,
    body: stored.body === undefined ? undefined : Buffer.from(stored.body, 'base64'),
  };
}
