import { Inject } from '@nestjs/common';
import { recordRequestedHub } from './requested-hubs.js';
import { getWebPubSubServiceClientToken } from './web-pubsub-service-client.token.js';

/**
 * Injects the `WebPubSubServiceClient` (`@azure/web-pubsub`) of `hub`, or of the default hub (the
 * only hub served, or `defaultHub`) without an argument. For hub names known only at run time,
 * inject `WebPubSubServiceClients` instead.
 * @publicApi
 */
export const InjectWebPubSubServiceClient = (
  hub?: string,
): ParameterDecorator & PropertyDecorator => {
  const token = getWebPubSubServiceClientToken(hub);
  if (hub !== undefined) recordRequestedHub(hub);
  return Inject(token);
};
