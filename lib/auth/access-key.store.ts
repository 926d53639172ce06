import { SignatureVerifier } from '../protocol/signature.js';
import { ProtocolError } from '../protocol/protocol.error.js';

import type {
  AccessKeyProviderFunction,
  AccessKeys,
  WebPubSubAccessKeyProvider,
} from '../interfaces/access-key-provider.interface.js';

export type { AccessKeyProviderFunction, AccessKeys, WebPubSubAccessKeyProvider };

interface CacheEntry {
  readonly verifier: SignatureVerifier | undefined;
  readonly expires: number;
}

/**
 * The signature verifier of each service host: the keys of its connection strings, plus those a
 * provider supplies (cached). Concurrent requests during a refresh share one provider call.
 */
export class AccessKeyStore {
  readonly #static: ReadonlyMap<string, SignatureVerifier>;
  readonly #staticKeys: ReadonlyMap<string, readonly string[]>;
  readonly #cache = new Map<string, CacheEntry>();
  readonly #pending = new Map<string, Promise<SignatureVerifier | undefined>>();
  #provider: AccessKeyProviderFunction | undefined;

  constructor(
    staticKeys: ReadonlyMap<string, readonly string[]>,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.#staticKeys = staticKeys;
    const verifiers = new Map<string, SignatureVerifier>();
    for (const [host, keys] of staticKeys)
      if (keys.length > 0) verifiers.set(host, new SignatureVerifier(keys));
    this.#static = verifiers;
  }

  /** Whether any key can exist, and so whether signatures are checked. */
  get checksSignatures(): boolean {
    return this.#static.size > 0 || this.#provider !== undefined;
  }

  useProvider(provider: AccessKeyProviderFunction): void {
    this.#provider = provider;
  }

  /** The verifier for `host`, or `undefined` when no key belongs to it. */
  verifierFor(
    host: string,
  ): SignatureVerifier | undefined | Promise<SignatureVerifier | undefined> {
    if (!this.#provider) return this.#static.get(host);
    const cached = this.#cache.get(host);
    if (cached && cached.expires > this.now()) return cached.verifier;
    return this.#pending.get(host) ?? this.refresh(host);
  }

  private refresh(host: string): Promise<SignatureVerifier | undefined> {
    const provider = this.#provider as AccessKeyProviderFunction;
    const pending = (async () => {
      let provided: AccessKeys;
      try {
        provided = await provider(host);
      } catch (error) {
        throw new ProviderFailure(error);
      }
      const keys = [...(this.#staticKeys.get(host) ?? []), ...toList(provided)];
      const verifier = keys.length > 0 ? new SignatureVerifier(keys) : undefined;
      this.#cache.set(host, { verifier, expires: this.now() + this.ttlMs });
      return verifier;
    })();
    this.#pending.set(host, pending);
    const clear = (): void => {
      this.#pending.delete(host);
    };
    pending.then(clear, clear);
    return pending;
  }
}

/** The key provider failed: the request is refused (503) rather than let through. */
export class ProviderFailure extends ProtocolError {
  constructor(readonly failure: unknown) {
    super(503, 'The access keys to check ce-signature are unavailable');
  }
}

function toList(keys: AccessKeys): string[] {
  if (keys === undefined || keys === null) return [];
  const list = typeof keys === 'string' ? [keys] : [...keys];
  return list.filter(key => typeof key === 'string' && key !== '');
}
