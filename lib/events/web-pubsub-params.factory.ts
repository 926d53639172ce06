import { WebPubSubParamtype } from '../decorators/event-param.decorators.js';

/** Extracts the values of `@EventRequest()`, `@EventData()`, `@EventContext()` from the request. */
export class WebPubSubParamsFactory {
  exchangeKeyForValue(type: number, _data: unknown, args: unknown[]): unknown {
    const request = args[0] as { data?: unknown; context?: unknown } | undefined;
    switch (type as WebPubSubParamtype) {
      case WebPubSubParamtype.REQUEST:
        return request;
      case WebPubSubParamtype.DATA:
        return request?.data;
      case WebPubSubParamtype.CONTEXT:
        return request?.context;
      default:
        return undefined;
    }
  }
}
