import type { WebPubSubHandlerOptions } from '../interfaces/web-pubsub-handler-metadata.interface.js';
import { OnWebPubSubEvent } from './web-pubsub-event.decorator.js';

/**
 * Handles the user event `eventName` (blocking), e.g. `message`. The return value is the reply:
 * string → text, bytes → binary, other values → JSON, nothing → 204.
 *
 * Without a name (or with `'*'`) the handler receives every user event that has no handler of
 * its own: `@OnUserEvent()`, `@OnUserEvent({ hub: 'chat' })`.
 * @publicApi
 */
export function OnUserEvent(eventName?: string, options?: WebPubSubHandlerOptions): MethodDecorator;
export function OnUserEvent(options: WebPubSubHandlerOptions): MethodDecorator;
export function OnUserEvent(
  eventNameOrOptions?: string | WebPubSubHandlerOptions,
  options?: WebPubSubHandlerOptions,
): MethodDecorator {
  if (eventNameOrOptions !== undefined && typeof eventNameOrOptions === 'object') {
    return OnWebPubSubEvent('user', '*', eventNameOrOptions);
  }
  return OnWebPubSubEvent('user', eventNameOrOptions ?? '*', options);
}
