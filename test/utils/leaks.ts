import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** The request listener events a body reader or a platform may attach. */
export const REQUEST_EVENTS = ['data', 'end', 'error', 'close'] as const;

/**
 * Follows every request a server receives, through a `request` listener added before any other:
 * a spec counts the listeners left on them, then lets them go and checks, after a garbage
 * collection, how many something else still holds.
 */
export class RequestTracker {
  #held: IncomingMessage[] = [];
  readonly #requests: WeakRef<IncomingMessage>[] = [];
  readonly #waiting = new Map<string, () => void>();
  #responsesClosed = 0;
  readonly #onRequest = (request: IncomingMessage, response: ServerResponse): void => {
    response.once('close', () => this.#responsesClosed++);
    this.#held.push(request);
    this.#requests.push(new WeakRef(request));
    const id = request.headers['ce-id'];
    if (typeof id === 'string') {
      this.#waiting.get(id)?.();
      this.#waiting.delete(id);
    }
  };

  constructor(private readonly server: Server) {
    server.prependListener('request', this.#onRequest);
  }

  /** Resolves when the server has received (the headers of) the request with `ce-id: id`. */
  arrival(id: string): Promise<void> {
    return new Promise(resolve => this.#waiting.set(id, resolve));
  }

  /** How many of the tracked requests' responses are closed (sent, or their client gone). */
  get responsesClosed(): number {
    return this.#responsesClosed;
  }

  /** How many requests arrived since the tracker was installed. */
  get seen(): number {
    return this.#requests.length;
  }

  /** Listener counts (by event) summed over every tracked request. */
  listenerCounts(): Record<(typeof REQUEST_EVENTS)[number], number> {
    const counts = { data: 0, end: 0, error: 0, close: 0 };
    for (const request of this.#held) {
      for (const event of REQUEST_EVENTS) counts[event] += request.listenerCount(event);
    }
    return counts;
  }

  /** Lets the requests go; how many are still reachable after a full garbage collection. */
  async aliveAfterGc(): Promise<number> {
    this.#held = [];
    await collectGarbage();
    return this.#requests.filter(ref => ref.deref() !== undefined).length;
  }

  stop(): void {
    this.server.off('request', this.#onRequest);
  }
}

let gc: (() => void) | undefined;

/** Runs a full garbage collection (exposing `gc` on the fly when Node was not started with it). */
export async function collectGarbage(): Promise<void> {
  if (!gc) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  // Two rounds with a turn of the event loop between them: weak references are cleared per turn.
  for (let round = 0; round < 2; round++) {
    gc();
    await new Promise(resolve => setImmediate(resolve));
  }
}

/** `process.getActiveResourcesInfo()` as counts by resource type. */
export function activeResources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const type of process.getActiveResourcesInfo()) counts[type] = (counts[type] ?? 0) + 1;
  return counts;
}
