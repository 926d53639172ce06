import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';

const PREFIX = 'sha256=';
const DIGEST_BYTES = 32;
const ENTRY_LENGTH = PREFIX.length + 2 * DIGEST_BYTES;
/** The service sends two entries (primary and secondary key); tolerate a few more, not thousands. */
const MAX_ENTRIES = 16;

/** `hex(HMAC-SHA256(key as UTF-8, connectionId as UTF-8))`, lower case. */
export function computeSignature(connectionId: string, accessKey: string): string {
  return createHmac('sha256', accessKey).update(connectionId).digest('hex');
}

/** The `ce-signature` value the service sends: `sha256=<hex>` per key, comma separated. */
export function signatureHeader(connectionId: string, accessKeys: readonly string[]): string {
  return accessKeys.map(key => PREFIX + computeSignature(connectionId, key)).join(',');
}

/** How many connection ids' expected digests a verifier remembers (about 1 MB at most). */
const DIGEST_CACHE_SIZE = 10_000;

/**
 * Checks `ce-signature` against a set of access keys: the request is genuine when one
 * `sha256=<hex>` entry equals the HMAC of the connection id under one of the keys.
 * Entries may be separated by commas and/or spaces; hex is compared case-insensitively and in
 * constant time (on the decoded digest bytes).
 *
 * The expected digests of recent connection ids are cached (a connection sends many events, and
 * computing an HMAC costs more than the rest of the check); the cache is bounded and holds only
 * values computed from the keys, never anything a request supplied.
 */
export class SignatureVerifier {
  readonly #keys: readonly KeyObject[];
  readonly #digests = new Map<string, readonly Buffer[]>();

  constructor(accessKeys: readonly string[]) {
    this.#keys = [...new Set(accessKeys)].map(key => createSecretKey(Buffer.from(key, 'utf8')));
  }

  get keyCount(): number {
    return this.#keys.length;
  }

  verify(connectionId: string, header: string | undefined): boolean {
    if (!header) return false;
    const candidates = parseSignatureHeader(header);
    if (candidates.length === 0) return false;
    let matched = false;
    for (const expected of this.expectedDigests(connectionId)) {
      for (const candidate of candidates) {
        // Every comparison runs; no early exit reveals which entry or key matched.
        if (timingSafeEqual(expected, candidate)) matched = true;
      }
    }
    return matched;
  }

  private expectedDigests(connectionId: string): readonly Buffer[] {
    let digests = this.#digests.get(connectionId);
    if (digests === undefined) {
      digests = this.#keys.map(key => createHmac('sha256', key).update(connectionId).digest());
      if (this.#digests.size >= DIGEST_CACHE_SIZE) this.#digests.clear();
      this.#digests.set(connectionId, digests);
    }
    return digests;
  }
}

/** Decodes the well-formed `sha256=<64 hex>` entries of a `ce-signature` value. */
export function parseSignatureHeader(header: string): Buffer[] {
  const digests: Buffer[] = [];
  let start = 0;
  const length = header.length;
  while (start < length && digests.length < MAX_ENTRIES) {
    let end = start;
    let code = 0;
    while (end < length && (code = header.charCodeAt(end)) !== 44 /* , */ && code !== 32 /* space */) end++;
    if (end - start === ENTRY_LENGTH && hasPrefix(header, start)) {
      // Hex decoding stops at the first non-hex pair: anything short of 32 bytes is malformed.
      const digest = Buffer.from(header.slice(start + PREFIX.length, end), 'hex');
      if (digest.length === DIGEST_BYTES) digests.push(digest);
    }
    start = end + 1;
  }
  return digests;
}

/** `sha256=` at `at`, in any case. */
function hasPrefix(header: string, at: number): boolean {
  for (let i = 0; i < PREFIX.length; i++) {
    let code = header.charCodeAt(at + i);
    if (code >= 65 && code <= 90) code |= 0x20; // A-Z → a-z
    if (code !== PREFIX.charCodeAt(i)) return false;
  }
  return true;
}
