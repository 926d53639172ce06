import type { Type } from '@nestjs/common';
import type {
  AccessKeyProviderFunction,
  WebPubSubAccessKeyProvider,
} from './access-key-provider.interface.js';
import type { DeduplicationOptions } from './deduplication.interface.js';
import type { ManagedIdentityOptions } from './managed-identity.interface.js';
import type {
  WebPubSubNegotiateOptions,
  WebPubSubServiceClientConfig,
} from './web-pubsub-service-client.interface.js';

/**
 * Options of `WebPubSubModule.forRoot()` / the factory of `forRootAsync()`.
 * @publicApi
 */
export interface WebPubSubModuleOptions extends WebPubSubServiceClientConfig {
  /**
   * The hub (or hubs) this app serves, matched case-insensitively against `ce-hub`.
   * Absent: every hub is served. Events for other hubs are answered 404.
   */
  hub?: string | string[];
  /**
   * Connection string(s) of the Web PubSub resource(s) that call this app:
   * `Endpoint=https://<name>.webpubsub.azure.com;AccessKey=<key>;Version=1.0;`.
   * Their access keys check `ce-signature`; their hosts are allowed by the handshake.
   */
  connectionString?: string | string[];
  /**
   * Further service origins the abuse-protection handshake allows, as URLs
   * (`https://my-pubsub.webpubsub.azure.com`) or bare host names.
   */
  allowedEndpoints?: string[];
  /** Largest request body accepted on the event handler route, in bytes. Default 1 MiB (1,048,576). */
  maxBodySize?: number;
  /**
   * How long a handler may take, in milliseconds. A blocking event (connect, user event) whose
   * handler has not answered by then gets `504`; a non-blocking handler is logged. `0` disables
   * the limit. Default 30,000.
   */
  handlerTimeout?: number;
  /**
   * Access keys from elsewhere (a vault, a rotation job): a function of the service host, or an
   * injectable class implementing `WebPubSubAccessKeyProvider`. Its keys are used beside those of
   * the connection strings, for the hosts declared by `connectionString`/`allowedEndpoints`.
   */
  accessKeyProvider?: AccessKeyProviderFunction | Type<WebPubSubAccessKeyProvider>;
  /** How long the provider's keys are cached, in milliseconds. Default 60,000 (one minute). */
  accessKeyCacheTtl?: number;
  /**
   * Require the `Authorization: Bearer` token the service sends when the hub's event handler uses
   * a managed identity, and verify it (signature against the JWKS, issuer, audience, expiry).
   */
  managedIdentity?: ManagedIdentityOptions;
  /**
   * Answer a retried event (same hub, connection, type and `ce-id`) with the response its first
   * delivery got, without running the handler again. `true` uses an in-memory store.
   */
  deduplication?: boolean | DeduplicationOptions;
}

/**
 * Options known synchronously in both `forRoot()` and `forRootAsync()`.
 * @publicApi
 */
export interface WebPubSubModuleExtras {
  /** Controller path. Default `/eventhandler`; the module also serves `<path>/:event`. */
  path?: string;
  /** Register the module globally. Default `false`. */
  isGlobal?: boolean;
  /**
   * Class decorators for the module's controller, e.g. to mark it public for a global auth guard
   * (`SetMetadata('isPublic', true)`), skip throttling, or hide it from Swagger.
   */
  controllerDecorators?: ClassDecorator[];
  /**
   * The hub(s) served, as in the options. In `forRootAsync()` give it here, next to `useFactory`,
   * so that an injectable service client exists for each hub (tokens must exist before any
   * factory runs). In `forRoot()` the option is the same key.
   */
  hub?: string | string[];
  /**
   * The hub `@InjectWebPubSubServiceClient()` (no argument) and `<negotiate path>` serve.
   * Default: the only hub when one is served.
   */
  defaultHub?: string;
  /** Serve the negotiate route (client access URLs for the caller resolved by `resolve`). */
  negotiate?: WebPubSubNegotiateOptions;
}
