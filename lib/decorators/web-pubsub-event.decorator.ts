import 'reflect-metadata';
import { WEB_PUBSUB_HANDLER_METADATA } from '../web-pubsub.constants.js';
import type {
  WebPubSubHandlerMetadata,
  WebPubSubHandlerOptions,
} from '../interfaces/web-pubsub-handler-metadata.interface.js';
import type { EventKind } from '../protocol/headers.js';

/**
 * Marks a method as the handler of one Web PubSub event. Decorators stack: one method may
 * handle several events. The event decorators (`@OnConnect()`, ...) are built on this one.
 * @publicApi
 */
export function OnWebPubSubEvent(
  kind: EventKind,
  event: string,
  options: WebPubSubHandlerOptions = {},
): MethodDecorator {
  if (typeof event !== 'string' || event === '') {
    throw new TypeError('A Web PubSub event decorator needs a non-empty event name');
  }
  if (options.hub !== undefined && (typeof options.hub !== 'string' || options.hub === '')) {
    throw new TypeError(`The hub option of the ${event} handler must be a non-empty string`);
  }
  const metadata: WebPubSubHandlerMetadata = { kind, event, hub: options.hub };
  return (_target, _key, descriptor: PropertyDescriptor) => {
    const existing: WebPubSubHandlerMetadata[] =
      Reflect.getMetadata(WEB_PUBSUB_HANDLER_METADATA, descriptor.value) ?? [];
    Reflect.defineMetadata(WEB_PUBSUB_HANDLER_METADATA, [...existing, metadata], descriptor.value);
    return descriptor;
  };
}
OnWebPubSubEvent.KEY = WEB_PUBSUB_HANDLER_METADATA;
