/**
 * The frames of the Web PubSub for Socket.IO tunnel (`/server/tunnel`), as
 * `@azure/web-pubsub-socket.io` 1.2 writes and reads them (`TunnelMessageProtocol`): a 4-byte
 * little-endian length, then a MessagePack array `[Type, JSON of the message without Content,
 * Content bytes or nil]`. Only that shape is read or written, so the MessagePack subset here is the
 * one the SDK's encoder produces for it (integers, strings, binary, nil); anything else is refused
 * with a `TunnelFrameError` naming the problem.
 */

export const TunnelMessageType = {
  HttpRequest: 1,
  HttpResponse: 2,
  ServiceStatus: 5,
  ConnectionReconnect: 6,
  ConnectionClose: 7,
  ConnectionRebalance: 8,
  ConnectionConnected: 10,
} as const;

/** A tunnel message: its type, its JSON fields, and its body bytes (requests and responses only). */
export interface TunnelFrame {
  readonly type: number;
  readonly fields: Record<string, unknown>;
  readonly content?: Uint8Array;
}

/** The SDK's frame limit. */
export const MAX_TUNNEL_FRAME_BYTES = 1024 * 1024 + 64 * 1024;

export class TunnelFrameError extends Error {
  override readonly name = 'TunnelFrameError';
}

export function encodeTunnelFrame(frame: TunnelFrame): Buffer {
  const json = Buffer.from(JSON.stringify({ ...frame.fields, Type: frame.type }), 'utf8');
  const parts: Buffer[] = [Buffer.from([0x93]), encodeUint(frame.type), strHeader(json.length)];
  parts.push(json);
  if (frame.content === undefined) {
    parts.push(Buffer.from([0xc0]));
  } else {
    parts.push(binHeader(frame.content.length));
    parts.push(Buffer.from(frame.content.buffer, frame.content.byteOffset, frame.content.length));
  }
  const body = Buffer.concat(parts);
  const length = Buffer.alloc(4);
  length.writeUInt32LE(body.length, 0);
  return Buffer.concat([length, body]);
}

export function decodeTunnelFrame(data: Buffer): TunnelFrame {
  if (data.length < 5) throw new TunnelFrameError('a tunnel frame is at least 5 bytes');
  const length = data.readUInt32LE(0);
  if (length !== data.length - 4) {
    throw new TunnelFrameError(
      `the frame's length prefix says ${length} bytes but ${data.length - 4} follow`,
    );
  }
  const reader = new Reader(data, 4);
  const count = reader.arrayHeader();
  if (count !== 3) throw new TunnelFrameError(`expected an array of 3 items, got ${count}`);
  const type = reader.uint();
  const jsonText = reader.str();
  const content = reader.binOrNil();
  if (reader.offset !== data.length) throw new TunnelFrameError('bytes after the frame');
  let fields: unknown;
  try {
    fields = JSON.parse(jsonText);
  } catch (error) {
    throw new TunnelFrameError(`the frame's JSON part is not JSON: ${(error as Error).message}`);
  }
  if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) {
    throw new TunnelFrameError("the frame's JSON part is not an object");
  }
  return { type, fields: fields as Record<string, unknown>, content };
}

function encodeUint(value: number): Buffer {
  if (value < 0x80) return Buffer.from([value]);
  if (value < 0x100) return Buffer.from([0xcc, value]);
  const buffer = Buffer.alloc(5);
  buffer[0] = 0xce;
  buffer.writeUInt32BE(value, 1);
  return buffer;
}

function strHeader(length: number): Buffer {
  if (length < 32) return Buffer.from([0xa0 | length]);
  if (length < 0x100) return Buffer.from([0xd9, length]);
  if (length < 0x10000) {
    const buffer = Buffer.alloc(3);
    buffer[0] = 0xda;
    buffer.writeUInt16BE(length, 1);
    return buffer;
  }
  const buffer = Buffer.alloc(5);
  buffer[0] = 0xdb;
  buffer.writeUInt32BE(length, 1);
  return buffer;
}

function binHeader(length: number): Buffer {
  if (length < 0x100) return Buffer.from([0xc4, length]);
  if (length < 0x10000) {
    const buffer = Buffer.alloc(3);
    buffer[0] = 0xc5;
    buffer.writeUInt16BE(length, 1);
    return buffer;
  }
  const buffer = Buffer.alloc(5);
  buffer[0] = 0xc6;
  buffer.writeUInt32BE(length, 1);
  return buffer;
}

class Reader {
  constructor(
    readonly data: Buffer,
    public offset: number,
  ) {}

  #need(bytes: number): void {
    if (this.offset + bytes > this.data.length)
      throw new TunnelFrameError('the frame is cut short');
  }

  #byte(): number {
    this.#need(1);
    return this.data[this.offset++];
  }

  #length(bytes: 1 | 2 | 4): number {
    this.#need(bytes);
    const value =
      bytes === 1
        ? this.data.readUInt8(this.offset)
        : bytes === 2
          ? this.data.readUInt16BE(this.offset)
          : this.data.readUInt32BE(this.offset);
    this.offset += bytes;
    return value;
  }

  arrayHeader(): number {
    const byte = this.#byte();
    if ((byte & 0xf0) === 0x90) return byte & 0x0f;
    if (byte === 0xdc) return this.#length(2);
    if (byte === 0xdd) return this.#length(4);
    throw new TunnelFrameError(`expected a MessagePack array, got 0x${byte.toString(16)}`);
  }

  uint(): number {
    const byte = this.#byte();
    if (byte < 0x80) return byte;
    if (byte === 0xcc) return this.#length(1);
    if (byte === 0xcd) return this.#length(2);
    if (byte === 0xce) return this.#length(4);
    throw new TunnelFrameError(
      `expected the message type as an integer, got 0x${byte.toString(16)}`,
    );
  }

  str(): string {
    const byte = this.#byte();
    let length: number;
    if ((byte & 0xe0) === 0xa0) length = byte & 0x1f;
    else if (byte === 0xd9) length = this.#length(1);
    else if (byte === 0xda) length = this.#length(2);
    else if (byte === 0xdb) length = this.#length(4);
    else
      throw new TunnelFrameError(`expected the JSON part as a string, got 0x${byte.toString(16)}`);
    this.#need(length);
    const text = this.data.toString('utf8', this.offset, this.offset + length);
    this.offset += length;
    return text;
  }

  binOrNil(): Uint8Array | undefined {
    const byte = this.#byte();
    if (byte === 0xc0) return undefined;
    let length: number;
    if (byte === 0xc4) length = this.#length(1);
    else if (byte === 0xc5) length = this.#length(2);
    else if (byte === 0xc6) length = this.#length(4);
    else
      throw new TunnelFrameError(
        `expected the content as bytes or nil, got 0x${byte.toString(16)}`,
      );
    this.#need(length);
    const bytes = this.data.subarray(this.offset, this.offset + length);
    this.offset += length;
    return bytes;
  }
}
