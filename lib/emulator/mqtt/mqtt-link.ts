/**
 * One MQTT network connection: MQTT packets (3.1.1 and 5.0, read and written by `mqtt-packet`)
 * over one WebSocket, and the keep-alive watch (the link is cut after 1.5 × keep-alive of
 * silence). Frames are cut into whole packets (`mqtt-framer.ts`: any number per frame, or one
 * over several), each checked against the specification's close rules (`mqtt-packet-rules.ts`)
 * before anyone hears it. What the packets mean is the session's business (`mqtt-session.ts`).
 */
import { randomBytes } from 'node:crypto';
import mqttPacket from 'mqtt-packet';
import type { IDisconnectPacket, IPublishPacket, Packet } from 'mqtt-packet';
import type WebSocket from 'ws';
import { clip } from './mqtt-ack-codes.js';
import { MqttFrameError, MqttFramer } from './mqtt-framer.js';
import { MALFORMED_PACKET, packetProblem } from './mqtt-packet-rules.js';

/** How the link ended, for the session and the `disconnected` event. */
export interface LinkEnd {
  /** The client sent DISCONNECT (then `disconnectPacket` is it). */
  readonly disconnectPacket?: IDisconnectPacket;
  /** The emulator cut the link (keep-alive, protocol error, admin close, takeover, shutdown). */
  readonly byServer: boolean;
  readonly reason: string;
}

export interface LinkHandlers {
  packet(packet: Packet): void;
  /** Called once, when the socket has closed. */
  closed(end: LinkEnd): void;
}

export class MqttLink {
  /** `ce-physicalConnectionId`. */
  readonly physicalConnectionId = randomBytes(12).toString('hex');
  /** 4 or 5 once the CONNECT packet is read (3 for MQTT 3.1, refused). */
  protocolVersion = 4;
  readonly #ws: WebSocket;
  readonly #parser = mqttPacket.parser();
  readonly #framer: MqttFramer;
  /** The packet being decoded (the parser emits it synchronously). */
  #decoded: Packet | undefined;
  #decodeError: Error | undefined;
  #handlers: LinkHandlers | undefined;
  /** Packets that came while the CONNECT is being decided, for the session to hear in order. */
  #held: Packet[] | undefined;
  #heldPaused = false;
  /** Whether a CONNACK accepting the connection went out (before it, refusals are CONNACKs). */
  #connacked = false;
  #keepAliveMs = 0;
  #lastHeard = Date.now();
  #watch: NodeJS.Timeout | undefined;
  #end: LinkEnd | undefined;
  #closed = false;
  #paused = false;

  constructor(
    ws: WebSocket,
    /** Bytes waiting in the send buffer before the client is cut as not reading. */
    readonly maxBufferedBytes = Number.POSITIVE_INFINITY,
    /** The largest packet read (a WebSocket frame is at most 1 MB; a packet may span frames). */
    readonly maxPacketBytes = 1024 * 1024,
  ) {
    this.#ws = ws;
    this.#framer = new MqttFramer(maxPacketBytes);
    this.#parser.on('packet', (packet: Packet) => {
      this.#decoded = packet;
    });
    this.#parser.on('error', (error: Error) => {
      this.#decodeError = error;
    });
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (this.#end) return;
      this.#lastHeard = Date.now();
      if (!isBinary) {
        this.close('MQTT over WebSocket travels in binary frames, not text', MALFORMED_PACKET);
        return;
      }
      try {
        this.#frame(data);
      } catch (error) {
        // Nothing a packet does may escape into ws (an exception there ends the process).
        this.close(`internal error: ${(error as Error).message}`, 0x80);
      }
    });
    ws.on('close', (code: number) => {
      this.#closed = true;
      this.#stopWatch();
      const end = this.#end ?? {
        byServer: false,
        reason:
          code === 1006
            ? 'the connection closed without DISCONNECT (socket lost)'
            : code === 1009
              ? 'the client sent a frame larger than 1 MB'
              : `the connection closed without DISCONNECT (WebSocket close ${code})`,
      };
      this.#end = end;
      this.#handlers?.closed(end);
    });
    ws.on('error', () => {
      // 'close' follows.
    });
  }

  get open(): boolean {
    return !this.#closed && this.#end === undefined;
  }

  /** The packets of one frame: each whole one decoded, checked, then handed on, in order. */
  #frame(data: Buffer): void {
    let packets: Buffer[];
    try {
      packets = this.#framer.push(data);
    } catch (error) {
      if (!(error instanceof MqttFrameError)) throw error;
      this.close(error.message, error.code);
      return;
    }
    for (const bytes of packets) {
      if (this.#end) return;
      this.#decoded = undefined;
      this.#decodeError = undefined;
      this.#parser.parse(bytes);
      const packet = this.#decoded as Packet | undefined;
      if (!packet) {
        // A malformed packet: MQTT 5 hears reason 0x81; 3.1.1 just closes.
        const problem =
          (this.#decodeError as Error | undefined)?.message ?? 'the packet cannot be read';
        this.close(`malformed packet: ${problem}`, MALFORMED_PACKET);
        return;
      }
      if (packet.cmd === 'connect' && packet.protocolVersion !== undefined) {
        this.protocolVersion = packet.protocolVersion;
      }
      const problem = packetProblem(bytes, packet, this.protocolVersion);
      if (problem) {
        this.close(problem.reason, problem.code);
        return;
      }
      this.#dispatch(packet);
    }
  }

  #dispatch(packet: Packet): void {
    if (packet.cmd === 'disconnect') {
      this.#end = {
        disconnectPacket: packet,
        byServer: false,
        reason: 'the client sent DISCONNECT',
      };
      this.#handlers?.packet(packet);
      this.#ws.close(1000);
      return;
    }
    if (this.#held) {
      this.#held.push(packet);
      // While the CONNECT is decided, a client that keeps sending is not read further.
      if (this.#held.length >= HELD_PACKETS && !this.#heldPaused) {
        this.#heldPaused = true;
        this.#ws.pause();
      }
      return;
    }
    this.#handlers?.packet(packet);
  }

  /** Keeps the packets that come from now on (the CONNECT is being decided) for the next {@link listen}. */
  hold(): void {
    this.#held ??= [];
  }

  /** Who hears the packets: first those held since {@link hold}, in order, then the next ones. */
  listen(handlers: LinkHandlers): void {
    this.#handlers = handlers;
    const held = this.#held;
    this.#held = undefined;
    for (const packet of held ?? []) {
      if (this.#end) break;
      handlers.packet(packet);
    }
    if (this.#heldPaused) {
      this.#heldPaused = false;
      if (!this.#paused) this.#ws.resume();
    }
  }

  /** Starts the keep-alive watch: cut after 1.5 × `seconds` without a packet (0: no watch). */
  keepAlive(seconds: number, onTimeout: () => void): void {
    this.#stopWatch();
    this.#keepAliveMs = seconds * 1500;
    if (seconds <= 0 || this.#closed) return;
    const check = () => {
      const silent = Date.now() - this.#lastHeard;
      if (this.#paused || silent < this.#keepAliveMs) {
        this.#watch = setTimeout(check, Math.max(10, this.#keepAliveMs - silent));
        return;
      }
      this.#watch = undefined;
      onTimeout();
    };
    this.#watch = setTimeout(check, this.#keepAliveMs);
  }

  /** Stops (or resumes) reading while too much waits for processing; keep-alive waits too. */
  pause(paused: boolean): void {
    if (this.#paused === paused) return;
    this.#paused = paused;
    if (paused) this.#ws.pause();
    else {
      this.#lastHeard = Date.now();
      this.#ws.resume();
    }
  }

  send(packet: Packet): void {
    if (packet.cmd === 'connack' && (packet.reasonCode ?? packet.returnCode ?? 0) === 0) {
      this.#connacked = true;
    }
    this.sendBytes(mqttPacket.generate(packet, { protocolVersion: this.protocolVersion }));
  }

  /** Sends a packet already encoded (fan-out encodes a message once for every subscriber). */
  sendBytes(bytes: Buffer): void {
    if (!this.open || this.#ws.readyState !== this.#ws.OPEN) return;
    if (this.#ws.bufferedAmount > this.maxBufferedBytes) {
      // A client that stops reading while messages pile up is cut (its session may be resumed).
      this.#end = {
        byServer: true,
        reason: `the client does not read its messages (more than ${this.maxBufferedBytes} bytes waiting)`,
      };
      this.#stopWatch();
      this.#ws.terminate();
      return;
    }
    this.#ws.send(bytes);
  }

  /**
   * Ends the link from the service side. MQTT 5 clients first get DISCONNECT with `reasonCode`
   * (and the reason as its reason string) when one is given, or a refusing CONNACK with it while
   * the connection is not accepted yet (no DISCONNECT may precede the CONNACK); 3.1.1 has no such
   * packet.
   */
  close(reason: string, reasonCode?: number, packetReasonString = true): void {
    if (this.#end) return;
    if (reasonCode !== undefined && this.protocolVersion === 5) {
      const properties = packetReasonString ? { reasonString: clip(reason) } : undefined;
      this.send(
        this.#connacked
          ? { cmd: 'disconnect', reasonCode, properties }
          : { cmd: 'connack', sessionPresent: false, reasonCode, properties },
      );
    }
    this.#end = { byServer: true, reason };
    this.#stopWatch();
    if (this.#ws.readyState === this.#ws.OPEN || this.#ws.readyState === this.#ws.CONNECTING) {
      this.#ws.close(1000);
      // A client that does not answer the close frame is cut shortly after.
      const cut = setTimeout(() => this.#ws.terminate(), 1000);
      cut.unref();
      this.#ws.once('close', () => clearTimeout(cut));
    }
  }

  /** Cuts the socket at once (emulator shutdown). */
  terminate(): void {
    this.#end ??= { byServer: true, reason: 'the emulator is shutting down' };
    this.#ws.terminate();
  }

  #stopWatch(): void {
    if (this.#watch) clearTimeout(this.#watch);
    this.#watch = undefined;
  }
}

/** Packets held while a CONNECT is decided before the socket stops being read. */
const HELD_PACKETS = 64;

/** A PUBLISH encoded once: its bytes, and where its packet id goes (QoS 1), or -1 (QoS 0). */
export interface EncodedPublish {
  readonly bytes: Buffer;
  readonly idOffset: number;
}

/** Encodes a PUBLISH for `protocolVersion`; a QoS 1 packet gets its id later ({@link numbered}). */
export function encodePublish(packet: IPublishPacket, protocolVersion: number): EncodedPublish {
  const bytes = mqttPacket.generate(
    { ...packet, messageId: packet.qos > 0 ? 1 : undefined },
    { protocolVersion },
  );
  if (packet.qos === 0) return { bytes, idOffset: -1 };
  // Fixed header (1 byte, then the remaining length as a variable byte integer), topic, packet id.
  let offset = 1;
  while (bytes[offset] & 0x80) offset++;
  offset++;
  return { bytes, idOffset: offset + 2 + bytes.readUInt16BE(offset) };
}

/** A copy of an encoded QoS 1 PUBLISH with packet id `id`. */
export function numbered(encoded: EncodedPublish, id: number): Buffer {
  const bytes = Buffer.from(encoded.bytes);
  bytes.writeUInt16BE(id, encoded.idOffset);
  return bytes;
}

/** A copy of an encoded PUBLISH with the DUP flag set (a resend). */
export function duplicate(bytes: Buffer): Buffer {
  const copy = Buffer.from(bytes);
  copy[0] |= 0x08;
  return copy;
}
