/**
 * Closing releases everything: after `app.close()` of a Nest app on `WebPubSubSocketIoAdapter`
 * (Express and Fastify), and after `io.close()` of a plain socket.io server behind
 * `useAzureSocketIO`, with the emulator closed too, no timer or socket created since the app
 * started still holds the process, within 3 s (before: the tunnel client's keep-alive delays, 20 s
 * and 40 s, and the SDK's 30 s connect guard of each client kept Node, and so Jest, running for
 * 40 s). Clients connected, exchanged acks and left first, so the connect and event paths ran.
 */
import type { INestApplication } from '@nestjs/common';
import { MessageBody, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { io as connectClient } from 'socket.io-client';
import { WebPubSubModule } from '../../lib/index.js';
import { startEmulator } from '../../lib/emulator/index.js';
import { WebPubSubSocketIoAdapter } from '../../lib/socket-io/index.js';
import { PLATFORMS, startApp } from '../utils/app.js';
import { trackOpenHandles } from '../utils/open-handles.js';
import { connected, socketIoClient, startSocketIoServer } from '../utils/socket-io.js';

const HUB = 'closing';
const SETTLE_MS = 3_000;

/** Runs `scenario` (which closes what it starts) and expects nothing it created to hold Node. */
async function leavesNothingOpen(scenario: () => Promise<void>): Promise<void> {
  const handles = trackOpenHandles();
  try {
    await scenario();
    expect(await handles.settle(SETTLE_MS)).toEqual([]);
  } finally {
    handles.stop();
  }
}

@WebSocketGateway()
class EchoGateway {
  @SubscribeMessage('echo')
  echo(@MessageBody() data: unknown): unknown {
    return data;
  }
}

describe('Socket.IO on Web PubSub: closing releases every timer and socket', () => {
  it.each(PLATFORMS)('after app.close() on WebPubSubSocketIoAdapter (%s)', platform =>
    leavesNothingOpen(async () => {
      const emulator = await startEmulator({ port: 0, log: () => undefined });
      const app = await startApp(
        platform,
        {
          imports: [
            WebPubSubModule.forRoot({
              hub: HUB,
              connectionString: emulator.connectionString,
              negotiate: { resolve: () => ({ userId: 'leaving' }) },
            }),
          ],
          providers: [EchoGateway],
        },
        {
          before: (nest: INestApplication) =>
            void nest.useWebSocketAdapter(new WebPubSubSocketIoAdapter(nest)),
        },
      );
      const answer = await fetch(`${app.url}/negotiate?protocol=socketio`);
      const { baseUrl, token } = (await answer.json()) as { baseUrl: string; token: string };
      const url = new URL(baseUrl);
      const sockets = await Promise.all(
        [['websocket'], ['polling', 'websocket']].map(transports =>
          connected(
            connectClient(url.origin, {
              path: url.pathname,
              query: { access_token: token },
              transports,
              reconnection: false,
              forceNew: true,
            }),
          ),
        ),
      );
      for (const socket of sockets) {
        expect(await socket.timeout(3_000).emitWithAck('echo', 'hi')).toBe('hi');
        socket.disconnect();
      }
      await app.close();
      await emulator.close();
    }),
  );

  it('after io.close() of a plain socket.io server behind useAzureSocketIO', () =>
    leavesNothingOpen(async () => {
      const emulator = await startEmulator({ port: 0, log: () => undefined });
      const server = await startSocketIoServer(emulator.connectionString, HUB, io =>
        io.on('connection', socket =>
          socket.on('echo', (text: string, ack: (value: string) => void) => ack(text)),
        ),
      );
      const socket = await connected(socketIoClient(emulator.endpoint, HUB, ['websocket']));
      expect(await socket.timeout(3_000).emitWithAck('echo', 'hi')).toBe('hi');
      socket.disconnect();
      await server.close();
      await emulator.close();
    }));
});
