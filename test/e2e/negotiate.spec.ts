/**
 * The negotiate route on Express and Fastify, 25 tests per platform. `GET`/`POST`, `<path>` and
 * `<path>/:hub` (case-insensitive), both registrations: `200` with exactly `{ baseUrl, url, token
 * }` and `Cache-Control: no-store`; the token verified with `jose` and with the testing helper
 * `verifyClientAccessToken` (which also refuses the MQTT token for the default client endpoint:
 * `wrong-audience`): audience `http://…/client/hubs/<hub>`, `sub`, `role`, `webpubsub.group`,
 * lifetime 1,800 s from `resolve`, 3,600 s by default, 900 s from
 * `negotiate.expirationTimeInMinutes`; `userId`, `roles`, `expirationTimeInMinutes` in the query or
 * JSON body ignored; `@azure/web-pubsub-client` with a function credential connects to
 * `/client/hubs/chat` with a token for the resolved user; `resolve` returning `null` → 401 JSON; an
 * unknown hub → 404; `?protocol=mqtt` → `/clients/mqtt/hubs/chat`, `?protocol=socketio` the
 * Socket.IO URL, other protocols 400; `negotiate.guards` refuse (403) before `resolve` (removing
 * `UseGuards` makes this fail); `negotiate.controllerDecorators` apply under a global guard while
 * the event handler's do not; `resolve` throwing → `500 Negotiate failed`, details only in the log;
 * an `HttpException` passes through; five invalid shapes → 500, each reason logged; start-up
 * errors: no `resolve`, no hub, keyless credentials, the event handler's path, a non-integer
 * lifetime.
 */
import {
  ForbiddenException,
  Injectable,
  SetMetadata,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { APP_GUARD, Reflector } from '@nestjs/core';
import { WebPubSubClient, WebPubSubJsonProtocol } from '@azure/web-pubsub-client';
import { decodeJwt, jwtVerify, type JWTPayload } from 'jose';
import {
  WebPubSubModule,
  type WebPubSubModuleExtras,
  type WebPubSubModuleOptions,
  type WebPubSubNegotiateContext,
  type WebPubSubNegotiateOptions,
} from '../../lib/index.js';
import { verifyClientAccessToken } from '../../lib/testing/index.js';
import { CapturingLogger, PLATFORMS, startApp, type TestApp } from '../utils/app.js';
import { http, type HttpResult } from '../utils/http.js';
import { LoopbackService } from '../utils/loopback-service.js';

const KEY = 'negotiate-access-key-0123456789abcdef';

interface SessionUser {
  id: string;
  roles?: string[];
  groups?: string[];
  minutes?: number;
}
/** Sessions the guard knows, by the `x-session` header. */
const SESSIONS: Record<string, SessionUser> = {
  alice: { id: 'alice', roles: ['webpubsub.joinLeaveGroup.room1'], groups: ['room1'], minutes: 30 },
  bob: { id: 'bob' },
};

/** Sets `request.user` from a session header, as an auth guard would. */
@Injectable()
class SessionGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest();
    const session = SESSIONS[request.headers['x-session'] as string];
    if (session) request.user = session;
    return true;
  }
}

/** Refuses requests without `x-api-key: letmein`. */
@Injectable()
class ApiKeyGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    return context.switchToHttp().getRequest().headers['x-api-key'] === 'letmein';
  }
}

/** A global guard letting through only controllers marked public. */
@Injectable()
class PublicOnlyGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}
  canActivate(context: ExecutionContext): boolean {
    return this.reflector.get<boolean>('isPublic', context.getClass()) === true;
  }
}

const contexts: WebPubSubNegotiateContext[] = [];
const resolveFromUser: WebPubSubNegotiateOptions['resolve'] = (request, context) => {
  contexts.push(context);
  const user = request.user as SessionUser | undefined;
  return user
    ? {
        userId: user.id,
        roles: user.roles,
        groups: user.groups,
        expirationTimeInMinutes: user.minutes,
      }
    : null;
};

function json(result: HttpResult): Record<string, unknown> {
  expect(result.headers['content-type']).toMatch(/^application\/json/);
  return JSON.parse(result.text);
}

async function verify(token: string, audience: string): Promise<JWTPayload> {
  const { payload } = await jwtVerify(token, new TextEncoder().encode(KEY), { audience });
  return payload;
}

describe.each(PLATFORMS)('negotiate on %s', platform => {
  let service: LoopbackService;
  let options: WebPubSubModuleOptions;
  beforeAll(async () => {
    service = await LoopbackService.start();
    options = {
      connectionString: `Endpoint=${service.endpoint};AccessKey=${KEY};Version=1.0;`,
    };
  });
  afterAll(() => service.close());

  let app: TestApp | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  const start = async (
    extras: WebPubSubModuleExtras,
    more: { providers?: unknown[]; logger?: CapturingLogger; async?: boolean } = {},
  ) => {
    app = await startApp(
      platform,
      {
        imports: [
          more.async
            ? WebPubSubModule.forRootAsync({ ...extras, useFactory: async () => options })
            : WebPubSubModule.forRoot({ ...options, ...extras }),
        ],
        providers: (more.providers ?? []) as never[],
      },
      { logger: more.logger },
    );
    return app.url;
  };

  const twoHubs = (negotiate: Partial<WebPubSubNegotiateOptions> = {}): WebPubSubModuleExtras => ({
    hub: ['chat', 'notifications'],
    defaultHub: 'chat',
    negotiate: { resolve: resolveFromUser, guards: [SessionGuard], ...negotiate },
  });

  describe.each([false, true])('forRootAsync: %s', async => {
    it('GET <path> answers 200 { baseUrl, url, token } for the default hub, no-store, token from resolve', async () => {
      const url = await start(twoHubs(), { async });
      contexts.length = 0;
      const result = await http(`${url}/negotiate`, { headers: { 'x-session': 'alice' } });
      expect(result.status).toBe(200);
      expect(result.headers['cache-control']).toBe('no-store');
      const body = json(result);
      expect(Object.keys(body).sort()).toEqual(['baseUrl', 'token', 'url']);
      const wsEndpoint = service.endpoint.replace('http://', 'ws://');
      expect(body.baseUrl).toBe(`${wsEndpoint}/client/hubs/chat`);
      expect(body.url).toBe(`${body.baseUrl}?access_token=${body.token}`);
      const payload = await verify(body.token as string, `${service.endpoint}/client/hubs/chat`);
      expect(payload.sub).toBe('alice');
      expect(payload.role).toEqual(['webpubsub.joinLeaveGroup.room1']);
      expect(payload['webpubsub.group']).toEqual(['room1']);
      expect(payload.exp! - payload.iat!).toBe(30 * 60);
      expect(contexts).toEqual([{ hub: 'chat', clientProtocol: 'default' }]);
      // The testing helper agrees with jose, on the URL (its own endpoint) and for the hub.
      const decoded = await verifyClientAccessToken(body.url as string, {
        connectionString: options.connectionString as string,
        hub: 'chat',
      });
      expect(decoded).toMatchObject({
        userId: 'alice',
        roles: ['webpubsub.joinLeaveGroup.room1'],
        groups: ['room1'],
      });
      expect(decoded.expiresAt!.getTime() - decoded.issuedAt!.getTime()).toBe(30 * 60_000);
    });

    it('POST <path>/:hub serves each hub (case-insensitively)', async () => {
      const url = await start(twoHubs(), { async });
      for (const [path, hub] of [
        ['/negotiate/notifications', 'notifications'],
        ['/negotiate/NOTIFICATIONS', 'notifications'],
        ['/negotiate/chat', 'chat'],
      ]) {
        const result = await http(`${url}${path}`, {
          method: 'POST',
          headers: { 'x-session': 'bob' },
        });
        expect(result.status).toBe(200);
        expect(result.headers['cache-control']).toBe('no-store');
        const body = json(result);
        expect(body.baseUrl).toMatch(new RegExp(`/client/hubs/${hub}$`));
        const payload = await verify(
          body.token as string,
          `${service.endpoint}/client/hubs/${hub}`,
        );
        expect(payload.sub).toBe('bob');
        // No expiry from resolve: the SDK's hour.
        expect(payload.exp! - payload.iat!).toBe(60 * 60);
      }
    });
  });

  it('identity and expiry in the query or body are ignored', async () => {
    const url = await start(twoHubs());
    const query = '?userId=mallory&expirationTimeInMinutes=99999&roles=admin&sub=mallory';
    const results = [
      await http(`${url}/negotiate${query}`, { headers: { 'x-session': 'alice' } }),
      await http(`${url}/negotiate${query}`, {
        method: 'POST',
        headers: { 'x-session': 'alice', 'content-type': 'application/json' },
        body: JSON.stringify({ userId: 'mallory', expirationTimeInMinutes: 99999, roles: ['x'] }),
      }),
    ];
    for (const result of results) {
      expect(result.status).toBe(200);
      const payload = decodeJwt(json(result).token as string);
      expect(payload.sub).toBe('alice');
      expect(payload.exp! - payload.iat!).toBe(30 * 60);
      expect(payload.role).toEqual(['webpubsub.joinLeaveGroup.room1']);
    }
  });

  it('resolve returning null answers 401 with a JSON reason, GET and POST', async () => {
    const url = await start(twoHubs());
    for (const method of ['GET', 'POST']) {
      const result = await http(`${url}/negotiate`, { method });
      expect(result.status).toBe(401);
      expect(json(result)).toEqual({
        statusCode: 401,
        error: 'Unauthorized',
        message: 'The caller is not identified: no client access token is issued',
      });
    }
  });

  it('an unknown hub is 404; the bare path with several hubs and no defaultHub is 404', async () => {
    const url = await start({ ...twoHubs(), defaultHub: undefined });
    const unknown = await http(`${url}/negotiate/lobby`, { headers: { 'x-session': 'alice' } });
    expect(unknown.status).toBe(404);
    expect(json(unknown).message).toBe('Hub "lobby" is not served here');
    const bare = await http(`${url}/negotiate`, { headers: { 'x-session': 'alice' } });
    expect(bare.status).toBe(404);
    expect(json(bare).message).toBe('Name the hub in the path: <negotiate path>/<hub>');
  });

  it('?protocol=mqtt gives the MQTT URL, ?protocol=socketio the Socket.IO one; an unknown protocol is 400', async () => {
    const url = await start(twoHubs());
    const result = await http(`${url}/negotiate?protocol=mqtt`, {
      headers: { 'x-session': 'alice' },
    });
    const body = json(result);
    expect(body.baseUrl).toBe(
      `${service.endpoint.replace('http://', 'ws://')}/clients/mqtt/hubs/chat`,
    );
    expect(
      (await verify(body.token as string, `${service.endpoint}/clients/mqtt/hubs/chat`)).sub,
    ).toBe('alice');
    const mqttToken = await verifyClientAccessToken(body.url as string, {
      connectionString: options.connectionString as string,
      hub: 'chat',
      clientProtocol: 'mqtt',
    });
    expect(mqttToken.userId).toBe('alice');
    // The MQTT token is not valid for the default client endpoint.
    await expect(
      verifyClientAccessToken(body.token as string, {
        connectionString: options.connectionString as string,
        hub: 'chat',
      }),
    ).rejects.toMatchObject({ reason: 'wrong-audience' });
    const socketIo = await http(`${url}/negotiate?protocol=socketio`, {
      headers: { 'x-session': 'alice' },
    });
    expect(socketIo.status).toBe(200);
    expect(json(socketIo).baseUrl).toMatch(/\/clients\/socketio\/hubs\/chat$/);
    const bad = await http(`${url}/negotiate?protocol=signalr`, {
      headers: { 'x-session': 'alice' },
    });
    expect(bad.status).toBe(400);
    expect(json(bad).message).toBe('protocol must be "default", "mqtt" or "socketio"');
  });

  it('logs where the route is', async () => {
    const logger = new CapturingLogger();
    await start(twoHubs({ path: 'api/token/' }), { logger });
    expect(logger.messages('log')).toContain(
      'Negotiate route /api/token/:hub for hubs "chat", "notifications", and /api/token for "chat"',
    );
  });

  it('resolve may choose the MQTT URL itself', async () => {
    const url = await start({
      hub: 'chat',
      negotiate: { resolve: () => ({ userId: 'device-1', clientProtocol: 'mqtt' }) },
    });
    const body = json(await http(`${url}/negotiate`));
    expect(body.baseUrl).toMatch(/\/clients\/mqtt\/hubs\/chat$/);
  });

  it('negotiate.expirationTimeInMinutes is the default lifetime; a custom path works', async () => {
    const url = await start(twoHubs({ path: 'api/ws/negotiate', expirationTimeInMinutes: 15 }));
    const result = await http(`${url}/api/ws/negotiate/chat`, { headers: { 'x-session': 'bob' } });
    const payload = decodeJwt(json(result).token as string);
    expect(payload.exp! - payload.iat!).toBe(15 * 60);
    expect((await http(`${url}/negotiate`, { headers: { 'x-session': 'bob' } })).status).toBe(404);
  });

  it('@azure/web-pubsub-client connects with the URL the route hands out', async () => {
    const url = await start(twoHubs());
    let calls = 0;
    const client = new WebPubSubClient(
      {
        getClientAccessUrl: async () => {
          calls++;
          const response = await http(`${url}/negotiate`, {
            method: 'POST',
            headers: { 'x-session': 'alice' },
          });
          return (JSON.parse(response.text) as { url: string }).url;
        },
      },
      {
        protocol: WebPubSubJsonProtocol(),
        autoReconnect: false,
        // No keep-alive loops left running after stop().
        keepAliveIntervalInMs: 0,
        keepAliveTimeoutInMs: 0,
      },
    );
    const before = service.upgrades.length;
    const connected = new Promise(resolve => client.on('connected', resolve));
    await client.start();
    await connected;
    const stopped = new Promise(resolve => client.on('stopped', resolve));
    client.stop();
    await stopped;
    expect(calls).toBe(1);
    const upgrade = service.upgrades[before];
    expect(upgrade.path).toBe('/client/hubs/chat');
    expect(upgrade.protocols).toBe('json.webpubsub.azure.v1');
    const payload = await verify(upgrade.accessToken!, `${service.endpoint}/client/hubs/chat`);
    expect(payload.sub).toBe('alice');
  });

  it('negotiate.guards run before resolve and can refuse', async () => {
    const url = await start(twoHubs({ guards: [ApiKeyGuard, SessionGuard] }));
    const refused = await http(`${url}/negotiate`, { headers: { 'x-session': 'alice' } });
    expect(refused.status).toBe(403);
    expect(refused.text).not.toContain('token');
    const allowed = await http(`${url}/negotiate`, {
      headers: { 'x-session': 'alice', 'x-api-key': 'letmein' },
    });
    expect(allowed.status).toBe(200);
  });

  it('negotiate.controllerDecorators apply to the route; the event handler decorators do not', async () => {
    const providers = [{ provide: APP_GUARD, useClass: PublicOnlyGuard }];
    // The event handler is public, the negotiate route is not: a global guard refuses it.
    let url = await start(
      { ...twoHubs(), controllerDecorators: [SetMetadata('isPublic', true)] },
      { providers },
    );
    expect((await http(`${url}/negotiate`, { headers: { 'x-session': 'alice' } })).status).toBe(
      403,
    );
    const handshake = await http(`${url}/eventhandler`, {
      method: 'OPTIONS',
      headers: { 'webhook-request-origin': '127.0.0.1' },
    });
    expect(handshake.status).toBe(200);
    await app!.close();
    url = await start(twoHubs({ controllerDecorators: [SetMetadata('isPublic', true)] }), {
      providers,
    });
    expect((await http(`${url}/negotiate`, { headers: { 'x-session': 'alice' } })).status).toBe(
      200,
    );
  });

  it('resolve throwing: 500 without details on the wire, logged; an HttpException passes through', async () => {
    const logger = new CapturingLogger();
    const url = await start(
      {
        hub: 'chat',
        negotiate: {
          resolve: request => {
            if (request.headers['x-forbidden']) throw new ForbiddenException('Banned user');
            throw new Error('database password=hunter2 unreachable');
          },
        },
      },
      { logger },
    );
    const result = await http(`${url}/negotiate`);
    expect(result.status).toBe(500);
    expect(json(result)).toEqual({
      statusCode: 500,
      error: 'Internal Server Error',
      message: 'Negotiate failed',
    });
    expect(result.text).not.toContain('hunter2');
    const logged = logger.messages('error').join('\n');
    expect(logged).toContain('negotiate resolve() for hub "chat" failed');
    expect(logged).toContain('database password=hunter2 unreachable');
    const forbidden = await http(`${url}/negotiate`, { headers: { 'x-forbidden': '1' } });
    expect(forbidden.status).toBe(403);
    expect(json(forbidden).message).toBe('Banned user');
  });

  it.each([
    [{ userId: 42 }, 'userId must be a non-empty string'],
    [{ userId: 'a', expiresIn: 5 }, 'unknown key "expiresIn"'],
    [{ userId: 'a', roles: 'admin' }, 'roles must be an array of non-empty strings'],
    [
      { userId: 'a', expirationTimeInMinutes: 0 },
      'expirationTimeInMinutes must be a positive integer',
    ],
    ['alice', 'expected { userId, roles?, groups?, expirationTimeInMinutes? } or null, got string'],
  ])('resolve returning %j: 500 and the log says why', async (returned, problem) => {
    const logger = new CapturingLogger();
    const url = await start(
      { hub: 'chat', negotiate: { resolve: () => returned as never } },
      { logger },
    );
    const result = await http(`${url}/negotiate`);
    expect(result.status).toBe(500);
    expect(json(result).message).toBe('Negotiate failed');
    expect(logger.messages('error')).toContain(
      `negotiate resolve() for hub "chat" returned an invalid result: ${problem}`,
    );
  });

  describe('start-up errors', () => {
    it('a negotiate route without resolve', () => {
      expect(() =>
        WebPubSubModule.forRoot({ hub: 'chat', negotiate: { path: '/token' } as never }),
      ).toThrow(
        'Invalid WebPubSubModule options: negotiate.resolve is required: a function (request, { hub }) => { userId, roles?, groups?, expirationTimeInMinutes? } | null. The route never hands out tokens to callers it cannot identify',
      );
      expect(() =>
        WebPubSubModule.forRootAsync({
          hub: 'chat',
          negotiate: {} as never,
          useFactory: () => ({}),
        }),
      ).toThrow('negotiate.resolve is required');
    });

    it('a negotiate route without hubs', async () => {
      await expect(
        startApp(platform, {
          imports: [WebPubSubModule.forRoot({ ...options, negotiate: { resolve: () => null } })],
        }),
      ).rejects.toThrow(
        'negotiate needs the hubs it hands out tokens for: give hub (in forRootAsync(), next to useFactory)',
      );
    });

    it('a negotiate route whose hub has no usable credentials', async () => {
      await expect(
        startApp(platform, {
          imports: [
            WebPubSubModule.forRoot({
              hub: 'chat',
              connectionString: 'Endpoint=https://keyless.webpubsub.azure.com;Version=1.0;',
              negotiate: { resolve: () => null },
            }),
          ],
        }),
      ).rejects.toThrow(
        'The connection string of https://keyless.webpubsub.azure.com has no AccessKey and no credential is configured',
      );
    });

    it("a negotiate path equal to the event handler's", () => {
      expect(() =>
        WebPubSubModule.forRoot({
          hub: 'chat',
          path: 'hooks',
          negotiate: { path: '/hooks/', resolve: () => null },
        }),
      ).toThrow(
        'negotiate.path "/hooks" is the event handler\'s path: give the negotiate route a path of its own',
      );
    });

    it('an invalid negotiate.expirationTimeInMinutes', () => {
      expect(() =>
        WebPubSubModule.forRoot({
          hub: 'chat',
          negotiate: { resolve: () => null, expirationTimeInMinutes: 1.5 },
        }),
      ).toThrow('negotiate.expirationTimeInMinutes must be a positive integer');
    });
  });
});
