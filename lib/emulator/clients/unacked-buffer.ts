/**
 * The reliable subprotocols' unacked buffer: every message to a reliable client carries the next
 * sequence id and is kept until the client acknowledges it (a `sequenceAck` covers every id up to
 * its own), so that a recovered socket gets them again, in order. Bounded in messages and bytes.
 */
import type { SessionLimits } from './session-limits.js';
import type { Frame } from './wire-codec.js';

interface Unacked {
  readonly sequenceId: number;
  readonly frame: Frame;
  readonly size: number;
}

export class UnackedBuffer {
  #sequenceId = 0;
  readonly #unacked: Unacked[] = [];
  #unackedBytes = 0;

  constructor(readonly limits: Pick<SessionLimits, 'maxUnackedMessages' | 'maxUnackedBytes'>) {}

  /** The sequence id of the next message. */
  nextSequenceId(): number {
    return ++this.#sequenceId;
  }

  /** Keeps `frame` until acknowledged; false when the buffer now holds more than its bounds. */
  keep(sequenceId: number, frame: Frame): boolean {
    const size = typeof frame === 'string' ? Buffer.byteLength(frame) : frame.length;
    this.#unacked.push({ sequenceId, frame, size });
    this.#unackedBytes += size;
    return !(
      this.#unacked.length > this.limits.maxUnackedMessages ||
      this.#unackedBytes > this.limits.maxUnackedBytes
    );
  }

  /** The client has every message up to `sequenceId`. */
  acknowledge(sequenceId: number): void {
    let drop = 0;
    while (drop < this.#unacked.length && this.#unacked[drop].sequenceId <= sequenceId) {
      this.#unackedBytes -= this.#unacked[drop].size;
      drop++;
    }
    if (drop > 0) this.#unacked.splice(0, drop);
  }

  /** The frames not yet acknowledged, oldest first. */
  *frames(): Iterable<Frame> {
    for (const entry of this.#unacked) yield entry.frame;
  }

  /** The connection has ended: nothing is kept. */
  clear(): void {
    this.#unacked.length = 0;
  }
}
