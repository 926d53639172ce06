import { hubKey } from '../protocol/names.js';
/** Token prefix of the per-hub service clients; the bare prefix is the default hub's token. */
export const WEB_PUBSUB_SERVICE_CLIENT = 'WEB_PUB_SUB_SERVICE_CLIENT';

/**
 * The injection token of the `WebPubSubServiceClient` of `hub` (hub names are case-insensitive):
 * `WEB_PUB_SUB_SERVICE_CLIENT(chat)`, or `WEB_PUB_SUB_SERVICE_CLIENT` for the default hub.
 * Plain strings, the same in every build, so `overrideProvider(getWebPubSubServiceClientToken('chat'))`
 * works wherever the token comes from.
 * @publicApi
 */
export function getWebPubSubServiceClientToken(hub?: string): string {
  if (hub === undefined) return WEB_PUBSUB_SERVICE_CLIENT;
  if (typeof hub !== 'string' || hub === '') {
    throw new TypeError('getWebPubSubServiceClientToken(hub): hub must be a non-empty string');
  }
  return `${WEB_PUBSUB_SERVICE_CLIENT}(${hubKey(hub)})`;
}
