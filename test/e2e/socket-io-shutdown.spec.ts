/**
 * Closing releases everything: after `app.close()` of a Nest app on `WebPubSubSocketIoAdapter`
 * (Express and Fastify), and after `io.close()` of a plain socket.io server behind
 * `useAzureSocketIO`, with the emulator closed too, no timer or socket created since the app
 * started still holds the process, within 3 s (before: the tunnel client's keep-alive delays, 20 s
 * and 40 s, and the SDK's 30 s connect guard of each client kept Node, and so Jest, running for
 * 40 s). Clients connected, exchanged acks and left first, so the connect and event paths ran.
 * And what the release keeps: the tunnel client's idle check still closes and reopens a tunnel
 * that hears nothing (its 120 s made 600 ms here, on the SDK's own client object). And a tunnel
 * that is reconnecting when the server closes (the emulator went away first) stops as well
 * (before: it retried every second for good).
 */
import { createServer } from 'node:http';
import type { INestApplication } from '@nestjs/common';
import { MessageBody, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { io as connectClient } from 'socket.io-client';
import { WebPubSubModule } from '../../lib/index.js';
import { startEmulator } from '../../lib/emulator/index.js';
import { WebPubSubSocketIoAdapter } from '../../lib/socket-io/index.js';
import { releaseSdkTimersOnClose } from '../../lib/socket-io/sdk-timers.js';
import { PLATFORMS, startApp } from '../utils/app.js';
import { trackOpenHandles } from '../utils/open-handles.js';
import {
  connected,
  SdkSocketIo,
  socketIoClient,
  startSocketIoServer,
  useAzureSocketIO,
} from '../utils/socket-io.js';
import { sleep, waitFor } from '../utils/wait.js';

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

  it('after io.close() while the tunnel reconnects (the emulator went away first)', () =>
    leavesNothingOpen(async () => {
      const emulator = await startEmulator({ port: 0, log: () => undefined });
      const server = await startSocketIoServer(emulator.connectionString, HUB);
      const tunnels: string[] = [];
      emulator.traffic.subscribe(record => {
        if (record.subprotocol === 'socket.io tunnel') tunnels.push(record.action);
      });
      await emulator.close();
      // The tunnel client retries every second; the server closes between two attempts.
      await sleep(1_500);
      await server.close();
      expect(tunnels).toContain('disconnected');
    }));

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

describe('Socket.IO on Web PubSub: what the release of the SDK timers keeps', () => {
  it('closes and reopens a tunnel that hears nothing for the idle timeout', async () => {
    const handles = trackOpenHandles();
    const emulator = await startEmulator({ port: 0, log: () => undefined });
    const tunnels: string[] = [];
    emulator.traffic.subscribe(record => {
      if (record.subprotocol === 'socket.io tunnel') tunnels.push(record.action);
    });
    const http = createServer();
    await new Promise<void>(resolve => http.listen(0, '127.0.0.1', () => resolve()));
    const io = new SdkSocketIo.Server(http);
    try {
      const started = useAzureSocketIO(io, {
        hub: HUB,
        connectionString: emulator.connectionString,
      });
      // The SDK's own tunnel client, started inside useAzureSocketIO: 600 ms instead of 120 s.
      const engine = io.engine as unknown as {
        webPubSubConnectionManager: {
          service: { _tunnel: { clients: Map<string, { _client: Record<string, unknown> }> } };
        };
      };
      const clients = [...engine.webPubSubConnectionManager.service._tunnel.clients.values()];
      expect(clients).toHaveLength(1);
      clients[0]._client._keepAliveTimeoutInMs = 600;
      releaseSdkTimersOnClose(io);
      await started;
      // The emulator's keep-alive frame comes every 30 s: nothing arrives, the check closes it.
      await waitFor(() => tunnels.filter(action => action === 'connected').length >= 2, 5_000);
      expect(tunnels.slice(0, 3)).toEqual(['connected', 'disconnected', 'connected']);
    } finally {
      await new Promise<void>(resolve => io.close(() => resolve()));
      await emulator.close();
    }
    // Closed while it reconnects every 600 ms, it stops too.
    try {
      expect(await handles.settle(SETTLE_MS)).toEqual([]);
    } finally {
      handles.stop();
    }
  });
});
