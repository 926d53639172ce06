/**
 * The emulator's record of what happened, for its log lines and its live view. Producers (client
 * endpoint, upstream, REST) call `record`; the live view subscribes. Bounded: the newest entries win.
 * Access keys and tokens never enter a record (producers redact `access_token` and `Authorization`).
 * Bodies longer than `maxBodyChars` are cut (with a note of the full length), so the ring's memory is
 * bounded by `capacity × 2 × maxBodyChars` whatever the clients send.
 */

export type TrafficKind = 'connection' | 'upstream' | 'rest';

export interface TrafficRecord {
  readonly kind: TrafficKind;
  /** Monotonic id, assigned by the log. */
  readonly id: number;
  /** Epoch milliseconds when it started. */
  readonly time: number;
  readonly hub: string;
  /** `connection`: 'connected' | 'disconnected' | 'recovered' | 'rejected'; upstream: the event ('connect', 'message', ...); rest: the operation. */
  readonly action: string;
  readonly method?: string;
  readonly url?: string;
  readonly status?: number;
  readonly durationMs?: number;
  readonly connectionId?: string;
  readonly userId?: string;
  readonly subprotocol?: string;
  /** Free text: an error, a close reason. */
  readonly detail?: string;
  readonly request?: { readonly headers: Record<string, string>; readonly body?: string };
  readonly response?: { readonly headers: Record<string, string>; readonly body?: string };
}

export type TrafficInput = Omit<TrafficRecord, 'id' | 'time'> & { readonly time?: number };

export type TrafficListener = (record: TrafficRecord) => void;

/** A ring of the newest records, with listeners for the live view. */
export class TrafficLog {
  readonly #capacity: number;
  readonly #maxBodyChars: number;
  readonly #records: TrafficRecord[] = [];
  readonly #listeners = new Set<TrafficListener>();
  #nextId = 1;

  constructor(capacity = 500, maxBodyChars = 64 * 1024) {
    this.#capacity = capacity;
    this.#maxBodyChars = maxBodyChars;
  }

  record(input: TrafficInput): TrafficRecord {
    const record: TrafficRecord = {
      ...input,
      id: this.#nextId++,
      time: input.time ?? Date.now(),
      ...(input.request === undefined ? {} : { request: this.#bound(input.request) }),
      ...(input.response === undefined ? {} : { response: this.#bound(input.response) }),
    };
    this.#records.push(record);
    if (this.#records.length > this.#capacity) this.#records.shift();
    for (const listener of this.#listeners) listener(record);
    return record;
  }

  /** Oldest first. */
  snapshot(): readonly TrafficRecord[] {
    return this.#records.slice();
  }

  subscribe(listener: TrafficListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Listeners currently subscribed (the live view's pages, the log line writer). */
  get listenerCount(): number {
    return this.#listeners.size;
  }

  #bound<T extends { readonly body?: string }>(message: T): T {
    const body = message.body;
    if (body === undefined || body.length <= this.#maxBodyChars) return message;
    return {
      ...message,
      body: `${body.slice(0, this.#maxBodyChars)}\n… (${body.length} characters, cut at ${this.#maxBodyChars})`,
    };
  }
}
