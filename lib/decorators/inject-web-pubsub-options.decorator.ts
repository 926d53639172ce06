import { Inject } from '@nestjs/common';
import { WEB_PUBSUB_MODULE_OPTIONS } from '../web-pubsub.constants.js';

/**
 * Injects the options given to `forRoot()` / returned by the `forRootAsync()` factory, as given.
 * `WebPubSubConfigService` has the resolved, validated form.
 * @publicApi
 */
export const InjectWebPubSubOptions = (): ParameterDecorator & PropertyDecorator =>
  Inject(WEB_PUBSUB_MODULE_OPTIONS);
