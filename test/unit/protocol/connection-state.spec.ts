/**
 * The connection state codec: base64 of the JSON text as `@azure/web-pubsub-express` encodes it
 * (`{}` is `e30=`), safe for an HTTP header, the documented sample decoded, nested and non-ASCII
 * values round-tripped, padding optional, a fresh object for each bad value.
 */
import {
  decodeConnectionState,
  encodeConnectionState,
} from '../../../lib/protocol/connection-state.js';

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

describe('encodeConnectionState', () => {
  it('encodes {} as e30=', () => {
    expect(encodeConnectionState({})).toBe('e30=');
  });

  it('is base64 of the JSON text (the encoding of @azure/web-pubsub-express)', () => {
    expect(encodeConnectionState({ key: 'a' })).toBe('eyJrZXkiOiJhIn0=');
    expect(Buffer.from(encodeConnectionState({ n: 1, s: 'é' }), 'base64').toString('utf8')).toBe(
      '{"n":1,"s":"é"}',
    );
  });

  it('produces a value safe for an HTTP header (no control or non-ASCII characters)', () => {
    expect(encodeConnectionState({ text: 'line\nbreak ✓ 😀' })).toMatch(/^[A-Za-z0-9+/]+=*$/);
  });
});

describe('decodeConnectionState', () => {
  it('decodes the documented sample', () => {
    expect(decodeConnectionState('eyJrZXkiOiJhIn0=')).toEqual({ key: 'a' });
  });

  it('round-trips nested and non-ASCII values', () => {
    const states = {
      user: { id: 42, roles: ['admin', 'user'], nested: { deep: [1, { x: null }] } },
      greeting: 'héllo ✓ 😀',
      flag: false,
      empty: '',
    };
    expect(decodeConnectionState(encodeConnectionState(states))).toEqual(states);
  });

  it('decodes e30= as {}', () => {
    expect(decodeConnectionState('e30=')).toEqual({});
  });

  it.each([
    ['undefined', undefined],
    ['empty', ''],
    ['malformed base64', '!!!not base64***'],
    ['base64 of non-JSON text', b64('hello world')],
    ['base64 of truncated JSON', b64('{"a":')],
    ['base64 of a JSON array', b64('[1,2,3]')],
    ['base64 of JSON null', b64('null')],
    ['base64 of a JSON number', b64('42')],
    ['base64 of a JSON string', b64('"text"')],
    ['base64 of JSON true', b64('true')],
    ['plain JSON that is not base64', '{"a":1}'],
  ])('reads %s as {}', (_what, value) => {
    expect(decodeConnectionState(value)).toEqual({});
  });

  it('returns a fresh object for each bad value', () => {
    const first = decodeConnectionState('');
    first.polluted = true;
    expect(decodeConnectionState('')).toEqual({});
  });

  it('accepts base64 without padding', () => {
    expect(decodeConnectionState('eyJrZXkiOiJhIn0')).toEqual({ key: 'a' });
  });
});
