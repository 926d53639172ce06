// chat.handlers.spec.ts
import { Injectable, UnauthorizedException, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import {
  OnConnect,
  OnUserEvent,
  WebPubSubModule,
  type ConnectRequest,
  type UserEventRequest,
} from 'nestjs-web-pubsub';
import {
  createConnectRequest,
  createTestConnectionString,
  createUserEventRequest,
  readConnectResponse,
  readUserEventResponse,
  sendWithSupertest,
  type WebPubSubTestRequest,
} from 'nestjs-web-pubsub/testing';

@Injectable()
class ChatHandlers {
  @OnConnect()
  connect(req: ConnectRequest) {
    if (!req.claims.sub) throw new UnauthorizedException('sign in first');
    const room = req.query.room?.[0] ?? 'lobby';
    req.context.setState('room', room);
    return { userId: req.claims.sub[0], groups: [room] };
  }

  @OnUserEvent('message')
  message(req: UserEventRequest) {
    return `${String(req.context.states.room)}: ${String(req.data)}`;
  }
}

describe('ChatHandlers', () => {
  let app: INestApplication;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        // The same test connection string signs the requests the builders make.
        WebPubSubModule.forRoot({ hub: 'chat', connectionString: createTestConnectionString() }),
      ],
      providers: [ChatHandlers],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
  });
  afterAll(() => app.close());

  const send = (req: WebPubSubTestRequest) => sendWithSupertest(request(app.getHttpServer()), req);

  it('lets a signed-in user connect and puts them in their room', async () => {
    const res = await send(createConnectRequest({ userId: 'alice', query: { room: ['blue'] } }));
    expect(readConnectResponse(res)).toMatchObject({
      accepted: true,
      userId: 'alice',
      groups: ['blue'],
      states: { room: 'blue' },
    });
  });

  it('refuses anonymous clients', async () => {
    const res = await send(createConnectRequest());
    expect(readConnectResponse(res)).toMatchObject({ accepted: false, status: 401 });
  });

  it('answers a message with the room kept in the connection state', async () => {
    const res = await send(createUserEventRequest({ data: 'hi', states: { room: 'blue' } }));
    expect(readUserEventResponse(res)).toMatchObject({ dataType: 'text', data: 'blue: hi' });
  });

  it('refuses events that are not signed with the access key', async () => {
    await send(createUserEventRequest({ data: 'hi', sign: false })).expect(401);
  });
});
