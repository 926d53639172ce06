import type { WebPubSubHandlerOptions } from '../interfaces/web-pubsub-handler-metadata.interface.js';
import { OnWebPubSubEvent } from './web-pubsub-event.decorator.js';

/**
 * Handles `connect` (blocking): return a `ConnectResponse` (→ 200 JSON) or nothing (→ 204);
 * throw an `HttpException` (e.g. `UnauthorizedException`) to reject the client.
 * @publicApi
 */
export const OnConnect = (options?: WebPubSubHandlerOptions): MethodDecorator =>
  OnWebPubSubEvent('connect', 'connect', options);
