/**
 * MQTT over WebSocket cuts the byte stream into frames anywhere: a frame may hold several control
 * packets, and a packet may run over several frames. The framer turns frames back into whole
 * packets (fixed header + remaining length), in order, without copying bytes more than once.
 */

/** A stream that cannot be cut into packets: the connection ends with {@link code}. */
export class MqttFrameError extends Error {
  constructor(
    message: string,
    /** MQTT 5 reason code: 0x81 malformed packet, 0x95 packet too large. */
    readonly code: 0x81 | 0x95,
  ) {
    super(message);
  }
}

export class MqttFramer {
  readonly #chunks: Buffer[] = [];
  #size = 0;
  /** Length of the packet at the head, once its fixed header is complete. */
  #packetLength: number | undefined;

  constructor(
    /** Largest packet accepted, fixed header included. */
    readonly maxPacketBytes: number,
  ) {}

  /** Bytes received and not yet part of a whole packet. */
  get buffered(): number {
    return this.#size;
  }

  /**
   * Takes the bytes of one frame; returns every packet they complete, in order.
   * @throws MqttFrameError for a remaining length over 4 bytes or a packet over the limit.
   */
  push(data: Buffer): Buffer[] {
    if (data.length > 0) {
      this.#chunks.push(data);
      this.#size += data.length;
    }
    const packets: Buffer[] = [];
    for (;;) {
      this.#packetLength ??= this.#readLength();
      const length = this.#packetLength;
      if (length === undefined || this.#size < length) return packets;
      packets.push(this.#take(length));
      this.#packetLength = undefined;
    }
  }

  /** The whole packet length from the fixed header, or `undefined` while the header is incomplete. */
  #readLength(): number | undefined {
    let remaining = 0;
    let multiplier = 1;
    for (let index = 1; index <= 4; index++) {
      const byte = this.#byteAt(index);
      if (byte === undefined) return undefined;
      remaining += (byte & 0x7f) * multiplier;
      if ((byte & 0x80) === 0) {
        const length = 1 + index + remaining;
        if (length > this.maxPacketBytes) {
          throw new MqttFrameError(
            `a packet of ${length} bytes is larger than the ${this.maxPacketBytes} bytes accepted`,
            0x95,
          );
        }
        return length;
      }
      multiplier *= 128;
    }
    throw new MqttFrameError('the remaining length runs over 4 bytes', 0x81);
  }

  #byteAt(index: number): number | undefined {
    for (const chunk of this.#chunks) {
      if (index < chunk.length) return chunk[index];
      index -= chunk.length;
    }
    return undefined;
  }

  #take(length: number): Buffer {
    const first = this.#chunks[0];
    let packet: Buffer;
    if (first.length >= length) {
      packet = first.subarray(0, length);
      if (first.length === length) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(length);
    } else {
      const parts: Buffer[] = [];
      let needed = length;
      while (needed > 0) {
        const chunk = this.#chunks[0];
        if (chunk.length <= needed) {
          parts.push(chunk);
          this.#chunks.shift();
          needed -= chunk.length;
        } else {
          parts.push(chunk.subarray(0, needed));
          this.#chunks[0] = chunk.subarray(needed);
          needed = 0;
        }
      }
      packet = Buffer.concat(parts, length);
    }
    this.#size -= length;
    return packet;
  }
}
