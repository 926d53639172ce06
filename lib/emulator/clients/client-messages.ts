/**
 * What PubSub clients (JSON and protobuf subprotocols) ask of the service, once read from the
 * wire, and the rules every reader applies to names and payloads. The JSON and protobuf codecs
 * both produce these messages; the session executes them without knowing the wire format.
 */
import { groupNameProblem } from '../../protocol/names.js';

/**
 * How a payload is typed: `protobuf` is a serialized `google.protobuf.Any` (what protobuf clients
 * send as `protobuf_data`, what JSON clients send base64 with `dataType: "protobuf"`).
 */
export type PayloadDataType = 'json' | 'text' | 'binary' | 'protobuf';

/** A client message's payload, decoded to bytes (UTF-8 text for `text` and `json`). */
export interface ClientPayload {
  readonly dataType: PayloadDataType;
  readonly data: Buffer;
}

/** What a stream end carries when the writer ends it with an error. */
export interface StreamEndError {
  readonly message?: string;
  readonly userErrorCode?: string;
}

export type ClientMessage =
  | { readonly type: 'joinGroup' | 'leaveGroup'; readonly group: string; readonly ackId?: number }
  | {
      readonly type: 'sendToGroup';
      readonly group: string;
      readonly ackId?: number;
      readonly noEcho: boolean;
      readonly payload: ClientPayload;
    }
  | {
      readonly type: 'event';
      readonly event: string;
      readonly ackId?: number;
      readonly payload: ClientPayload;
    }
  | { readonly type: 'sequenceAck'; readonly sequenceId: number }
  | { readonly type: 'ping' }
  | {
      readonly type: 'invoke';
      readonly invocationId: string;
      readonly event: string;
      readonly payload?: ClientPayload;
    }
  | { readonly type: 'cancelInvocation'; readonly invocationId: string }
  /** `sendToGroup` with `stream: { streamId }` and no data: opens a group stream. */
  | {
      readonly type: 'streamStart';
      readonly group: string;
      readonly streamId: string;
      readonly noEcho: boolean;
      readonly idleTimeoutMs?: number;
      readonly ackId?: number;
    }
  /** A stream fragment; without `streamSequenceId` and `payload` it is a keep-alive. */
  | {
      readonly type: 'streamData';
      readonly streamId: string;
      readonly streamSequenceId?: number;
      readonly payload?: ClientPayload;
    }
  | { readonly type: 'streamEnd'; readonly streamId: string; readonly error?: StreamEndError }
  | { readonly type: 'unsupported'; readonly name: string; readonly ackId?: number };

/** A message the service cannot read: the session closes the socket with {@link code}. */
export class MalformedMessage extends Error {
  constructor(
    message: string,
    /** 1003 for a frame of the wrong kind (binary to JSON, text to protobuf), 1007 for an unreadable message. */
    readonly code: 1003 | 1007 = 1007,
  ) {
    super(message);
  }
}

/** Stream ids: 1 to 128 characters (the emulator's bound; the service documents none). */
export const MAX_STREAM_ID_LENGTH = 128;

/** A group name as the service accepts it. @throws MalformedMessage naming the problem. */
export function checkGroup(value: unknown): string {
  const problem = groupNameProblem(value);
  if (problem) throw new MalformedMessage(problem);
  return value as string;
}

/** An event name: no white space, commas or control characters, at most 128 characters. */
export function checkEventName(value: unknown): string {
  if (typeof value !== 'string' || value === '') {
    throw new MalformedMessage('"event" must be a non-empty string');
  }
  // oxlint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (/[\s,\x00-\x1f\x7f]/.test(value) || value.length > 128) {
    throw new MalformedMessage(`event name ${JSON.stringify(value.slice(0, 40))} is not valid`);
  }
  return value;
}

export function checkInvocationId(value: unknown): string {
  if (typeof value !== 'string' || value === '' || value.length > 128) {
    throw new MalformedMessage('"invocationId" must be a non-empty string');
  }
  return value;
}

export function checkStreamId(value: unknown): string {
  if (typeof value !== 'string' || value === '' || value.length > MAX_STREAM_ID_LENGTH) {
    throw new MalformedMessage(
      `"streamId" must be a string of 1 to ${MAX_STREAM_ID_LENGTH} characters`,
    );
  }
  return value;
}

/** A non-negative integer id (ackId, sequenceId, streamSequenceId) within the safe range. */
export function checkId(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new MalformedMessage(`"${name}" must be a non-negative integer`);
  }
  return value;
}

/** A stream's idle timeout the client asked for: a positive integer of milliseconds. */
export function checkIdleTimeout(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new MalformedMessage('"idleTimeoutMs" must be a non-negative integer');
  }
  return value === 0 ? undefined : value;
}
