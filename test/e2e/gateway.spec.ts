/**
 * Nest gateways on Web PubSub through `WebPubSubWsAdapter`, end to end on Express and Fastify:
 * the embedded emulator holds the sockets, `@azure/web-pubsub-client` clients connect through the
 * negotiate route, and every gateway feature is seen from the client side — body and reply
 * mapping (text, JSON, binary, WsResponse, nothing, Promise, an Observable's two values, @Ack),
 * connection state across events, the socket and server objects (groups, users, except,
 * disconnect), Nest's exception payloads (WsException, a refusing guard that stops the handler,
 * a ValidationPipe DTO refused, unknown errors without their details, a custom filter), the
 * context types of gateway and module handlers, two gateways on two hubs, handleConnection and
 * handleDisconnect exactly once per connection, an event of a connection the app has not seen,
 * and the start-up errors. Also run on Nest 11 by `npm run test:nest11`.
 */
import { Test } from '@nestjs/testing';
import type { INestApplication } from '@nestjs/common';
import { Injectable, Module } from '@nestjs/common';
import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import {
  WebPubSubClient,
  type GroupDataMessage,
  type ServerDataMessage,
} from '@azure/web-pubsub-client';
import { startEmulator, type RunningEmulator } from '../../lib/emulator/index.js';
import {
  DuplicateWebPubSubHandlerError,
  InvalidWebPubSubHandlerError,
  OnUserEvent,
  WebPubSubModule,
  WebPubSubWsAdapter,
} from '../../lib/index.js';
import {
  createConnectedRequest,
  createProtobufUserEventRequest,
  createTestConnectionString,
  createUserEventRequest,
  packAny,
  readUserEventResponse,
  type WebPubSubTestRequest,
} from '../../lib/testing/index.js';
import {
  ChatGateway,
  DenyGuard,
  NewsGateway,
  PlainHandlers,
  TypeGuard,
  TypeRecorder,
  GatewayRecord,
  record,
} from '../fixtures/gateway.gateways.js';
import { createAdapter, PLATFORMS, type PlatformName } from '../utils/app.js';
import { http } from '../utils/http.js';
import { freePort } from '../utils/ports.js';
import { waitFor } from '../utils/wait.js';

/** Set by `npm run test:nest11`, which maps every @nestjs package to a Nest 11 install. */
const NEST11 = process.env.NEST11_DIR !== undefined;

interface Peer {
  readonly client: WebPubSubClient;
  readonly messages: ServerDataMessage[];
  readonly groups: GroupDataMessage[];
  connectionId?: string;
  userId?: string;
}

const handlerSettings = (port: number) => ({
  eventHandlers: [
    {
      urlTemplate: `http://127.0.0.1:${port}/eventhandler`,
      userEventPattern: '*',
      systemEvents: ['connect', 'connected', 'disconnected'] as const,
    },
  ],
});

async function startGatewayApp(
  platform: PlatformName,
  port: number,
  connectionString: string,
  globalInterceptor = false,
): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      WebPubSubModule.forRoot({
        hub: ['chat', 'news'],
        defaultHub: 'chat',
        connectionString,
        negotiate: {
          resolve: (request: { headers: Record<string, string | undefined> }) => {
            const user = request.headers['x-user'];
            return user ? { userId: user, roles: ['webpubsub.joinLeaveGroup'] } : null;
          },
        },
      }),
    ],
    providers: [ChatGateway, NewsGateway, PlainHandlers, DenyGuard, TypeGuard],
  }).compile();
  const app = moduleRef.createNestApplication(createAdapter(platform), { logger: false });
  app.useWebSocketAdapter(new WebPubSubWsAdapter(app));
  // A global enhancer sends every message through Nest's proxy; without one, plain handlers are
  // called directly.
  if (globalInterceptor) app.useGlobalInterceptors(new TypeRecorder());
  await app.listen(port, '127.0.0.1');
  return app;
}

describe.each(PLATFORMS)('Nest gateways on Web PubSub (%s)', platform => {
  let emulator: RunningEmulator;
  let app: INestApplication;
  let url: string;
  const peers: Peer[] = [];

  beforeAll(async () => {
    Object.assign(record, new GatewayRecord());
    const port = await freePort();
    emulator = await startEmulator({
      port: 0,
      log: () => undefined,
      hubs: { chat: handlerSettings(port), news: handlerSettings(port) },
    });
    app = await startGatewayApp(platform, port, emulator.connectionString);
    url = `http://127.0.0.1:${port}`;
  });

  afterAll(async () => {
    await Promise.all(peers.map(peer => stop(peer)));
    await app?.close();
    await emulator?.close();
  });

  async function connect(user: string, hub = 'chat'): Promise<Peer> {
    const client = new WebPubSubClient(
      {
        getClientAccessUrl: async () => {
          const response = await http(`${url}/negotiate/${hub}`, {
            method: 'POST',
            headers: { 'x-user': user },
          });
          if (response.status !== 200) throw new Error(`negotiate answered ${response.status}`);
          return (JSON.parse(response.text) as { url: string }).url;
        },
      },
      {
        autoReconnect: false,
        keepAliveIntervalInMs: 0,
        keepAliveTimeoutInMs: 0,
        messageRetryOptions: { maxRetries: 0 },
      },
    );
    const peer: Peer = { client, messages: [], groups: [] };
    client.on('connected', event => {
      peer.connectionId = event.connectionId;
      peer.userId = event.userId;
    });
    client.on('server-message', event => peer.messages.push(event.message));
    client.on('group-message', event => peer.groups.push(event.message));
    peers.push(peer);
    await client.start();
    await waitFor(() => peer.connectionId !== undefined);
    return peer;
  }

  /** Sends a user event; resolves with the next `count` messages from the server. */
  async function ask(
    peer: Peer,
    event: string,
    data: unknown,
    dataType: 'text' | 'json' | 'binary' = 'text',
    count = 1,
  ): Promise<ServerDataMessage[]> {
    const before = peer.messages.length;
    await peer.client.sendEvent(event, data as string, dataType as 'text');
    await waitFor(() => peer.messages.length >= before + count);
    return peer.messages.slice(before, before + count);
  }

  const one = async (...args: Parameters<typeof ask>) => (await ask(...args))[0];

  it('maps message bodies and results: text, JSON, a key of the body, binary, WsResponse, Promise', async () => {
    const alice = await connect('alice');
    expect(await one(alice, 'echo', 'hi')).toMatchObject({ dataType: 'text', data: 'echo: hi' });
    expect(await one(alice, 'json', { a: [1, 2] }, 'json')).toMatchObject({
      dataType: 'json',
      data: { got: { a: [1, 2] } },
    });
    expect(await one(alice, 'field', { name: 'bob' }, 'json')).toMatchObject({
      data: 'name: bob',
    });
    const bytes = await one(alice, 'bytes', new Uint8Array([1, 2, 3]).buffer, 'binary');
    expect(bytes.dataType).toBe('binary');
    expect([...new Uint8Array(bytes.data as ArrayBuffer)]).toEqual([0, 1, 2, 3]);
    expect(await one(alice, 'event', 'ping')).toMatchObject({
      dataType: 'json',
      data: { event: 'pong', data: 'ping' },
    });
    expect(await one(alice, 'later', 'x')).toMatchObject({ data: 'later: x' });
    expect(await one(alice, 'wrapped', 'w')).toMatchObject({ data: { wrapped: 'w' } });
  });

  it('undefined sends no reply; an Observable answers with its first value and sends the next', async () => {
    const bob = await connect('bob');
    const before = bob.messages.length;
    await bob.client.sendEvent('nothing', 'x', 'text');
    await waitFor(() => record.ran.includes('nothing'));
    // A reply would arrive before the ack: the next message is the echo.
    expect(await one(bob, 'echo', 'after')).toMatchObject({ data: 'echo: after' });
    expect(bob.messages.length).toBe(before + 1);
    const stream = await ask(bob, 'stream', '', 'text', 2);
    expect(stream.map(message => message.data)).toEqual(['first', 'second']);
  });

  it('@Ack(): what the handler acknowledges with is the reply', async () => {
    const carol = await connect('carol');
    expect(await one(carol, 'ack', 'a1')).toMatchObject({ data: { acked: 'a1' } });
  });

  it('keeps connection state across events through setState()', async () => {
    const dave = await connect('dave');
    for (const expected of [1, 2, 3])
      expect(await one(dave, 'count', '')).toMatchObject({ data: expected });
    const who = await one(dave, 'whoami', '');
    expect(who.data).toEqual({ id: dave.connectionId, userId: 'dave', hub: 'chat' });
  });

  it("sends Nest's exception payloads to the calling client; unknown errors keep their details", async () => {
    const erin = await connect('erin');
    expect((await one(erin, 'ws-error', 'x')).data).toEqual({
      event: 'exception',
      data: { status: 'error', message: 'nope', cause: { pattern: 'ws-error', data: 'x' } },
    });
    expect((await one(erin, 'ws-error-object', 'x')).data).toEqual({
      event: 'exception',
      data: { code: 42, reason: 'object error' },
    });
    const boom = await one(erin, 'boom', 'x');
    expect(boom.data).toEqual({
      event: 'exception',
      data: {
        status: 'error',
        message: 'Internal server error',
        cause: { pattern: 'boom', data: 'x' },
      },
    });
    expect(JSON.stringify(boom)).not.toContain('secret');
    expect((await one(erin, 'filtered', 'x')).data).toEqual({
      event: 'exception',
      data: { custom: true, message: 'custom filter message' },
    });
  });

  it('a refusing guard stops the handler: Forbidden resource', async () => {
    const frank = await connect('frank');
    expect((await one(frank, 'guarded', 'deny')).data).toEqual({
      event: 'exception',
      data: {
        status: 'error',
        message: 'Forbidden resource',
        cause: { pattern: 'guarded', data: 'deny' },
      },
    });
    expect(record.ran).not.toContain('guarded:deny');
    expect(await one(frank, 'guarded', 'ok')).toMatchObject({ data: 'passed: ok' });
    expect(record.ran).toContain('guarded:ok');
    expect(record.contextTypes).toContain('guard:ws:chat');
  });

  it('a ValidationPipe refuses a DTO before the handler runs', async () => {
    const gina = await connect('gina');
    // A plain ValidationPipe throws an HttpException, which Nest's WS filter reports as unknown.
    expect((await one(gina, 'validated', { text: 'far too long a text' }, 'json')).data).toEqual({
      event: 'exception',
      data: {
        status: 'error',
        message: 'Internal server error',
        cause: { pattern: 'validated', data: { text: 'far too long a text' } },
      },
    });
    // With a WsException factory, as Nest's documentation does for gateways: the messages.
    expect((await one(gina, 'validated-ws', { text: 42 }, 'json')).data).toMatchObject({
      event: 'exception',
      data: {
        status: 'error',
        message: 'text must be shorter than or equal to 10 characters; text must be a string',
      },
    });
    expect(record.ran).not.toContain('validated');
    expect(record.ran).not.toContain('validated-ws');
    expect(await one(gina, 'validated-ws', { text: 'short' }, 'json')).toMatchObject({
      data: 'valid: short',
    });
  });

  it('guards see type ws and the socket; the module handlers keep type webpubsub', async () => {
    const hank = await connect('hank');
    record.contextTypes.length = 0;
    await one(hank, 'guarded', 'types');
    expect(record.contextTypes).toEqual(['guard:ws:chat']);
    record.contextTypes.length = 0;
    expect(await one(hank, 'plain', 'p')).toMatchObject({ data: 'plain: p' });
    expect(record.contextTypes).toEqual(['module-guard:webpubsub']);
  });

  it('socket and server objects: join, to(group), except, toUser, emit, disconnect', async () => {
    const ivy = await connect('ivy');
    const jack = await connect('jack');
    expect(await one(ivy, 'join', 'room')).toMatchObject({ data: 'joined room' });
    expect(await one(jack, 'join', 'room')).toMatchObject({ data: 'joined room' });
    await jack.client.sendEvent('to-group', { group: 'room', text: 'hello room' }, 'json');
    // What the service sends to a group reaches its members as group messages.
    await waitFor(() => ivy.groups.length === 1 && jack.groups.length === 1);
    expect(ivy.groups[0]).toMatchObject({
      group: 'room',
      dataType: 'json',
      data: { event: 'news', data: 'hello room' },
    });
    const jackBefore = jack.messages.length;
    await jack.client.sendEvent('to-others', 'not to jack', 'text');
    await waitFor(() => ivy.messages.some(m => m.data === 'not to jack'));
    await one(jack, 'echo', 'sync');
    expect(jack.messages.slice(jackBefore).map(m => m.data)).toEqual(['echo: sync']);
    await jack.client.sendEvent('to-user', { user: 'ivy', text: 'psst' }, 'json');
    await waitFor(() => ivy.messages.some(m => JSON.stringify(m.data).includes('psst')));
    expect(ivy.messages.at(-1)?.data).toEqual({ event: 'direct', data: 'psst' });
    const emitted = await ask(ivy, 'emit-self', '', 'text', 2);
    expect(emitted.map(m => m.data)).toEqual(
      expect.arrayContaining(['emitted', { event: 'self', data: { hello: 'ivy' } }]),
    );
    const id = jack.connectionId!;
    const stoppedByServer = new Promise<void>(resolve =>
      jack.client.on('stopped', () => resolve()),
    );
    // The connection closes before the event is acknowledged.
    await expect(jack.client.sendEvent('kick', '', 'text')).rejects.toThrow(/disconnected/);
    await stoppedByServer;
    await waitFor(() => record.disconnections.get(id)?.count === 1);
  });

  it('two gateways on two hubs; the server objects name their hubs', async () => {
    const kim = await connect('kim', 'news');
    expect(await one(kim, 'headline', 'rain')).toMatchObject({ data: 'news: rain' });
    expect(record.news.get(kim.connectionId!)).toBe(1);
    expect(record.connections.has(kim.connectionId!)).toBe(false);
    expect(app.get(ChatGateway).server.hub).toBe('chat');
    expect(app.get(NewsGateway).server.hub).toBe('news');
    expect(record.initServers.map(server => server.hub)).toContain('chat');
    // "echo" is a message of the chat hub only.
    const before = kim.messages.length;
    await kim.client.sendEvent('echo', 'x', 'text');
    await one(kim, 'headline', 'sun');
    expect(kim.messages.slice(before).map(m => m.data)).toEqual(['news: sun']);
  });

  it('@OnConnect on the gateway class decides the connect', async () => {
    await expect(connect('mallory')).rejects.toThrow();
    const lena = await connect('lena');
    await one(lena, 'echo', 'in');
  });

  it('handleConnection and handleDisconnect run exactly once per connection', async () => {
    const mia = await connect('mia');
    for (const text of ['a', 'b', 'c']) await one(mia, 'echo', text);
    const id = mia.connectionId!;
    await waitFor(() => record.connections.get(id) === 1);
    const sockets = [...record.sockets].filter(socket => socket.id === id);
    expect(sockets).toHaveLength(1);
    await stop(mia);
    await waitFor(() => record.disconnections.has(id));
    expect(record.connections.get(id)).toBe(1);
    expect(record.disconnections.get(id)?.count).toBe(1);
  });

  /** Posts a built event to the app, as the service would; the answer read back. */
  async function post(request: WebPubSubTestRequest) {
    const response = await http(`${url}${request.url}`, {
      method: request.method,
      headers: request.headers,
      body: request.payload,
    });
    return readUserEventResponse({
      status: response.status,
      headers: response.headers,
      body: response.body,
    } as never);
  }

  it("a protobuf client's event reaches @MessageBody() as its bytes (the serialized Any)", async () => {
    const value = Uint8Array.from([8, 150, 1]);
    const answer = await post(
      createProtobufUserEventRequest({
        connectionString: emulator.connectionString,
        hub: 'chat',
        connectionId: 'protobuf-client',
        event: 'bytes',
        typeUrl: 'type.googleapis.com/test.Counter',
        value,
      }),
    );
    const any = packAny('type.googleapis.com/test.Counter', value);
    expect(answer).toMatchObject({ ok: true, dataType: 'binary' });
    expect([...(answer as { data: Buffer }).data]).toEqual([0, ...any]);
  });

  it('an event of a connection this process has not seen creates its socket once', async () => {
    for (const expected of [42, 42]) {
      const answer = await post(
        createUserEventRequest({
          connectionString: emulator.connectionString,
          hub: 'chat',
          connectionId: 'from-another-replica',
          userId: 'nora',
          event: 'count',
          data: 'x',
          states: { count: 41 },
        }),
      );
      expect(answer).toMatchObject({ ok: true, dataType: 'json', data: expected });
    }
    expect(record.connections.get('from-another-replica')).toBe(1);
  });
});

function stop(peer: Peer): Promise<void> {
  return new Promise(resolve => {
    const timer = setTimeout(resolve, 2000);
    peer.client.on('stopped', () => {
      clearTimeout(timer);
      resolve();
    });
    peer.client.stop();
  });
}

@WebSocketGateway({ namespace: 'chat' })
class FragileGateway {
  handleConnection(socket: { id: string }): Promise<void> | void {
    if (socket.id === 'throws') throw new Error('handleConnection failed on purpose');
    if (socket.id === 'rejects') return Promise.reject(new Error('rejected on purpose'));
  }

  @SubscribeMessage('slow')
  async slow(): Promise<string> {
    await new Promise(resolve => setTimeout(resolve, 300));
    return 'slow done';
  }
}

describe.each(PLATFORMS)('gateway lifecycle on %s', platform => {
  const connectionString = createTestConnectionString();

  async function start(): Promise<{ app: INestApplication; url: string }> {
    const moduleRef = await Test.createTestingModule({
      imports: [WebPubSubModule.forRoot({ hub: 'chat', connectionString })],
      providers: [FragileGateway],
    }).compile();
    const app = moduleRef.createNestApplication(createAdapter(platform), { logger: false });
    app.useWebSocketAdapter(new WebPubSubWsAdapter(app));
    await app.listen(0, '127.0.0.1');
    return {
      app,
      url: `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`,
    };
  }

  const send = (url: string, request: WebPubSubTestRequest) =>
    http(`${url}${request.url}`, {
      method: request.method,
      headers: request.headers,
      body: request.payload,
    });

  it('a handleConnection that throws or rejects ends neither the process nor the events', async () => {
    const { app, url } = await start();
    try {
      for (const connectionId of ['throws', 'rejects']) {
        const connected = await send(
          url,
          createConnectedRequest({ connectionString, connectionId }),
        );
        expect(connected.status).toBe(204);
        const answer = await send(
          url,
          createUserEventRequest({ connectionString, connectionId, event: 'slow', data: 'x' }),
        );
        expect(answer.text).toBe('slow done');
      }
      // An uncaught exception or unhandled rejection would have failed this spec by now.
      await new Promise(resolve => setTimeout(resolve, 50));
    } finally {
      await app.close();
    }
  });

  it('app.close() waits for a gateway handler in flight', async () => {
    const { app, url } = await start();
    const pending = send(
      url,
      createUserEventRequest({ connectionString, connectionId: 'c1', event: 'slow', data: 'x' }),
    );
    await new Promise(resolve => setTimeout(resolve, 100));
    await app.close();
    const answer = await pending;
    expect(answer.status).toBe(200);
    expect(answer.text).toBe('slow done');
  });
});

/**
 * Plain handlers are called directly unless a global enhancer exists; then Nest's proxy calls
 * them. Both give the client the same answers (replies, state, exception payloads).
 */
describe.each(PLATFORMS)('direct calls and Nest proxy answer alike on %s', platform => {
  const connectionString = createTestConnectionString();
  const apps: INestApplication[] = [];
  const urls: string[] = [];

  beforeAll(async () => {
    Object.assign(record, new GatewayRecord());
    for (const globalInterceptor of [false, true]) {
      const port = await freePort();
      apps.push(await startGatewayApp(platform, port, connectionString, globalInterceptor));
      urls.push(`http://127.0.0.1:${port}`);
    }
  });
  afterAll(() => Promise.all(apps.map(app => app.close())));

  const cases: [string, unknown, Record<string, unknown> | undefined][] = [
    ['echo', 'hi', undefined],
    ['json', { a: 1 }, undefined],
    ['field', { name: 'x' }, undefined],
    ['bytes', Buffer.from([1, 2]), undefined],
    ['event', 'ping', undefined],
    ['nothing', 'x', undefined],
    ['later', 'x', undefined],
    ['stream', 'x', undefined],
    ['count', 'x', { count: 4 }],
    ['whoami', 'x', undefined],
    ['ws-error', 'x', undefined],
    ['ws-error-object', { a: 1 }, undefined],
    ['boom', 'x', undefined],
  ];
  it.each(cases)('%s', async (event, data, states) => {
    const answers = [];
    for (const url of urls) {
      const request = createUserEventRequest({
        connectionString,
        hub: 'chat',
        connectionId: `parity-${event}`,
        userId: 'pat',
        event,
        data: data as string,
        ...(states ? { states } : {}),
      });
      const response = await http(`${url}${request.url}`, {
        method: request.method,
        headers: request.headers,
        body: request.payload,
      });
      answers.push({
        status: response.status,
        type: response.headers['content-type'],
        state: response.headers['ce-connectionstate'],
        body: response.text,
      });
    }
    expect(answers[0].status).toBeLessThan(300);
    expect(answers[1]).toEqual(answers[0]);
  });

  it('the global interceptor saw the messages (Nest 12) through the proxy', () => {
    expect(record.contextTypes.filter(type => type === 'ws').length).toBe(
      NEST11 ? 0 : cases.length,
    );
  });
});

describe('gateway start-up errors', () => {
  async function init(providers: unknown[], options: object = {}) {
    const moduleRef = await Test.createTestingModule({
      imports: [WebPubSubModule.forRoot({ hub: ['chat', 'news'], ...options })],
      providers: providers as never[],
    }).compile();
    const app = moduleRef.createNestApplication(createAdapter('express'), { logger: false });
    app.useWebSocketAdapter(new WebPubSubWsAdapter(app));
    try {
      await app.init();
    } finally {
      await app.close().catch(() => undefined);
    }
  }

  @WebSocketGateway({ namespace: 'chat' })
  class EchoGateway {
    @SubscribeMessage('echo') echo() {}
  }

  it('a hub event with both @OnUserEvent and @SubscribeMessage names both', async () => {
    @Injectable()
    class EchoHandlers {
      @OnUserEvent('echo') echo() {}
    }
    const failure = init([EchoGateway, EchoHandlers]);
    await expect(failure).rejects.toThrow(DuplicateWebPubSubHandlerError);
    await expect(init([EchoGateway, EchoHandlers])).rejects.toThrow(
      /EchoHandlers\.echo.*EchoGateway\.echo|EchoGateway\.echo.*EchoHandlers\.echo/,
    );
  });

  it('two gateways with one message on one hub name both', async () => {
    @WebSocketGateway({ namespace: 'chat' })
    class OtherGateway {
      @SubscribeMessage('echo') echo() {}
    }
    await expect(init([EchoGateway, OtherGateway])).rejects.toThrow(
      /EchoGateway\.echo.*OtherGateway\.echo/,
    );
  });

  it('a namespace the module does not serve, a port, no default hub', async () => {
    @WebSocketGateway({ namespace: 'elsewhere' })
    class ElsewhereGateway {}
    await expect(init([ElsewhereGateway])).rejects.toThrow(
      /ElsewhereGateway: namespace "elsewhere" is not a hub the module serves \(hubs served: "chat", "news"\)/,
    );
    @WebSocketGateway(8080)
    class PortGateway {}
    await expect(init([PortGateway], { defaultHub: 'chat' })).rejects.toThrow(/port 8080/);
    @WebSocketGateway()
    class DefaultGateway {}
    await expect(init([DefaultGateway])).rejects.toThrow(InvalidWebPubSubHandlerError);
    await expect(init([DefaultGateway])).rejects.toThrow(
      /no namespace and the module has no default hub/,
    );
  });

  it('without WebPubSubModule the adapter says what is missing', async () => {
    @Module({ providers: [EchoGateway] })
    class BareModule {}
    const moduleRef = await Test.createTestingModule({ imports: [BareModule] }).compile();
    const app = moduleRef.createNestApplication(createAdapter('express'), { logger: false });
    app.useWebSocketAdapter(new WebPubSubWsAdapter(app));
    await expect(app.init()).rejects.toThrow(/import WebPubSubModule\.forRoot\(\)/);
    await app.close().catch(() => undefined);
  });
});
