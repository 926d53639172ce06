import { AzureKeyCredential, WebPubSubServiceClient } from '@azure/web-pubsub';
import type { WebPubSubServiceClientOptions } from '@azure/web-pubsub';
import type { WebPubSubCredential } from '../interfaces/web-pubsub-service-client.interface.js';
import type { WebPubSubModuleOptions } from '../interfaces/web-pubsub-module-options.interface.js';
import type { ServiceEndpoint } from '../protocol/connection-string.js';

/** Where a hub's client connects and how it authenticates: enough to build it. */
export interface ServiceClientSource {
  readonly endpoint: string;
  readonly credential: WebPubSubCredential;
  readonly options: WebPubSubServiceClientOptions;
}

const HOW_TO =
  'give connectionString ("Endpoint=https://<name>.webpubsub.azure.com;AccessKey=<key>;Version=1.0;") or endpoint + credential (a TokenCredential from @azure/identity)';

/**
 * Chooses the endpoint and credential of the service clients: `endpoint` (else the first
 * connection string's), `credential` (else the `AccessKey` of a connection string for that
 * endpoint). Returns the problem, naming `hub`, when there is no usable pair.
 */
export function resolveServiceClientSource(
  hub: string,
  options: WebPubSubModuleOptions,
  connectionStrings: readonly ServiceEndpoint[],
): ServiceClientSource | { problem: string } {
  const endpoint = options.endpoint
    ? new URL(options.endpoint).origin
    : connectionStrings[0]?.endpoint;
  if (endpoint === undefined) {
    return { problem: `Hub "${hub}" has no credentials for its WebPubSubServiceClient: ${HOW_TO}` };
  }
  const sameEndpoint = connectionStrings.filter(candidate => candidate.endpoint === endpoint);
  const key = sameEndpoint.find(candidate => candidate.accessKey)?.accessKey;
  const credential =
    options.credential ?? (key === undefined ? undefined : new AzureKeyCredential(key));
  if (credential === undefined) {
    return {
      problem:
        sameEndpoint.length > 0
          ? `The connection string of ${endpoint} has no AccessKey and no credential is configured: hub "${hub}"'s WebPubSubServiceClient needs an AccessKey in the connection string or a credential (a TokenCredential from @azure/identity)`
          : `endpoint ${endpoint} is set but no credential: hub "${hub}"'s WebPubSubServiceClient needs credential (a TokenCredential from @azure/identity, or an AzureKeyCredential)`,
    };
  }
  const insecure = endpoint.startsWith('http:');
  if (insecure && typeof (credential as { getToken?: unknown }).getToken === 'function') {
    return {
      problem: `endpoint ${endpoint} uses http, where the SDK refuses to send a TokenCredential's bearer token: use https, or an access key (a local emulator takes the key of its connection string)`,
    };
  }
  return {
    endpoint,
    credential,
    // The SDK refuses http:// unless told; an http endpoint was configured on purpose (a local emulator).
    options: insecure
      ? { ...options.serviceClientOptions, allowInsecureConnection: true }
      : { ...options.serviceClientOptions },
  };
}

/** The official client of `hub` (configured spelling) from a resolved source. */
export function createServiceClient(
  hub: string,
  source: ServiceClientSource,
): WebPubSubServiceClient {
  return new WebPubSubServiceClient(source.endpoint, source.credential, hub, source.options);
}
