/**
 * Group streams of one writer connection, as `@azure/web-pubsub-client` 1.1 speaks them: a
 * `sendToGroup` with `stream: { streamId }` opens a stream (answered `streamAck` with
 * `expectedSequenceId: 1`); each `streamData` with the expected `streamSequenceId` goes to the
 * group's members with `stream: { streamId, streamSequenceId, endOfStream: false }` and is
 * acknowledged with the next expected id; a replayed fragment (after a recovery) is acknowledged
 * again and not delivered twice; a gap is answered `streamNack`; a keep-alive (`streamData` with
 * only `streamId`) resets the idle timer; `streamEnd` sends members the end marker (with the
 * writer's error, if any) and the writer `streamClosed`. Idle streams, unknown streams, refused
 * opens and a writer whose connection ends are answered too: nothing is left waiting.
 * No sockets here: the session supplies delivery and the writer's frames.
 */
import type { ClientMessage, ClientPayload } from './client-messages.js';
import { DEFAULT_STREAM_LIMITS, type StreamLimits } from './session-limits.js';
import type { StreamControl, StreamError, StreamInfo } from './wire-codec.js';

/** What the streams need from the writer's session. */
export interface StreamHost {
  /** Whether the writer may send to `group` (role or grant `sendToGroup`). */
  canSend(group: string): boolean;
  /** Delivers one fragment (or the end marker) to the group's members. */
  publish(group: string, noEcho: boolean, payload: ClientPayload, stream: StreamInfo): void;
  /** Sends the writer a `streamAck`, `streamNack` or `streamClosed`. */
  control(control: StreamControl): void;
}

/** Error names the emulator gives stream ends and closes (the service names its own; none is documented). */
export const StreamErrorName = {
  /** The writer ended the stream with an error (`streamEnd` with `error`). */
  userError: 'UserError',
  idleTimeout: 'IdleTimeout',
  notFound: 'StreamNotFound',
  forbidden: 'Forbidden',
  tooMany: 'TooManyStreams',
  /** A fragment skipped ahead of the expected sequence id. */
  outOfOrder: 'ProtocolViolation',
  writerGone: 'PublisherDisconnected',
} as const;

const EMPTY: ClientPayload = { dataType: 'text', data: Buffer.alloc(0) };

interface OpenStream {
  readonly streamId: string;
  readonly group: string;
  readonly noEcho: boolean;
  readonly idleTimeoutMs: number;
  /** The next `streamSequenceId` the writer must send. */
  expected: number;
  timer: NodeJS.Timeout | undefined;
}

type Start = Extract<ClientMessage, { type: 'streamStart' }>;
type Data = Extract<ClientMessage, { type: 'streamData' }>;
type End = Extract<ClientMessage, { type: 'streamEnd' }>;

export class GroupStreams {
  readonly #streams = new Map<string, OpenStream>();

  constructor(
    private readonly host: StreamHost,
    private readonly limits: StreamLimits = DEFAULT_STREAM_LIMITS,
  ) {}

  get size(): number {
    return this.#streams.size;
  }

  /** Opens a stream; opening one already open acknowledges where it stands. */
  open(message: Start): void {
    const { streamId, group } = message;
    const existing = this.#streams.get(streamId);
    if (existing) {
      this.#ack(existing);
      return;
    }
    if (!this.host.canSend(group)) {
      this.host.control({
        type: 'streamClosed',
        streamId,
        error: {
          name: StreamErrorName.forbidden,
          message: `The connection has no permission to send to group ${JSON.stringify(group)} (role webpubsub.sendToGroup.${group} needed)`,
        },
      });
      return;
    }
    if (this.#streams.size >= this.limits.maxStreamsPerConnection) {
      this.host.control({
        type: 'streamClosed',
        streamId,
        error: {
          name: StreamErrorName.tooMany,
          message: `The connection already has ${this.limits.maxStreamsPerConnection} open streams`,
        },
      });
      return;
    }
    const stream: OpenStream = {
      streamId,
      group,
      noEcho: message.noEcho,
      idleTimeoutMs: Math.min(
        message.idleTimeoutMs ?? this.limits.defaultIdleTimeoutMs,
        this.limits.maxIdleTimeoutMs,
      ),
      expected: 1,
      timer: undefined,
    };
    this.#streams.set(streamId, stream);
    this.#touch(stream);
    this.#ack(stream);
  }

  /** A fragment or a keep-alive. */
  data(message: Data): void {
    const stream = this.#find(message.streamId);
    if (!stream) return;
    this.#touch(stream);
    const sequenceId = message.streamSequenceId;
    if (sequenceId === undefined || message.payload === undefined) {
      this.#ack(stream);
      return;
    }
    if (sequenceId < stream.expected) {
      // A replay after a recovery: delivered already, acknowledged again.
      this.#ack(stream);
      return;
    }
    if (sequenceId > stream.expected) {
      this.host.control({
        type: 'streamNack',
        streamId: stream.streamId,
        expectedSequenceId: stream.expected,
        name: StreamErrorName.outOfOrder,
        message: `streamSequenceId ${sequenceId} skips ahead; ${stream.expected} was expected`,
      });
      return;
    }
    this.host.publish(stream.group, stream.noEcho, message.payload, {
      streamId: stream.streamId,
      streamSequenceId: sequenceId,
      endOfStream: false,
    });
    stream.expected++;
    this.#ack(stream);
  }

  /** The writer ends the stream, with or without an error. */
  end(message: End): void {
    const stream = this.#find(message.streamId);
    if (!stream) return;
    const error: StreamError | undefined = message.error
      ? {
          name: StreamErrorName.userError,
          message: message.error.message ?? '',
          userErrorCode: message.error.userErrorCode,
        }
      : undefined;
    this.#close(stream, error);
    this.host.control({ type: 'streamClosed', streamId: stream.streamId });
  }

  /** The writer's connection has ended for good: members see each stream end with an error. */
  closeAll(reason = "the writer's connection ended"): void {
    for (const stream of this.#streams.values()) {
      this.#close(stream, { name: StreamErrorName.writerGone, message: reason });
    }
  }

  #find(streamId: string): OpenStream | undefined {
    const stream = this.#streams.get(streamId);
    if (!stream) {
      this.host.control({
        type: 'streamClosed',
        streamId,
        error: {
          name: StreamErrorName.notFound,
          message: `Stream ${JSON.stringify(streamId)} is not open (never opened, ended or timed out)`,
        },
      });
    }
    return stream;
  }

  /** Ends a stream: the end marker to the members, the stream forgotten. */
  #close(stream: OpenStream, error: StreamError | undefined): void {
    if (stream.timer) clearTimeout(stream.timer);
    this.#streams.delete(stream.streamId);
    this.host.publish(stream.group, stream.noEcho, EMPTY, {
      streamId: stream.streamId,
      streamSequenceId: stream.expected,
      endOfStream: true,
      error,
    });
  }

  #ack(stream: OpenStream): void {
    this.host.control({
      type: 'streamAck',
      streamId: stream.streamId,
      expectedSequenceId: stream.expected,
    });
  }

  #touch(stream: OpenStream): void {
    if (stream.timer) clearTimeout(stream.timer);
    stream.timer = setTimeout(() => {
      if (this.#streams.get(stream.streamId) !== stream) return;
      const error = {
        name: StreamErrorName.idleTimeout,
        message: `No data or keep-alive for ${stream.idleTimeoutMs} ms`,
      };
      this.#close(stream, error);
      this.host.control({ type: 'streamClosed', streamId: stream.streamId, error });
    }, stream.idleTimeoutMs);
    stream.timer.unref();
  }
}
