import { Injectable } from '@nestjs/common';

/**
 * Counts the work the module has started and not finished (events being answered, non-blocking
 * handlers running after their acknowledgement), so shutdown can wait for it.
 */
@Injectable()
export class InFlightTracker {
  #count = 0;
  #idle: (() => void)[] = [];

  get size(): number {
    return this.#count;
  }

  begin(): void {
    this.#count++;
  }

  end(): void {
    if (--this.#count > 0) return;
    const idle = this.#idle;
    this.#idle = [];
    for (const resolve of idle) resolve();
  }

  /** Resolves `true` once nothing is in flight, `false` after `timeoutMs` (0: no limit). */
  drain(timeoutMs: number): Promise<boolean> {
    if (this.#count === 0) return Promise.resolve(true);
    return new Promise<boolean>(resolve => {
      let timer: NodeJS.Timeout | undefined;
      const done = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      this.#idle.push(done);
      if (timeoutMs > 0) {
        timer = setTimeout(() => {
          this.#idle = this.#idle.filter(waiter => waiter !== done);
          resolve(false);
        }, timeoutMs);
        timer.unref?.();
      }
    });
  }
}
