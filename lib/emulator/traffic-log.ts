/**
 * The emulator's record of what happened, for its log lines and its live view. Producers (client
 * and MQTT sessions, upstream, REST) call `record`; the live view subscribes. Bounded: the newest
 * entries win. Access keys and tokens never enter a record (producers redact `access_token` and
 * `Authorization`). Producers hand over whole bodies, as text or as bytes with how to show them
 * (`dataBody`, `mediaBody`, `utf8Body`); the log alone clips them: a body shown longer than
 * `maxBodyChars` (`MAX_BODY_CHARS`, 64 Ki characters, by default) keeps its first `maxBodyChars`
 * characters and one marker, `\n… (<full length>, cut at <maxBodyChars>)`, the length in characters
 * for text given as text, in bytes for bytes. Bytes are decoded only as far as they are shown, so
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

/**
 * A body handed over as bytes; the log shows as much as it keeps. `text`: UTF-8 text; `base64`:
 * `base64:` and the base64; `printable`: the text when the bytes are printable UTF-8, else base64.
 */
export interface TrafficBytes {
  readonly bytes: Uint8Array;
  readonly shownAs: 'text' | 'base64' | 'printable';
}

/** A body as a producer hands it over: text, or bytes (see `TrafficBytes`). */
export type TrafficBody = string | TrafficBytes;

/** A request or response as a producer hands it over: whole, the log clips its body. */
export interface TrafficMessageInput {
  readonly headers: Record<string, string>;
  readonly body?: TrafficBody;
}

export type TrafficInput = Omit<TrafficRecord, 'id' | 'time' | 'request' | 'response'> & {
  readonly time?: number;
  readonly request?: TrafficMessageInput;
  readonly response?: TrafficMessageInput;
};

export type TrafficListener = (record: TrafficRecord) => void;

/** Characters a record's `preview` keeps. */
export const PREVIEW_CHARS = 160;

/** Characters of a body a record keeps by default (`TrafficLog`'s `maxBodyChars`). */
export const MAX_BODY_CHARS = 64 * 1024;

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
 * A message's data as a record's body: text and JSON as their text; binary data (binary, protobuf,
 * MQTT 3.1.1 payloads) as its text when it is printable UTF-8, else as `base64:`. The record's
 * `dataType` says which type it had.
 */
export function dataBody(dataType: string, bytes: Uint8Array): TrafficBytes {
  return { bytes, shownAs: dataType === 'text' || dataType === 'json' ? 'text' : 'printable' };
}

/** An HTTP body as a record's body: `base64:` for `application/octet-stream` or no type, else text. */
export function mediaBody(
  bytes: Uint8Array,
  contentType: string | readonly string[] | undefined,
): TrafficBytes {
  const media = (typeof contentType === 'string' ? contentType : contentType?.[0])
    ?.split(';')[0]
    .trim()
    .toLowerCase();
  return {
    bytes,
    shownAs: media === undefined || media === 'application/octet-stream' ? 'base64' : 'text',
  };
}

/** UTF-8 bytes as a record's body. */
export function utf8Body(bytes: Uint8Array): TrafficBytes {
  return { bytes, shownAs: 'text' };
}

/** `body` as a record shows it: at most `limit` characters, then the one marker. */
export function clipBody(body: TrafficBody, limit: number): string {
  const { head, size } = showBody(body, limit);
  return size === undefined ? head : clipped(head, size, limit);
}

/** The first `limit` characters `body` shows, and its full size when there is more. */
function showBody(body: TrafficBody, limit: number): { head: string; size?: string } {
  if (typeof body === 'string') {
    return body.length <= limit
      ? { head: body }
      : { head: body.slice(0, limit), size: `${body.length} characters` };
  }
  const { bytes, shownAs } = body;
  // Enough bytes to show more than `limit` characters: UTF-8 takes at most 3 bytes a character,
  // base64 4 characters for 3 bytes.
  const needed = shownAs === 'base64' ? limit : limit * 3;
  const more = bytes.length > needed;
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, needed));
  const text = shown(head, shownAs, more);
  return !more && text.length <= limit
    ? { head: text }
    : { head: text.slice(0, limit), size: `${bytes.length} bytes` };
}

function clipped(head: string, size: string, limit: number): string {
  return `${head}\n… (${size}, cut at ${limit})`;
}

/** `head` as text or base64; `cut`: a character may be split at its end (not shown). */
function shown(head: Buffer, shownAs: TrafficBytes['shownAs'], cut: boolean): string {
  if (shownAs === 'text') {
    return cut
      ? new TextDecoder('utf-8', { ignoreBOM: true }).decode(head, { stream: true })
      : head.toString('utf8');
  }
  if (shownAs === 'printable') {
    try {
      const text = cut
        ? new TextDecoder('utf-8', { fatal: true }).decode(head, { stream: true })
        : UTF8.decode(head);
      if (!UNPRINTABLE.test(text)) return text;
    } catch {
      // not UTF-8
    }
  }
  return `base64:${head.toString('base64')}`;
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

  constructor(capacity = 500, maxBodyChars = MAX_BODY_CHARS) {
    this.#capacity = Math.max(0, Math.floor(capacity));
    this.#maxBodyChars = maxBodyChars;
    this.#records = Array.from<TrafficRecord | undefined>({ length: this.#capacity });
  }

  record(input: TrafficInput): TrafficRecord {
    const { request: given, response: answer, ...rest } = input;
    const request = given && this.#bound(given);
    const response = answer && this.#bound(answer);
    // From the body as given (the marker of a clipped one is no part of it).
    const preview =
      input.preview ??
      (given?.body === undefined || typeof given.body === 'string'
        ? previewOf(given?.body)
        : previewOf(showBody(given.body, PREVIEW_CHARS * 4).head));
    const record: TrafficRecord = {
      ...rest,
      id: this.#nextId++,
      time: input.time ?? Date.now(),
      ...(preview === undefined ? {} : { preview: previewOf(preview) }),
      ...(request === undefined ? {} : { request }),
      ...(response === undefined ? {} : { response }),
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

  #bound(message: TrafficMessageInput): TrafficMessage {
    const body = message.body;
    if (body === undefined || (typeof body === 'string' && body.length <= this.#maxBodyChars)) {
      return message as TrafficMessage;
    }
    // No bytes, no body (not an empty `base64:`).
    if (typeof body !== 'string' && body.bytes.length === 0) return { headers: message.headers };
    return { ...message, body: clipBody(body, this.#maxBodyChars) };
  }
}
