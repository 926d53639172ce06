import type { CanActivate, Type } from '@nestjs/common';
import type {
  ClientTokenResponse,
  WebPubSubServiceClient,
  WebPubSubServiceClientOptions,
} from '@azure/web-pubsub';

/**
 * What the SDK accepts as a credential: an `AzureKeyCredential` or a `TokenCredential` (taken from
 * the SDK's constructor, so no import of `@azure/core-auth`).
 * @publicApi
 */
export type WebPubSubCredential = ConstructorParameters<typeof WebPubSubServiceClient>[1];

/**
 * How the module's `WebPubSubServiceClient`s reach the service when no connection string with an
 * `AccessKey` says it: an endpoint and a credential.
 * @publicApi
 */
export interface WebPubSubServiceClientConfig {
  /**
   * The service endpoint, e.g. `https://my-pubsub.webpubsub.azure.com` (or `http://localhost:8080`
   * for a local emulator). Default: the endpoint of the first connection string.
   */
  endpoint?: string;
  /**
   * A `TokenCredential` (e.g. `new DefaultAzureCredential()` from `@azure/identity`) or an
   * `AzureKeyCredential`. Default: the `AccessKey` of the first connection string.
   */
  credential?: WebPubSubCredential;
  /**
   * Passed to every `WebPubSubServiceClient` (retry, logging, `reverseProxyEndpoint`, ...).
   * `allowInsecureConnection` is set for you when the endpoint is `http://`.
   */
  serviceClientOptions?: WebPubSubServiceClientOptions;
}

/**
 * What the client asked the negotiate route for: `?protocol=mqtt` gives an MQTT URL,
 * `?protocol=socketio` a Web PubSub for Socket.IO one (`baseUrl` is the endpoint with the client
 * path `/clients/socketio/hubs/<hub>`, for socket.io-client's `path` option). @publicApi
 */
export type WebPubSubNegotiateProtocol = 'default' | 'mqtt' | 'socketio';

/** The second argument of a negotiate `resolve`. @publicApi */
export interface WebPubSubNegotiateContext {
  /** The hub the token is for, spelled as configured. */
  readonly hub: string;
  /** The protocol the caller asked for (`?protocol=`), `'default'` when absent. */
  readonly clientProtocol: WebPubSubNegotiateProtocol;
}

/**
 * Who the caller is, as the app knows it (from a session, a guard's `request.user`, ...): never
 * from the request's query or body.
 * @publicApi
 */
export interface WebPubSubNegotiateResult {
  /** The user id the service assigns to the connection (the token's `sub`). */
  userId: string;
  /** Initial permissions, e.g. `webpubsub.joinLeaveGroup.room1`, `webpubsub.sendToGroup`. */
  roles?: string[];
  /** Groups the connection joins as it connects. */
  groups?: string[];
  /** Token lifetime in minutes (a positive integer). Default: `negotiate.expirationTimeInMinutes`, else 60. */
  expirationTimeInMinutes?: number;
  /** Overrides the protocol the caller asked for. */
  clientProtocol?: WebPubSubNegotiateProtocol;
}

/**
 * Maps a negotiate request to the caller's identity, or `null`/`undefined` when the caller is not
 * known (answered `401`). Throwing an `HttpException` answers with it; any other error is `500`.
 * @publicApi
 */
export type WebPubSubNegotiateResolver<TRequest = any> = (
  request: TRequest,
  context: WebPubSubNegotiateContext,
) =>
  | WebPubSubNegotiateResult
  | null
  | undefined
  | Promise<WebPubSubNegotiateResult | null | undefined>;

/** The negotiate route's `200` body: the SDK's `ClientTokenResponse` (`{ baseUrl, url, token }`). @publicApi */
export type WebPubSubNegotiateResponse = ClientTokenResponse;

/**
 * The negotiate route (`WebPubSubModule.forRoot({ negotiate })`, or next to `useFactory` in
 * `forRootAsync`): `GET`/`POST <path>` for the default hub and `<path>/:hub` for each served hub.
 * @publicApi
 */
export interface WebPubSubNegotiateOptions<TRequest = any> {
  /** Route path. Default `/negotiate`. */
  path?: string;
  /** Required: who the caller is. Without it the app does not start. */
  resolve: WebPubSubNegotiateResolver<TRequest>;
  /** Default token lifetime in minutes when `resolve` gives none. Default 60 (the SDK's). */
  expirationTimeInMinutes?: number;
  /** Guards of the negotiate route (they run before `resolve`, e.g. to set `request.user`). */
  guards?: (Type<CanActivate> | CanActivate)[];
  /**
   * Class decorators of the negotiate controller (not the event handler's `controllerDecorators`:
   * the two routes usually need opposite auth settings).
   */
  controllerDecorators?: ClassDecorator[];
}
