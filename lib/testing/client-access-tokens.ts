import {
  accessTokenOf,
  audienceKey,
  clientAccessAudience,
  decodeClientAccessToken,
  verifyAccessToken,
  type ClientAccessProtocol,
  type DecodedClientAccessToken,
} from '../protocol/client-access-token.js';
import { createTestConnectionString, testServiceOf } from './test-credentials.js';

export { decodeClientAccessToken, type DecodedClientAccessToken };

export interface VerifyClientAccessTokenOptions {
  /** The connection string whose key signed the token (and whose endpoint it is for). Default: the test one. */
  readonly connectionString?: string;
  /** Verify with this key instead of the connection string's. */
  readonly accessKey?: string;
  /** Check the audience is this hub's client endpoint (`<endpoint>/client/hubs/<hub>`). */
  readonly hub?: string;
  /** With `hub`: which client endpoint. Default `'default'`. */
  readonly clientProtocol?: ClientAccessProtocol;
  /** Seconds of clock skew tolerated; default 300. */
  readonly clockToleranceSeconds?: number;
  readonly now?: Date;
}

/** A token that does not verify; `reason` says why. */
export class ClientAccessTokenError extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = 'ClientAccessTokenError';
  }
}

/**
 * Verifies a client access token, or the token of a client URL (what a negotiate route returns):
 * HS256 with the access key, not expired, and for the right audience — the URL's own endpoint
 * and hub when a URL is given, and `<endpoint>/client/hubs/<hub>` when `hub` is given.
 * @returns the decoded token.
 * @throws ClientAccessTokenError naming the reason (`bad-signature`, `expired`, `wrong-audience`, ...).
 */
export async function verifyClientAccessToken(
  urlOrToken: string,
  options: VerifyClientAccessTokenOptions = {},
): Promise<DecodedClientAccessToken> {
  const service = testServiceOf(options.connectionString ?? createTestConnectionString());
  const token = accessTokenOf(urlOrToken);
  const expected: string[] = [];
  if (urlOrToken.includes('://')) {
    const url = new URL(urlOrToken);
    expected.push(`${url.protocol}//${url.host}${url.pathname}`);
  }
  if (options.hub !== undefined) {
    expected.push(clientAccessAudience(service.endpoint, options.hub, options.clientProtocol));
  }
  const keys = [...new Set(expected.map(audienceKey))];
  const result = await verifyAccessToken(token, options.accessKey ?? service.accessKey, {
    audience:
      expected.length === 0 ? undefined : aud => keys.every(key => key === audienceKey(aud)),
    clockToleranceSeconds: options.clockToleranceSeconds,
    now: options.now,
  });
  if (!result.ok) {
    throw new ClientAccessTokenError(
      result.reason,
      result.reason === 'wrong-audience'
        ? `${result.message}: expected ${expected.join(' and ')}, got ${JSON.stringify(decodeClientAccessToken(token).audience)}`
        : result.message,
    );
  }
  return decodeClientAccessToken(token);
}
