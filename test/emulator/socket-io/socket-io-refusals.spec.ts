/**
 * The emulator's Socket.IO mode answers what it does not accept, and never leaves a client or a
 * Socket.IO server waiting: Engine.IO refusals (protocol 3, unknown transport or sid, a malformed
 * payload) as engine.io's `{"code","message"}`, client tokens (the service's audience, a hub that
 * denies anonymous clients, no server connected), the tunnel's token and frames, clients ended
 * when their server's tunnel goes, and the traffic log. REST calls through the tunnel that it
 * refuses are in `tunnel-rest-errors.spec.ts`.
 */
import { WebPubSubServiceClient } from '@azure/web-pubsub';
import { request } from 'node:http';
import WebSocket from 'ws';
import { signRestToken } from '../../../lib/protocol/client-access-token.js';
import { startEmulator, type RunningEmulator } from '../../../lib/emulator/index.js';
import { MAX_EIO_PAYLOAD_BYTES } from '../../../lib/emulator/socket-io/eio-endpoint.js';
import { TunnelMessageType } from '../../../lib/emulator/socket-io/tunnel-frame.js';
import {
  connected,
  next,
  socketIoClient,
  startSocketIoServer,
  type SocketIoServer,
} from '../../utils/socket-io.js';
import { rawTunnel } from '../../utils/socket-io-tunnel.js';

const HUB = 'chat';

async function get(url: string): Promise<{ status: number; body: any }> {
  const response = await fetch(url);
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // plain text
  }
  return { status: response.status, body };
}

/** POSTs `pieces` pieces of `size` bytes, stopping when the answer comes (or the socket ends). */
function rawPost(
  url: string,
  headers: Record<string, string>,
  pieces: number,
  size: number,
): Promise<{ status: number; connection?: string; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers });
    let answered = false;
    req.on('response', res => {
      answered = true;
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          connection: res.headers.connection,
          body: JSON.parse(text),
        }),
      );
    });
    req.on('error', error => (answered ? undefined : reject(error)));
    const piece = Buffer.alloc(size, 'x');
    let sent = 0;
    const write = (): void => {
      while (!answered && sent < pieces) {
        sent++;
        if (!req.write(piece)) {
          req.once('drain', write);
          return;
        }
      }
      req.end();
    };
    write();
  });
}

describe('Socket.IO on the emulator: refusals and endings', () => {
  let emulator: RunningEmulator;
  let server: SocketIoServer;
  const records: { kind: string; action: string; subprotocol?: string; status?: number }[] = [];

  beforeAll(async () => {
    emulator = await startEmulator({
      port: 0,
      log: () => undefined,
      hubs: { locked: { anonymousConnectPolicy: 'deny' } },
    });
    emulator.traffic.subscribe(record => records.push(record));
    server = await startSocketIoServer(emulator.connectionString, HUB);
  });

  afterAll(async () => {
    await server.close();
    await emulator.close();
  });

  const base = () => `${emulator.endpoint}/clients/socketio/hubs/${HUB}/`;

  it('answers Engine.IO refusals as engine.io does: protocol 3, unknown transport, unknown sid', async () => {
    expect(await get(`${base()}?EIO=3&transport=polling`)).toEqual({
      status: 400,
      body: { code: 5, message: 'Unsupported protocol version' },
    });
    expect(await get(`${base()}?EIO=4&transport=carrier-pigeon`)).toEqual({
      status: 400,
      body: { code: 0, message: 'Transport unknown' },
    });
    expect(await get(`${base()}?EIO=4&transport=polling&sid=nope`)).toEqual({
      status: 400,
      body: { code: 1, message: 'Session ID unknown' },
    });
    const bad = await get(
      `${emulator.endpoint}/clients/socketio/hubs/9bad/?EIO=4&transport=polling`,
    );
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/"9bad" is not a valid hub name/);
  });

  it('ends a long-polling connection that posts a malformed payload (400), and its server hears of it', async () => {
    const open = await get(`${base()}?EIO=4&transport=polling`);
    expect(open.status).toBe(200);
    const { sid, upgrades } = JSON.parse(String(open.body).slice(1));
    expect(upgrades).toEqual(['websocket']);
    const response = await fetch(`${base()}?EIO=4&transport=polling&sid=${sid}`, {
      method: 'POST',
      body: 'Zgarbage',
    });
    expect(response.status).toBe(400);
    await response.text();
    await new Promise(resolve => setTimeout(resolve, 100));
    expect(emulator.hubs.connectionExists(HUB, sid)).toBe(false);
  });

  it.each([
    ['declared', { 'content-length': String(MAX_EIO_PAYLOAD_BYTES + 1) }],
    ['chunked', { 'transfer-encoding': 'chunked' }],
  ])(
    `answers a long-polling POST over %s ${MAX_EIO_PAYLOAD_BYTES} bytes with 413 and engine.io JSON, the rest thrown away; exactly the limit is read`,
    async (_form, headers) => {
      const open = await get(`${base()}?EIO=4&transport=polling`);
      const { sid } = JSON.parse(String(open.body).slice(1));
      const url = `${base()}?EIO=4&transport=polling&sid=${sid}`;
      // 8 MB sent in 64 KB pieces: the answer comes, nothing hangs, nothing is kept.
      const over = await rawPost(url, headers, 128, 64 * 1024);
      expect(over).toEqual({
        status: 413,
        connection: 'close',
        body: { code: 3, message: `the payload is larger than ${MAX_EIO_PAYLOAD_BYTES} bytes` },
      });
      // A payload of exactly the limit (noop packets) is read.
      const exact = '66' + '\x1e6'.repeat((MAX_EIO_PAYLOAD_BYTES - 2) / 2);
      expect(Buffer.byteLength(exact)).toBe(MAX_EIO_PAYLOAD_BYTES);
      const atLimit = await fetch(url, { method: 'POST', body: exact });
      expect([atLimit.status, await atLimit.text()]).toEqual([200, 'ok']);
      // The connection is closed (Engine.IO close packet), leaving the hub as it was.
      await fetch(url, { method: 'POST', body: '1' }).then(response => response.text());
      for (let i = 0; i < 50 && emulator.hubs.connectionExists(HUB, sid); i++) {
        await new Promise(resolve => setTimeout(resolve, 20));
      }
      expect(emulator.hubs.connectionExists(HUB, sid)).toBe(false);
    },
  );

  it('takes the tokens @azure/web-pubsub signs for socketio clients, and refuses a foreign one', async () => {
    const service = new WebPubSubServiceClient(emulator.connectionString, HUB);
    const { token } = await service.getClientAccessToken({
      clientProtocol: 'socketio',
      userId: 'ana',
    });
    const serverSide = next<[any]>(server.io, 'connection');
    const socket = socketIoClient(emulator.endpoint, HUB, ['websocket'], {
      query: { access_token: token },
    });
    await connected(socket);
    const [serverSocket] = await serverSide;
    // The service passes the token's claims as lists; the SDK puts them on the handshake request.
    expect(serverSocket.request.claims.sub).toEqual(['ana']);
    socket.disconnect();

    // :generateToken?clientType=SocketIO (what the SDK calls with a TokenCredential).
    const generate = `${emulator.endpoint}/api/hubs/${HUB}/:generateToken?clientType=SocketIO&userId=bo`;
    const bearer = await signRestToken({ url: generate, accessKey: emulator.accessKey });
    const generated = await fetch(generate, {
      method: 'POST',
      headers: { authorization: `Bearer ${bearer}` },
    });
    expect(generated.status).toBe(200);
    const bo = socketIoClient(emulator.endpoint, HUB, ['polling'], {
      query: { access_token: ((await generated.json()) as { token: string }).token },
    });
    await connected(bo);
    bo.disconnect();

    const foreign = new WebPubSubServiceClient(
      emulator.connectionString.replace(emulator.accessKey, 'x'.repeat(44)),
      HUB,
    );
    const wrong = await foreign.getClientAccessToken({ clientProtocol: 'socketio' });
    const refused = socketIoClient(emulator.endpoint, HUB, ['polling'], {
      query: { access_token: wrong.token },
    });
    await expect(connected(refused)).rejects.toThrow();
    const answer = await get(`${base()}?EIO=4&transport=polling&access_token=${wrong.token}`);
    expect(answer.status).toBe(401);
    expect(answer.body.message).toMatch(/signature/);
  });

  it('refuses a client without a token where the hub denies anonymous clients, and any client of a hub no server serves', async () => {
    const locked = await get(
      `${emulator.endpoint}/clients/socketio/hubs/locked/?EIO=4&transport=polling`,
    );
    expect(locked.status).toBe(401);
    const empty = await get(
      `${emulator.endpoint}/clients/socketio/hubs/nobody/?EIO=4&transport=polling`,
    );
    expect(empty.status).toBe(503);
    expect(empty.body.message).toMatch(/no Socket.IO server is connected to hub "nobody"/);
    const socket = socketIoClient(emulator.endpoint, 'nobody', ['websocket']);
    await expect(connected(socket)).rejects.toThrow();
  });

  it('refuses a tunnel without a token or with one for another URL', async () => {
    const url = `${emulator.endpoint.replace('http', 'ws')}/server/tunnel?hub=${HUB}`;
    const statusOf = (target: string) =>
      new Promise<number>(resolve => {
        const ws = new WebSocket(target);
        ws.once('unexpected-response', (_req, res) => {
          resolve(res.statusCode ?? 0);
          res.resume();
        });
        ws.once('open', () => {
          ws.close();
          resolve(101);
        });
        ws.once('error', () => undefined);
      });
    expect(await statusOf(url)).toBe(401);
    const otherHub = await signRestToken({
      url: url.replace(`hub=${HUB}`, 'hub=other'),
      accessKey: emulator.accessKey,
    });
    expect(await statusOf(`${url}&access_token=${otherHub}`)).toBe(401);
    const good = await signRestToken({ url, accessKey: emulator.accessKey });
    expect(await statusOf(`${url}&access_token=${good}`)).toBe(101);
  });

  it('greets a tunnel with ConnectionConnected and closes it on frames it cannot read', async () => {
    const tunnel = await rawTunnel(emulator, 'rawhub');
    await new Promise(resolve => setTimeout(resolve, 100));
    expect(tunnel.frames[0].type).toBe(TunnelMessageType.ConnectionConnected);
    const closed = new Promise<number>(resolve => tunnel.ws.once('close', code => resolve(code)));
    tunnel.ws.send('text is not a tunnel frame');
    expect(await closed).toBe(1003);

    const second = await rawTunnel(emulator, 'rawhub');
    const closedAgain = new Promise<number>(resolve =>
      second.ws.once('close', code => resolve(code)),
    );
    second.ws.send(Buffer.from([9, 0, 0, 0, 1, 2, 3]));
    expect(await closedAgain).toBe(1007);
  });

  it('shows Socket.IO connections in the live view with their namespaces and rooms', async () => {
    server.io.once('connection', socket => void socket.join('lobby'));
    const socket = socketIoClient(emulator.endpoint, HUB, ['websocket']);
    await connected(socket);
    await new Promise(resolve => setTimeout(resolve, 200));
    const controller = new AbortController();
    const feed = await fetch(`${emulator.endpoint}/_emulator/feed`, { signal: controller.signal });
    const reader = (feed.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    const deadline = Date.now() + 5_000;
    while (
      !/event: connections\ndata: [^\n]*room lobby in \//.test(text) &&
      Date.now() < deadline
    ) {
      const { value, done } = await reader.read();
      if (done) break;
      text += Buffer.from(value).toString('utf8');
    }
    controller.abort();
    const line = /event: connections\ndata: ([^\n]*)/.exec(text)?.[1] as string;
    const hub = (JSON.parse(line).hubs as { name: string; connections: any[] }[]).find(
      h => h.name === HUB,
    );
    const shown = hub?.connections.find(c => c.subprotocol === 'socket.io');
    expect(shown.groups).toEqual(expect.arrayContaining(['namespace /', 'room lobby in /']));
    socket.disconnect();
  });

  it('ends the clients of a hub when its last tunnel closes, and records Socket.IO traffic', async () => {
    const own = await startSocketIoServer(emulator.connectionString, 'solo');
    const socket = socketIoClient(emulator.endpoint, 'solo', ['websocket'], {});
    await connected(socket);
    const gone = next<[string]>(socket, 'disconnect');
    await own.close();
    expect((await gone)[0]).toMatch(/transport close|io server disconnect/);
    expect(records).toContainEqual(
      expect.objectContaining({
        kind: 'connection',
        action: 'connected',
        subprotocol: 'socket.io',
      }),
    );
    expect(records).toContainEqual(
      expect.objectContaining({ kind: 'upstream', action: 'connect', subprotocol: 'socket.io' }),
    );
    expect(records).toContainEqual(
      expect.objectContaining({ kind: 'rest', action: expect.stringMatching(/^socket.io POST/) }),
    );
  });
});
