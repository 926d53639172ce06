/**
 * Authentication on Express and Fastify:
 * - several service instances: every instance allowed in the handshake; each event checked against
 *   the keys of the origin that sent it; an allowed origin no configured key belongs to → 401; an
 *   origin outside every list, or none → 403, without calling the handler;
 * - key rotation through a key provider, on a test clock (`WEB_PUBSUB_CLOCK`, internal; no timing
 *   involved): at TTL − 1 ms the old key is accepted and the new one refused (401), the provider
 *   not asked; at TTL the new key is accepted, the old one refused, the provider asked once (also
 *   for concurrent requests); 503 while the provider fails, then recovery; an injectable key
 *   provider is resolved and consulted;
 * - managed-identity bearer tokens: a valid token accepted (the signature of a keyed origin still
 *   checked), an origin without access key authenticated by its token alone, a local key set works
 *   too;
 * - secrets: no access key of either resource, no provider key, no bearer token (nor its signature
 *   part) and no connection string in any log line or answer (status line, headers, body) of this
 *   file.
 */
import { createServer, type Server } from 'node:http';
import { Global, Injectable, Module, type ModuleMetadata } from '@nestjs/common';
import { SignJWT, exportJWK, generateKeyPair, type JWK } from 'jose';
import {
  OnUserEvent,
  WebPubSubModule,
  type UserEventRequest,
  type WebPubSubAccessKeyProvider,
} from '../../lib/index.js';
import { WEB_PUBSUB_CLOCK } from '../../lib/web-pubsub.constants.js';
import {
  CapturingLogger,
  startApp,
  PLATFORMS,
  type PlatformName,
  type TestApp,
} from '../utils/app.js';
import { eventHeaders, postEvent, type EventOptions } from '../utils/events.js';
import { http, type HttpResult } from '../utils/http.js';
import { sleep } from '../utils/wait.js';

const HOST_A = 'pubsub-a.webpubsub.azure.com';
const HOST_B = 'pubsub-b.webpubsub.azure.com';
const KEYLESS_HOST = 'keyless.webpubsub.azure.com';
const KEY_A = 'key-of-resource-a';
const KEY_B = 'key-of-resource-b';

/**
 * Everything the apps of this file log, and every answer they send (status line, headers, body):
 * the last test checks that no access key, bearer token or connection string is in any of it.
 */
const logger = new CapturingLogger();
const answers: string[] = [];
const bearerTokens: string[] = [];
const record = async (pending: Promise<HttpResult>): Promise<HttpResult> => {
  const res = await pending;
  answers.push(`${res.status} ${JSON.stringify(res.headerLines)}\n${res.text}`);
  return res;
};
const request = (...args: Parameters<typeof http>) => record(http(...args));
const start = (platform: PlatformName, metadata: ModuleMetadata) =>
  startApp(platform, metadata, { logger });

/** A message event from resource A, signed with `key`. */
const sendFromHostA = (url: string, key: string) =>
  record(
    postEvent(`${url}/eventhandler`, 'message', 'x', {
      keys: [key],
      extra: { 'WebHook-Request-Origin': HOST_A },
    }),
  );

@Injectable()
class Echo {
  calls = 0;
  @OnUserEvent('message')
  message(request: UserEventRequest): string {
    this.calls++;
    return `ok ${request.data}`;
  }
}

describe.each(PLATFORMS)('several service instances on %s', platform => {
  let app: TestApp;
  beforeAll(async () => {
    app = await start(platform, {
      imports: [
        WebPubSubModule.forRoot({
          connectionString: [
            `Endpoint=https://${HOST_A};AccessKey=${KEY_A};Version=1.0;`,
            `Endpoint=https://${HOST_B};AccessKey=${KEY_B};Version=1.0;`,
          ],
          allowedEndpoints: [KEYLESS_HOST],
        }),
      ],
      providers: [Echo],
    });
  });
  afterAll(() => app?.close());

  const send = (origin: string | undefined, keys: string[]) => {
    const headers = eventHeaders('message', { keys, omit: ['WebHook-Request-Origin'] });
    if (origin !== undefined) headers['WebHook-Request-Origin'] = origin;
    return request(`${app.url}/eventhandler`, { method: 'POST', headers, body: 'x' });
  };

  it('allows every instance in the handshake', async () => {
    const res = await request(`${app.url}/eventhandler`, {
      method: 'OPTIONS',
      headers: { 'WebHook-Request-Origin': `${HOST_A}, ${HOST_B}, ${KEYLESS_HOST}` },
    });
    expect(res.headerLines['webhook-allowed-origin']).toEqual([HOST_A, HOST_B, KEYLESS_HOST]);
  });

  it('checks each event against the keys of the origin that sent it', async () => {
    expect((await send(HOST_A, [KEY_A])).status).toBe(200);
    expect((await send(HOST_B, [KEY_B])).status).toBe(200);
    const crossed = await send(HOST_A, [KEY_B]);
    expect(crossed.status).toBe(401);
    expect(crossed.text).toBe('Invalid ce-signature');
  });

  it('refuses an allowed origin that no configured key belongs to (401)', async () => {
    const res = await send(KEYLESS_HOST, [KEY_A]);
    expect(res.status).toBe(401);
    expect(res.text).toBe(
      `No access key is configured for WebHook-Request-Origin "${KEYLESS_HOST}"`,
    );
  });

  it('refuses an origin outside every list (403), and one missing (403), without calling the handler', async () => {
    const echo = app.app.get(Echo);
    const before = echo.calls;
    const foreign = await send('attacker.example.com', [KEY_A]);
    expect(foreign.status).toBe(403);
    expect(foreign.text).toBe(
      'WebHook-Request-Origin "attacker.example.com" is not an allowed service endpoint',
    );
    const missing = await send(undefined, [KEY_A]);
    expect(missing.status).toBe(403);
    expect(missing.text).toBe('Missing WebHook-Request-Origin header');
    expect(echo.calls).toBe(before);
  });
});

/** The clock the access-key cache expires by, moved by the test (no timing involved). */
class TestClock {
  ms = 1_000_000;
  readonly now = () => this.ms;
}

describe.each(PLATFORMS)('key rotation through a key provider on %s', platform => {
  const keys: Record<string, string[]> = { [HOST_A]: ['first-key'] };
  let calls = 0;
  let failing = false;
  let app: TestApp;
  const TTL = 60_000;
  const clock = new TestClock();

  @Global()
  @Module({
    providers: [{ provide: WEB_PUBSUB_CLOCK, useValue: clock.now }],
    exports: [WEB_PUBSUB_CLOCK],
  })
  class ClockModule {}

  beforeAll(async () => {
    app = await start(platform, {
      imports: [
        ClockModule,
        WebPubSubModule.forRootAsync({
          useFactory: () => ({
            allowedEndpoints: [HOST_A],
            accessKeyCacheTtl: TTL,
            accessKeyProvider: async (host: string) => {
              calls++;
              await sleep(1);
              if (failing) throw new Error('vault unreachable');
              return keys[host];
            },
          }),
        }),
      ],
      providers: [Echo],
    });
  });
  afterAll(() => app?.close());

  const send = (key: string) => sendFromHostA(app.url, key);

  it('keeps the cached keys for the whole TTL, then accepts the rotated key and refuses the revoked one', async () => {
    expect((await send('first-key')).status).toBe(200);
    const asked = calls;
    keys[HOST_A] = ['second-key'];
    // still cached, up to the last millisecond of the TTL: the old key works, the new one not yet
    clock.ms += TTL - 1;
    expect((await send('first-key')).status).toBe(200);
    const early = await send('second-key');
    expect(early.status).toBe(401);
    expect(early.text).toBe('Invalid ce-signature');
    expect(calls).toBe(asked);
    // expired: the provider is asked again, once
    clock.ms += 1;
    expect((await send('second-key')).status).toBe(200);
    const revoked = await send('first-key');
    expect(revoked.status).toBe(401);
    expect(revoked.text).toBe('Invalid ce-signature');
    expect(calls).toBe(asked + 1);
  });

  it('asks the provider once per interval, also for concurrent requests', async () => {
    clock.ms += TTL;
    const before = calls;
    const results = await Promise.all(Array.from({ length: 20 }, () => send('second-key')));
    expect(results.map(res => res.status)).toEqual(Array(20).fill(200));
    expect(calls - before).toBe(1);
  });

  it('refuses events with 503 while the provider fails, and recovers', async () => {
    clock.ms += TTL;
    failing = true;
    const res = await send('second-key');
    expect(res.status).toBe(503);
    expect(res.text).toBe('The access keys to check ce-signature are unavailable');
    failing = false;
    expect((await send('second-key')).status).toBe(200);
  });
});

@Injectable()
class VaultKeys implements WebPubSubAccessKeyProvider {
  getAccessKeys(host: string): string[] {
    return host === HOST_A ? ['vault-key'] : [];
  }
}

describe.each(PLATFORMS)('an injectable key provider on %s', platform => {
  it('is resolved and consulted', async () => {
    const app = await start(platform, {
      imports: [
        WebPubSubModule.forRoot({ allowedEndpoints: [HOST_A], accessKeyProvider: VaultKeys }),
      ],
      providers: [Echo, VaultKeys],
    });
    try {
      const send = (key: string) => sendFromHostA(app.url, key);
      expect((await send('vault-key')).status).toBe(200);
      expect((await send('other-key')).status).toBe(401);
    } finally {
      await app.close();
    }
  });
});

describe.each(PLATFORMS)('managed-identity bearer tokens on %s', platform => {
  const ISSUER = 'https://login.microsoftonline.com/tenant-1/v2.0';
  const AUDIENCE = 'api://event-handler';
  let jwksServer: Server;
  let jwksUrl: string;
  type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
  let signingKey: PrivateKey;
  let strangerKey: PrivateKey;
  let app: TestApp;
  let echo: Echo;

  const token = (
    claims: { aud?: string; iss?: string; exp?: string | number } = {},
    key = signingKey,
    kid = 'k1',
  ) =>
    new SignJWT({})
      .setProtectedHeader({ alg: 'RS256', kid })
      .setIssuer(claims.iss ?? ISSUER)
      .setAudience(claims.aud ?? AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(claims.exp ?? '5m')
      .sign(key)
      .then(jwt => {
        bearerTokens.push(jwt);
        return jwt;
      });

  beforeAll(async () => {
    const pair = await generateKeyPair('RS256');
    signingKey = pair.privateKey;
    strangerKey = (await generateKeyPair('RS256')).privateKey;
    const jwk: JWK = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    jwksServer = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>(resolve => jwksServer.listen(0, '127.0.0.1', resolve));
    jwksUrl = `http://127.0.0.1:${(jwksServer.address() as { port: number }).port}/keys`;
    app = await start(platform, {
      imports: [
        WebPubSubModule.forRoot({
          connectionString: [
            `Endpoint=https://${HOST_A};AccessKey=${KEY_A};Version=1.0;`,
            `Endpoint=https://${KEYLESS_HOST};Version=1.0;`,
          ],
          managedIdentity: { jwks: jwksUrl, issuer: ISSUER, audience: AUDIENCE },
        }),
      ],
      providers: [Echo],
    });
    echo = app.app.get(Echo);
  });
  afterAll(async () => {
    await app?.close();
    await new Promise(resolve => jwksServer?.close(resolve));
  });

  const send = async (
    authorization: string | undefined,
    options: EventOptions = {},
    origin = HOST_A,
  ) => {
    const headers = eventHeaders('message', {
      keys: [KEY_A],
      ...options,
      extra: { 'WebHook-Request-Origin': origin },
    });
    if (authorization) headers.Authorization = authorization;
    return request(`${app.url}/eventhandler`, { method: 'POST', headers, body: 'x' });
  };

  it('accepts a valid token (and still checks the signature of a keyed origin)', async () => {
    const bearer = `Bearer ${await token()}`;
    expect((await send(bearer)).status).toBe(200);
    expect((await send(bearer, { keys: ['wrong'] })).status).toBe(401);
  });

  it('authenticates an origin without access key by its token alone', async () => {
    expect((await send(`Bearer ${await token()}`, { keys: [] }, KEYLESS_HOST)).status).toBe(200);
    expect((await send(undefined, { keys: [] }, KEYLESS_HOST)).status).toBe(401);
  });

  it.each([
    ['no token', async () => undefined, 'Missing Authorization bearer token'],
    ['not a bearer token', async () => 'Basic dXNlcjpwYXNz', 'Authorization is not a bearer token'],
    ['a malformed token', async () => 'Bearer a.b.c', 'Invalid bearer token: malformed token'],
    [
      'another audience',
      async () => `Bearer ${await token({ aud: 'api://other' })}`,
      'Invalid bearer token: claim "aud" not accepted',
    ],
    [
      'another issuer',
      async () => `Bearer ${await token({ iss: 'https://evil.example/v2.0' })}`,
      'Invalid bearer token: claim "iss" not accepted',
    ],
    [
      'an expired token',
      async () => `Bearer ${await token({ exp: Math.floor(Date.now() / 1000) - 3600 })}`,
      'Invalid bearer token: expired',
    ],
    [
      'a token signed by another key',
      async () => `Bearer ${await token({}, strangerKey)}`,
      'Invalid bearer token: signature does not verify',
    ],
    [
      'a token with an unknown key id',
      async () => `Bearer ${await token({}, strangerKey, 'k9')}`,
      'Invalid bearer token: no matching signing key',
    ],
  ])('refuses %s with 401 before any handler runs', async (_label, authorization, message) => {
    const before = echo.calls;
    const res = await send(await authorization());
    expect(res.status).toBe(401);
    expect(res.text).toBe(message);
    expect(echo.calls).toBe(before);
  });

  it('works with a local key set too', async () => {
    const local = await start(platform, {
      imports: [
        WebPubSubModule.forRoot({
          managedIdentity: {
            jwks: (await fetch(jwksUrl).then(r => r.json())) as { keys: JWK[] },
            issuer: ISSUER,
            audience: [AUDIENCE, 'api://second'],
          },
        }),
      ],
      providers: [Echo],
    });
    try {
      const post = async (authorization: string) =>
        request(`${local.url}/eventhandler`, {
          method: 'POST',
          headers: { ...eventHeaders('message', { keys: [] }), Authorization: authorization },
          body: 'x',
        });
      expect((await post(`Bearer ${await token({ aud: 'api://second' })}`)).status).toBe(200);
      expect((await post(`Bearer ${await token({}, strangerKey)}`)).status).toBe(401);
    } finally {
      await local.close();
    }
  });
});

// Runs last (Jest keeps declaration order): everything above was refused or accepted by now.
describe('secrets', () => {
  it('no access key, bearer token or connection string appears in any log line or answer', () => {
    const logged = logger.lines.map(line => `${line.level} ${line.context ?? ''} ${line.message}`);
    // Refusals are logged and answered with their reason: there is something to search.
    expect(logged.length).toBeGreaterThan(20);
    expect(answers.length).toBeGreaterThan(80);
    expect(answers.some(answer => answer.includes('Invalid bearer token'))).toBe(true);
    expect(bearerTokens.length).toBeGreaterThan(10);
    const secrets = [
      KEY_A,
      KEY_B,
      'first-key',
      'second-key',
      'vault-key',
      // a connection string (the start-up warning's "Endpoint=...;AccessKey=..." is a template)
      'Endpoint=http',
      /AccessKey=(?!\.\.\.)/,
      ...bearerTokens,
      // a token's signature alone is a secret too
      ...bearerTokens.map(jwt => jwt.split('.')[2]),
    ];
    const everything = [...logged, ...answers];
    const leaks = secrets.flatMap(secret =>
      everything
        .filter(text => (typeof secret === 'string' ? text.includes(secret) : secret.test(text)))
        .map(text => `${secret}: ${text.slice(0, 200)}`),
    );
    expect(leaks).toEqual([]);
  });
});
