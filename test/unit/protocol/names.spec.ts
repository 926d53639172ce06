/**
 * `hubKey` and `sameHub`: the one home of "hub names are case-insensitive" (the service sends
 * `ce-hub` lower-cased). Every map of hubs in the module and the emulator is keyed by `hubKey`,
 * and every comparison of two hub names goes through `sameHub`, so these fix the rule for all.
 */
import { hubKey, hubNameProblem, sameHub } from '../../../lib/protocol/names.js';

describe('hubKey', () => {
  it('gives every spelling of one hub the same key: the lower-cased name, as the service sends it', () => {
    expect(hubKey('Chat')).toBe('chat');
    expect(hubKey('CHAT')).toBe('chat');
    expect(hubKey('chat')).toBe('chat');
    expect(hubKey('A.B[1]_x`,Y')).toBe('a.b[1]_x`,y');
  });

  it('keeps different hubs apart', () => {
    expect(hubKey('chat1')).not.toBe(hubKey('chat2'));
    expect(hubKey('a.b')).not.toBe(hubKey('a_b'));
  });

  it('gives a valid hub name a key that is itself a valid hub name', () => {
    const longest = `H${'X'.repeat(127)}`;
    expect(hubNameProblem(longest)).toBeUndefined();
    expect(hubNameProblem(hubKey(longest))).toBeUndefined();
  });
});

describe('sameHub', () => {
  it('compares hub names case-insensitively', () => {
    expect(sameHub('Chat', 'chat')).toBe(true);
    expect(sameHub('a.B', 'A.b')).toBe(true);
    expect(sameHub('chat', 'chat')).toBe(true);
  });

  it('tells different hubs apart', () => {
    expect(sameHub('chat', 'chats')).toBe(false);
    expect(sameHub('a.b', 'a,b')).toBe(false);
  });
});
