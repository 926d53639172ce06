import { WebPubSubServiceClient } from '@azure/web-pubsub';

/** The SDK client's own members: using one of them on a placeholder throws its error. */
const SDK_MEMBERS = new Set<string | symbol>([
  ...Object.getOwnPropertyNames(WebPubSubServiceClient.prototype).filter(
    name => name !== 'constructor',
  ),
  'hubName',
  'endpoint',
  'apiVersion',
]);

const PLACEHOLDERS = new WeakSet<object>();

/**
 * What a hub's token holds when its client cannot be built (no credentials, an unknown hub) and
 * nothing injects it: the app starts, and the first use of the client throws `error`, which says
 * what is missing. Anything else (Nest's lifecycle-hook checks, `then`, inspection) sees an
 * empty object.
 */
export function unavailableServiceClient(error: unknown): WebPubSubServiceClient {
  const target = Object.create(null) as object;
  const placeholder = new Proxy(target, {
    get(_target, property) {
      if (SDK_MEMBERS.has(property)) throw error;
      return undefined;
    },
  });
  PLACEHOLDERS.add(placeholder);
  return placeholder as WebPubSubServiceClient;
}

export function isUnavailableServiceClient(value: unknown): boolean {
  return typeof value === 'object' && value !== null && PLACEHOLDERS.has(value);
}
