/**
 * A Nest app whose socket.io gateways run on Web PubSub for Socket.IO through
 * `WebPubSubSocketIoAdapter` (hub and credentials from `WebPubSubModule`), against the emulator, on
 * Express and Fastify, with socket.io-client connecting through the module's negotiate route
 * (`?protocol=socketio`) over WebSocket and over long-polling with the upgrade. The gateways are
 * written as for Nest's own `IoAdapter`: `@SubscribeMessage` with returned acks, `@ConnectedSocket`,
 * rooms, broadcast, `server.emit`, `timeout().emitWithAck()` across clients, a second namespace,
 * a guard (WsException → `exception`), a pipe, middleware that refuses, disconnects both ways.
 * Also: start-up fails with a clear error when the service does not answer, and `app.close()`
 * closes the tunnel.
 */
import {
  Injectable,
  ParseIntPipe,
  UseGuards,
  type CanActivate,
  type ExecutionContext,
  type INestApplication,
} from '@nestjs/common';
import {
  ConnectedSocket,
  MessageBody,
  SubscribeMessage,
  WebSocketGateway,
  WebSocketServer,
  WsException,
  type OnGatewayDisconnect,
  type OnGatewayInit,
} from '@nestjs/websockets';
import type { Server, Socket } from 'socket.io';
import { io as connectClient, type Socket as ClientSocket } from 'socket.io-client';
import { WebPubSubModule } from '../../lib/index.js';
import { startEmulator, type RunningEmulator } from '../../lib/emulator/index.js';
import {
  WebPubSubSocketIoAdapter,
  WebPubSubSocketIoStartupError,
} from '../../lib/socket-io/index.js';
import { PLATFORMS, startApp, type PlatformName, type TestApp } from '../utils/app.js';
import { connected, disconnectAll, next, nothing, type Transports } from '../utils/socket-io.js';

const HUB = 'gateways';
const disconnects: string[] = [];

@Injectable()
class NoSecretsGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    if (context.switchToWs().getData() === 'secret') throw new WsException('no secrets here');
    return true;
  }
}

@WebSocketGateway()
class ChatGateway implements OnGatewayInit, OnGatewayDisconnect {
  @WebSocketServer() server!: Server;

  afterInit(server: Server): void {
    server.use((socket, nextMiddleware) => {
      if (socket.handshake.auth?.refuse) nextMiddleware(new Error('not today'));
      else nextMiddleware();
    });
  }

  handleDisconnect(socket: Socket): void {
    disconnects.push(socket.id);
  }

  @SubscribeMessage('echo')
  echo(@MessageBody() data: unknown): unknown {
    return data;
  }

  @SubscribeMessage('double')
  double(
    @MessageBody(new ParseIntPipe({ exceptionFactory: error => new WsException(error) }))
    value: number,
  ): number {
    return value * 2;
  }

  @UseGuards(NoSecretsGuard)
  @SubscribeMessage('tell')
  tell(@MessageBody() text: string): string {
    return `told ${text}`;
  }

  @SubscribeMessage('join')
  async join(@ConnectedSocket() socket: Socket, @MessageBody() room: string): Promise<string> {
    await socket.join(room);
    return `joined ${room}`;
  }

  @SubscribeMessage('to-room')
  toRoom(@MessageBody() [room, text]: [string, string]): void {
    this.server.to(room).emit('room-message', text);
  }

  @SubscribeMessage('broadcast')
  broadcast(@ConnectedSocket() socket: Socket, @MessageBody() text: string): void {
    socket.broadcast.emit('broadcasted', text);
  }

  @SubscribeMessage('shout')
  shout(@MessageBody() text: string): void {
    this.server.emit('shouted', text);
  }

  @SubscribeMessage('poll-everyone')
  async pollEveryone(): Promise<unknown[]> {
    return this.server.timeout(3_000).emitWithAck('poll');
  }

  @SubscribeMessage('send-bytes')
  sendBytes(@ConnectedSocket() socket: Socket): void {
    socket.emit('bytes', Buffer.from([1, 2, 3, 255]));
  }

  @SubscribeMessage('kick-me')
  kick(@ConnectedSocket() socket: Socket): void {
    socket.disconnect(true);
  }
}

@WebSocketGateway({ namespace: '/admin' })
class AdminGateway {
  @WebSocketServer() server!: Server;

  @SubscribeMessage('whoami')
  whoami(@ConnectedSocket() socket: Socket): string {
    return `${socket.nsp.name}:${socket.id}`;
  }

  @SubscribeMessage('announce')
  announce(@MessageBody() text: string): void {
    this.server.emit('announcement', text);
  }
}

function moduleFor(emulator: RunningEmulator) {
  return {
    imports: [
      WebPubSubModule.forRoot({
        hub: HUB,
        connectionString: emulator.connectionString,
        negotiate: { resolve: () => ({ userId: 'tester' }) },
      }),
    ],
    providers: [ChatGateway, AdminGateway, NoSecretsGuard],
  };
}

const CASES: [PlatformName, string, Transports][] = PLATFORMS.flatMap(platform => [
  [platform, 'WebSocket', ['websocket']] as [PlatformName, string, Transports],
  [platform, 'long-polling and the upgrade', ['polling', 'websocket']] as [
    PlatformName,
    string,
    Transports,
  ],
]);

describe.each(CASES)(
  'socket.io gateways on WebPubSubSocketIoAdapter (%s, client over %s)',
  (platform, _name, transports) => {
    let emulator: RunningEmulator;
    let app: TestApp;
    const clients: ClientSocket[] = [];

    /** A client that gets its URL from the app's negotiate route, as a browser would. */
    const client = async (namespace = '/', auth: Record<string, unknown> = {}) => {
      const answer = await fetch(`${app.url}/negotiate?protocol=socketio`);
      expect(answer.status).toBe(200);
      const { baseUrl, token } = (await answer.json()) as { baseUrl: string; token: string };
      const url = new URL(baseUrl);
      const socket = connectClient(`${url.origin}${namespace}`, {
        path: url.pathname,
        query: { access_token: token },
        transports: [...transports],
        reconnection: false,
        forceNew: true,
        auth,
      });
      clients.push(socket);
      return socket;
    };

    beforeAll(async () => {
      emulator = await startEmulator({ port: 0, log: () => undefined });
      app = await startApp(platform, moduleFor(emulator), {
        before: (nest: INestApplication) => {
          nest.useWebSocketAdapter(new WebPubSubSocketIoAdapter(nest));
        },
      });
    });

    afterEach(async () => {
      await disconnectAll(clients.splice(0));
    });

    afterAll(async () => {
      await app.close();
      await emulator.close();
    });

    it('connects through negotiate as the token’s user, acks with returned values, pipes and guards', async () => {
      const socket = await connected(await client());
      expect(await socket.timeout(3_000).emitWithAck('echo', { text: 'hi', list: [1] })).toEqual({
        text: 'hi',
        list: [1],
      });
      expect(await socket.timeout(3_000).emitWithAck('double', '21')).toBe(42);
      const piped = next<[{ message: string }]>(socket, 'exception');
      socket.emit('double', 'not a number');
      expect((await piped)[0].message).toMatch(/numeric string is expected/);
      expect(await socket.timeout(3_000).emitWithAck('tell', 'news')).toBe('told news');
      const refused = next<[{ message: string }]>(socket, 'exception');
      socket.emit('tell', 'secret');
      expect((await refused)[0]).toMatchObject({ message: 'no secrets here' });
    });

    it('carries binary both ways', async () => {
      const socket = await connected(await client());
      const bytes = Buffer.from([0, 128, 255]);
      const echoed = (await socket.timeout(3_000).emitWithAck('echo', bytes)) as Uint8Array;
      expect(Buffer.from(echoed)).toEqual(bytes);
      const received = next<[Uint8Array]>(socket, 'bytes');
      socket.emit('send-bytes');
      expect(Buffer.from((await received)[0])).toEqual(Buffer.from([1, 2, 3, 255]));
    });

    it('rooms, broadcast and server.emit reach whom they should', async () => {
      const [a, b, c] = await Promise.all(
        [client(), client(), client()].map(async s => connected(await s)),
      );
      expect(await a.timeout(3_000).emitWithAck('join', 'green')).toBe('joined green');
      await b.timeout(3_000).emitWithAck('join', 'green');
      const inRoom = [next<[string]>(a, 'room-message'), next<[string]>(b, 'room-message')];
      const outside = nothing(c, 'room-message');
      c.emit('to-room', ['green', 'for green']);
      for (const received of inRoom) expect(await received).toEqual(['for green']);
      await outside;

      const others = [next<[string]>(b, 'broadcasted'), next<[string]>(c, 'broadcasted')];
      const sender = nothing(a, 'broadcasted');
      a.emit('broadcast', 'from a');
      for (const received of others) expect(await received).toEqual(['from a']);
      await sender;

      const everyone = [a, b, c].map(socket => next<[string]>(socket, 'shouted'));
      a.emit('shout', 'all');
      for (const received of everyone) expect(await received).toEqual(['all']);
    });

    it('collects every client’s ack with server.timeout().emitWithAck()', async () => {
      const sockets = await Promise.all(
        [client(), client(), client()].map(async s => connected(await s)),
      );
      sockets.forEach((socket, i) =>
        socket.on('poll', (ack: (value: string) => void) => ack(`c${i}`)),
      );
      const answers = (await sockets[0].timeout(5_000).emitWithAck('poll-everyone')) as string[];
      expect([...answers].sort()).toEqual(['c0', 'c1', 'c2']);
    });

    it('serves a second namespace with its own gateway and emits', async () => {
      const main = await connected(await client());
      const admin = await connected(await client('/admin'));
      expect(await admin.timeout(3_000).emitWithAck('whoami')).toBe(`/admin:${admin.id}`);
      const toAdmin = next<[string]>(admin, 'announcement');
      const notMain = nothing(main, 'announcement');
      admin.emit('announce', 'admins');
      expect(await toAdmin).toEqual(['admins']);
      await notMain;
    });

    it('disconnects both ways, and refuses what the middleware refuses', async () => {
      const kicked = await connected(await client());
      const gone = next<[string]>(kicked, 'disconnect');
      kicked.emit('kick-me');
      expect((await gone)[0]).toBe('io server disconnect');

      const leaving = await connected(await client());
      const id = leaving.id as string;
      leaving.disconnect();
      for (let i = 0; i < 50 && !disconnects.includes(id); i++) {
        await new Promise(resolve => setTimeout(resolve, 20));
      }
      expect(disconnects).toContain(id);

      await expect(connected(await client('/', { refuse: true }))).rejects.toThrow('not today');
    });
  },
);

describe('WebPubSubSocketIoAdapter start-up and shutdown', () => {
  it('fails start-up with a clear error when the service does not answer', async () => {
    const startup = startApp(
      'express',
      {
        imports: [
          WebPubSubModule.forRoot({
            hub: HUB,
            // Nothing listens on port 9 of the loopback.
            connectionString:
              'Endpoint=http://127.0.0.1:9;AccessKey=abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG=;Version=1.0;',
          }),
        ],
        providers: [ChatGateway],
      },
      {
        before: (nest: INestApplication) => {
          nest.useWebSocketAdapter(new WebPubSubSocketIoAdapter(nest, { readyTimeoutMs: 600 }));
        },
      },
    );
    const error = await startup.then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(WebPubSubSocketIoStartupError);
    expect((error as Error).message).toMatch(
      /did not accept the socket.io server of hub "gateways" at http:\/\/127.0.0.1:9 within 600 ms/,
    );
  });

  it('refuses a gateway with a port of its own and a second server on the same hub', async () => {
    @WebSocketGateway(4567)
    class PortGateway {}
    await expect(
      startApp(
        'express',
        {
          imports: [
            WebPubSubModule.forRoot({
              hub: HUB,
              connectionString: 'Endpoint=http://127.0.0.1:9;AccessKey=k;Version=1.0;',
            }),
          ],
          providers: [PortGateway],
        },
        { before: nest => void nest.useWebSocketAdapter(new WebPubSubSocketIoAdapter(nest)) },
      ),
    ).rejects.toThrow(/asks for a port of its own/);
  });

  it('closes the tunnel and its clients on app.close()', async () => {
    const emulator = await startEmulator({ port: 0, log: () => undefined });
    const tunnels: string[] = [];
    emulator.traffic.subscribe(record => {
      if (record.subprotocol === 'socket.io tunnel') tunnels.push(record.action);
    });
    let app: TestApp | undefined;
    try {
      app = await startApp('fastify', moduleFor(emulator), {
        before: nest => void nest.useWebSocketAdapter(new WebPubSubSocketIoAdapter(nest)),
      });
      expect(tunnels).toEqual(['connected']);
      const answer = await fetch(`${app.url}/negotiate?protocol=socketio`);
      const { baseUrl, token } = (await answer.json()) as { baseUrl: string; token: string };
      const url = new URL(baseUrl);
      const socket = await connected(
        connectClient(url.origin, {
          path: url.pathname,
          query: { access_token: token },
          transports: ['websocket'],
          reconnection: false,
        }),
      );
      const gone = next<[string]>(socket, 'disconnect');
      await app.close();
      app = undefined;
      expect((await gone)[0]).toMatch(/io server disconnect|transport close/);
      for (let i = 0; i < 50 && !tunnels.includes('disconnected'); i++) {
        await new Promise(resolve => setTimeout(resolve, 20));
      }
      expect(tunnels).toContain('disconnected');
    } finally {
      await app?.close();
      await emulator.close();
    }
  });
});
