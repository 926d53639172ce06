import { ConfigurableModuleBuilder, type DynamicModule, type Provider } from '@nestjs/common';
import type {
  WebPubSubModuleExtras,
  WebPubSubModuleOptions,
} from '../interfaces/web-pubsub-module-options.interface.js';
import {
  DEFAULT_PATH,
  WEB_PUBSUB_MODULE_OPTIONS,
  WEB_PUBSUB_PATH,
} from '../web-pubsub.constants.js';
import { normalizePath } from '../config/route-path.js';
import { createWebPubSubController } from '../events/web-pubsub.controller.js';
import { withServiceClients } from '../service-client/web-pubsub-service-client.providers.js';

export const { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN, OPTIONS_TYPE, ASYNC_OPTIONS_TYPE } =
  new ConfigurableModuleBuilder<WebPubSubModuleOptions>({
    moduleName: 'WebPubSub',
    optionsInjectionToken: WEB_PUBSUB_MODULE_OPTIONS,
  })
    .setClassMethodName('forRoot')
    .setFactoryMethodName('createWebPubSubOptions')
    .setExtras<WebPubSubModuleExtras>(
      // `hub` is deliberately not listed: forRoot() keeps it in the options (the same key), and
      // forRootAsync() reads it from next to useFactory (static, for the per-hub tokens).
      {
        path: DEFAULT_PATH,
        isGlobal: false,
        controllerDecorators: [],
        defaultHub: undefined,
        negotiate: undefined,
      },
      (definition, extras) => withServiceClients(withController(definition, extras), extras),
    )
    .build();

/** Adds the controller at the configured path (known synchronously, also for `forRootAsync`). */
function withController(definition: DynamicModule, extras: WebPubSubModuleExtras): DynamicModule {
  const path = normalizePath(extras.path);
  const pathProvider: Provider = { provide: WEB_PUBSUB_PATH, useValue: path };
  return {
    ...definition,
    global: extras.isGlobal === true,
    controllers: [
      ...(definition.controllers ?? []),
      createWebPubSubController(path, extras.controllerDecorators),
    ],
    providers: [...(definition.providers ?? []), pathProvider],
  };
}
