/** One Azure Web PubSub resource as a connection string describes it. */
export interface ServiceEndpoint {
  /** The endpoint URL origin, e.g. `https://my-pubsub.webpubsub.azure.com`. */
  readonly endpoint: string;
  /** The host name the service sends in `WebHook-Request-Origin` (lower case, no port). */
  readonly host: string;
  /** The access key, absent for identity-based connection strings. */
  readonly accessKey?: string;
}

/**
 * Parses `Endpoint=https://<name>.webpubsub.azure.com;AccessKey=<key>;Version=1.0;[Port=<port>;]`.
 * Keys are case-insensitive; `AccessKey` may be absent (identity-based access).
 * @throws Error naming what is wrong.
 */
/** Keys a Web PubSub connection string may hold; the module reads the first four. */
const KNOWN_KEYS = new Set([
  'endpoint',
  'accesskey',
  'version',
  'port',
  'authtype',
  'clientid',
  'tenantid',
  'clientendpoint',
]);
/** A host name as URL parsing leaves it: letters, digits, dots, hyphens (or an IPv6 literal). */
const HOST_NAME = /^(?:[a-z0-9-]+(?:\.[a-z0-9-]+)*\.?|\[[0-9a-f:.]+\])$/;

export function parseConnectionString(value: string): ServiceEndpoint {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new Error('connection string is empty');
  }
  const parts = new Map<string, string>();
  const segments = value.split(';');
  for (let i = 0; i < segments.length; i++) {
    const trimmed = segments[i].trim();
    if (trimmed === '') continue;
    const eq = trimmed.indexOf('=');
    if (eq <= 0) {
      // The segment is not echoed: it may be a mistyped key.
      throw new Error(`connection string segment ${i + 1} is not of the form Key=Value`);
    }
    const key = trimmed.slice(0, eq).trim().toLowerCase();
    if (!KNOWN_KEYS.has(key)) {
      // Not echoed either: a key pasted without "AccessKey=" would show up here.
      throw new Error(
        `connection string segment ${i + 1} has an unknown key (expected Endpoint, AccessKey, Version, Port)`,
      );
    }
    parts.set(key, trimmed.slice(eq + 1).trim());
  }
  const endpointValue = parts.get('endpoint');
  if (!endpointValue) {
    throw new Error('connection string has no Endpoint');
  }
  // The Endpoint value is not echoed: with a separator missing it may contain the access key.
  let url: URL;
  try {
    url = new URL(endpointValue);
  } catch {
    throw new Error('connection string Endpoint is not a URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new Error('connection string Endpoint must use http or https');
  }
  if (!HOST_NAME.test(url.hostname)) {
    throw new Error('connection string Endpoint has an invalid host name (is a ";" missing?)');
  }
  const port = parts.get('port');
  if (port !== undefined) {
    if (!/^\d{1,5}$/.test(port) || Number(port) > 65535) {
      throw new Error(`connection string Port "${port}" is not a port number`);
    }
    url.port = port;
  }
  const accessKey = parts.get('accesskey');
  if (accessKey !== undefined && accessKey === '') {
    throw new Error('connection string AccessKey is empty');
  }
  const version = parts.get('version');
  if (version !== undefined && version !== '1.0') {
    throw new Error(`connection string Version "${version}" is not supported (expected 1.0)`);
  }
  return { endpoint: url.origin, host: url.hostname.toLowerCase(), accessKey };
}

/**
 * Reduces an allowed endpoint, given as a URL (`https://x.webpubsub.azure.com`) or a bare host
 * name (`x.webpubsub.azure.com`), to the lower-case host name that `WebHook-Request-Origin` carries.
 * @throws Error naming what is wrong.
 */
export function endpointHost(value: string): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new Error('endpoint is empty');
  }
  const trimmed = value.trim();
  const hasScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed);
  if (hasScheme && !/^https?:\/\//i.test(trimmed)) {
    throw new Error(`endpoint "${trimmed}" must use http or https`);
  }
  const candidate = hasScheme ? trimmed : `https://${trimmed}`;
  let url: URL;
  try {
    url = new URL(candidate);
  } catch {
    throw new Error(`endpoint "${trimmed}" is neither a URL nor a host name`);
  }
  if (
    !HOST_NAME.test(url.hostname) ||
    (url.pathname !== '/' && url.pathname !== '') ||
    url.search ||
    url.username
  ) {
    throw new Error(`endpoint "${trimmed}" must be a URL origin or a host name`);
  }
  return url.hostname.toLowerCase();
}
