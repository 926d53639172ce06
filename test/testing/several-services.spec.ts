/**
 * An app behind two Web PubSub resources, tested with `nestjs-web-pubsub/testing` on Express and
 * Fastify: the handshake's two allowed origins read from separate header lines; each resource's key
 * and origin taken from the connection string given; an event from one resource signed with the
 * other's key refused (401); an origin neither resource has refused (403); a custom path.
 */
import type { INestApplication } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { WebPubSubModule } from '../../lib/index.js';
import {
  createAbuseProtectionRequest,
  createTestConnectionString,
  createUserEventRequest,
  readAbuseProtectionResponse,
  readUserEventResponse,
  sendWithSupertest,
  toInjectOptions,
  type TestResponseLike,
  type WebPubSubTestRequest,
} from '../../lib/testing/index.js';
import { TestingHelpersHandlers } from '../fixtures/testing-helpers.handlers.js';

const RESOURCE_A = createTestConnectionString();
const RESOURCE_B = createTestConnectionString({
  endpoint: 'https://other.webpubsub.azure.com',
  accessKey: 'access-key-of-resource-b',
});
const PATH = 'api/webpubsub';

type Send = (req: WebPubSubTestRequest) => Promise<TestResponseLike>;

async function createApp(adapter: ExpressAdapter | FastifyAdapter): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      WebPubSubModule.forRoot({
        hub: 'chat',
        connectionString: [RESOURCE_A, RESOURCE_B],
        path: PATH,
      }),
    ],
    providers: [TestingHelpersHandlers],
  }).compile();
  const app = moduleRef.createNestApplication(adapter as never, { logger: false });
  await app.init();
  return app;
}

const PLATFORMS: [string, () => Promise<{ app: INestApplication; send: Send }>][] = [
  [
    'Express + supertest',
    async () => {
      const app = await createApp(new ExpressAdapter());
      return { app, send: async req => sendWithSupertest(request(app.getHttpServer()), req) };
    },
  ],
  [
    'Fastify + inject',
    async () => {
      const app = (await createApp(new FastifyAdapter())) as NestFastifyApplication;
      await app.getHttpAdapter().getInstance().ready();
      return { app, send: async req => app.inject(toInjectOptions(req)) };
    },
  ],
];

describe.each(PLATFORMS)(
  'builders for an app behind two service resources (%s)',
  (_name, start) => {
    let app: INestApplication;
    let send: Send;

    beforeAll(async () => {
      ({ app, send } = await start());
    });
    afterAll(() => app?.close());

    it('reads each allowed origin of the handshake from its own header line', async () => {
      const res = await send(
        createAbuseProtectionRequest({
          url: `/${PATH}`,
          origin: 'localhost, other.webpubsub.azure.com',
        }),
      );
      expect(readAbuseProtectionResponse(res)).toEqual({
        allowed: true,
        status: 200,
        allowedOrigins: ['localhost', 'other.webpubsub.azure.com'],
      });
    });

    it('signs with the key and names the origin of the connection string given', async () => {
      const res = await send(
        createUserEventRequest({ url: `/${PATH}`, connectionString: RESOURCE_B, data: 'from b' }),
      );
      expect(readUserEventResponse(res)).toMatchObject({ ok: true, data: 'echo: from b' });
    });

    it('an event from one resource signed with the other resource’s key is refused (401)', async () => {
      const res = await send(
        createUserEventRequest({
          url: `/${PATH}`,
          connectionString: RESOURCE_B,
          accessKey: 'nestjs-web-pubsub-test-access-key-0123456789',
          data: 'forged',
        }),
      );
      expect(readUserEventResponse(res)).toMatchObject({ ok: false, status: 401 });
    });

    it('an origin neither resource has is refused (403)', async () => {
      const res = await send(
        createUserEventRequest({
          url: `/${PATH}`,
          origin: 'elsewhere.webpubsub.azure.com',
          data: 'x',
        }),
      );
      expect(readUserEventResponse(res)).toMatchObject({ ok: false, status: 403 });
    });
  },
);
