import type { EventKind } from '../protocol/headers.js';

/** Options every event decorator accepts. @publicApi */
export interface WebPubSubHandlerOptions {
  /** Restrict the handler to one hub (case-insensitive). Default: every hub the module serves. */
  hub?: string;
}

/** What an event decorator stores on a method. @publicApi */
export interface WebPubSubHandlerMetadata {
  readonly kind: EventKind;
  /** The event name: the user event name, or the system event name. */
  readonly event: string;
  readonly hub?: string;
}
