import type { WebPubSubNegotiateResult } from '../interfaces/web-pubsub-service-client.interface.js';

const KEYS = new Set(['userId', 'roles', 'groups', 'expirationTimeInMinutes', 'clientProtocol']);

/** What is wrong with what a negotiate `resolve` returned, or `undefined` when it is usable. */
export function negotiateResultProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return `expected { userId, roles?, groups?, expirationTimeInMinutes? } or null, got ${Array.isArray(value) ? 'an array' : typeof value}`;
  }
  const result = value as Record<string, unknown>;
  const unknown = Object.keys(result).find(key => !KEYS.has(key));
  if (unknown !== undefined) return `unknown key "${unknown}"`;
  if (typeof result.userId !== 'string' || result.userId === '') {
    return 'userId must be a non-empty string';
  }
  for (const name of ['roles', 'groups'] as const) {
    const list = result[name];
    if (
      list !== undefined &&
      (!Array.isArray(list) || list.some(item => typeof item !== 'string' || item === ''))
    ) {
      return `${name} must be an array of non-empty strings`;
    }
  }
  const minutes = result.expirationTimeInMinutes;
  if (minutes !== undefined && (!Number.isInteger(minutes) || (minutes as number) < 1)) {
    return 'expirationTimeInMinutes must be a positive integer';
  }
  const protocol = result.clientProtocol;
  if (
    protocol !== undefined &&
    protocol !== 'default' &&
    protocol !== 'mqtt' &&
    protocol !== 'socketio'
  ) {
    return 'clientProtocol must be "default", "mqtt" or "socketio"';
  }
  return undefined;
}

/** Narrows after {@link negotiateResultProblem} found nothing wrong. */
export function isNegotiateResult(value: unknown): value is WebPubSubNegotiateResult {
  return negotiateResultProblem(value) === undefined;
}
