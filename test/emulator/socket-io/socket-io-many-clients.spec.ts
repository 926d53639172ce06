/**
 * Many Socket.IO clients connecting at once through one tunnel (the condition of the Socket.IO
 * bench's set-up, at a smaller scale): every connect, every namespace CONNECT and every room join
 * (a REST call through the tunnel) is answered, and a room broadcast then reaches every client.
 *
 * Through Web PubSub for Socket.IO `socket.join()` is a REST call that completes after the
 * client's `connect` (socket.io sends CONNECT before the connection handler's join has reached the
 * service), so a client is in the room once the server has awaited the join, not at `connect`:
 * the clients here wait for the server's answer to `join`, as the bench's do. A client that waited
 * for `connect` only could miss a broadcast sent right after, which is what stalled the bench.
 * The second case shows the same order in one server handler: a room broadcast sent before the
 * join is awaited does not reach the socket (with bare socket.io it would, joins being synchronous).
 */
import type { Server as IoServer, Socket as ServerSocket } from 'socket.io';
import type { Socket as ClientSocket } from 'socket.io-client';
import { startEmulator, type RunningEmulator } from '../../../lib/emulator/index.js';
import {
  disconnectAll,
  connected,
  next,
  nothing,
  socketIoClient,
  startSocketIoServer,
  type SocketIoServer,
} from '../../utils/socket-io.js';

const HUB = 'crowd';
const CLIENTS = 150;
/** The group of room `r` in namespace `/` (`0~<base64url(ns)>~<base64url(room)>`). */
const ROOM_GROUP = '0~Lw~cg';

function serve(io: IoServer): void {
  io.on('connection', (socket: ServerSocket) => {
    socket.on('join', async (ack: () => void) => {
      await socket.join('r');
      ack();
    });
    socket.on('fan', (id: number) => io.to('r').emit('fan', id));
  });
  // A room broadcast right after a join, awaited or not.
  io.of('/greet').on('connection', async (socket: ServerSocket) => {
    const room = `greet-${socket.id}`;
    const join = socket.join(room);
    if (socket.handshake.auth?.await) await join;
    io.of('/greet').to(room).emit('welcome', room);
  });
}

describe('Socket.IO on the emulator, many clients at once', () => {
  let emulator: RunningEmulator;
  let server: SocketIoServer;
  const clients: ClientSocket[] = [];

  beforeAll(async () => {
    emulator = await startEmulator({ port: 0, log: () => undefined });
    server = await startSocketIoServer(emulator.connectionString, HUB, serve);
  });

  afterAll(async () => {
    await disconnectAll(clients.splice(0));
    await server.close();
    await emulator.close();
  });

  it(`connects ${CLIENTS} clients at once, joins each to a room, and reaches them all`, async () => {
    const got = new Map<number, Set<ClientSocket>>();
    const rounds = new Map<number, () => void>();
    const round = (id: number) =>
      new Promise<void>((resolve, reject) => {
        got.set(id, new Set());
        const timer = setTimeout(
          () => reject(new Error(`round ${id}: ${got.get(id)?.size} of ${CLIENTS} clients got it`)),
          10_000,
        );
        rounds.set(id, () => {
          clearTimeout(timer);
          resolve();
        });
      });
    const first = round(0);
    let ready = 0;
    const sockets = await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        const socket = socketIoClient(emulator.endpoint, HUB, ['websocket']);
        clients.push(socket);
        socket.on('fan', (id: number) => {
          const receivers = got.get(id);
          receivers?.add(socket);
          if (receivers?.size === CLIENTS) rounds.get(id)?.();
        });
        await connected(socket);
        await socket.timeout(20_000).emitWithAck('join');
        // The last client to be ready sends the first round at once, as the bench did.
        if (++ready === CLIENTS) socket.emit('fan', 0);
        return socket;
      }),
    );
    await first;
    // Every join reached the emulator before its answer reached the client.
    const members = [...emulator.hubs.listConnections(HUB)].filter(c => c.groups.has(ROOM_GROUP));
    expect(members).toHaveLength(CLIENTS);
    for (const id of [1, 2]) {
      const done = round(id);
      sockets[id].emit('fan', id);
      await done;
      expect(got.get(id)?.size).toBe(CLIENTS);
    }
  }, 60_000);

  it('reaches a socket through a room once the join has been awaited, not before', async () => {
    const hasty = socketIoClient(emulator.endpoint, HUB, ['websocket'], { namespace: '/greet' });
    const patient = socketIoClient(emulator.endpoint, HUB, ['websocket'], {
      namespace: '/greet',
      auth: { await: true },
    });
    clients.push(hasty, patient);
    const welcomed = next<[string]>(patient, 'welcome');
    const missed = nothing(hasty, 'welcome', 1_000);
    await Promise.all([connected(hasty), connected(patient)]);
    expect((await welcomed)[0]).toBe(`greet-${patient.id}`);
    // Not awaited, the join is still on its way through the tunnel when the broadcast is sent.
    await missed;
  });
});
