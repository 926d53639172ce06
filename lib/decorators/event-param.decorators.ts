import 'reflect-metadata';
import type { PipeTransform, Type } from '@nestjs/common';
import { WEB_PUBSUB_PARAM_ARGS_METADATA } from '../web-pubsub.constants.js';

/**
 * What a handler parameter decorator extracts from the request object. The numbers are Nest's
 * route parameter types, so pipes see `@EventData()` as `'body'` (a `ValidationPipe` validates
 * it) and the others as `'custom'`.
 */
export enum WebPubSubParamtype {
  REQUEST = 0,
  CONTEXT = 1,
  DATA = 3,
}

/** One parameter's entry, in the shape Nest's `ExternalContextCreator` reads. */
interface ParamMetadata {
  index: number;
  data?: undefined;
  pipes: (Type<PipeTransform> | PipeTransform)[];
}

function paramDecorator(type: WebPubSubParamtype) {
  return (...pipes: (Type<PipeTransform> | PipeTransform)[]): ParameterDecorator =>
    (target, key, index) => {
      if (key === undefined)
        throw new TypeError('Web PubSub parameter decorators apply to handler methods only');
      const existing: Record<string, ParamMetadata> =
        Reflect.getMetadata(WEB_PUBSUB_PARAM_ARGS_METADATA, target.constructor, key) ?? {};
      Reflect.defineMetadata(
        WEB_PUBSUB_PARAM_ARGS_METADATA,
        { ...existing, [`${type}:${index}`]: { index, data: undefined, pipes } },
        target.constructor,
        key,
      );
    };
}

/**
 * The whole request object (`ConnectRequest`, `UserEventRequest`, ...), through the given pipes.
 * Without any parameter decorator a handler receives it as its first argument anyway.
 * @publicApi
 */
export const EventRequest = paramDecorator(WebPubSubParamtype.REQUEST);

/**
 * A user event's `data`, through the given pipes (and the handler's, class's and global ones):
 * `message(@EventData() dto: ChatMessageDto)` with a `ValidationPipe` validates JSON events.
 * For other events, the request's payload fields (e.g. `claims`) are on `@EventRequest()`.
 * @publicApi
 */
export const EventData = paramDecorator(WebPubSubParamtype.DATA);

/** The request's `context` (`ConnectionContext`). @publicApi */
export const EventContext = paramDecorator(WebPubSubParamtype.CONTEXT);
