import {
  createConnectRequest,
  createConnectedRequest,
  createDisconnectedRequest,
  createUserEventRequest,
  type WebPubSubTestEventOptions,
} from '../../lib/testing/index.js';
import { http, type HttpResult } from './http.js';

export const ACCESS_KEY = 'primary-access-key-0123456789abcdef';
export const SECONDARY_KEY = 'secondary-access-key-fedcba9876543210';
export const SERVICE_HOST = 'my-pubsub.webpubsub.azure.com';
export const CONNECTION_STRING = `Endpoint=https://${SERVICE_HOST};AccessKey=${ACCESS_KEY};Version=1.0;`;
export const SECONDARY_CONNECTION_STRING = `Endpoint=https://${SERVICE_HOST};AccessKey=${SECONDARY_KEY};Version=1.0;`;

export interface EventOptions {
  hub?: string;
  connectionId?: string;
  userId?: string;
  /** A `ce-eventName` that differs from the event. */
  eventName?: string;
  contentType?: string;
  /** Signing keys; `[]` sends no `ce-signature`. Default: the primary key. */
  keys?: string[];
  /** A raw `ce-connectionState` value. */
  state?: string;
  /** Headers to add or replace (names compared case-insensitively). */
  extra?: Record<string, string>;
  /** Headers to drop (names compared case-insensitively). */
  omit?: string[];
}

/** Fixed id and time, so two calls give the same headers. */
const FIXED = { id: '1', time: '2026-11-28T00:00:00Z' } as const;

/**
 * Headers of one CloudEvent as the service sends it, signed with `keys` (default: the primary
 * key), built by `nestjs-web-pubsub/testing`; `connect`, `connected` and `disconnected` are system
 * events, any other name a user event.
 */
export function eventHeaders(event: string, options: EventOptions = {}): Record<string, string> {
  const keys = options.keys ?? [ACCESS_KEY];
  const common: WebPubSubTestEventOptions = {
    connectionString: CONNECTION_STRING,
    hub: options.hub ?? 'chat',
    connectionId: options.connectionId ?? 'conn-1',
    userId: options.userId,
    connectionState: options.state,
    accessKeys: keys,
    sign: keys.length > 0,
    ...FIXED,
  };
  const system = event === 'connect' || event === 'connected' || event === 'disconnected';
  const built =
    event === 'connect'
      ? createConnectRequest(common)
      : event === 'connected'
        ? createConnectedRequest(common)
        : event === 'disconnected'
          ? createDisconnectedRequest(common)
          : createUserEventRequest({
              ...common,
              event,
              data: '',
              dataType: 'text',
              contentType: options.contentType,
            });
  const headers = { ...built.headers };
  const replace = (name: string, value: string) => {
    for (const key of Object.keys(headers))
      if (key.toLowerCase() === name.toLowerCase()) delete headers[key];
    headers[name] = value;
  };
  if (system && options.contentType !== undefined) replace('content-type', options.contentType);
  if (options.eventName !== undefined) replace('ce-eventName', options.eventName);
  for (const [name, value] of Object.entries(options.extra ?? {})) replace(name, value);
  for (const name of options.omit ?? []) {
    for (const key of Object.keys(headers))
      if (key.toLowerCase() === name.toLowerCase()) delete headers[key];
  }
  return headers;
}

/** A connect body as the service sends it, built by `nestjs-web-pubsub/testing`. */
export const connectBody = (claims: Record<string, string[]> = { sub: ['alice'] }): string =>
  createConnectRequest({
    claims,
    query: { access_token: ['token'] },
    headers: { host: ['example'] },
    subprotocols: ['json.webpubsub.azure.v1'],
    clientCertificates: [],
  }).payload.toString('utf8');

/** POSTs one event, signed as the service would, to the event handler at `url`. */
export function postEvent(
  url: string,
  event: string,
  body: string | Buffer = 'x',
  options: EventOptions = {},
): Promise<HttpResult> {
  return http(url, { method: 'POST', headers: eventHeaders(event, options), body });
}
