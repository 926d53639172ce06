import { createHmac } from 'node:crypto';

const CONNECTION_ID = 'sample-connection';

/**
 * curl commands that send the handshake, a connect and a message event the way the service does:
 * with the connection string's host as `WebHook-Request-Origin` and, when it has an `AccessKey`,
 * a `ce-signature` computed with it (the key itself is never printed). Without a connection
 * string nothing is checked and the same commands work.
 */
export function tryItCommands(url: string, hub: string, connectionString?: string): string[] {
  const key = /(?:^|;)\s*AccessKey=([^;]+)/i.exec(connectionString ?? '')?.[1];
  const endpoint = /(?:^|;)\s*Endpoint=([^;]+)/i.exec(connectionString ?? '')?.[1];
  let origin = 'localhost';
  try {
    if (endpoint) origin = new URL(endpoint).hostname;
  } catch {
    // A malformed connection string stops the app at start-up before this is printed.
  }
  const signature = key
    ? ` -H 'ce-signature: sha256=${createHmac('sha256', key).update(CONNECTION_ID).digest('hex')}'`
    : '';
  const event = (type: string, name: string, contentType: string) =>
    `-H 'ce-specversion: 1.0' -H 'ce-type: ${type}' -H 'ce-id: 1' -H 'ce-hub: ${hub}' ` +
    `-H 'ce-connectionId: ${CONNECTION_ID}' -H 'ce-eventName: ${name}'${signature} ` +
    `-H 'WebHook-Request-Origin: ${origin}' -H 'content-type: ${contentType}'`;
  const connectBody = JSON.stringify({
    claims: { sub: ['alice'] },
    query: {},
    headers: {},
    subprotocols: [],
    clientCertificates: [],
  });
  return [
    `curl -i -X OPTIONS ${url} -H 'WebHook-Request-Origin: ${origin}'`,
    `curl -i ${url} ${event('azure.webpubsub.sys.connect', 'connect', 'application/json')} -d '${connectBody}'`,
    `curl -i ${url} ${event('azure.webpubsub.user.message', 'message', 'text/plain')} -d 'hello'`,
  ];
}
