/**
 * The negotiate route takes its client from the hub's provider token, the one a test replaces with
 * `overrideProvider(getWebPubSubServiceClientToken(hub))`: with negotiate configured, no
 * connection string and the override, the app starts on Express and Fastify and the route answers
 * with a token the fake signed (its calls record the request, and the token verifies with the
 * test key for that hub). Without the override the same module still refuses to start, naming the
 * missing credentials. Making the negotiator build its own client again fails the first tests with
 * "Hub "chat" has no credentials for its WebPubSubServiceClient".
 */
import { Test } from '@nestjs/testing';
import type { INestApplication } from '@nestjs/common';
import {
  getWebPubSubServiceClientToken,
  WebPubSubModule,
  type WebPubSubModuleExtras,
} from '../../lib/index.js';
import {
  createFakeWebPubSubServiceClient,
  verifyClientAccessToken,
  type FakeWebPubSubServiceClient,
} from '../../lib/testing/index.js';
import { createAdapter, PLATFORMS, startApp } from '../utils/app.js';
import { http } from '../utils/http.js';

const negotiate: WebPubSubModuleExtras['negotiate'] = {
  resolve: request => {
    const user = (request.headers as Record<string, string | undefined>)['x-user'];
    return user ? { userId: user, groups: ['lobby'] } : null;
  },
};

describe.each(PLATFORMS)('negotiate with an overridden service client on %s', platform => {
  let app: INestApplication | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  async function start(
    module: ReturnType<typeof WebPubSubModule.forRoot>,
    fake: FakeWebPubSubServiceClient,
    token = getWebPubSubServiceClientToken('chat'),
  ): Promise<string> {
    const moduleRef = await Test.createTestingModule({ imports: [module] })
      .overrideProvider(token)
      .useValue(fake)
      .compile();
    app = moduleRef.createNestApplication(createAdapter(platform), { logger: false });
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address() as { port: number };
    return `http://127.0.0.1:${port}`;
  }

  it.each([
    ['forRoot', () => WebPubSubModule.forRoot({ hub: 'chat', negotiate })],
    [
      'forRootAsync',
      () => WebPubSubModule.forRootAsync({ hub: 'chat', negotiate, useFactory: () => ({}) }),
    ],
  ])(
    '%s without credentials starts, and the route answers with the fake token',
    async (_, module) => {
      const fake = createFakeWebPubSubServiceClient({ hub: 'chat' });
      const url = await start(module(), fake);

      const result = await http(`${url}/negotiate`, { headers: { 'x-user': 'alice' } });

      expect(result.status).toBe(200);
      const body = JSON.parse(result.text) as { baseUrl: string; url: string; token: string };
      expect(fake.calls.map(call => call.method)).toEqual(['getClientAccessToken']);
      expect(fake.calls[0].args[0]).toMatchObject({ userId: 'alice', groups: ['lobby'] });
      expect(body.baseUrl).toBe(`${fake.endpoint.replace('http', 'ws')}client/hubs/chat`);
      expect(await verifyClientAccessToken(body.url, { hub: 'chat' })).toMatchObject({
        userId: 'alice',
        groups: ['lobby'],
      });
      expect(body.url).toBe(`${body.baseUrl}?access_token=${body.token}`);
    },
  );

  it('the hub token is case-insensitive: an override of "Chat" serves hub "chat"', async () => {
    const fake = createFakeWebPubSubServiceClient({ hub: 'chat' });
    const url = await start(
      WebPubSubModule.forRoot({ hub: 'chat', negotiate }),
      fake,
      getWebPubSubServiceClientToken('Chat'),
    );
    const result = await http(`${url}/negotiate/chat`, {
      method: 'POST',
      headers: { 'x-user': 'bob' },
    });
    expect(result.status).toBe(200);
    expect(fake.calls).toHaveLength(1);
  });

  it('without the override and without credentials the start-up still fails, naming what is missing', async () => {
    await expect(
      startApp(platform, { imports: [WebPubSubModule.forRoot({ hub: 'chat', negotiate })] }),
    ).rejects.toThrow('Hub "chat" has no credentials for its WebPubSubServiceClient');
  });
});
