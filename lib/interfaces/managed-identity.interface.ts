import type { JSONWebKeySet } from 'jose';

/**
 * Checks the `Authorization: Bearer <token>` that Azure Web PubSub sends when the hub's event
 * handler authenticates with a managed identity (Microsoft Entra ID).
 * @publicApi
 */
export interface ManagedIdentityOptions {
  /**
   * Where the signing keys are: a JWKS URL (for Entra ID
   * `https://login.microsoftonline.com/<tenant>/discovery/v2.0/keys`) or the key set itself.
   */
  jwks: string | JSONWebKeySet;
  /** Accepted token issuer(s), e.g. `https://login.microsoftonline.com/<tenant>/v2.0`. */
  issuer: string | string[];
  /** Accepted audience(s): the audience set in the hub's event handler auth settings. */
  audience: string | string[];
  /** Clock skew tolerated for `exp`/`nbf`, in seconds. Default 60. */
  clockTolerance?: number;
  /** How long fetched keys are cached, in milliseconds. Default 10 minutes. */
  jwksCacheMaxAge?: number;
}
