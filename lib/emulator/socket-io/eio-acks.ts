/**
 * A session's side of a broadcast with acks (`:invoke`): the service numbers the packet per client
 * and catches the client's ACK (with its binary attachments) instead of forwarding it to the
 * server; the broadcast's stream gets the ACK's Engine.IO packets, or `undefined` when the client
 * is gone.
 */
import { SioPacketType, type EioPacket, type SioHeader } from './packets.js';

/** A client's ACK to a broadcast with acks: its Engine.IO packets, or `undefined` when the client is gone. */
export type AckCallback = (parts: EioPacket[] | undefined) => void;

interface Capture {
  readonly parts: EioPacket[];
  remaining: number;
  readonly done: AckCallback;
}

/** The ACKs one session waits for, and the attachments of the one being caught. */
export class BroadcastAcks {
  #acks = new Map<string, AckCallback>();
  #capture: Capture | undefined;

  /** Waits for the client's ACK with id `id` in namespace `nsp`. */
  expect(nsp: string, id: number, done: AckCallback): void {
    this.#acks.set(ackKey(nsp, id), done);
  }

  /** Forgets a pending ACK (the broadcast's stream ended). */
  forget(nsp: string, id: number): void {
    this.#acks.delete(ackKey(nsp, id));
  }

  /** Takes a binary packet that is an attachment of the ACK being caught; false for any other. */
  takeAttachment(packet: EioPacket): boolean {
    if (this.#capture && typeof packet.data !== 'string') {
      const capture = this.#capture;
      capture.parts.push(packet);
      if (--capture.remaining === 0) {
        this.#capture = undefined;
        capture.done(capture.parts);
      }
      return true;
    }
    return false;
  }

  /** Takes the client's ACK to a broadcast this session waits for; false for any other packet. */
  takeAck(header: SioHeader, packet: EioPacket): boolean {
    if (
      (header.type === SioPacketType.ACK || header.type === SioPacketType.BINARY_ACK) &&
      header.id !== undefined
    ) {
      const key = ackKey(header.nsp, header.id);
      const done = this.#acks.get(key);
      if (done) {
        this.#acks.delete(key);
        if (header.attachments > 0) {
          this.#capture = { parts: [packet], remaining: header.attachments, done };
        } else {
          done([packet]);
        }
        return true;
      }
    }
    return false;
  }

  /** The client is gone: every pending ACK, and the one being caught, gets `undefined`. */
  release(): void {
    for (const done of this.#acks.values()) done(undefined);
    this.#acks.clear();
    this.#capture?.done(undefined);
    this.#capture = undefined;
  }
}

function ackKey(nsp: string, id: number): string {
  return `${nsp}\n${id}`;
}
