import type { WebPubSubHandlerOptions } from '../interfaces/web-pubsub-handler-metadata.interface.js';
import { OnWebPubSubEvent } from './web-pubsub-event.decorator.js';

/**
 * Handles `connected` (non-blocking): the service is answered at once; the return value is ignored.
 * @publicApi
 */
export const OnConnected = (options?: WebPubSubHandlerOptions): MethodDecorator =>
  OnWebPubSubEvent('connected', 'connected', options);
