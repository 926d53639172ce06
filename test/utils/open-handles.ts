/**
 * Which timers and sockets created while tracking still hold the process open: each Timeout, TCP
 * socket and TCP server created between `trackOpenHandles()` and `stop()` is recorded with the
 * stack that created it, and `holding()` lists those not yet closed that are still referenced
 * (an unreferenced timer does not keep Node running). For specs that prove a close releases
 * everything.
 */
import { createHook } from 'node:async_hooks';

const TRACKED = new Set(['Timeout', 'TCPWRAP', 'TCPSERVERWRAP']);

export interface OpenHandles {
  /** The handles that still keep the process running, each with its type and creating stack. */
  holding(): string[];
  /** Polls until nothing holds the process, or `withinMs` passes; returns what still holds it. */
  settle(withinMs: number): Promise<string[]>;
  stop(): void;
}

export function trackOpenHandles(): OpenHandles {
  const live = new Map<number, { type: string; resource: object; stack: string }>();
  const hook = createHook({
    init(asyncId, type, _trigger, resource) {
      if (!TRACKED.has(type)) return;
      const stack = (new Error().stack ?? '')
        .split('\n')
        .slice(1)
        .filter(line => !line.includes('node:internal') && !line.includes('open-handles'))
        .slice(0, 8)
        .join('\n');
      live.set(asyncId, { type, resource, stack });
    },
    destroy(asyncId) {
      live.delete(asyncId);
    },
  });
  hook.enable();
  const holding = () =>
    [...live.values()]
      .filter(({ resource }) => {
        const handle = resource as { hasRef?: () => boolean; _destroyed?: boolean };
        if (handle._destroyed === true) return false;
        return typeof handle.hasRef === 'function' ? handle.hasRef() : true;
      })
      .map(({ type, stack }) => `${type}\n${stack}`);
  return {
    holding,
    async settle(withinMs) {
      const deadline = Date.now() + withinMs;
      let left = holding();
      while (left.length > 0 && Date.now() < deadline) {
        await new Promise(resolve => setTimeout(resolve, 50).unref());
        left = holding();
      }
      return left;
    },
    stop: () => hook.disable(),
  };
}
