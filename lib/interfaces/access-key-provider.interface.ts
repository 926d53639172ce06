/** What a key provider returns for a service host: its current access key(s), or none. */
export type AccessKeys = string | readonly string[] | undefined | null;

/**
 * Supplies the current access keys of a Web PubSub resource, by host name (lower case), e.g.
 * from a vault. Consulted per request and cached for `accessKeyCacheTtl` milliseconds, so a
 * rotated key is accepted and a revoked one refused within that interval.
 * @publicApi
 */
export type AccessKeyProviderFunction = (host: string) => AccessKeys | Promise<AccessKeys>;

/** The injectable form of {@link AccessKeyProviderFunction}. @publicApi */
export interface WebPubSubAccessKeyProvider {
  getAccessKeys(host: string): AccessKeys | Promise<AccessKeys>;
}
