import { createLocalJWKSet, createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { ProtocolError } from '../protocol/protocol.error.js';
import type { ManagedIdentityOptions } from '../interfaces/managed-identity.interface.js';

export type { ManagedIdentityOptions };

const BEARER = /^Bearer[ \t]+([A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]+)[ \t]*$/i;

/** Verifies bearer tokens against a JWKS (remote, cached by `jose`, or local). */
export class EntraTokenVerifier {
  readonly #keys: JWTVerifyGetKey;

  constructor(private readonly options: ManagedIdentityOptions) {
    this.#keys =
      typeof options.jwks === 'string'
        ? createRemoteJWKSet(new URL(options.jwks), {
            cacheMaxAge: options.jwksCacheMaxAge ?? 600_000,
          })
        : createLocalJWKSet(options.jwks);
  }

  /** @throws ProtocolError 401 naming what is wrong with the token (never the token itself). */
  async verify(authorization: string | undefined): Promise<void> {
    if (!authorization) throw new ProtocolError(401, 'Missing Authorization bearer token');
    const match = BEARER.exec(authorization);
    if (!match) throw new ProtocolError(401, 'Authorization is not a bearer token');
    try {
      await jwtVerify(match[1], this.#keys, {
        issuer: this.options.issuer,
        audience: this.options.audience,
        clockTolerance: this.options.clockTolerance ?? 60,
        requiredClaims: ['exp'],
      });
    } catch (error) {
      throw new ProtocolError(401, `Invalid bearer token: ${describe(error)}`);
    }
  }
}

/** jose's error codes, in words (its messages may quote claim values; codes never do). */
function describe(error: unknown): string {
  const code = (error as { code?: string } | null)?.code;
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return 'expired';
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      return `claim "${(error as { claim?: string }).claim ?? '?'}" not accepted`;
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return 'signature does not verify';
    case 'ERR_JWKS_NO_MATCHING_KEY':
      return 'no matching signing key';
    case 'ERR_JWKS_TIMEOUT':
    case 'ERR_JOSE_GENERIC':
      return 'signing keys unavailable';
    case 'ERR_JWS_INVALID':
    case 'ERR_JWT_INVALID':
      return 'malformed token';
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
    case 'ERR_JOSE_NOT_SUPPORTED':
      return 'algorithm not accepted';
    default:
      return 'not accepted';
  }
}
