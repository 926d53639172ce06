/**
 * The emulator speaks Web PubSub for Socket.IO (Default mode) to the real packages: a plain
 * socket.io `Server` made a Web PubSub server by `useAzureSocketIO` (its tunnel to `/server/tunnel`,
 * the events inside it, its REST calls), and unmodified `socket.io-client`s at
 * `/clients/socketio/hubs/{hub}` over WebSocket, over long-polling with the upgrade, and over
 * long-polling only. Each transport runs the same scenarios: connect, emits both ways (strings,
 * objects, binary), acks both ways, rooms, broadcast, `io.emit`, `timeout().emitWithAck()` across
 * several clients (the streaming `:invoke`), a second namespace, server-side and client-side
 * disconnect, and a connection the server refuses.
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
  TRANSPORT_CASES,
  type SocketIoServer,
} from '../../utils/socket-io.js';

const HUB = 'chat';

/** The server every scenario talks to. */
function serve(io: IoServer): void {
  io.use((socket, nextMiddleware) => {
    if (socket.handshake.auth?.refuse) nextMiddleware(new Error('refused by the app'));
    else nextMiddleware();
  });
  io.on('connection', (socket: ServerSocket) => {
    socket.on('echo', (...args: unknown[]) => {
      const ack = args.pop() as (...values: unknown[]) => void;
      ack(...args);
    });
    // join() and leave() are REST calls through the tunnel: answer once they are done.
    socket.on('join', async (room: string, ack: () => void) => {
      await socket.join(room);
      ack();
    });
    socket.on('leave', async (room: string, ack: () => void) => {
      await socket.leave(room);
      ack();
    });
    socket.on('to-room', (room: string, text: string) => io.to(room).emit('room-message', text));
    socket.on('broadcast', (text: string) => socket.broadcast.emit('broadcasted', text));
    socket.on('kick-me', () => socket.disconnect(true));
    socket.on('ask-me', async (ack: (answer: unknown) => void) => {
      ack(await socket.timeout(2_000).emitWithAck('question', 'from the server'));
    });
  });
  io.of('/admin').on('connection', socket => {
    socket.emit('admin-welcome', socket.nsp.name);
  });
}

describe.each(TRANSPORT_CASES)('Socket.IO on the emulator, client over %s', (_name, transports) => {
  let emulator: RunningEmulator;
  let server: SocketIoServer;
  const clients: ClientSocket[] = [];

  const client = async (options: Parameters<typeof socketIoClient>[3] = {}) => {
    const socket = socketIoClient(emulator.endpoint, HUB, transports, options);
    clients.push(socket);
    return connected(socket);
  };

  beforeAll(async () => {
    emulator = await startEmulator({ port: 0, log: () => undefined });
    server = await startSocketIoServer(emulator.connectionString, HUB, serve);
  });

  afterEach(async () => {
    await disconnectAll(clients.splice(0));
  });

  afterAll(async () => {
    await server.close();
    await emulator.close();
  });

  it('connects, and the socket id and Engine.IO id the server sees are the client’s', async () => {
    const serverSide = next<[ServerSocket]>(server.io, 'connection');
    const socket = await client();
    const [serverSocket] = await serverSide;
    expect(serverSocket.id).toBe(socket.id);
    const engineId = (serverSocket.conn as unknown as { id: string }).id;
    expect(engineId).toBe((socket.io.engine as unknown as { id: string }).id);
    // The Engine.IO id is the service's connection id.
    expect(emulator.hubs.connectionExists(HUB, engineId)).toBe(true);
  });

  it('carries strings, objects and binary both ways, with acks', async () => {
    const socket = await client();
    const bytes = Buffer.from([0, 1, 2, 250, 255]);
    const answer = await socket
      .timeout(3_000)
      .emitWithAck('echo', 'text', { n: 1, list: ['a'] }, bytes);
    expect(answer).toBe('text');
    const [text, object, binary] = await new Promise<unknown[]>(resolve =>
      socket.emit('echo', 'text', { n: 1, list: ['a'] }, bytes, (...values: unknown[]) =>
        resolve(values),
      ),
    );
    expect(text).toBe('text');
    expect(object).toEqual({ n: 1, list: ['a'] });
    expect(Buffer.from(binary as Uint8Array)).toEqual(bytes);

    const serverSocket = server.io.sockets.sockets.get(socket.id as string) as ServerSocket;
    const received = next<unknown[]>(socket, 'down');
    serverSocket.emit('down', 'hello', { deep: { x: [1, 2] } }, Buffer.from('bin'));
    const [s, o, b] = await received;
    expect(s).toBe('hello');
    expect(o).toEqual({ deep: { x: [1, 2] } });
    expect(Buffer.from(b as Uint8Array).toString()).toBe('bin');
  });

  it('lets the server wait for a client’s ack (socket.timeout().emitWithAck())', async () => {
    const socket = await client();
    socket.on('question', (text: string, ack: (value: string) => void) => ack(`answered ${text}`));
    await expect(socket.timeout(3_000).emitWithAck('ask-me')).resolves.toBe(
      'answered from the server',
    );
  });

  it('delivers to a room’s members only, and stops after leave', async () => {
    const [a, b, c] = await Promise.all([client(), client(), client()]);
    await a.emitWithAck('join', 'blue');
    await b.emitWithAck('join', 'blue');
    const toA = next<[string]>(a, 'room-message');
    const toB = next<[string]>(b, 'room-message');
    const notC = nothing(c, 'room-message');
    c.emit('to-room', 'blue', 'for blue');
    expect(await toA).toEqual(['for blue']);
    expect(await toB).toEqual(['for blue']);
    await notC;

    await b.emitWithAck('leave', 'blue');
    const again = next<[string]>(a, 'room-message');
    const notB = nothing(b, 'room-message');
    c.emit('to-room', 'blue', 'second');
    expect(await again).toEqual(['second']);
    await notB;
  });

  it('broadcasts to everyone but the sender, and io.emit() reaches everyone', async () => {
    const [a, b, c] = await Promise.all([client(), client(), client()]);
    const toB = next<[string]>(b, 'broadcasted');
    const toC = next<[string]>(c, 'broadcasted');
    const notA = nothing(a, 'broadcasted');
    a.emit('broadcast', 'hi all');
    expect(await toB).toEqual(['hi all']);
    expect(await toC).toEqual(['hi all']);
    await notA;

    const all = [a, b, c].map(socket => next<[number]>(socket, 'everyone'));
    server.io.emit('everyone', 42);
    for (const received of all) expect(await received).toEqual([42]);
  });

  it('collects every client’s ack of a broadcast (io.timeout().emitWithAck()), and times out on a silent one', async () => {
    const sockets = await Promise.all([client(), client(), client()]);
    sockets.forEach((socket, i) => socket.on('poll', (ack: (v: number) => void) => ack(i)));
    const answers = (await server.io.timeout(3_000).emitWithAck('poll')) as number[];
    expect([...answers].sort()).toEqual([0, 1, 2]);

    // Binary acks come back whole.
    sockets.forEach(socket => {
      socket.off('poll');
      socket.on('poll', (ack: (v: Buffer) => void) => ack(Buffer.from(socket.id as string)));
    });
    const binary = (await server.io.timeout(3_000).emitWithAck('poll')) as Buffer[];
    expect(binary.map(b => Buffer.from(b).toString()).sort()).toEqual(
      sockets.map(s => s.id as string).sort(),
    );

    const silent = await client();
    silent.on('poll', () => undefined);
    await expect(server.io.timeout(500).emitWithAck('poll')).rejects.toThrow(/timed out/);
  });

  it('keeps a second namespace apart: its sockets, its emits', async () => {
    const main = await client();
    const admin = socketIoClient(emulator.endpoint, HUB, transports, {
      namespace: '/admin',
    });
    clients.push(admin);
    const welcome = next<[string]>(admin, 'admin-welcome');
    await connected(admin);
    expect(await welcome).toEqual(['/admin']);

    const toAdmin = next<[string]>(admin, 'news');
    const notMain = nothing(main, 'news');
    server.io.of('/admin').emit('news', 'admins only');
    expect(await toAdmin).toEqual(['admins only']);
    await notMain;
  });

  it('ends a socket the server disconnects (reason "io server disconnect")', async () => {
    const socket = await client();
    const gone = next<[string]>(socket, 'disconnect');
    socket.emit('kick-me');
    expect(await gone).toEqual(['io server disconnect', undefined]);
  });

  it('tells the server when a client disconnects', async () => {
    const socket = await client();
    const serverSocket = server.io.sockets.sockets.get(socket.id as string) as ServerSocket;
    const gone = next<[string]>(serverSocket, 'disconnect');
    socket.disconnect();
    expect((await gone)[0]).toMatch(/client namespace disconnect|transport close/);
  });

  it('refuses a connection the server’s middleware refuses (connect_error with its message)', async () => {
    const socket = socketIoClient(emulator.endpoint, HUB, transports, { auth: { refuse: true } });
    clients.push(socket);
    await expect(connected(socket)).rejects.toThrow('refused by the app');
  });
});
