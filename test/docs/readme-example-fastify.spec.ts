// chat.handlers.fastify.spec.ts
import { Injectable } from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { OnUserEvent, WebPubSubModule, type UserEventRequest } from 'nestjs-web-pubsub';
import {
  createTestConnectionString,
  createUserEventRequest,
  readUserEventResponse,
} from 'nestjs-web-pubsub/testing';

@Injectable()
class EchoHandlers {
  @OnUserEvent('move')
  move(req: UserEventRequest) {
    return { echo: req.data };
  }
}

it('answers a JSON event on Fastify, through inject()', async () => {
  const moduleRef = await Test.createTestingModule({
    imports: [
      WebPubSubModule.forRoot({ hub: 'chat', connectionString: createTestConnectionString() }),
    ],
    providers: [EchoHandlers],
  }).compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), {
    logger: false,
  });
  await app.init();
  await app.getHttpAdapter().getInstance().ready();

  const res = await app.inject(createUserEventRequest({ event: 'move', data: { x: 1 } }));
  expect(readUserEventResponse(res)).toMatchObject({ dataType: 'json', data: { echo: { x: 1 } } });

  await app.close();
});
