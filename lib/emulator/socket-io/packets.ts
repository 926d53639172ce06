/**
 * Engine.IO and Socket.IO packets as the emulator's Socket.IO mode handles them. Encodings are
 * `engine.io-parser`'s and `socket.io-parser`'s; the only thing read by hand is the routing part of
 * a Socket.IO header (type, attachment count, namespace, ack id), which the service needs without
 * decoding a packet's data (the SDK itself reads the same fields by hand, `SIO/components/decoder.ts`).
 */
import {
  decodePacket,
  decodePayload,
  encodePacket,
  encodePayload,
  type Packet,
} from 'engine.io-parser';
import { Decoder, Encoder, PacketType, type Packet as SioPacket } from 'socket.io-parser';

export type EioPacket = Packet;
export { PacketType as SioPacketType };

/** Engine.IO protocol revision the emulator speaks (socket.io-client 3 and 4). */
export const EIO_PROTOCOL = '4';

/** Engine.IO's own HTTP error answers (`engine.io` `Server.errorMessages`). */
export const EioError = {
  UNKNOWN_TRANSPORT: { code: 0, message: 'Transport unknown' },
  UNKNOWN_SID: { code: 1, message: 'Session ID unknown' },
  BAD_HANDSHAKE_METHOD: { code: 2, message: 'Bad handshake method' },
  BAD_REQUEST: { code: 3, message: 'Bad request' },
  FORBIDDEN: { code: 4, message: 'Forbidden' },
  UNSUPPORTED_PROTOCOL_VERSION: { code: 5, message: 'Unsupported protocol version' },
} as const;

/** Packets of an Engine.IO payload (long-polling body, or a REST body of the tunnel). */
export function decodeEioPayload(payload: string): EioPacket[] {
  return decodePayload(payload, 'nodebuffer');
}

/** A long-polling payload: packets joined by `\x1e`, binary as `b<base64>`. */
export function encodeEioPayload(packets: readonly EioPacket[]): string {
  let result: string | undefined;
  encodePayload(packets as EioPacket[], encoded => {
    result = encoded;
  });
  if (result === undefined) throw new Error('engine.io-parser did not encode synchronously');
  return result;
}

/** One WebSocket frame: a string, or bytes for a binary message. */
export function encodeEioFrame(packet: EioPacket): string | Buffer {
  let result: string | Buffer | undefined;
  encodePacket(packet, true, encoded => {
    result = typeof encoded === 'string' ? encoded : toBuffer(encoded);
  });
  if (result === undefined) throw new Error('engine.io-parser did not encode synchronously');
  return result;
}

export function decodeEioFrame(data: string | Buffer): EioPacket {
  return decodePacket(data, 'nodebuffer');
}

function toBuffer(data: ArrayBuffer | ArrayBufferView): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/** The routing part of a Socket.IO packet's header. */
export interface SioHeader {
  readonly type: number;
  readonly attachments: number;
  readonly nsp: string;
  readonly id?: number;
}

/** Reads the header of a Socket.IO packet (the text of an Engine.IO message); `undefined` if it is not one. */
export function readSioHeader(text: string): SioHeader | undefined {
  const type = text.charCodeAt(0) - 48;
  if (!(type >= 0 && type <= 6)) return undefined;
  let i = 1;
  let attachments = 0;
  if (type === PacketType.BINARY_EVENT || type === PacketType.BINARY_ACK) {
    const dash = text.indexOf('-', i);
    if (dash < 0) return undefined;
    attachments = Number(text.slice(i, dash));
    if (!Number.isSafeInteger(attachments) || attachments < 0) return undefined;
    i = dash + 1;
  }
  let nsp = '/';
  if (text.charAt(i) === '/') {
    const comma = text.indexOf(',', i);
    nsp = comma < 0 ? text.slice(i) : text.slice(i, comma);
    i = comma < 0 ? text.length : comma + 1;
  }
  let id: number | undefined;
  let digits = i;
  while (digits < text.length && text.charCodeAt(digits) >= 48 && text.charCodeAt(digits) <= 57)
    digits++;
  if (digits > i) id = Number(text.slice(i, digits));
  return { type, attachments, nsp, id };
}

/**
 * The order `io.disconnectSockets(close)` sends through the service: a DISCONNECT carrying
 * `{"close": <boolean>}` (`41{"close":false}`, `41/admin,{"close":true}`). A client never gets such
 * a packet (socket.io-client refuses a DISCONNECT with data); `undefined` for any other packet.
 */
export function readDisconnectOrder(text: string): { nsp: string; close: boolean } | undefined {
  const header = readSioHeader(text);
  if (header?.type !== PacketType.DISCONNECT) return undefined;
  let data = text.slice(1);
  if (data.startsWith('/')) {
    const comma = data.indexOf(',');
    if (comma < 0) return undefined;
    data = data.slice(comma + 1);
  }
  if (!data.startsWith('{')) return undefined;
  try {
    const close = (JSON.parse(data) as { close?: unknown }).close;
    return typeof close === 'boolean' ? { nsp: header.nsp, close } : undefined;
  } catch {
    return undefined;
  }
}

/** The DISCONNECT packet of namespace `nsp`, as a client or a server writes it. */
export function disconnectPacket(nsp: string): string {
  return nsp === '/' ? '1' : `1${nsp},`;
}

export { parseSioGroupName, sioGroupName } from '../../protocol/socket-io-groups.js';

/**
 * A Socket.IO packet rebuilt from the Engine.IO message packets that carry it (header, then its
 * binary attachments), with `socket.io-parser`. Throws on a malformed packet.
 */
export function decodeSioPacket(parts: readonly EioPacket[]): SioPacket {
  const decoder = new Decoder();
  let decoded: SioPacket | undefined;
  decoder.on('decoded', packet => {
    decoded = packet;
  });
  try {
    for (const part of parts) decoder.add(part.data);
  } finally {
    decoder.destroy();
  }
  if (decoded === undefined) throw new Error('the Socket.IO packet is incomplete');
  return decoded;
}

const encoder = new Encoder();

/** The Engine.IO message packets of a Socket.IO packet (header, then binary attachments). */
export function encodeSioPacket(packet: SioPacket): EioPacket[] {
  return encoder.encode(packet).map(part => ({ type: 'message' as const, data: part }));
}
