/**
 * `google.protobuf.Any`, the form protobuf subprotocol clients give their data
 * (`MessageData.protobuf_data`): `type_url` (field 1, string) and `value` (field 2, bytes).
 * The service passes it on serialized: a user event with `Content-Type: application/x-protobuf`
 * carries these bytes, and so does a handler's `protobuf` answer. No protobuf library needed.
 */

/** An unpacked `Any`: the message's type and its serialized bytes. @publicApi */
export interface ProtobufAny {
  /** e.g. `type.googleapis.com/my.package.MyMessage`. */
  readonly typeUrl: string;
  /** The message itself, serialized (decode it with your schema). */
  readonly value: Buffer;
}

/**
 * Serializes an `Any` (what a protobuf client sends as `protobuf_data`).
 * @publicApi
 */
export function packAny(typeUrl: string, value: Uint8Array): Buffer {
  const url = Buffer.from(typeUrl, 'utf8');
  const parts: Buffer[] = [];
  if (url.length > 0) parts.push(Buffer.from([0x0a]), varint(url.length), url);
  if (value.byteLength > 0) {
    parts.push(Buffer.from([0x12]), varint(value.byteLength), Buffer.from(value));
  }
  return Buffer.concat(parts);
}

/**
 * Reads a serialized `Any` (the `data` of a `protobuf` user event).
 * @throws TypeError when the bytes are not an `Any`.
 * @publicApi
 */
export function unpackAny(bytes: Uint8Array): ProtobufAny {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let typeUrl = '';
  let value: Buffer = Buffer.alloc(0);
  let offset = 0;
  while (offset < buffer.length) {
    const [tag, afterTag] = readVarint(buffer, offset);
    offset = afterTag;
    const field = Math.floor(tag / 8);
    switch (tag % 8) {
      case 0:
        offset = readVarint(buffer, offset)[1];
        break;
      case 1:
        offset += 8;
        break;
      case 5:
        offset += 4;
        break;
      case 2: {
        const [length, start] = readVarint(buffer, offset);
        const end = start + length;
        if (end > buffer.length)
          throw new TypeError('Not a google.protobuf.Any: a field runs past the end');
        if (field === 1) typeUrl = buffer.toString('utf8', start, end);
        else if (field === 2) value = buffer.subarray(start, end);
        offset = end;
        break;
      }
      default:
        throw new TypeError(`Not a google.protobuf.Any: wire type ${tag % 8} at byte ${offset}`);
    }
    if (offset > buffer.length) throw new TypeError('Not a google.protobuf.Any: truncated');
  }
  return { typeUrl, value };
}

function varint(value: number): Buffer {
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    bytes.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

/** A varint (at most 7 bytes: values up to 2^49, far beyond a 1 MB frame) and the offset after it. */
function readVarint(buffer: Buffer, start: number): [number, number] {
  let value = 0;
  let scale = 1;
  for (let offset = start; offset < buffer.length && offset < start + 7; offset++) {
    const byte = buffer[offset];
    value += (byte & 0x7f) * scale;
    if ((byte & 0x80) === 0) return [value, offset + 1];
    scale *= 0x80;
  }
  throw new TypeError('Not a google.protobuf.Any: a varint is truncated or too long');
}
