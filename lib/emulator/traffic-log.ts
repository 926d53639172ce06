/**
 * The emulator's record of what happened, for its log lines and its live view. Producers (client
 * and MQTT sessions, upstream, REST) call `record`; the live view subscribes. Bounded: the newest
 * entries win. Access keys and tokens never enter a record (producers redact `access_token` and
 * `Authorization`). Bodies longer than `maxBodyChars` are cut (with a note of the full length), so
 * the ring's memory is bounded by `capacity × 2 × maxBodyChars` whatever the clients send.
 *
 * This file is the one description of a record; the live view shows any record of this shape.
 *
 * | kind         | what it is                                   | action                                                                                      | target                  |
 * | ------------ | -------------------------------------------- | ------------------------------------------------------------------------------------------- | ----------------------- |
 * | `connection` | a connection's life                          | `connected`, `disconnected`, `dropped`, `recovered`, `rejected`, `refused`                  | —                       |
 * | `client`     | one frame a client sent to the service       | the frame's type: `joinGroup`, `leaveGroup`, `sendToGroup`, `event`, `invoke`, `message` (simple WebSocket), stream frames, MQTT `publish`/`subscribe`/`unsubscribe`, Socket.IO packets | group, event name, topic |
 * | `upstream`   | a call to an event handler                   | the event (`connect`, `message`, ...) or `validate`                                         | —                       |
 * | `rest`       | a call to the REST data plane                | the operation (`sendToGroup`, ...)                                                          | group, user, connection |
 *
 * Every kind may carry `request`/`response` (headers and body; a client frame has no headers, its
 * data is `request.body`), a `preview` (one line of the request body, derived when absent), a
 * `reach` (how many connections a send was handed to: REST sends, client `sendToGroup`, MQTT
 * publishes), `dataType` (`json`, `text`, `binary`, `protobuf`...) and `durationMs`, measured with
 * `performance.now()` (microseconds; see `elapsedMs`) and shown as recorded.
 */

export type TrafficKind = 'connection' | 'client' | 'upstream' | 'rest';

export interface TrafficMessage {
  readonly headers: Record<string, string>;
  readonly body?: string;
}

export interface TrafficRecord {
  readonly kind: TrafficKind;
  /** Monotonic id, assigned by the log. */
  readonly id: number;
  /** Epoch milliseconds when it started. */
  readonly time: number;
  readonly hub: string;
  /** See the table above. */
  readonly action: string;
  /** What the frame or call addresses: a group, an event name, an MQTT topic, a user or connection id. */
  readonly target?: string;
  readonly method?: string;
  readonly url?: string;
  readonly status?: number;
  /** Milliseconds, to the microsecond (`elapsedMs`). */
  readonly durationMs?: number;
  readonly connectionId?: string;
  readonly userId?: string;
  readonly subprotocol?: string;
  /** How the body is typed: `json`, `text`, `binary`, `protobuf`... */
  readonly dataType?: string;
  /** How many connections a send was handed to. */
  readonly reach?: number;
  /** One line of the body for the list: given, or derived from `request.body` (at most `PREVIEW_CHARS`). */
  readonly preview?: string;
  /** Free text: an error, a refusal, a close reason. */
  readonly detail?: string;
  readonly request?: TrafficMessage;
  readonly response?: TrafficMessage;
}

export type TrafficInput = Omit<TrafficRecord, 'id' | 'time'> & { readonly time?: number };

export type TrafficListener = (record: TrafficRecord) => void;

/** Characters a record's `preview` keeps. */
export const PREVIEW_CHARS = 160;

/** Milliseconds since `startedAt` (a `performance.now()` value), to the microsecond. */
export function elapsedMs(startedAt: number, now: number = performance.now()): number {
  return Math.round((now - startedAt) * 1000) / 1000;
}

/** One line of `body`: white space runs as one space, cut at `PREVIEW_CHARS` with an ellipsis. */
export function previewOf(body: string | undefined): string | undefined {
  if (body === undefined || body === '') return undefined;
  const head = body.length > PREVIEW_CHARS * 4 ? body.slice(0, PREVIEW_CHARS * 4) : body;
  const line = head.replace(/\s+/g, ' ').trim();
  return line.length > PREVIEW_CHARS || head.length < body.length
    ? `${line.slice(0, PREVIEW_CHARS - 1)}…`
    : line;
}

/**
 * A message's data as a record's body: text and JSON as they are; binary data (binary, protobuf,
 * MQTT 3.1.1 payloads) that is printable UTF-8 as its text, anything else as `base64:` and the
 * base64 of its first `maxBytes` bytes. The record's `dataType` says which type it had.
 */
export function bodyText(dataType: string, data: Uint8Array, maxBytes = 48 * 1024): string {
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (dataType === 'text' || dataType === 'json') return bytes.toString('utf8');
  const head = bytes.subarray(0, Math.min(bytes.length, maxBytes));
  const more = bytes.length > maxBytes ? `… (${bytes.length} bytes)` : '';
  try {
    const text = UTF8.decode(head);
    if (!UNPRINTABLE.test(text)) return text + more;
  } catch {
    // not UTF-8
  }
  return `base64:${head.toString('base64')}${more}`;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });
// oxlint-disable-next-line no-control-regex -- control characters other than tab, line feed and carriage return
const UNPRINTABLE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

/** A ring of the newest records, with listeners for the live view. */
export class TrafficLog {
  readonly #capacity: number;
  readonly #maxBodyChars: number;
  readonly #records: (TrafficRecord | undefined)[];
  /** Where the next record goes in the ring. */
  #next = 0;
  #size = 0;
  readonly #listeners = new Set<TrafficListener>();
  #nextId = 1;

  constructor(capacity = 500, maxBodyChars = 64 * 1024) {
    this.#capacity = Math.max(0, Math.floor(capacity));
    this.#maxBodyChars = maxBodyChars;
    this.#records = Array.from<TrafficRecord | undefined>({ length: this.#capacity });
  }

  record(input: TrafficInput): TrafficRecord {
    const preview = input.preview ?? previewOf(input.request?.body);
    const record: TrafficRecord = {
      ...input,
      id: this.#nextId++,
      time: input.time ?? Date.now(),
      ...(preview === undefined ? {} : { preview: previewOf(preview) }),
      ...(input.request === undefined ? {} : { request: this.#bound(input.request) }),
      ...(input.response === undefined ? {} : { response: this.#bound(input.response) }),
    };
    if (this.#capacity > 0) {
      this.#records[this.#next] = record;
      this.#next = (this.#next + 1) % this.#capacity;
      if (this.#size < this.#capacity) this.#size++;
    }
    for (const listener of this.#listeners) listener(record);
    return record;
  }

  /** Oldest first. */
  snapshot(): readonly TrafficRecord[] {
    const result: TrafficRecord[] = [];
    const start = (this.#next - this.#size + this.#capacity) % this.#capacity;
    for (let i = 0; i < this.#size; i++) {
      result.push(this.#records[(start + i) % this.#capacity]!);
    }
    return result;
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
