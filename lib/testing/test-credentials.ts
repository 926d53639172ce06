import { parseConnectionString } from '../protocol/connection-string.js';

/** The access key the testing helpers sign with unless told otherwise. Not a secret: tests only. */
export const TEST_ACCESS_KEY = 'nestjs-web-pubsub-test-access-key-0123456789';

/** The service endpoint of {@link createTestConnectionString} (no network is ever used). */
export const TEST_ENDPOINT = 'http://localhost';

/** The hub the builders address unless told otherwise. */
export const TEST_HUB = 'chat';

export interface TestConnectionStringOptions {
  /** Default {@link TEST_ENDPOINT}. */
  readonly endpoint?: string;
  /** Default {@link TEST_ACCESS_KEY}. */
  readonly accessKey?: string;
}

/**
 * A connection string for tests: `Endpoint=http://localhost;AccessKey=<TEST_ACCESS_KEY>;Version=1.0;`.
 * Give the same one to `WebPubSubModule.forRoot()` and to the request builders.
 */
export function createTestConnectionString(options: TestConnectionStringOptions = {}): string {
  return `Endpoint=${options.endpoint ?? TEST_ENDPOINT};AccessKey=${options.accessKey ?? TEST_ACCESS_KEY};Version=1.0;`;
}

/** What the builders need from a connection string: the origin host, the key and the endpoint. */
export interface TestService {
  readonly endpoint: string;
  readonly origin: string;
  readonly accessKey: string;
}

/** Reads a connection string the way the module does. @throws Error naming what is wrong. */
export function testServiceOf(connectionString: string): TestService {
  const { endpoint, host, accessKey } = parseConnectionString(connectionString);
  if (accessKey === undefined) {
    throw new Error('The connection string has no AccessKey: the testing helpers sign with it');
  }
  return { endpoint, origin: host, accessKey };
}
