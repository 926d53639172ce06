import { compactVerify, decodeJwt, decodeProtectedHeader, SignJWT, type JWTPayload } from 'jose';

/**
 * Client access tokens (the `access_token` of a client URL) and REST tokens (the `Authorization:
 * Bearer` of a data-plane call), as `@azure/web-pubsub` signs them with an access key: HS256 over
 * the access key's UTF-8 bytes, `aud` = the URL the token is for, `exp` one hour ahead by default.
 */

/** Which client endpoint a token is for. */
export type ClientAccessProtocol = 'default' | 'mqtt' | 'socketio';

export interface SignClientAccessTokenOptions {
  /** The service endpoint, e.g. `https://<resource>.webpubsub.azure.com` or `http://localhost:8080`. */
  readonly endpoint: string;
  readonly hub: string;
  readonly accessKey: string;
  /** `sub`. */
  readonly userId?: string;
  /** `role`. */
  readonly roles?: readonly string[];
  /** `webpubsub.group`. */
  readonly groups?: readonly string[];
  /** Default 60, as the SDK. */
  readonly expirationTimeInMinutes?: number;
  readonly clientProtocol?: ClientAccessProtocol;
  /** The signing time (default: now); for tests of expiry. */
  readonly now?: Date;
}

/** What `WebPubSubServiceClient.getClientAccessToken()` returns. */
export interface ClientAccessToken {
  readonly token: string;
  /** `ws(s)://<host>/client/hubs/<hub>` (`clients/mqtt/hubs/<hub>` for MQTT). */
  readonly baseUrl: string;
  /** `baseUrl?access_token=<token>`. */
  readonly url: string;
}

/** The claims of a client access token. */
export interface ClientAccessTokenClaims extends JWTPayload {
  readonly role?: string[];
  readonly 'webpubsub.group'?: string[];
}

/** The endpoint as the SDK uses it: with a trailing slash. */
function withSlash(endpoint: string): string {
  return endpoint.endsWith('/') ? endpoint : `${endpoint}/`;
}

/** `client/hubs/<hub>`, `clients/mqtt/hubs/<hub>` or `clients/socketio/hubs/<hub>`. */
function clientPath(hub: string, clientProtocol: ClientAccessProtocol | undefined): string {
  switch (clientProtocol) {
    case 'mqtt':
      return `clients/mqtt/hubs/${hub}`;
    case 'socketio':
      return `clients/socketio/hubs/${hub}`;
    default:
      return `client/hubs/${hub}`;
  }
}

/** The audience of a client access token: `<endpoint>/client/hubs/<hub>` (http(s) scheme kept). */
export function clientAccessAudience(
  endpoint: string,
  hub: string,
  clientProtocol?: ClientAccessProtocol,
): string {
  return withSlash(endpoint) + clientPath(hub, clientProtocol);
}

/** The client URL without token: the endpoint with `ws(s)://`, then the client path. */
export function clientAccessBaseUrl(
  endpoint: string,
  hub: string,
  clientProtocol?: ClientAccessProtocol,
): string {
  return withSlash(endpoint).replace(/(http)(s?:\/\/)/gi, 'ws$2') + clientPath(hub, clientProtocol);
}

function keyBytes(accessKey: string): Uint8Array {
  return new Uint8Array(Buffer.from(accessKey, 'utf8'));
}

const seconds = (date: Date) => Math.floor(date.getTime() / 1000);

/**
 * Signs a client access token the way `WebPubSubServiceClient.getClientAccessToken()` does with an
 * access key: same audience, claims (`sub`, `role`, `webpubsub.group`, `iat`, `exp`, `aud`), URLs.
 */
export async function signClientAccessToken(
  options: SignClientAccessTokenOptions,
): Promise<ClientAccessToken> {
  const { endpoint, hub, accessKey, clientProtocol } = options;
  if (!accessKey) throw new TypeError('signClientAccessToken needs an access key');
  const payload: Record<string, unknown> = {};
  if (options.roles !== undefined) payload.role = [...options.roles];
  if (options.groups !== undefined) payload['webpubsub.group'] = [...options.groups];
  const iat = seconds(options.now ?? new Date());
  const minutes = options.expirationTimeInMinutes ?? 60;
  const jwt = new SignJWT(payload)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt(iat)
    .setExpirationTime(iat + Math.floor(minutes * 60))
    .setAudience(clientAccessAudience(endpoint, hub, clientProtocol));
  if (options.userId) jwt.setSubject(options.userId);
  const token = await jwt.sign(keyBytes(accessKey));
  const baseUrl = clientAccessBaseUrl(endpoint, hub, clientProtocol);
  return { token, baseUrl, url: `${baseUrl}?access_token=${token}` };
}

export interface SignRestTokenOptions {
  /** The full request URL: the SDK's audience. */
  readonly url: string;
  readonly accessKey: string;
  /** Default 60. */
  readonly expirationTimeInMinutes?: number;
  readonly now?: Date;
}

/** A data-plane bearer token as the SDK's key credential policy signs it (`aud` = request URL, 1 h). */
export async function signRestToken(options: SignRestTokenOptions): Promise<string> {
  const iat = seconds(options.now ?? new Date());
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt(iat)
    .setExpirationTime(iat + Math.floor((options.expirationTimeInMinutes ?? 60) * 60))
    .setAudience(options.url)
    .sign(keyBytes(options.accessKey));
}

/**
 * The comparable form of an audience: host (lower case, port kept unless default) and path
 * (lower case, without trailing slashes); scheme, query and fragment ignored. `undefined` when it
 * is not a URL.
 */
export function audienceKey(audience: string): string | undefined {
  let url: URL;
  try {
    url = new URL(audience);
  } catch {
    return undefined;
  }
  // `ws:`/`wss:` and `http:`/`https:` share default ports; URL drops them for special schemes.
  const path = url.pathname.replace(/\/+$/, '');
  return `${url.host.toLowerCase()}${path.toLowerCase()}`;
}

/**
 * Whether two audiences name the same resource: same host and path, compared case-insensitively
 * (hub names are case-insensitive to the service), whatever the scheme (`http`, `https`, `ws`,
 * `wss`) and query.
 */
export function audiencesMatch(actual: string, expected: string): boolean {
  const a = audienceKey(actual);
  return a !== undefined && a === audienceKey(expected);
}

/** Why a token was refused. */
export type AccessTokenFailureReason =
  | 'missing'
  | 'malformed'
  | 'unsupported-algorithm'
  | 'bad-signature'
  | 'missing-exp'
  | 'expired'
  | 'not-yet-valid'
  | 'wrong-audience';

export type AccessTokenVerification =
  | { readonly ok: true; readonly claims: ClientAccessTokenClaims }
  | { readonly ok: false; readonly reason: AccessTokenFailureReason; readonly message: string };

export interface VerifyAccessTokenOptions {
  /**
   * The audience expected: a URL compared with {@link audiencesMatch} (any of a list), or a
   * predicate over each `aud` value. Absent: `aud` is not checked.
   */
  readonly audience?: string | readonly string[] | ((aud: string) => boolean);
  /** Seconds of clock skew tolerated for `exp` and `nbf`; default 300. */
  readonly clockToleranceSeconds?: number;
  /** Refuse a token without `exp` (default `true`). */
  readonly requireExp?: boolean;
  /** The time to check against (default: now). */
  readonly now?: Date;
}

const fail = (reason: AccessTokenFailureReason, message: string): AccessTokenVerification => ({
  ok: false,
  reason,
  message,
});

/**
 * Verifies an access-key-signed token: HS256 under one of `accessKeys`, not expired, not before its
 * `nbf`, for the expected audience. Never throws; a refusal names its reason. Messages never quote
 * the token or its claims' values.
 */
export async function verifyAccessToken(
  token: string | undefined | null,
  accessKeys: string | readonly string[],
  options: VerifyAccessTokenOptions = {},
): Promise<AccessTokenVerification> {
  if (!token) return fail('missing', 'No access token');
  let alg: unknown;
  let claims: ClientAccessTokenClaims;
  try {
    alg = decodeProtectedHeader(token).alg;
    claims = decodeJwt(token) as ClientAccessTokenClaims;
  } catch {
    return fail('malformed', 'The access token is not a well-formed JWT');
  }
  if (alg !== 'HS256') {
    return fail(
      'unsupported-algorithm',
      `The access token is signed with ${typeof alg === 'string' ? alg.slice(0, 16) : 'no algorithm'}: expected HS256`,
    );
  }
  const keys = (typeof accessKeys === 'string' ? [accessKeys] : accessKeys).filter(Boolean);
  let verified = false;
  for (const key of keys) {
    try {
      await compactVerify(token, keyBytes(key), { algorithms: ['HS256'] });
      verified = true;
      break;
    } catch {
      // try the next key
    }
  }
  if (!verified) {
    return fail('bad-signature', 'The access token signature does not match any access key');
  }
  const now = seconds(options.now ?? new Date());
  const tolerance = options.clockToleranceSeconds ?? 300;
  if (claims.exp === undefined) {
    if (options.requireExp ?? true) return fail('missing-exp', 'The access token has no exp claim');
  } else if (typeof claims.exp !== 'number') {
    return fail('malformed', 'The access token exp claim is not a number');
  } else if (claims.exp + tolerance <= now) {
    return fail('expired', `The access token expired ${now - claims.exp} s ago`);
  }
  if (claims.nbf !== undefined) {
    if (typeof claims.nbf !== 'number')
      return fail('malformed', 'The access token nbf claim is not a number');
    if (claims.nbf - tolerance > now) {
      return fail(
        'not-yet-valid',
        `The access token is not valid for another ${claims.nbf - now} s`,
      );
    }
  }
  const expected = options.audience;
  if (expected !== undefined) {
    const audiences = claims.aud === undefined ? [] : [claims.aud].flat();
    const matches =
      typeof expected === 'function'
        ? (aud: string) => expected(aud)
        : (aud: string) =>
            (typeof expected === 'string' ? [expected] : expected).some(e =>
              audiencesMatch(aud, e),
            );
    if (!audiences.some(aud => typeof aud === 'string' && matches(aud))) {
      return fail(
        'wrong-audience',
        audiences.length === 0
          ? 'The access token has no aud claim'
          : 'The access token is for another audience',
      );
    }
  }
  return { ok: true, claims };
}

/** The token of a client URL (`...?access_token=<token>`), or the argument itself when it is a token. */
export function accessTokenOf(urlOrToken: string): string {
  if (!urlOrToken.includes('://')) return urlOrToken;
  let url: URL;
  try {
    url = new URL(urlOrToken);
  } catch {
    throw new TypeError('Not a client URL: it does not parse');
  }
  const token = url.searchParams.get('access_token');
  if (!token) throw new TypeError('The client URL has no access_token query parameter');
  return token;
}

/** The decoded claims of a client access token (or of the token in a client URL), unverified. */
export interface DecodedClientAccessToken {
  readonly claims: ClientAccessTokenClaims;
  readonly userId?: string;
  readonly roles: readonly string[];
  readonly groups: readonly string[];
  readonly audience?: string;
  readonly expiresAt?: Date;
  readonly issuedAt?: Date;
}

/**
 * Decodes a client access token (or the token of a client URL) without verifying it.
 * @throws TypeError when it is not a JWT.
 */
export function decodeClientAccessToken(urlOrToken: string): DecodedClientAccessToken {
  const token = accessTokenOf(urlOrToken);
  let claims: ClientAccessTokenClaims;
  try {
    claims = decodeJwt(token) as ClientAccessTokenClaims;
  } catch {
    throw new TypeError('Not a client access token: it is not a well-formed JWT');
  }
  const list = (value: unknown): string[] =>
    Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
  const aud = Array.isArray(claims.aud) ? claims.aud[0] : claims.aud;
  return {
    claims,
    userId: typeof claims.sub === 'string' ? claims.sub : undefined,
    roles: list(claims.role),
    groups: list(claims['webpubsub.group']),
    audience: typeof aud === 'string' ? aud : undefined,
    expiresAt: typeof claims.exp === 'number' ? new Date(claims.exp * 1000) : undefined,
    issuedAt: typeof claims.iat === 'number' ? new Date(claims.iat * 1000) : undefined,
  };
}
