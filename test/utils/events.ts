import { signatureHeader } from '../../lib/protocol/signature.js';
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
  eventName?: string;
  contentType?: string;
  keys?: string[];
  state?: string;
  extra?: Record<string, string>;
  omit?: string[];
}

const SYSTEM_TYPES: Record<string, string> = {
  connect: 'azure.webpubsub.sys.connect',
  connected: 'azure.webpubsub.sys.connected',
  disconnected: 'azure.webpubsub.sys.disconnected',
};

/** Headers of one CloudEvent as the service sends it, signed with `keys` (default: the primary key). */
export function eventHeaders(event: string, options: EventOptions = {}): Record<string, string> {
  const hub = options.hub ?? 'chat';
  const connectionId = options.connectionId ?? 'conn-1';
  const type = SYSTEM_TYPES[event] ?? `azure.webpubsub.user.${event}`;
  const headers: Record<string, string> = {
    'ce-specversion': '1.0',
    'ce-type': type,
    'ce-source': `/hubs/${hub}/client/${connectionId}`,
    'ce-id': '1',
    'ce-time': '2026-11-28T00:00:00Z',
    'ce-awpsversion': '1.0',
    'ce-hub': hub,
    'ce-connectionId': connectionId,
    'ce-eventName': options.eventName ?? event,
    'WebHook-Request-Origin': SERVICE_HOST,
    'content-type':
      options.contentType ??
      (SYSTEM_TYPES[event] ? 'application/json; charset=utf-8' : 'text/plain; charset=utf-8'),
  };
  const keys = options.keys ?? [ACCESS_KEY];
  if (keys.length > 0) headers['ce-signature'] = signatureHeader(connectionId, keys);
  if (options.userId) headers['ce-userId'] = options.userId;
  if (options.state !== undefined) headers['ce-connectionState'] = options.state;
  Object.assign(headers, options.extra);
  for (const name of options.omit ?? []) {
    for (const key of Object.keys(headers))
      if (key.toLowerCase() === name.toLowerCase()) delete headers[key];
  }
  return headers;
}

export const connectBody = (claims: Record<string, string[]> = { sub: ['alice'] }) =>
  JSON.stringify({
    claims,
    query: { access_token: ['token'] },
    headers: { host: ['example'] },
    subprotocols: ['json.webpubsub.azure.v1'],
    clientCertificates: [],
  });

/** POSTs one event, signed as the service would, to the event handler at `url`. */
export function postEvent(
  url: string,
  event: string,
  body: string | Buffer = 'x',
  options: EventOptions = {},
): Promise<HttpResult> {
  return http(url, { method: 'POST', headers: eventHeaders(event, options), body });
}
