import type { DynamicModule, Provider } from '@nestjs/common';
import { normalizePath } from '../config/route-path.js';
import { WebPubSubOptionsError } from '../errors/web-pubsub-options.error.js';
import type { WebPubSubModuleExtras } from '../interfaces/web-pubsub-module-options.interface.js';
import {
  DEFAULT_NEGOTIATE_PATH,
  WEB_PUBSUB_NEGOTIATE_OPTIONS,
  WEB_PUBSUB_STATIC_HUBS,
  type StaticHubs,
} from '../web-pubsub.constants.js';
import { requestedHubs } from './requested-hubs.js';
import { createNegotiateController } from './web-pubsub-negotiate.controller.js';
import { WebPubSubNegotiator } from './web-pubsub-negotiator.js';
import { WebPubSubServiceClients } from './web-pubsub-service-clients.js';
import {
  getWebPubSubServiceClientToken,
  WEB_PUBSUB_SERVICE_CLIENT,
} from './web-pubsub-service-client.token.js';
import { hubKey } from '../protocol/names.js';

/**
 * The service-client part of the module: `WebPubSubServiceClients`, one token per hub known at
 * definition, the default hub's token and, with `negotiate`, its controller.
 *
 * The per-hub providers are singletons holding the one cached client, so `app.get(token)` works.
 * A client that cannot be built fails the start-up only when something injects its token (see
 * `WebPubSubServiceClients.provide`): an app that only handles events needs no client credentials.
 * Hubs named in `@InjectWebPubSubServiceClient(hub)` anywhere get a token too, so that one the
 * module does not serve fails with the list of the configured hubs.
 */
export function withServiceClients(
  definition: DynamicModule,
  extras: WebPubSubModuleExtras,
): DynamicModule {
  const staticHubs: StaticHubs = { hub: extras.hub, defaultHub: extras.defaultHub };
  const hubs = [
    ...new Set(
      (Array.isArray(extras.hub) ? extras.hub : extras.hub === undefined ? [] : [extras.hub])
        .filter((hub): hub is string => typeof hub === 'string' && hub !== '')
        .map(hubKey),
    ),
  ];
  const tokenHubs = [...new Set([...hubs, ...requestedHubs()])];
  const clientProviders: Provider[] = tokenHubs.map(hub => {
    const token = getWebPubSubServiceClientToken(hub);
    return {
      provide: token,
      inject: [WebPubSubServiceClients],
      useFactory: (clients: WebPubSubServiceClients) => clients.provide(hub, token),
    };
  });
  clientProviders.push({
    provide: WEB_PUBSUB_SERVICE_CLIENT,
    inject: [WebPubSubServiceClients],
    useFactory: (clients: WebPubSubServiceClients) =>
      clients.provide(undefined, WEB_PUBSUB_SERVICE_CLIENT),
  });
  const providers: Provider[] = [
    { provide: WEB_PUBSUB_STATIC_HUBS, useValue: staticHubs },
    WebPubSubServiceClients,
    ...clientProviders,
  ];
  const controllers = [...(definition.controllers ?? [])];
  const negotiate = extras.negotiate;
  if (negotiate !== undefined && negotiate !== null) {
    if (typeof negotiate.resolve !== 'function') {
      throw new WebPubSubOptionsError([
        'negotiate.resolve is required: a function (request, { hub }) => { userId, roles?, groups?, expirationTimeInMinutes? } | null. The route never hands out tokens to callers it cannot identify',
      ]);
    }
    const minutes = negotiate.expirationTimeInMinutes;
    if (minutes !== undefined && (!Number.isInteger(minutes) || minutes < 1)) {
      throw new WebPubSubOptionsError([
        'negotiate.expirationTimeInMinutes must be a positive integer',
      ]);
    }
    const path = normalizePath(negotiate.path, DEFAULT_NEGOTIATE_PATH);
    if (path === normalizePath(extras.path)) {
      throw new WebPubSubOptionsError([
        `negotiate.path "${path}" is the event handler's path: give the negotiate route a path of its own`,
      ]);
    }
    providers.push(
      { provide: WEB_PUBSUB_NEGOTIATE_OPTIONS, useValue: { ...negotiate, path } },
      WebPubSubNegotiator,
    );
    controllers.push(
      createNegotiateController(path, negotiate.guards, negotiate.controllerDecorators),
    );
  }
  return {
    ...definition,
    controllers,
    providers: [...(definition.providers ?? []), ...providers],
    exports: [
      ...(definition.exports ?? []),
      WebPubSubServiceClients,
      ...clientProviders.map(provider => (provider as { provide: string }).provide),
    ],
  };
}
