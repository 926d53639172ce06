/**
 * Client access tokens as the service and the SDK make them: `signClientAccessToken` gives five
 * token shapes equal to `WebPubSubServiceClient.getClientAccessToken()`'s (header, claims,
 * lifetime, URLs), an `http://` endpoint keeps its port (ws:// client URL); `verifyAccessToken`
 * accepts the SDK's tokens and any of several keys (rotation), refuses each reason (`missing`,
 * `malformed`, `bad-signature`, `expired`, `wrong-audience`, `missing-exp`, `not-yet-valid`,
 * `unsupported-algorithm`), tolerates 5 minutes of clock skew and not 6.5, and verifies REST tokens
 * as the SDK signs them (audience = request URL); `audiencesMatch` ignores scheme, query, trailing
 * slash and case but not host, port or path; `decodeClientAccessToken` reads a client URL or a bare
 * token and names what is wrong.
 */
import { WebPubSubServiceClient } from '@azure/web-pubsub';
import { decodeJwt, decodeProtectedHeader, SignJWT } from 'jose';
import {
  accessTokenOf,
  audiencesMatch,
  clientAccessAudience,
  decodeClientAccessToken,
  signClientAccessToken,
  signRestToken,
  verifyAccessToken,
} from '../../../lib/protocol/client-access-token.js';

const KEY = 'primary-access-key-0123456789abcdef';
const ENDPOINT = 'https://my-pubsub.webpubsub.azure.com';
const CONNECTION_STRING = `Endpoint=${ENDPOINT};AccessKey=${KEY};Version=1.0;`;
const AUDIENCE = `${ENDPOINT}/client/hubs/chat`;

describe('signClientAccessToken, against WebPubSubServiceClient.getClientAccessToken()', () => {
  const sdk = new WebPubSubServiceClient(CONNECTION_STRING, 'chat');

  it.each([
    [
      'a user with roles, groups and expiry',
      {
        userId: 'alice',
        roles: ['webpubsub.joinLeaveGroup'],
        groups: ['g1', 'g2'],
        expirationTimeInMinutes: 5,
      },
    ],
    ['no user, defaults', {}],
    ['empty role and group lists', { userId: 'bob', roles: [], groups: [] }],
    ['an MQTT client', { userId: 'dev', clientProtocol: 'mqtt' as const }],
    ['a Socket.IO client', { userId: 'sio', clientProtocol: 'socketio' as const }],
  ])('%s: same header, claims, audience and URLs', async (_name, options) => {
    const theirs = await sdk.getClientAccessToken(options);
    const ours = await signClientAccessToken({
      endpoint: ENDPOINT,
      hub: 'chat',
      accessKey: KEY,
      ...options,
    });
    expect(ours.baseUrl).toBe(theirs.baseUrl);
    expect(ours.url.replace(ours.token, '<t>')).toBe(theirs.url.replace(theirs.token, '<t>'));
    expect(decodeProtectedHeader(ours.token)).toEqual(decodeProtectedHeader(theirs.token));
    const our = decodeJwt(ours.token);
    const their = decodeJwt(theirs.token);
    // Signed within the same second or two: compare the lifetime, not the instant.
    expect(Math.abs((our.iat as number) - (their.iat as number))).toBeLessThanOrEqual(2);
    expect((our.exp as number) - (our.iat as number)).toBe(
      (their.exp as number) - (their.iat as number),
    );
    const stable = (claims: Record<string, unknown>) => ({ ...claims, iat: 0, exp: 0 });
    expect(stable(our)).toEqual(stable(their));
  });

  it('produces a token verifyAccessToken accepts, as it accepts the SDK token', async () => {
    const theirs = await sdk.getClientAccessToken({ userId: 'alice', groups: ['g'] });
    const ours = await signClientAccessToken({
      endpoint: ENDPOINT,
      hub: 'chat',
      accessKey: KEY,
      userId: 'alice',
    });
    for (const token of [theirs.token, ours.token]) {
      const result = await verifyAccessToken(token, KEY, { audience: AUDIENCE });
      expect(result).toMatchObject({ ok: true, claims: { sub: 'alice', aud: AUDIENCE } });
    }
  });

  it('keeps an http:// endpoint with its port (the emulator), ws:// for the client URL', async () => {
    const local = await signClientAccessToken({
      endpoint: 'http://127.0.0.1:8080',
      hub: 'Chat',
      accessKey: KEY,
    });
    expect(local.baseUrl).toBe('ws://127.0.0.1:8080/client/hubs/Chat');
    const theirs = await new WebPubSubServiceClient(
      `Endpoint=http://127.0.0.1;Port=8080;AccessKey=${KEY};Version=1.0;`,
      'Chat',
    ).getClientAccessToken();
    expect(decodeJwt(local.token).aud).toBe(decodeJwt(theirs.token).aud);
    expect(clientAccessAudience('http://127.0.0.1:8080/', 'Chat')).toBe(
      'http://127.0.0.1:8080/client/hubs/Chat',
    );
  });
});

describe('verifyAccessToken', () => {
  const now = new Date('2026-12-01T12:00:00Z');
  const sign = (
    options: Partial<Parameters<typeof signClientAccessToken>[0]> = {},
  ): Promise<string> =>
    signClientAccessToken({
      endpoint: ENDPOINT,
      hub: 'chat',
      accessKey: KEY,
      now,
      ...options,
    }).then(t => t.token);

  it('accepts with any of several keys (rotation)', async () => {
    const token = await sign();
    expect((await verifyAccessToken(token, ['other-key', KEY], { now })).ok).toBe(true);
  });

  const cases: [string, () => Promise<string>, { audience?: string }][] = [
    ['missing', async () => '', {}],
    ['malformed', async () => 'not.a.jwt', {}],
    ['bad-signature', () => sign({ accessKey: 'another-key' }), {}],
    ['expired', () => sign({ expirationTimeInMinutes: -10 }), {}],
    ['wrong-audience', () => sign({ hub: 'other' }), { audience: AUDIENCE }],
  ];
  it.each(cases)('refuses with reason %s', async (reason, make, options) => {
    const result = await verifyAccessToken(await make(), KEY, { now, ...options });
    expect(result).toMatchObject({ ok: false, reason });
    if (!result.ok) expect(result.message).not.toContain(KEY);
  });

  it('tolerates five minutes of clock skew on exp, not more', async () => {
    const token = await sign({ expirationTimeInMinutes: 1 });
    const at = (minutes: number) => new Date(now.getTime() + minutes * 60_000);
    expect((await verifyAccessToken(token, KEY, { now: at(5.5) })).ok).toBe(true);
    expect(await verifyAccessToken(token, KEY, { now: at(6.5) })).toMatchObject({
      reason: 'expired',
    });
  });

  it('refuses a token without exp unless told not to, a future nbf and another algorithm', async () => {
    const key = new Uint8Array(Buffer.from(KEY));
    const noExp = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).sign(key);
    expect(await verifyAccessToken(noExp, KEY, { now })).toMatchObject({ reason: 'missing-exp' });
    expect((await verifyAccessToken(noExp, KEY, { now, requireExp: false })).ok).toBe(true);
    const later = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setNotBefore(Math.floor(now.getTime() / 1000) + 3600)
      .setExpirationTime(Math.floor(now.getTime() / 1000) + 7200)
      .sign(key);
    expect(await verifyAccessToken(later, KEY, { now })).toMatchObject({ reason: 'not-yet-valid' });
    const hs512 = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS512' })
      .setExpirationTime('1h')
      .sign(key);
    expect(await verifyAccessToken(hs512, KEY)).toMatchObject({ reason: 'unsupported-algorithm' });
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{}').toString('base64url')}.`;
    expect(await verifyAccessToken(none, KEY)).toMatchObject({ reason: 'unsupported-algorithm' });
  });

  it('verifies REST tokens as the SDK signs them: audience = request URL, matched on host and path', async () => {
    const url = `${ENDPOINT}/api/hubs/chat/:send?api-version=2024-01-01`;
    const token = await signRestToken({ url, accessKey: KEY });
    expect(
      (
        await verifyAccessToken(token, KEY, {
          audience: 'http://MY-PUBSUB.webpubsub.azure.com/api/hubs/chat/:send',
        })
      ).ok,
    ).toBe(true);
    expect(
      await verifyAccessToken(token, KEY, { audience: `${ENDPOINT}/api/hubs/chat/users/u` }),
    ).toMatchObject({ reason: 'wrong-audience' });
    expect(
      (await verifyAccessToken(token, KEY, { audience: aud => aud.startsWith(ENDPOINT) })).ok,
    ).toBe(true);
  });
});

describe('audiencesMatch', () => {
  it('ignores scheme, query, trailing slash and case; not host, port or path', () => {
    expect(
      audiencesMatch('https://h.example/client/hubs/chat', 'wss://H.example/client/hubs/Chat/'),
    ).toBe(true);
    expect(audiencesMatch('http://h.example:8080/a?x=1', 'ws://h.example:8080/a')).toBe(true);
    expect(audiencesMatch('http://h.example:8080/a', 'http://h.example:8081/a')).toBe(false);
    expect(audiencesMatch('http://h.example/a', 'http://g.example/a')).toBe(false);
    expect(audiencesMatch('http://h.example/a', 'http://h.example/a/b')).toBe(false);
    expect(audiencesMatch('not a url', 'not a url')).toBe(false);
  });
});

describe('decodeClientAccessToken', () => {
  it('decodes a client URL or a bare token into user, roles, groups, audience and expiry', async () => {
    const { url, token } = await signClientAccessToken({
      endpoint: ENDPOINT,
      hub: 'chat',
      accessKey: KEY,
      userId: 'alice',
      roles: ['r'],
      groups: ['g'],
      expirationTimeInMinutes: 10,
    });
    const decoded = decodeClientAccessToken(url);
    expect(decoded).toMatchObject({
      userId: 'alice',
      roles: ['r'],
      groups: ['g'],
      audience: AUDIENCE,
    });
    expect((decoded.expiresAt as Date).getTime() - (decoded.issuedAt as Date).getTime()).toBe(
      600_000,
    );
    expect(decodeClientAccessToken(token).claims).toEqual(decoded.claims);
    expect(accessTokenOf(url)).toBe(token);
  });

  it('names what is wrong', () => {
    expect(() => decodeClientAccessToken('nope')).toThrow(
      'Not a client access token: it is not a well-formed JWT',
    );
    expect(() => decodeClientAccessToken('wss://h/client/hubs/chat')).toThrow(
      'The client URL has no access_token query parameter',
    );
  });
});
