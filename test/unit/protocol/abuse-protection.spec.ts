/**
 * The abuse-protection handshake's rule (`AbuseProtection`, `splitOrigins`): with no host
 * configured any origin is answered `*`; with hosts configured the requested origin is answered
 * when allowed (hosts compared case-insensitively, a port, a scheme and a trailing slash tolerated,
 * only the allowed ones of a list returned, each once), and an origin not allowed is refused with
 * 400 naming it (a whole list named, a very long origin cut); no match on a suffix, a prefix or a
 * sub-domain.
 */
import { AbuseProtection, splitOrigins } from '../../../lib/protocol/abuse-protection.js';

const HOST = 'my-pubsub.webpubsub.azure.com';
const OTHER = 'other.webpubsub.azure.com';
const CHINA = 'cn-pubsub.webpubsub.azure.cn';

describe('splitOrigins', () => {
  it.each([
    [undefined, []],
    ['', []],
    [' ', []],
    [' , ,', []],
    ['a', ['a']],
    ['a,b', ['a', 'b']],
    ['a, b', ['a', 'b']],
    ['a b', ['a', 'b']],
    ['  a ,, b\t,c  ', ['a', 'b', 'c']],
  ])('splits %p into %p', (value, expected) => {
    expect(splitOrigins(value)).toEqual(expected);
  });
});

describe('AbuseProtection', () => {
  describe('with no host configured', () => {
    const protection = new AbuseProtection([]);

    it('allows any origin', () => {
      expect(protection.allowsAny).toBe(true);
    });

    it.each([HOST, 'anything.example', '*', `${HOST}, ${OTHER}`])('answers * for %p', origin => {
      expect(protection.answer(origin)).toEqual({ allowed: true, allowedOrigins: ['*'] });
    });

    it.each([
      ['undefined', undefined],
      ['empty', ''],
      ['blank', '   '],
      ['separators only', ', ,'],
    ])('still refuses a %s origin with 400', (_what, origin) => {
      expect(protection.answer(origin)).toEqual({
        allowed: false,
        status: 400,
        message: 'Missing WebHook-Request-Origin header',
      });
    });
  });

  describe('with hosts configured', () => {
    const protection = new AbuseProtection([HOST, 'Other.WebPubSub.Azure.com', CHINA]);

    it('does not allow any origin', () => {
      expect(protection.allowsAny).toBe(false);
    });

    it('returns the requested origin when it is allowed', () => {
      expect(protection.answer(HOST)).toEqual({ allowed: true, allowedOrigins: [HOST] });
      expect(protection.answer(CHINA)).toEqual({ allowed: true, allowedOrigins: [CHINA] });
    });

    it('compares hosts case-insensitively (request and configuration) and returns the value as requested', () => {
      expect(protection.answer(HOST.toUpperCase())).toEqual({
        allowed: true,
        allowedOrigins: [HOST.toUpperCase()],
      });
      expect(protection.answer(OTHER)).toEqual({ allowed: true, allowedOrigins: [OTHER] });
    });

    it('ignores a port in the requested origin', () => {
      expect(protection.answer(`${HOST}:443`)).toEqual({
        allowed: true,
        allowedOrigins: [`${HOST}:443`],
      });
    });

    it('tolerates a scheme and a trailing slash in the requested origin', () => {
      expect(protection.answer(`https://${HOST}/`)).toEqual({
        allowed: true,
        allowedOrigins: [`https://${HOST}/`],
      });
    });

    it.each([
      ['comma', `${HOST},${OTHER}`],
      ['comma + space', `${HOST}, ${OTHER}`],
      ['space', `${HOST} ${OTHER}`],
    ])('returns every allowed host of a %s separated list, in request order', (_sep, origin) => {
      expect(protection.answer(origin)).toEqual({ allowed: true, allowedOrigins: [HOST, OTHER] });
    });

    it('returns only the allowed ones of several hosts', () => {
      expect(protection.answer(`evil.example.com, ${OTHER}, attacker.webpubsub.azure.com`)).toEqual(
        {
          allowed: true,
          allowedOrigins: [OTHER],
        },
      );
    });

    it('returns each allowed host once', () => {
      expect(protection.answer(`${HOST}, ${HOST},${OTHER} ${HOST}`)).toEqual({
        allowed: true,
        allowedOrigins: [HOST, OTHER],
      });
    });

    it('handles upper case and ports inside a list', () => {
      expect(protection.answer(`${HOST.toUpperCase()}:443, evil.example.com:443`)).toEqual({
        allowed: true,
        allowedOrigins: [`${HOST.toUpperCase()}:443`],
      });
    });

    it('refuses an origin that is not allowed with 400 naming it', () => {
      const answer = protection.answer('evil.example.com');
      expect(answer).toEqual({
        allowed: false,
        status: 400,
        message: expect.stringContaining('"evil.example.com"'),
      });
      expect(answer.allowed || answer.message).toMatch(/not an allowed service endpoint/);
    });

    it('refuses a list where no host is allowed, naming the whole value', () => {
      const answer = protection.answer('evil.example.com, bad.example.org');
      expect(answer.allowed).toBe(false);
      if (!answer.allowed) {
        expect(answer.status).toBe(400);
        expect(answer.message).toContain('"evil.example.com, bad.example.org"');
      }
    });

    it('does not match on a suffix, a prefix or a sub-domain', () => {
      for (const origin of [
        `x${HOST}`,
        `${HOST}.evil.com`,
        `sub.${HOST}`,
        'webpubsub.azure.com',
        '*',
      ]) {
        expect(protection.answer(origin).allowed).toBe(false);
      }
    });

    it('cuts a very long origin in the message', () => {
      const long = `${'a'.repeat(500)}.example.com`;
      const answer = protection.answer(long);
      expect(answer.allowed).toBe(false);
      if (!answer.allowed) {
        expect(answer.message.length).toBeLessThan(250);
        expect(answer.message).toContain('…');
      }
    });

    it.each([
      ['undefined', undefined],
      ['empty', ''],
    ])('refuses a %s origin with 400 Missing WebHook-Request-Origin header', (_what, origin) => {
      expect(protection.answer(origin)).toEqual({
        allowed: false,
        status: 400,
        message: 'Missing WebHook-Request-Origin header',
      });
    });
  });

  it('accepts any iterable of hosts', () => {
    const protection = new AbuseProtection(new Set([HOST]));
    expect(protection.answer(HOST)).toEqual({ allowed: true, allowedOrigins: [HOST] });
  });
});

describe('AbuseProtection names each allowed host once', () => {
  it('whatever the spelling or port it was requested with', () => {
    const answer = new AbuseProtection(['my-pubsub.webpubsub.azure.com']).answer(
      'my-pubsub.webpubsub.azure.com, MY-PUBSUB.webpubsub.azure.com my-pubsub.webpubsub.azure.com:443',
    );
    expect(answer).toEqual({ allowed: true, allowedOrigins: ['my-pubsub.webpubsub.azure.com'] });
  });
});
