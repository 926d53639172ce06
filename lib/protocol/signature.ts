import { createHmac, timingSafeEqual } from 'node:crypto';

const PREFIX = 'sha256=';
const DIGEST_HEX_LENGTH = 64;
const HEX = /^[0-9a-f]{64}$/i;
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

/**
 * Checks `ce-signature` against a set of access keys: the request is genuine when one
 * `sha256=<hex>` entry equals the HMAC of the connection id under one of the keys.
 * Entries may be separated by commas and/or spaces; hex is compared case-insensitively and in
 * constant time (on the decoded digest bytes).
 */
export class SignatureVerifier {
  readonly #keys: readonly string[];

  constructor(accessKeys: readonly string[]) {
    this.#keys = [...new Set(accessKeys)];
  }

  get keyCount(): number {
    return this.#keys.length;
  }

  verify(connectionId: string, header: string | undefined): boolean {
    if (!header) return false;
    const candidates = parseSignatureHeader(header);
    if (candidates.length === 0) return false;
    let matched = false;
    for (const key of this.#keys) {
      const expected = createHmac('sha256', key).update(connectionId).digest();
      for (const candidate of candidates) {
        // Every comparison runs; no early exit reveals which entry or key matched.
        if (timingSafeEqual(expected, candidate)) matched = true;
      }
    }
    return matched;
  }
}

/** Decodes the well-formed `sha256=<64 hex>` entries of a `ce-signature` value. */
export function parseSignatureHeader(header: string): Buffer[] {
  const digests: Buffer[] = [];
  let start = 0;
  const length = header.length;
  while (start < length && digests.length < MAX_ENTRIES) {
    let end = start;
    while (end < length && header.charCodeAt(end) !== 44 /* , */ && header.charCodeAt(end) !== 32) {
      end++;
    }
    if (end - start === PREFIX.length + DIGEST_HEX_LENGTH) {
      const entry = header.slice(start, end);
      const hex = entry.slice(PREFIX.length);
      if (entry.slice(0, PREFIX.length).toLowerCase() === PREFIX && HEX.test(hex)) {
        digests.push(Buffer.from(hex, 'hex'));
      }
    }
    start = end + 1;
  }
  return digests;
}
