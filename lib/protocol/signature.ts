import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';

const PREFIX = 'sha256=';
const DIGEST_BYTES = 32;
const HEX_LENGTH = 2 * DIGEST_BYTES;
const ENTRY_LENGTH = PREFIX.length + HEX_LENGTH;
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

/** How many connection ids' expected digests a verifier remembers, per generation (about 1 MB at most). */
const DIGEST_CACHE_GENERATION = 5_000;

/**
 * Checks `ce-signature` against a set of access keys: the request is genuine when one
 * `sha256=<hex>` entry equals the HMAC of the connection id under one of the keys.
 * Entries may be separated by commas and/or spaces; hex is compared case-insensitively and in
 * constant time (every character of every entry against every expected digest, no early exit).
 *
 * The expected digests of recent connection ids are cached (a connection sends many events, and
 * computing an HMAC costs more than the rest of the check) in two generations, so ids in use
 * survive eviction; the cache holds only values computed from the keys, never anything a request
 * supplied.
 */
export class SignatureVerifier {
  readonly #keys: readonly KeyObject[];
  #current = new Map<string, readonly string[]>();
  #previous = new Map<string, readonly string[]>();

  constructor(accessKeys: readonly string[]) {
    this.#keys = [...new Set(accessKeys)].map(key => createSecretKey(Buffer.from(key, 'utf8')));
  }

  get keyCount(): number {
    return this.#keys.length;
  }

  verify(connectionId: string, header: string | undefined): boolean {
    if (!header) return false;
    const entries = signatureEntries(header);
    if (entries.length === 0) return false;
    const expected = this.expectedDigests(connectionId);
    let matched = false;
    for (const digest of expected) {
      for (const start of entries) {
        if (equalHex(header, start + PREFIX.length, digest)) matched = true;
      }
    }
    return matched;
  }

  /** Lower-case hex digests of `connectionId`, one per key. */
  private expectedDigests(connectionId: string): readonly string[] {
    let digests = this.#current.get(connectionId);
    if (digests !== undefined) return digests;
    digests = this.#previous.get(connectionId);
    if (digests === undefined) {
      digests = this.#keys.map(key => createHmac('sha256', key).update(connectionId).digest('hex'));
    }
    if (this.#current.size >= DIGEST_CACHE_GENERATION) {
      this.#previous = this.#current;
      this.#current = new Map();
    }
    this.#current.set(connectionId, digests);
    return digests;
  }
}

/**
 * Start offsets of the entries of a `ce-signature` value that look like `sha256=<64 chars>`
 * (prefix in any case), at most 16; separated by commas and/or spaces.
 */
export function signatureEntries(header: string): number[] {
  const starts: number[] = [];
  let start = 0;
  const length = header.length;
  while (start < length && starts.length < MAX_ENTRIES) {
    let end = start;
    let code = 0;
    while (
      end < length &&
      (code = header.charCodeAt(end)) !== 44 /* , */ &&
      code !== 32 /* space */
    )
      end++;
    if (end - start === ENTRY_LENGTH && hasPrefix(header, start)) starts.push(start);
    start = end + 1;
  }
  return starts;
}

/** Decodes the well-formed `sha256=<64 hex>` entries of a `ce-signature` value. */
export function parseSignatureHeader(header: string): Buffer[] {
  const digests: Buffer[] = [];
  for (const start of signatureEntries(header)) {
    // Hex decoding stops at the first non-hex pair: anything short of 32 bytes is malformed.
    const digest = Buffer.from(header.slice(start + PREFIX.length, start + ENTRY_LENGTH), 'hex');
    if (digest.length === DIGEST_BYTES) digests.push(digest);
  }
  return digests;
}

/** Whether the 64 characters at `offset` are `expected` (lower-case hex), in any case; constant time. */
function equalHex(header: string, offset: number, expected: string): boolean {
  let difference = 0;
  for (let i = 0; i < HEX_LENGTH; i++) {
    let code = header.charCodeAt(offset + i);
    if (code >= 65 && code <= 70) code |= 0x20; // A-F → a-f
    difference |= code ^ expected.charCodeAt(i);
  }
  return difference === 0;
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
