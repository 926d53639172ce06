/**
 * socket.io's server-wide utility methods on the emulator, through a plain socket.io `Server` made
 * a Web PubSub server by `useAzureSocketIO` and unmodified `socket.io-client`s (over WebSocket and
 * over long-polling). What the SDK turns into REST calls through the tunnel is checked both on the
 * emulator's state (the connection's groups, `0~<ns>~<room>` in base64url) and by what the clients
 * receive: `io.socketsJoin` / `io.socketsLeave` (`:addToGroups` / `:removeFromGroups` with an OData
 * filter built from `in` and `except`), `io.disconnectSockets` (a DISCONNECT sent to the matching
 * connections), `io.local.fetchSockets()`; a second namespace stays apart. The APIs the SDK does
 * not support (`fetchSockets` without `local`, `allSockets`, `serverSideEmit` and its `WithAck`) fail at once with
 * the SDK's message instead of waiting.
 */
import type { Server as IoServer, Socket as ServerSocket } from 'socket.io';
import type { Socket as ClientSocket } from 'socket.io-client';
import { startEmulator, type RunningEmulator } from '../../../lib/emulator/index.js';
import {
  connected,
  disconnectAll,
  next,
  nothing,
  socketIoClient,
  startSocketIoServer,
  type SocketIoServer,
  type Transports,
} from '../../utils/socket-io.js';

const HUB = 'utility';

const b64 = (text: string) => Buffer.from(text).toString('base64url');
/** The service group of `room` in namespace `ns`, as the SDK names it. */
const groupOf = (ns: string, room: string) => `0~${b64(ns)}~${b64(room)}`;

/** Waits until `check` passes (the SDK's room calls are not awaited by socket.io). */
async function eventually(check: () => void, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise(resolve => setTimeout(resolve, 25));
    }
  }
}

const CASES: readonly [string, Transports][] = [
  ['WebSocket', ['websocket']],
  ['long-polling', ['polling']],
];

describe.each(CASES)(
  'Socket.IO utility methods on the emulator, clients over %s',
  (_n, transports) => {
    let emulator: RunningEmulator;
    let server: SocketIoServer;
    let io: IoServer;
    const clients: ClientSocket[] = [];

    beforeAll(async () => {
      emulator = await startEmulator({ port: 0, log: () => undefined });
      server = await startSocketIoServer(emulator.connectionString, HUB, sio => {
        sio.on('connection', socket => {
          socket.on('join', async (rooms: string[], ack: () => void) => {
            await socket.join(rooms);
            ack();
          });
        });
        sio.of('/admin').on('connection', () => undefined);
      });
      io = server.io;
    });

    afterEach(async () => {
      await disconnectAll(clients.splice(0));
      // Each test starts with no socket left on the server (io-wide calls would reach them).
      await eventually(() => {
        expect(io.of('/').sockets.size + io.of('/admin').sockets.size).toBe(0);
      });
    });

    afterAll(async () => {
      await server.close();
      await emulator.close();
    });

    /** A connected client, already in `rooms`. */
    const client = async (rooms: string[] = [], namespace = '/') => {
      const socket = socketIoClient(emulator.endpoint, HUB, transports, { namespace });
      clients.push(socket);
      await connected(socket);
      if (rooms.length > 0) await socket.timeout(5_000).emitWithAck('join', rooms);
      return socket;
    };

    const engineId = (socket: ClientSocket) => (socket.io.engine as unknown as { id: string }).id;

    /** The service groups of a client's connection, as the emulator holds them. */
    const groupsOf = (socket: ClientSocket): string[] => {
      const id = engineId(socket);
      const view = [...emulator.hubs.listConnections(HUB)].find(c => c.connectionId === id);
      return view ? [...view.groups] : [];
    };

    const serverSocket = (socket: ClientSocket, ns = '/') =>
      io.of(ns).sockets.get(socket.id as string) as ServerSocket;

    /** Emits to `room` and checks exactly `members` of `all` receive it. */
    async function expectRoom(room: string, members: ClientSocket[], all: ClientSocket[]) {
      const event = `to-${room}`;
      const received = members.map(socket => next(socket, event));
      const silent = all.filter(s => !members.includes(s)).map(s => nothing(s, event));
      io.to(room).emit(event, room);
      for (const got of received) expect(await got).toEqual([room]);
      await Promise.all(silent);
    }

    it('io.socketsJoin(room) puts every socket in the room, on the service and on the server', async () => {
      const [a, b, c] = await Promise.all([client(), client(), client()]);
      io.socketsJoin('everyone');
      await eventually(() => {
        for (const socket of [a, b, c]) {
          expect(groupsOf(socket)).toContain(groupOf('/', 'everyone'));
          // The SDK updates the server's own rooms once the service has answered.
          expect(serverSocket(socket).rooms.has('everyone')).toBe(true);
        }
      });
      await expectRoom('everyone', [a, b, c], [a, b, c]);
    });

    it('io.in(room).except(other).socketsJoin([rooms]) joins only the sockets the filters select', async () => {
      const [a, b, c] = await Promise.all([client(['red']), client(['red', 'blue']), client()]);
      io.in('red').except('blue').socketsJoin(['chosen', 'also']);
      await eventually(() => {
        expect(groupsOf(a)).toEqual(
          expect.arrayContaining([groupOf('/', 'chosen'), groupOf('/', 'also')]),
        );
      });
      // Give a wrong join the time to show up before saying it did not happen.
      await new Promise(resolve => setTimeout(resolve, 200));
      expect(groupsOf(b)).not.toContain(groupOf('/', 'chosen'));
      expect(groupsOf(c)).not.toContain(groupOf('/', 'chosen'));
      await expectRoom('chosen', [a], [a, b, c]);
      await expectRoom('also', [a], [a, b, c]);
    });

    it('io.in(room).socketsLeave(other) and io.except(room).socketsLeave(other) take only the selected sockets out', async () => {
      const [a, b, c] = await Promise.all([
        client(['green']),
        client(['green', 'vip']),
        client(['green', 'staff']),
      ]);
      io.in('vip').socketsLeave('green');
      await eventually(() => expect(groupsOf(b)).not.toContain(groupOf('/', 'green')));
      expect(serverSocket(b).rooms.has('green')).toBe(false);
      await expectRoom('green', [a, c], [a, b, c]);

      io.except('staff').socketsLeave('green');
      await eventually(() => expect(groupsOf(a)).not.toContain(groupOf('/', 'green')));
      await new Promise(resolve => setTimeout(resolve, 200));
      expect(groupsOf(c)).toContain(groupOf('/', 'green'));
      await expectRoom('green', [c], [a, b, c]);
    });

    it('io.in(room).disconnectSockets() ends the matching sockets only; io.except(room).disconnectSockets(true) closes their connections', async () => {
      const [a, b, c] = await Promise.all([
        client(['doomed']),
        client(['doomed', 'safe']),
        client(),
      ]);
      const gone = next<[string]>(a, 'disconnect');
      const alsoGone = next<[string]>(b, 'disconnect');
      const stays = nothing(c, 'disconnect', 500);
      // The SDK leaves the server's sockets to the service: it must hear that they left.
      const serverSide = next<[string]>(serverSocket(a), 'disconnect');
      io.in('doomed').disconnectSockets();
      const [aReason, bReason, serverReason] = await Promise.all([
        gone,
        alsoGone,
        serverSide,
        stays,
      ]);
      expect(aReason[0]).toBe('io server disconnect');
      expect(bReason[0]).toBe('io server disconnect');
      expect(serverReason[0]).toBe('client namespace disconnect');
      expect(io.of('/').sockets.has(a.id as string)).toBe(false);
      expect(c.connected).toBe(true);

      const d = await client(['safe']);
      const cGone = next<[string]>(c, 'disconnect');
      const dStays = nothing(d, 'disconnect', 500);
      io.except('safe').disconnectSockets(true);
      const [cReason] = await Promise.all([cGone, dStays]);
      expect(cReason[0]).toBe('io server disconnect');
      // With close, the Engine.IO connection ends too: the service forgets it.
      const cId = engineId(c);
      await eventually(() => expect(emulator.hubs.connectionExists(HUB, cId)).toBe(false));
      expect(emulator.hubs.connectionExists(HUB, engineId(d))).toBe(true);
    });

    it('io.local.fetchSockets() lists this server’s sockets with their rooms, filtered by in/except', async () => {
      const [a, b] = await Promise.all([client(['p']), client(['p', 'q'])]);
      const all = await io.local.fetchSockets();
      expect(all.map(s => s.id).sort()).toEqual([a.id, b.id].sort());
      const inP = await io.local.in('p').except('q').fetchSockets();
      expect(inP.map(s => s.id)).toEqual([a.id]);
      expect([...inP[0].rooms]).toEqual(expect.arrayContaining(['p']));
    });

    it('keeps a second namespace apart: its socketsJoin and disconnectSockets do not touch the main one', async () => {
      const main = await client();
      const admin = await client([], '/admin');
      io.of('/admin').socketsJoin('ops');
      await eventually(() => expect(groupsOf(admin)).toContain(groupOf('/admin', 'ops')));
      expect(groupsOf(main)).not.toContain(groupOf('/', 'ops'));
      expect(groupsOf(main)).not.toContain(groupOf('/admin', 'ops'));

      const adminGone = next<[string]>(admin, 'disconnect');
      const mainStays = nothing(main, 'disconnect', 500);
      io.of('/admin').disconnectSockets();
      const [adminReason] = await Promise.all([adminGone, mainStays]);
      expect(adminReason[0]).toBe('io server disconnect');
    });

    it('fails at once, with the SDK’s message, for what the service cannot do: fetchSockets() without local, allSockets(), serverSideEmit(WithAck)()', async () => {
      await client(['r']);
      const started = Date.now();
      await expect(Promise.resolve().then(() => io.fetchSockets())).rejects.toThrow(
        "'fetchSockets' without local flag is not supported",
      );
      await expect(Promise.resolve().then(() => io.in('r').fetchSockets())).rejects.toThrow(
        "'fetchSockets' without local flag is not supported",
      );
      await expect(Promise.resolve().then(() => io.allSockets())).rejects.toThrow(
        "'sockets' is not supported",
      );
      expect(() => io.serverSideEmit('hello')).toThrow("'serverSideEmit' is not supported");
      await expect(Promise.resolve().then(() => io.serverSideEmitWithAck('hello'))).rejects.toThrow(
        "'serverSideEmit' is not supported",
      );
      expect(Date.now() - started).toBeLessThan(1_000);
    });
  },
);
