import type { WebPubSubHandlerOptions } from '../interfaces/web-pubsub-handler-metadata.interface.js';
import { OnWebPubSubEvent } from './web-pubsub-event.decorator.js';

/**
 * Handles the user event `eventName` (blocking), e.g. `message`. The return value is the reply:
 * string → text, bytes → binary, other values → JSON, nothing → 204.
 * @publicApi
 */
export const OnUserEvent = (eventName: string, options?: WebPubSubHandlerOptions): MethodDecorator =>
  OnWebPubSubEvent('user', eventName, options);
