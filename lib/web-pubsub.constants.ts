/** Method metadata written by the event decorators (an array per method). */
export const WEB_PUBSUB_HANDLER_METADATA = 'webpubsub:event_handler';
/** Marks the module's own routes so the Fastify platform can find them at registration. */
export const WEB_PUBSUB_ROUTE_MARKER = 'webPubSubEventHandler';
/** Marks the module's handshake routes (`OPTIONS`/`GET`) for the Fastify platform's CORS guard. */
export const WEB_PUBSUB_HANDSHAKE_MARKER = 'webPubSubHandshake';
/** Nest's Fastify adapter copies this method metadata into the route's `config`. */
export const FASTIFY_ROUTE_CONFIG_METADATA = '__fastify_route_config__';
/** Logger context of everything the module logs. */
export const WEB_PUBSUB_LOGGER_CONTEXT = 'WebPubSub';
/** Injection token of the controller path (an extra of `forRoot`/`forRootAsync`). */
export const WEB_PUBSUB_PATH = 'WEB_PUB_SUB_PATH';
export const DEFAULT_PATH = '/eventhandler';
/** 1 MiB. */
export const DEFAULT_MAX_BODY_SIZE = 1_048_576;
/** Injection token of the options as given to `forRoot()` / returned by the `forRootAsync()` factory. */
export const WEB_PUBSUB_MODULE_OPTIONS = 'WEB_PUB_SUB_MODULE_OPTIONS';
/** One minute. */
export const DEFAULT_ACCESS_KEY_CACHE_TTL = 60_000;
/**
 * Parameter metadata written by `@EventRequest()`, `@EventData()`, `@EventContext()`: Nest's own
 * route-arguments key, so Nest's scanner registers the pipe classes given to them.
 */
export const WEB_PUBSUB_PARAM_ARGS_METADATA = '__routeArguments__';
/** The `ExecutionContext` type guards and interceptors see for Web PubSub handlers. */
export const WEB_PUBSUB_CONTEXT_TYPE = 'webpubsub';
/** Five minutes: how long an answered event is remembered for de-duplication. */
export const DEFAULT_DEDUPLICATION_TTL = 300_000;
/** 30 seconds. */
export const DEFAULT_HANDLER_TIMEOUT = 30_000;
/** Injection token of the hubs known at module definition (`hub`, `defaultHub` extras). */
export const WEB_PUBSUB_STATIC_HUBS = 'WEB_PUB_SUB_STATIC_HUBS';
export interface StaticHubs {
  readonly hub?: string | string[];
  readonly defaultHub?: string;
}
/** Injection token of the `negotiate` extra. */
export const WEB_PUBSUB_NEGOTIATE_OPTIONS = 'WEB_PUB_SUB_NEGOTIATE_OPTIONS';
export const DEFAULT_NEGOTIATE_PATH = '/negotiate';
/**
 * Optional injection token of the clock (`() => milliseconds`) the access-key cache expires by;
 * `Date.now` when nothing provides it. Not exported from the package: for the module's own tests.
 */
export const WEB_PUBSUB_CLOCK = 'WEB_PUB_SUB_CLOCK';
