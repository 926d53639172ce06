/**
 * What MQTT 3.1.1 and 5.0 say must end the connection, checked on one whole packet as received
 * (its bytes, and `mqtt-packet`'s reading of them, which replaces bad UTF-8 instead of refusing it):
 *
 * - a UTF-8 string (topic name, topic filter, client id, will topic, user name) that is not
 *   well-formed UTF-8 or holds U+0000: a malformed packet (MQTT-1.5.4-1, -2), reason 0x81;
 * - PUBLISH with QoS 1 or 2, SUBSCRIBE or UNSUBSCRIBE with packet id 0 (MQTT-2.3.1-1), SUBSCRIBE or
 *   UNSUBSCRIBE without a topic filter (MQTT-3.8.3-3, -3.10.3-2), an MQTT 5 Receive Maximum of 0
 *   (MQTT 5 §3.1.2.11.3): a protocol error, reason 0x82.
 *
 * MQTT 5 clients hear the reason code (CONNACK before the session starts, DISCONNECT after);
 * 3.1.1 has no such packet, and the connection simply closes.
 */
import type { Packet } from 'mqtt-packet';

export const MALFORMED_PACKET = 0x81;
export const PROTOCOL_ERROR = 0x82;

export interface PacketProblem {
  readonly code: typeof MALFORMED_PACKET | typeof PROTOCOL_ERROR;
  readonly reason: string;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/** Why `packet` (read from `bytes`) must end the connection, or `undefined`. */
export function packetProblem(
  bytes: Buffer,
  packet: Packet,
  protocolVersion: number,
): PacketProblem | undefined {
  try {
    switch (packet.cmd) {
      case 'connect':
        if (packet.protocolVersion === 5 && packet.properties?.receiveMaximum === 0) {
          return { code: PROTOCOL_ERROR, reason: 'Receive Maximum 0 is a protocol error' };
        }
        return connectStrings(bytes);
      case 'publish':
        if (packet.qos > 0 && !packet.messageId) {
          return protocolError(`a QoS ${packet.qos} PUBLISH needs a non-zero packet id`);
        }
        return utf8Problem(new Reader(bytes).skipFixedHeader().string(), 'the topic name');
      case 'subscribe':
      case 'unsubscribe': {
        const name = packet.cmd.toUpperCase();
        if (!packet.messageId) return protocolError(`${name} needs a non-zero packet id`);
        const count =
          packet.cmd === 'subscribe' ? packet.subscriptions.length : packet.unsubscriptions.length;
        if (count === 0) return protocolError(`${name} needs at least one topic filter`);
        const reader = new Reader(bytes).skipFixedHeader();
        reader.skip(2);
        if (protocolVersion === 5) reader.skipProperties();
        while (!reader.done) {
          const problem = utf8Problem(reader.string(), 'a topic filter');
          if (problem) return problem;
          if (packet.cmd === 'subscribe') reader.skip(1);
        }
        return undefined;
      }
      default:
        return undefined;
    }
  } catch {
    return {
      code: MALFORMED_PACKET,
      reason: `the ${packet.cmd.toUpperCase()} packet is cut short`,
    };
  }
}

function protocolError(reason: string): PacketProblem {
  return { code: PROTOCOL_ERROR, reason };
}

/** The CONNECT's UTF-8 strings: client id, will topic, user name. */
function connectStrings(bytes: Buffer): PacketProblem | undefined {
  const reader = new Reader(bytes).skipFixedHeader();
  reader.string(); // protocol name: checked by mqtt-packet
  const level = reader.byte();
  const flags = reader.byte();
  reader.skip(2);
  if (level === 5) reader.skipProperties();
  const clientId = utf8Problem(reader.string(), 'the client id');
  if (clientId) return clientId;
  if (flags & 0x04) {
    if (level === 5) reader.skipProperties();
    const will = utf8Problem(reader.string(), 'the will topic');
    if (will) return will;
    reader.string(); // the will payload: binary
  }
  if (flags & 0x80) return utf8Problem(reader.string(), 'the user name');
  return undefined;
}

function utf8Problem(bytes: Buffer, what: string): PacketProblem | undefined {
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    return { code: MALFORMED_PACKET, reason: `${what} is not valid UTF-8` };
  }
  if (text.includes('\u0000')) {
    return { code: MALFORMED_PACKET, reason: `${what} contains U+0000` };
  }
  return undefined;
}

/** Reads a packet's fields by position; throws a RangeError past the end. */
class Reader {
  #offset = 0;

  constructor(readonly bytes: Buffer) {}

  get done(): boolean {
    return this.#offset >= this.bytes.length;
  }

  skipFixedHeader(): this {
    this.#offset = 1;
    while (this.byte() & 0x80);
    return this;
  }

  byte(): number {
    if (this.#offset >= this.bytes.length) throw new RangeError('past the end');
    return this.bytes[this.#offset++];
  }

  skip(count: number): void {
    this.#offset += count;
    if (this.#offset > this.bytes.length) throw new RangeError('past the end');
  }

  /** A two-byte length and that many bytes. */
  string(): Buffer {
    const length = (this.byte() << 8) | this.byte();
    const start = this.#offset;
    this.skip(length);
    return this.bytes.subarray(start, start + length);
  }

  /** MQTT 5 properties: a variable byte integer length and that many bytes. */
  skipProperties(): void {
    let length = 0;
    let multiplier = 1;
    for (let i = 0; i < 4; i++) {
      const byte = this.byte();
      length += (byte & 0x7f) * multiplier;
      if ((byte & 0x80) === 0) break;
      multiplier *= 128;
    }
    this.skip(length);
  }
}
