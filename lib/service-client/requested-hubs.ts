import { hubKey } from '../protocol/names.js';
/**
 * The hub names `@InjectWebPubSubServiceClient(hub)` was written with, in this process. The module
 * registers a token for each (next to the configured hubs), so that a hub it does not serve fails
 * the start-up with `UnknownWebPubSubHubError`, which lists the configured hubs, instead of Nest's
 * bare "can't resolve dependencies".
 */
const requested = new Set<string>();

export function recordRequestedHub(hub: string): void {
  if (typeof hub === 'string' && hub !== '') requested.add(hubKey(hub));
}

export function requestedHubs(): readonly string[] {
  return [...requested];
}
