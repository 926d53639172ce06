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
    parts.set(trimmed.slice(0, eq).trim().toLowerCase(), trimmed.slice(eq + 1).trim());
  }
  const endpointValue = parts.get('endpoint');
  if (!endpointValue) {
    throw new Error('connection string has no Endpoint');
  }
  let url: URL;
  try {
    url = new URL(endpointValue);
  } catch {
    throw new Error(`connection string Endpoint "${endpointValue}" is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new Error(`connection string Endpoint "${endpointValue}" must use http or https`);
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
  const candidate = /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `https://${trimmed}`;
  let url: URL;
  try {
    url = new URL(candidate);
  } catch {
    throw new Error(`endpoint "${trimmed}" is neither a URL nor a host name`);
  }
  if (!url.hostname || (url.pathname !== '/' && url.pathname !== '') || url.search || url.username) {
    throw new Error(`endpoint "${trimmed}" must be a URL origin or a host name`);
  }
  return url.hostname.toLowerCase();
}
