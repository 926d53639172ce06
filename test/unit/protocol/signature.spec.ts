/**
 * The `ce-signature` rule: `computeSignature` matches the .NET SDK's published test vector
 * (HMAC-SHA256 over the UTF-8 bytes of key and connection id, 64 lower-case hex); `signatureHeader`
 * one `sha256=` entry per key; `parseSignatureHeader` keeps well-formed entries (upper-case prefix
 * and hex too, at most 16); `SignatureVerifier` accepts either of two keys and a header from a
 * service whose other key is unknown here, and rejects another key, another connection id (even
 * differing only in case), any header when no key is configured.
 */
import { createHmac } from 'node:crypto';
import {
  computeSignature,
  parseSignatureHeader,
  signatureHeader,
  SignatureVerifier,
} from '../../../lib/protocol/signature.js';

/** Test vector of the .NET SDK (WebPubSubEventRequestTests.cs), see docs/protocol.md §4. */
const KEY = '7aab239577fd4f24bc919802fb629f5f';
const CONNECTION_ID = '0f9c97a2f0bf4706afe87a14e0797b11';
const VECTOR = 'sha256=7767effcb3946f3e1de039df4b986ef02c110b1469d02c0a06f41b3b727ab561';
const VECTOR_HEX = VECTOR.slice('sha256='.length);

const OTHER_KEY = 'another-access-key-0123456789';
const sig = (connectionId: string, key: string) => `sha256=${computeSignature(connectionId, key)}`;

describe('computeSignature', () => {
  it('matches the published test vector', () => {
    expect(computeSignature(CONNECTION_ID, KEY)).toBe(VECTOR_HEX);
  });

  it('uses the UTF-8 bytes of the key (not base64-decoded) and of the connection id', () => {
    const key = 'a2V5LWluLWJhc2U2NA=='; // valid base64, must NOT be decoded
    const connectionId = 'conn-ü-€';
    const expected = createHmac('sha256', Buffer.from(key, 'utf8'))
      .update(Buffer.from(connectionId, 'utf8'))
      .digest('hex');
    expect(computeSignature(connectionId, key)).toBe(expected);
    expect(computeSignature(connectionId, key)).not.toBe(
      createHmac('sha256', Buffer.from(key, 'base64')).update(connectionId).digest('hex'),
    );
  });

  it('is 64 lower-case hex characters', () => {
    expect(computeSignature('x', 'y')).toMatch(/^[0-9a-f]{64}$/);
  });

  it('depends on both the key and the connection id', () => {
    expect(computeSignature(CONNECTION_ID, OTHER_KEY)).not.toBe(VECTOR_HEX);
    expect(computeSignature('other-connection', KEY)).not.toBe(VECTOR_HEX);
  });
});

describe('signatureHeader', () => {
  it('builds one sha256= entry per key, comma separated, in key order', () => {
    expect(signatureHeader(CONNECTION_ID, [KEY])).toBe(VECTOR);
    expect(signatureHeader(CONNECTION_ID, [KEY, OTHER_KEY])).toBe(
      `${VECTOR},${sig(CONNECTION_ID, OTHER_KEY)}`,
    );
  });

  it('is empty for no keys', () => {
    expect(signatureHeader(CONNECTION_ID, [])).toBe('');
  });
});

describe('parseSignatureHeader', () => {
  it('decodes each well-formed entry to its 32 digest bytes', () => {
    const digests = parseSignatureHeader(`${VECTOR},${sig('c', OTHER_KEY)}`);
    expect(digests).toHaveLength(2);
    expect(digests[0]).toEqual(Buffer.from(VECTOR_HEX, 'hex'));
    expect(digests[0]).toHaveLength(32);
    expect(digests[1]).toEqual(Buffer.from(computeSignature('c', OTHER_KEY), 'hex'));
  });

  it('skips malformed entries and keeps the good ones', () => {
    const header = [
      'sha256=abc',
      'garbage',
      `sha512=${VECTOR_HEX}`,
      `sha256=${'z'.repeat(64)}`,
      VECTOR,
      '',
    ].join(',');
    expect(parseSignatureHeader(header)).toEqual([Buffer.from(VECTOR_HEX, 'hex')]);
  });

  it('accepts an upper-case prefix and upper-case hex', () => {
    expect(parseSignatureHeader(`SHA256=${VECTOR_HEX.toUpperCase()}`)).toEqual([
      Buffer.from(VECTOR_HEX, 'hex'),
    ]);
  });

  it('returns nothing for an empty or separator-only value', () => {
    expect(parseSignatureHeader('')).toEqual([]);
    expect(parseSignatureHeader(' , ,, ')).toEqual([]);
  });

  it('keeps at most 16 entries', () => {
    const header = Array.from({ length: 40 }, (_, i) => sig(`c${i}`, KEY)).join(',');
    const digests = parseSignatureHeader(header);
    expect(digests).toHaveLength(16);
    expect(digests[15]).toEqual(Buffer.from(computeSignature('c15', KEY), 'hex'));
  });
});

describe('SignatureVerifier', () => {
  const verifier = new SignatureVerifier([KEY]);

  it('accepts the published test vector', () => {
    expect(verifier.verify(CONNECTION_ID, VECTOR)).toBe(true);
  });

  it('accepts a signature made with either of two keys', () => {
    const both = new SignatureVerifier([KEY, OTHER_KEY]);
    expect(both.verify(CONNECTION_ID, VECTOR)).toBe(true);
    expect(both.verify(CONNECTION_ID, sig(CONNECTION_ID, OTHER_KEY))).toBe(true);
    expect(both.keyCount).toBe(2);
  });

  it('accepts a header from a service whose other key is unknown here (key rotation)', () => {
    const unknownKey = 'rotated-away-key';
    expect(verifier.verify(CONNECTION_ID, `${sig(CONNECTION_ID, unknownKey)},${VECTOR}`)).toBe(
      true,
    );
    expect(
      new SignatureVerifier([OTHER_KEY]).verify(
        CONNECTION_ID,
        `${VECTOR},${sig(CONNECTION_ID, OTHER_KEY)}`,
      ),
    ).toBe(true);
  });

  it.each([
    ['a,b', `${VECTOR},${sig(CONNECTION_ID, OTHER_KEY)}`],
    ['a, b', `${VECTOR}, ${sig(CONNECTION_ID, OTHER_KEY)}`],
    ['a b', `${VECTOR} ${sig(CONNECTION_ID, OTHER_KEY)}`],
    ['b,a', `${sig(CONNECTION_ID, OTHER_KEY)},${VECTOR}`],
    ['b, a', `${sig(CONNECTION_ID, OTHER_KEY)}, ${VECTOR}`],
    ['b a', `${sig(CONNECTION_ID, OTHER_KEY)} ${VECTOR}`],
    ['b  ,  a (runs of separators)', `${sig(CONNECTION_ID, OTHER_KEY)}  ,  ${VECTOR}`],
    ['leading/trailing separators', ` ,${VECTOR}, `],
  ])('accepts the separator form %s', (_form, header) => {
    expect(verifier.verify(CONNECTION_ID, header)).toBe(true);
  });

  it('accepts upper-case hex', () => {
    expect(verifier.verify(CONNECTION_ID, `sha256=${VECTOR_HEX.toUpperCase()}`)).toBe(true);
  });

  it('accepts mixed-case hex', () => {
    const mixed = [...VECTOR_HEX].map((c, i) => (i % 2 ? c.toUpperCase() : c)).join('');
    expect(verifier.verify(CONNECTION_ID, `sha256=${mixed}`)).toBe(true);
  });

  it('rejects a signature made with another key', () => {
    expect(verifier.verify(CONNECTION_ID, sig(CONNECTION_ID, OTHER_KEY))).toBe(false);
    expect(new SignatureVerifier([OTHER_KEY]).verify(CONNECTION_ID, VECTOR)).toBe(false);
  });

  it('rejects a signature of another connection id', () => {
    expect(verifier.verify('0f9c97a2f0bf4706afe87a14e0797b12', VECTOR)).toBe(false);
    expect(verifier.verify(CONNECTION_ID, sig('other', KEY))).toBe(false);
  });

  it('rejects a connection id that differs only in case', () => {
    expect(verifier.verify(CONNECTION_ID.toUpperCase(), VECTOR)).toBe(false);
  });

  it.each([
    ['undefined', undefined],
    ['empty', ''],
    ['spaces only', '   '],
    ['commas only', ',,,'],
  ])('rejects a header that is %s', (_what, header) => {
    expect(verifier.verify(CONNECTION_ID, header)).toBe(false);
  });

  it.each([
    ['sha256= with nothing after it', 'sha256='],
    ['one hex digit short', VECTOR.slice(0, -1)],
    ['one hex digit too many', `${VECTOR}0`],
    ['a truncated 32-byte prefix', `sha256=${VECTOR_HEX.slice(0, 32)}`],
    ['a non-hex digit', `sha256=${VECTOR_HEX.slice(0, -1)}g`],
    ['base64 instead of hex', `sha256=${Buffer.from(VECTOR_HEX, 'hex').toString('base64')}`],
    ['a missing prefix', VECTOR_HEX],
    ['an = without algorithm', `=${VECTOR_HEX}`],
    ['another algorithm prefix (same length)', `sha512=${VECTOR_HEX}`],
    ['another algorithm prefix (sha1)', `sha1=${VECTOR_HEX}`],
    ['a prefix without =', `sha256:${VECTOR_HEX}`],
    ['a tab separator inside the entry', `sha256=\t${VECTOR_HEX}`],
  ])('rejects %s', (_what, header) => {
    expect(verifier.verify(CONNECTION_ID, header)).toBe(false);
  });

  it('rejects a header when no key is configured', () => {
    const none = new SignatureVerifier([]);
    expect(none.keyCount).toBe(0);
    expect(none.verify(CONNECTION_ID, VECTOR)).toBe(false);
  });

  it('counts duplicate keys once', () => {
    const duplicated = new SignatureVerifier([KEY, KEY, OTHER_KEY, KEY]);
    expect(duplicated.keyCount).toBe(2);
    expect(duplicated.verify(CONNECTION_ID, VECTOR)).toBe(true);
  });

  it('separates entries only by comma or space', () => {
    // Two entries glued by ";" form one 143-character token: not an entry.
    expect(verifier.verify(CONNECTION_ID, `${VECTOR};${VECTOR}`)).toBe(false);
  });

  describe('many entries', () => {
    it('handles 10,000 malformed entries quickly and still finds a valid entry after them', () => {
      const header = `${Array.from({ length: 10_000 }, () => 'sha256=bad').join(',')},${VECTOR}`;
      const started = performance.now();
      expect(verifier.verify(CONNECTION_ID, header)).toBe(true);
      expect(performance.now() - started).toBeLessThan(250);
    });

    it('handles 10,000 well-formed wrong entries quickly and refuses them', () => {
      const wrong = sig(CONNECTION_ID, OTHER_KEY);
      const header = Array.from({ length: 10_000 }, () => wrong).join(', ');
      const started = performance.now();
      expect(verifier.verify(CONNECTION_ID, header)).toBe(false);
      expect(performance.now() - started).toBeLessThan(250);
    });

    it('honours a valid entry among the first 16 well-formed ones', () => {
      const wrong = Array.from({ length: 15 }, (_, i) => sig(`c${i}`, KEY));
      expect(verifier.verify(CONNECTION_ID, [...wrong, VECTOR].join(','))).toBe(true);
    });

    it('ignores a valid entry after 16 well-formed ones (the cap)', () => {
      const wrong = Array.from({ length: 16 }, (_, i) => sig(`c${i}`, KEY));
      expect(verifier.verify(CONNECTION_ID, [...wrong, VECTOR].join(','))).toBe(false);
    });
  });
});
