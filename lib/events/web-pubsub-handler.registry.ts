import { Injectable } from '@nestjs/common';
import { DuplicateWebPubSubHandlerError } from '../errors/duplicate-web-pubsub-handler.error.js';
import type { WebPubSubHandlerMetadata } from '../interfaces/web-pubsub-handler-metadata.interface.js';
import { BLOCKING_KINDS, type EventKind } from '../protocol/headers.js';
import { hubKey } from '../protocol/names.js';

/** A discovered handler method, ready to call. */
export interface RegisteredHandler {
  /** `ClassName.method`, for logs and errors. */
  readonly name: string;
  /** Lower-case hub the handler is restricted to, if any. */
  readonly hub?: string;
  /** Calls the handler with the request object; `httpRequest` scopes request-scoped hosts. */
  readonly call: (request: unknown, httpRequest: object) => unknown;
  /**
   * `'gateway'`: a Nest gateway's `@SubscribeMessage` handler (always hub-restricted). A user
   * event of a hub may not have both a gateway handler and an `@OnUserEvent` one.
   */
  readonly source?: 'gateway';
}

interface BlockingSlot {
  any?: RegisteredHandler;
  readonly byHub: Map<string, RegisteredHandler>;
}

const NONE: readonly RegisteredHandler[] = Object.freeze([]);

function pick(slot: BlockingSlot | undefined, hub: string): RegisteredHandler | undefined {
  if (!slot) return undefined;
  return (slot.byHub.size > 0 ? slot.byHub.get(hub) : undefined) ?? slot.any;
}

/**
 * A gateway handler and an `@OnUserEvent` handler that would both apply to one hub's user event:
 * the existing one, if any. (Between module handlers, a hub-restricted one wins over an
 * unrestricted one; a gateway's does not silently shadow the module's.)
 */
function gatewayClash(slot: BlockingSlot, entry: RegisteredHandler): RegisteredHandler | undefined {
  if (entry.source === 'gateway') return slot.any;
  if (entry.hub !== undefined) return undefined;
  for (const other of slot.byHub.values()) if (other.source === 'gateway') return other;
  return undefined;
}

/** The event name of a user-event handler that receives every user event without one of its own. */
export const ANY_USER_EVENT = '*';
const ANY_USER_EVENT_KEY = `user:${ANY_USER_EVENT}`;

function keyOf(kind: EventKind, event: string): string {
  return kind === 'user' ? `user:${event}` : kind;
}

/**
 * Handlers by event, built once at start-up. A blocking event (connect, each user event) has at
 * most one handler per hub (a hub-restricted one wins over an unrestricted one); non-blocking
 * events may have several.
 */
@Injectable()
export class WebPubSubHandlerRegistry {
  readonly #blocking = new Map<string, BlockingSlot>();
  readonly #nonBlocking = new Map<string, RegisteredHandler[]>();
  #size = 0;

  get size(): number {
    return this.#size;
  }

  /** @throws DuplicateWebPubSubHandlerError when a blocking event would get a second handler. */
  add(metadata: WebPubSubHandlerMetadata, handler: Omit<RegisteredHandler, 'hub'>): void {
    const hub = metadata.hub === undefined ? undefined : hubKey(metadata.hub);
    const entry: RegisteredHandler = { ...handler, hub };
    const key = keyOf(metadata.kind, metadata.event);
    if (BLOCKING_KINDS.has(metadata.kind)) {
      let slot = this.#blocking.get(key);
      if (!slot) this.#blocking.set(key, (slot = { byHub: new Map() }));
      const existing =
        (hub === undefined ? slot.any : slot.byHub.get(hub)) ?? gatewayClash(slot, entry);
      if (existing) {
        const event =
          metadata.kind !== 'user'
            ? metadata.kind
            : metadata.event === ANY_USER_EVENT
              ? 'every user event (@OnUserEvent())'
              : `user event "${metadata.event}"`;
        throw new DuplicateWebPubSubHandlerError(event, metadata.hub ?? existing.hub, [
          existing.name,
          entry.name,
        ]);
      }
      if (hub === undefined) slot.any = entry;
      else slot.byHub.set(hub, entry);
    } else {
      const list = this.#nonBlocking.get(key);
      if (list) list.push(entry);
      else this.#nonBlocking.set(key, [entry]);
    }
    this.#size++;
  }

  /**
   * The handler that answers a blocking event on `hub` (lower case), if any: the event's own
   * handler (hub-restricted first), else for a user event the catch-all `@OnUserEvent()` one.
   */
  blockingHandler(kind: EventKind, event: string, hub: string): RegisteredHandler | undefined {
    const own = pick(this.#blocking.get(keyOf(kind, event)), hub);
    if (own || kind !== 'user') return own;
    return pick(this.#blocking.get(ANY_USER_EVENT_KEY), hub);
  }

  /** Every handler of a non-blocking event on `hub` (lower case). */
  nonBlockingHandlers(kind: EventKind, event: string, hub: string): readonly RegisteredHandler[] {
    const list = this.#nonBlocking.get(keyOf(kind, event));
    if (!list) return NONE;
    return list.every(entry => entry.hub === undefined)
      ? list
      : list.filter(entry => entry.hub === undefined || entry.hub === hub);
  }
}
