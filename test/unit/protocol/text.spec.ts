/**
 * `quote`: a value as a JSON string with quotes and control characters escaped, cut at the limit
 * with an ellipsis.
 */
import { quote } from '../../../lib/protocol/text.js';

describe('quote', () => {
  it('quotes a value as a JSON string', () => {
    expect(quote('abc')).toBe('"abc"');
    expect(quote('')).toBe('""');
  });

  it('escapes quotes and control characters', () => {
    expect(quote('a"b\nc')).toBe('"a\\"b\\nc"');
  });

  it('keeps a value of exactly the limit', () => {
    expect(quote('x'.repeat(120))).toBe(`"${'x'.repeat(120)}"`);
  });

  it('cuts a longer value at the limit with an ellipsis', () => {
    expect(quote('x'.repeat(121))).toBe(`"${'x'.repeat(120)}…"`);
    expect(quote('abcdef', 3)).toBe('"abc…"');
  });
});
