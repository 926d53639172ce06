/**
 * The emulator's record of what happened, for its log lines and its live view. Producers (client
 * endpoint, upstream, REST) call `record`; the live view subscribes. Bounded: the newest entries win.
 * Access keys and tokens never enter a record (producers redact `access_token` and `Authorization`).
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
  readonly #records: TrafficRecord[] = [];
  readonly #listeners = new Set<TrafficListener>();
  #nextId = 1;

  constructor(capacity = 500) {
    this.#capacity = capacity;
  }

  record(input: TrafficInput): TrafficRecord {
    const record: TrafficRecord = { ...input, id: this.#nextId++, time: input.time ?? Date.now() };
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
}
