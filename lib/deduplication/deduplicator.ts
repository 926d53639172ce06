import type { EventHeaders } from '../protocol/cloud-event.reader.js';
import type { LoggerService } from '@nestjs/common';
import { writeError, type WireResponse } from '../protocol/response.writer.js';
import { Messages } from '../web-pubsub.messages.js';
import type {
  DeduplicationOptions,
  StoredResponse,
  WebPubSubDeduplicationStore,
} from '../interfaces/deduplication.interface.js';
import { MemoryDeduplicationStore } from './memory-deduplication.store.js';
import { RedisDeduplicationStore } from './redis-deduplication.store.js';
import { hubKey } from '../protocol/names.js';

/** The store the `deduplication` option asks for: its own, one in Redis, or the in-memory one. */
export function createDeduplicationStore(
  options: Pick<DeduplicationOptions, 'store' | 'redis'>,
): WebPubSubDeduplicationStore {
  return (
    options.store ??
    (options.redis ? new RedisDeduplicationStore(options.redis) : new MemoryDeduplicationStore())
  );
}

/** How often a retry waiting for another instance's answer looks again, in milliseconds. */
const POLL_INTERVAL = 20;
/** The longest a retry waits for another instance's answer when handlers have no time limit. */
const MAX_WAIT = 30_000;
const FAILED = Symbol('storeFailed');

/**
 * Answers a retried event with the response its first delivery got. Only successful (2xx)
 * answers are remembered: after a 5xx the service's retry runs the handler again, as it should.
 * A retry that arrives while the first delivery is still being handled waits for its answer: in
 * this process through the promise, across instances (a store with `claim`) by looking again
 * every 20 ms, up to `handlerTimeout` + 1 s; still unanswered, it gets `503` with `Retry-After`,
 * which the service retries.
 *
 * A store that fails (throws, rejects, times out) does not stop events: they are handled without
 * de-duplication; the outage is logged once, and so is the recovery.
 */
export class Deduplicator {
  readonly #inFlight = new Map<string, Promise<WireResponse>>();
  readonly #claimTtl: number;
  readonly #maxWait: number;
  #outage = false;

  constructor(
    private readonly store: WebPubSubDeduplicationStore,
    private readonly ttlMs: number,
    handlerTimeout: number,
    private readonly logger: Pick<LoggerService, 'warn' | 'log'>,
  ) {
    // A claim outlives any handler (which handlerTimeout ends), so it lapses only if its
    // instance died; then a retry may claim the event again.
    this.#claimTtl = handlerTimeout > 0 ? handlerTimeout + 5_000 : ttlMs;
    this.#maxWait = handlerTimeout > 0 ? Math.min(handlerTimeout + 1_000, MAX_WAIT) : MAX_WAIT;
  }

  static key(event: EventHeaders): string {
    return `${hubKey(event.hub)}\n${event.connectionId}\n${event.type}\n${event.id}`;
  }

  run(event: EventHeaders, handle: () => Promise<WireResponse>): Promise<WireResponse> {
    const key = Deduplicator.key(event);
    const inFlight = this.#inFlight.get(key);
    if (inFlight) return inFlight;
    const pending = this.store.claim ? this.claimed(key, handle) : this.stored(key, handle);
    this.#inFlight.set(key, pending);
    return pending.finally(() => this.#inFlight.delete(key));
  }

  /** A store without claims: look up, else handle and remember. */
  private async stored(key: string, handle: () => Promise<WireResponse>): Promise<WireResponse> {
    const stored = await this.attempt(() => this.store.get(key));
    if (stored === FAILED) return handle();
    if (stored) return fromStored(stored);
    const response = await handle();
    if (isSuccess(response))
      await this.attempt(() => this.store.set(key, toStored(response), this.ttlMs));
    return response;
  }

  /** A shared store: claim, else replay the answer or wait for the instance that has it. */
  private async claimed(key: string, handle: () => Promise<WireResponse>): Promise<WireResponse> {
    const store = this.store as Required<Pick<WebPubSubDeduplicationStore, 'claim'>> &
      WebPubSubDeduplicationStore;
    const deadline = Date.now() + this.#maxWait;
    for (;;) {
      const claim = await this.attempt(() => store.claim(key, this.#claimTtl));
      if (claim === FAILED) {
        // Handled without de-duplication; the answer (or the release of a claim that may still
        // land on a slow store) is written through if the store answers again.
        const response = await handle();
        if (isSuccess(response))
          void this.attempt(() => store.set(key, toStored(response), this.ttlMs));
        else void this.attempt(() => store.release?.(key));
        return response;
      }
      if (claim.state === 'answered') return fromStored(claim.response);
      if (claim.state === 'claimed') {
        let response: WireResponse;
        try {
          response = await handle();
        } catch (error) {
          await this.attempt(() => store.release?.(key));
          throw error;
        }
        if (isSuccess(response))
          await this.attempt(() => store.set(key, toStored(response), this.ttlMs));
        else await this.attempt(() => store.release?.(key));
        return response;
      }
      if (Date.now() >= deadline) {
        return writeError(503, Messages.deduplicationBusy(), { 'retry-after': '1' });
      }
      await new Promise(resolve => setTimeout(resolve, POLL_INTERVAL));
    }
  }

  /** Runs a store operation; a failure is reported (once per outage) as {@link FAILED}. */
  private async attempt<T>(operation: () => T | Promise<T>): Promise<T | typeof FAILED> {
    try {
      const result = await operation();
      if (this.#outage) {
        this.#outage = false;
        this.logger.log(Messages.deduplicationRecovered());
      }
      return result;
    } catch (error) {
      if (!this.#outage) {
        this.#outage = true;
        this.logger.warn(
          Messages.deduplicationUnavailable(error instanceof Error ? error.message : String(error)),
        );
      }
      return FAILED;
    }
  }

  /** Closes the store, if it has something to close. */
  async close(): Promise<void> {
    await this.store.close?.();
  }
}

function isSuccess(response: WireResponse): boolean {
  return response.status >= 200 && response.status < 300;
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
