import type { WebPubSubHandlerOptions } from '../interfaces/web-pubsub-handler-metadata.interface.js';
import { OnWebPubSubEvent } from './web-pubsub-event.decorator.js';

/**
 * Handles group presence `joined` (preview; non-blocking): a connection joined a group. The service is answered at
 * once; the handler gets the group name in `request.group`. The hub's event handler must
 * subscribe to group presence events.
 * @publicApi
 */
export const OnGroupJoined = (options?: WebPubSubHandlerOptions): MethodDecorator =>
  OnWebPubSubEvent('groupJoined', 'joined', options);
