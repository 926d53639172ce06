/**
 * `nestjs-web-pubsub/testing` against a real app, every builder and reader on Express through
 * supertest and on Fastify through `inject()` (the two ways docs/testing.md shows): the handshake
 * allowed for the test origin; `connect` with claims, query, client headers, subprotocols and
 * certificates reaching the handler and the answer read back, a refusal's status and message;
 * unsigned and wrongly signed events refused with 401 before any handler runs; several keys
 * (rotation) accepted when one of them is the configured key; `connected` 204 with the states sent;
 * text, JSON, binary and protobuf user events answered right (reply, data type, new state), a
 * handler returning nothing 204; non-ASCII user ids as the service sends them; `disconnected` with
 * a reason, group joined and left; MQTT clients: connect accepted (user id, CONNACK user
 * properties) and refused (the MQTT code, its name, reason and user properties), `readMqttError`
 * naming what it got when the answer is not an MQTT refusal, a user event with user properties and
 * a reply carrying its own, `disconnected` with who ended the session and the DISCONNECT packet.
 * The e2e and fuzz specs build their events with these helpers too (`test/utils/events.ts`
 * delegates to them).
 */
import type { INestApplication } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { WebPubSubModule } from '../../lib/index.js';
import {
  createAbuseProtectionRequest,
  createConnectRequest,
  createConnectedRequest,
  createDisconnectedRequest,
  createGroupJoinedRequest,
  createGroupLeftRequest,
  createProtobufUserEventRequest,
  createTestConnectionString,
  createUserEventRequest,
  MqttV500ConnectReasonCode,
  packAny,
  readAbuseProtectionResponse,
  readConnectionState,
  readConnectResponse,
  readMqttError,
  readUserEventResponse,
  sendWithSupertest,
  TEST_ACCESS_KEY,
  unpackAny,
  type TestResponseLike,
  type WebPubSubTestRequest,
} from '../../lib/testing/index.js';
import { TestingHelpersHandlers } from '../fixtures/testing-helpers.handlers.js';
import { waitFor } from '../utils/wait.js';

type Send = (req: WebPubSubTestRequest) => Promise<TestResponseLike>;

/** Express through supertest, Fastify through `inject()`: the two ways the README shows. */
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
      return { app, send: async req => app.getHttpAdapter().getInstance().inject(req) };
    },
  ],
];

async function createApp(adapter: ExpressAdapter | FastifyAdapter): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      WebPubSubModule.forRoot({ hub: 'chat', connectionString: createTestConnectionString() }),
    ],
    providers: [TestingHelpersHandlers],
  }).compile();
  const app = moduleRef.createNestApplication(adapter as never, { logger: false });
  await app.init();
  return app;
}

describe.each(PLATFORMS)('testing helpers against a real app (%s)', (_name, start) => {
  let app: INestApplication;
  let send: Send;
  let handlers: TestingHelpersHandlers;

  beforeAll(async () => {
    ({ app, send } = await start());
    handlers = app.get(TestingHelpersHandlers);
  });
  afterAll(() => app?.close());

  const last = (event: string) => handlers.seen.filter(s => s.event === event).at(-1)?.request;
  /** Non-blocking events are answered before their handler runs: wait for it. */
  const seenAfter = async (count: number, event: string) => {
    await waitFor(() => handlers.seen.slice(count).some(s => s.event === event));
    return last(event);
  };

  it('abuse protection: the handshake is allowed for the test origin', async () => {
    const res = await send(createAbuseProtectionRequest());
    expect(readAbuseProtectionResponse(res)).toEqual({
      allowed: true,
      status: 200,
      allowedOrigins: ['localhost'],
    });
  });

  it('connect: claims, query, client headers, subprotocols and certificates reach the handler; the answer reads back', async () => {
    const res = await send(
      createConnectRequest({
        connectionId: 'conn-1',
        userId: 'alice',
        query: { room: ['blue'] },
        headers: { 'user-agent': ['test'] },
        subprotocols: ['json.webpubsub.azure.v1'],
        clientCertificates: [{ thumbprint: 'ABCD' }],
      }),
    );
    expect(readConnectResponse(res)).toEqual({
      accepted: true,
      status: 200,
      userId: 'alice',
      groups: ['blue'],
      roles: ['webpubsub.joinLeaveGroup'],
      subprotocol: 'json.webpubsub.azure.v1',
      state: { changed: true, header: expect.any(String), states: { room: 'blue' } },
      states: { room: 'blue' },
    });
    const seen = last('connect');
    expect(seen.claims).toEqual({ sub: ['alice'] });
    expect(seen.headers).toEqual({ 'user-agent': ['test'] });
    expect(seen.clientCertificates).toEqual([{ thumbprint: 'ABCD' }]);
    expect(seen.context).toMatchObject({
      hub: 'chat',
      connectionId: 'conn-1',
      origin: 'localhost',
    });
  });

  it('connect refused by the handler: status and message', async () => {
    expect(readConnectResponse(await send(createConnectRequest()))).toEqual({
      accepted: false,
      status: 401,
      message: expect.stringContaining('sign in first'),
    });
  });

  it('unsigned and wrongly signed events are refused with 401 before any handler runs', async () => {
    const before = handlers.seen.length;
    expect(
      readConnectResponse(await send(createConnectRequest({ userId: 'a', sign: false }))),
    ).toMatchObject({
      accepted: false,
      status: 401,
    });
    const wrong = await send(createUserEventRequest({ data: 'x', accessKey: 'not-the-key' }));
    expect(readUserEventResponse(wrong)).toMatchObject({ ok: false, status: 401 });
    expect(handlers.seen.length).toBe(before);
  });

  it('several keys (rotation): accepted when one of them is the configured key', async () => {
    const res = await send(
      createUserEventRequest({ data: 'rotated', accessKeys: ['old-key', TEST_ACCESS_KEY] }),
    );
    expect(readUserEventResponse(res)).toMatchObject({ ok: true, data: 'echo: rotated' });
  });

  it('connected: 204, and the handler sees the states sent', async () => {
    const count = handlers.seen.length;
    const res = await send(createConnectedRequest({ userId: 'alice', states: { room: 'blue' } }));
    expect(res.status ?? res.statusCode).toBe(204);
    expect((await seenAfter(count, 'connected')).context.states).toEqual({ room: 'blue' });
  });

  it('text user event: the reply, its data type and the new state', async () => {
    const res = await send(createUserEventRequest({ data: 'hi', states: { count: 41 } }));
    const result = readUserEventResponse(res);
    expect(result).toMatchObject({ ok: true, status: 200, dataType: 'text', data: 'echo: hi' });
    expect(result.ok && result.states).toEqual({ count: 42 });
    expect(readConnectionState(res)).toMatchObject({ changed: true, states: { count: 42 } });
  });

  it('JSON user event: data parsed for the handler, JSON reply', async () => {
    const res = await send(createUserEventRequest({ event: 'move', data: { x: 1, y: [2] } }));
    expect(readUserEventResponse(res)).toMatchObject({
      ok: true,
      dataType: 'json',
      data: { got: { x: 1, y: [2] }, dataType: 'json' },
      state: { changed: false },
    });
  });

  it('binary user event: bytes in, bytes out', async () => {
    const res = await send(createUserEventRequest({ event: 'blob', data: Buffer.from([1, 2, 3]) }));
    const result = readUserEventResponse(res);
    expect(result).toMatchObject({ ok: true, dataType: 'binary', data: Buffer.from([3, 2, 1]) });
    // user properties of a reply travel to MQTT clients only
    expect(result.ok && result.mqttUserProperties).toEqual([]);
  });

  it('protobuf user event: a serialized Any in (application/x-protobuf), an Any out', async () => {
    const req = createProtobufUserEventRequest({
      event: 'point',
      typeUrl: 'type.googleapis.com/demo.Point',
      value: Buffer.from([8, 1, 16, 2]),
    });
    expect(req.headers['content-type']).toBe('application/x-protobuf');
    expect(req.payload).toEqual(
      packAny('type.googleapis.com/demo.Point', Buffer.from([8, 1, 16, 2])),
    );
    const result = readUserEventResponse(await send(req));
    expect(result).toMatchObject({
      ok: true,
      dataType: 'protobuf',
      contentType: 'application/x-protobuf',
    });
    expect(result.ok && result.dataType === 'protobuf' && unpackAny(result.data)).toEqual({
      typeUrl: 'type.googleapis.com/demo.Point',
      value: Buffer.from([2, 16, 1, 8]),
    });
  });

  it('a handler returning nothing: 204, no data', async () => {
    expect(
      readUserEventResponse(await send(createUserEventRequest({ event: 'quiet', data: 'x' }))),
    ).toMatchObject({
      ok: true,
      status: 204,
      dataType: undefined,
      data: undefined,
    });
  });

  it('non-ASCII user ids travel as the service sends them', async () => {
    await send(createUserEventRequest({ event: 'quiet', data: 'x', userId: '用户' }));
    expect(last('quiet').context.userId).toBe('用户');
  });

  it('disconnected with a reason; group joined and left', async () => {
    const count = handlers.seen.length;
    for (const req of [
      createDisconnectedRequest({ reason: 'bye' }),
      createGroupJoinedRequest({ group: 'blue' }),
      createGroupLeftRequest({ group: 'blue' }),
    ]) {
      const res = await send(req);
      expect(res.status ?? res.statusCode).toBe(204);
    }
    expect((await seenAfter(count, 'disconnected')).reason).toBe('bye');
    expect((await seenAfter(count, 'joined')).group).toBe('blue');
    expect((await seenAfter(count, 'left')).group).toBe('blue');
  });

  describe('MQTT clients', () => {
    it('connect accepted: user id and CONNACK user properties', async () => {
      const res = await send(
        createConnectRequest({
          protocol: 'mqtt',
          connectionId: 'device-1',
          mqtt: { protocolVersion: 5, username: 'device', password: 'let-me-in' },
        }),
      );
      expect(readConnectResponse(res)).toMatchObject({
        accepted: true,
        userId: 'device',
        mqttUserProperties: [{ name: 'welcome', value: 'yes' }],
      });
      expect(last('connect').context).toMatchObject({
        clientProtocol: 'mqtt',
        mqtt: { physicalConnectionId: 'test-physical-connection' },
      });
    });

    it('connect refused: the MQTT code, its name, reason and user properties', async () => {
      const res = await send(
        createConnectRequest({ protocol: 'mqtt', mqtt: { username: 'device', password: 'nope' } }),
      );
      expect(readMqttError(res)).toEqual({
        status: 401,
        code: MqttV500ConnectReasonCode.BadUserNameOrPassword,
        codeName: 'BadUserNameOrPassword',
        reason: 'wrong password',
        userProperties: [{ name: 'hint', value: 'try again' }],
      });
      expect(() => readMqttError(res)).not.toThrow();
    });

    it('readMqttError names what it got when the answer is not an MQTT refusal', async () => {
      const accepted = await send(createConnectRequest({ userId: 'alice' }));
      expect(() => readMqttError(accepted)).toThrow(
        'The connect was accepted (200), not refused with an MQTT code',
      );
      const plain = await send(createConnectRequest());
      expect(() => readMqttError(plain)).toThrow(/refused \(401\) without an MQTT error body/);
    });

    it('user event with user properties; the reply carries its own', async () => {
      const res = await send(
        createUserEventRequest({
          protocol: 'mqtt',
          event: 'blob',
          data: Buffer.from('ab'),
          userProperties: [{ name: 'unit', value: 'c' }],
        }),
      );
      expect(readUserEventResponse(res)).toMatchObject({
        ok: true,
        data: Buffer.from('ba'),
        mqttUserProperties: [{ name: 'reversed', value: 'true' }],
      });
      expect(last('blob').mqtt.userProperties).toEqual([{ name: 'unit', value: 'c' }]);
      expect(last('blob').context.mqtt).toEqual({
        physicalConnectionId: 'test-physical-connection',
        sessionId: 'test-session',
      });
    });

    it('disconnected: who ended the session and the DISCONNECT packet', async () => {
      const count = handlers.seen.length;
      await send(
        createDisconnectedRequest({
          protocol: 'mqtt',
          mqtt: { initiatedByClient: false, disconnectPacket: null },
        }),
      );
      expect((await seenAfter(count, 'disconnected')).mqtt).toEqual({
        initiatedByClient: false,
        disconnectPacket: null,
      });
    });
  });
});
