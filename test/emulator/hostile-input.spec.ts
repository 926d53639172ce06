/**
 * One test per hostile input the emulator once mishandled (listed in CHANGELOG.md): the emulator
 * under one hostile input stays up, answers what the protocol owes (a close code, an ack error, a
 * 4xx with a JSON body, an MQTT reason code) and keeps nothing of a client that has gone:
 * 1. JSON nested far deeper than the limit (5,000 levels) in a client frame, an upstream's answer
 *    and a REST body, and 100,000 levels in an MQTT payload (delivered to JSON members as text);
 * 2. `constructor` / `__proto__` as OData filter functions, content types, query parameters and
 *    headers;
 * 3. MQTT packets batched in one frame and split across frames, SUBSCRIBE/UNSUBSCRIBE without
 *    filters, topics that are not UTF-8, packet id 0, Receive Maximum 0, a malformed packet before
 *    CONNACK;
 * 4. stalled REST headers and bodies answered 408 with a JSON body, stalled sockets over the
 *    per-client limit answered 429 while other clients are served;
 * 5. the connection state left clean on every exit path;
 * and the command-line emulator stays up after the deep frame of 1. Each test was seen failing with
 * its fix taken out.
 */
import { startEmulator, type RunningEmulator } from '../../lib/emulator/index.js';
import { MAX_JSON_DEPTH } from '../../lib/protocol/json-depth.js';
import {
  nestedJson,
  rawPublish,
  rawSocket,
  rawSubscribe,
  readAnswer,
  restCall,
  RawMqtt,
} from '../utils/hostile.js';
import { sleep, waitFor } from '../utils/wait.js';
import {
  clientUrl,
  FAST_TIMINGS,
  LogLines,
  RawClient,
  recordingUpstream,
  type UpstreamAnswer,
  type UpstreamRequest,
} from './harness.js';
import { WebPubSubServiceClient } from '@azure/web-pubsub';
import { bundleBin, spawnBin } from '../utils/bin.js';

const ROLES = ['webpubsub.joinLeaveGroup', 'webpubsub.sendToGroup'];
const JSON_PROTOCOL = 'json.webpubsub.azure.v1';

describe('the emulator under hostile input', () => {
  let emulator: RunningEmulator;
  let upstream: Awaited<ReturnType<typeof recordingUpstream>>;
  let logs: LogLines;
  let answer: (request: UpstreamRequest) => UpstreamAnswer | Promise<UpstreamAnswer>;
  const opened: { close(): void }[] = [];

  beforeEach(async () => {
    logs = new LogLines();
    answer = () => ({ status: 204 });
    upstream = await recordingUpstream(request => answer(request));
    emulator = await startEmulator({
      port: 0,
      log: logs.log,
      timings: {
        ...FAST_TIMINGS,
        requestHeadersTimeoutMs: 600,
        requestBodyGracePeriodMs: 400,
        requestStalledAfterMs: 200,
        maxStalledRequestsPerClient: 4,
      },
      hubs: {
        chat: {
          eventHandlers: [
            {
              urlTemplate: `${upstream.url}/{event}`,
              userEventPattern: '*',
              systemEvents: ['connected', 'disconnected'],
            },
          ],
        },
      },
    });
  });

  afterEach(async () => {
    for (const client of opened.splice(0)) client.close();
    await emulator.close();
    await upstream.close();
  });

  async function jsonClient(userId: string, roles = ROLES): Promise<RawClient & { id: string }> {
    const raw = new RawClient(
      await clientUrl(emulator.connectionString, 'chat', { userId, roles }),
      JSON_PROTOCOL,
    );
    opened.push({ close: () => raw.ws.terminate() });
    await raw.opened;
    await waitFor(() => raw.messages().some(m => m.event === 'connected'));
    const id = raw.messages().find(m => m.event === 'connected').connectionId as string;
    return Object.assign(raw, { id });
  }

  /** A client that is served in order: its ping gets a pong after everything sent before. */
  async function stillServed(raw: RawClient): Promise<void> {
    const before = raw.messages().filter(m => m.type === 'pong').length;
    raw.send({ type: 'ping' });
    await waitFor(() => raw.messages().filter(m => m.type === 'pong').length > before, 3000);
  }

  describe('1. JSON nested deeper than the limit', () => {
    for (const type of ['sendToGroup', 'event'] as const) {
      it(`a ${type} whose data nests 5,000 deep closes that client with 1007 and leaves no trace of it; others are served`, async () => {
        const control = await jsonClient('control');
        const hostile = await jsonClient('hostile');
        control.send({ type: 'joinGroup', group: 'g', ackId: 1 });
        const frame =
          type === 'sendToGroup'
            ? `{"type":"sendToGroup","group":"g","ackId":1,"dataType":"json","data":${nestedJson(5000)}}`
            : `{"type":"event","event":"e","ackId":1,"dataType":"json","data":${nestedJson(5000)}}`;
        hostile.send(frame);
        const closed = await hostile.done;
        expect(closed.code).toBe(1007);
        expect(closed.reason).toContain(`deeper than ${MAX_JSON_DEPTH}`);
        await waitFor(() => !emulator.hubs.connectionExists('chat', hostile.id));
        await waitFor(() =>
          upstream.events('disconnected').some(r => r.headers['ce-connectionid'] === hostile.id),
        );
        await stillServed(control);
        expect(control.messages().filter(m => m.type === 'message')).toEqual([]);
      });
    }

    it('data just inside the limit is delivered as JSON', async () => {
      const control = await jsonClient('control');
      control.send({ type: 'joinGroup', group: 'g', ackId: 1 });
      await waitFor(() => control.messages().some(m => m.type === 'ack'));
      const depth = MAX_JSON_DEPTH - 2; // the frame and its data object count too
      control.send(
        `{"type":"sendToGroup","group":"g","dataType":"json","data":${nestedJson(depth)}}`,
      );
      await waitFor(() => control.messages().some(m => m.type === 'message'));
      expect(JSON.stringify(control.messages().find(m => m.type === 'message').data)).toBe(
        nestedJson(depth),
      );
    });

    it("an upstream's JSON answer nested 5,000 deep: an InternalServerError ack naming the problem, the connection kept", async () => {
      answer = request =>
        request.url.endsWith('/e')
          ? {
              status: 200,
              headers: { 'content-type': 'application/json' },
              body: nestedJson(5000),
            }
          : { status: 204 };
      const client = await jsonClient('u');
      client.send({ type: 'event', event: 'e', ackId: 7, dataType: 'text', data: 'hi' });
      await waitFor(() => client.messages().some(m => m.type === 'ack'), 5000);
      expect(client.messages().find(m => m.type === 'ack')).toEqual({
        type: 'ack',
        ackId: 7,
        success: false,
        error: {
          name: 'InternalServerError',
          message: expect.stringContaining(`deeper than ${MAX_JSON_DEPTH}`),
        },
      });
      await stillServed(client);
      expect(emulator.hubs.connectionExists('chat', client.id)).toBe(true);
    });

    it('a REST :send body nested 5,000 deep with clients connected: 400 with a JSON body naming the problem', async () => {
      const client = await jsonClient('u');
      const answered = await restCall(emulator.port, emulator.accessKey, {
        method: 'POST',
        path: '/api/hubs/chat/:send?api-version=2024-12-01',
        headers: { 'content-type': 'application/json' },
        body: nestedJson(5000),
      });
      expect(answered.status).toBe(400);
      expect(answered.headers['content-type']).toMatch(/json/);
      expect(JSON.stringify(JSON.parse(answered.body))).toContain(`deeper than ${MAX_JSON_DEPTH}`);
      await stillServed(client);
      expect(client.messages().filter(m => m.type === 'message')).toEqual([]);
    });

    it('an MQTT JSON payload nested 100,000 deep reaches JSON members as text; the publisher gets its PUBACK', async () => {
      const member = await jsonClient('member');
      member.send({ type: 'joinGroup', group: 'g', ackId: 1 });
      await waitFor(() => member.messages().some(m => m.type === 'ack'));
      const device = await mqttClient(5, 'pub');
      const payload = Buffer.from(nestedJson(100_000));
      device.send(
        device.encode({
          cmd: 'publish',
          topic: 'g',
          qos: 1,
          messageId: 9,
          payload,
          dup: false,
          retain: false,
          properties: { contentType: 'application/json' },
        } as any),
      );
      await device.packet(p => p.cmd === 'puback' && p.messageId === 9);
      await waitFor(() => member.messages().some(m => m.type === 'message'));
      const message = member.messages().find(m => m.type === 'message');
      expect(message.dataType).toBe('text');
      expect(message.data).toBe(payload.toString());
    });
  });

  describe('2. names looked up in tables', () => {
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      it(`a filter calling ${name}() is a 400 on :send, :addToGroups and :removeFromGroups`, async () => {
        const filter = `${name}(userId) eq 'a'`;
        const calls = [
          {
            path: `/api/hubs/chat/:send?api-version=2024-12-01&filter=${encodeURIComponent(filter)}`,
            headers: { 'content-type': 'text/plain' },
            body: 'x',
          },
          {
            path: '/api/hubs/chat/:addToGroups?api-version=2024-12-01',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ groups: ['g'], filter }),
          },
          {
            path: '/api/hubs/chat/:removeFromGroups?api-version=2024-12-01',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ groups: ['g'], filter: `${name}()` }),
          },
        ];
        for (const call of calls) {
          const answered = await restCall(emulator.port, emulator.accessKey, {
            method: 'POST',
            ...call,
          });
          expect(answered.status).toBe(400);
          expect(JSON.stringify(JSON.parse(answered.body))).toMatch(/unknown function/);
        }
      });

      it(`Content-Type ${name} is a 415 naming it`, async () => {
        const client = await jsonClient('u');
        const answered = await restCall(emulator.port, emulator.accessKey, {
          method: 'POST',
          path: '/api/hubs/chat/:send?api-version=2024-12-01',
          headers: { 'content-type': name },
          body: '"x"',
        });
        expect(answered.status).toBe(415);
        // Media types are case-insensitive: the answer names it in lower case.
        expect(JSON.stringify(JSON.parse(answered.body))).toContain(name.toLowerCase());
        await stillServed(client);
        expect(client.messages().filter(m => m.type === 'message')).toEqual([]);
      });
    }

    it('query parameters and headers named like Object members reach the connect event as they are', async () => {
      upstream.close();
      const connectAnswers: UpstreamRequest[] = [];
      const connectUpstream = await recordingUpstream(request => {
        connectAnswers.push(request);
        return { status: 204 };
      });
      const other = await startEmulator({
        port: 0,
        log: () => undefined,
        timings: FAST_TIMINGS,
        hubs: {
          chat: {
            eventHandlers: [
              { urlTemplate: `${connectUpstream.url}/{event}`, systemEvents: ['connect'] },
            ],
          },
        },
      });
      try {
        const url = await clientUrl(other.connectionString, 'chat', { userId: 'u' });
        const raw = new RawClient(
          `${url}&constructor=1&__proto__=2&toString=3&hasOwnProperty=4`,
          JSON_PROTOCOL,
          { constructor: 'c', __proto__: 'p' } as Record<string, string>,
        );
        opened.push({ close: () => raw.ws.terminate() });
        await raw.opened;
        const body = JSON.parse(
          connectAnswers.find(r => r.url.endsWith('/connect'))!.body.toString(),
        );
        expect(body.query).toMatchObject({
          constructor: ['1'],
          toString: ['3'],
          hasOwnProperty: ['4'],
        });
        expect(Object.getOwnPropertyDescriptor(body.query, '__proto__')?.value).toEqual(['2']);
        expect(body.headers).toMatchObject({ constructor: ['c'] });
      } finally {
        await other.close();
        await connectUpstream.close();
      }
    });
  });

  async function mqttClient(version: 4 | 5, clientId: string, roles = ROLES): Promise<RawMqtt> {
    const service = new WebPubSubServiceClient(emulator.connectionString, 'chat');
    const { url } = await service.getClientAccessToken({ roles, clientProtocol: 'mqtt' });
    const device = new RawMqtt(url, version);
    opened.push(device);
    await device.opened;
    device.send(device.encode(device.connectPacket(clientId)));
    await device.packet(p => p.cmd === 'connack');
    return device;
  }

  describe('3. MQTT packets', () => {
    for (const version of [4, 5] as const) {
      it(`MQTT ${version === 5 ? '5.0' : '3.1.1'}: CONNECT, SUBSCRIBE and PINGREQ in one frame each get their answer`, async () => {
        const service = new WebPubSubServiceClient(emulator.connectionString, 'chat');
        const { url } = await service.getClientAccessToken({
          roles: ROLES,
          clientProtocol: 'mqtt',
        });
        const device = new RawMqtt(url, version);
        opened.push(device);
        await device.opened;
        device.send(
          device.encode(
            device.connectPacket('one'),
            { cmd: 'subscribe', messageId: 3, subscriptions: [{ topic: 'g', qos: 1 }] } as any,
            { cmd: 'pingreq' },
          ),
        );
        await device.packet(p => p.cmd === 'suback');
        await device.packet(p => p.cmd === 'pingresp');
        // PINGREQ is answered at once; SUBSCRIBE in its turn with PUBLISH and UNSUBSCRIBE.
        expect(device.packets.map(p => p.cmd).sort()).toEqual(['connack', 'pingresp', 'suback']);
        expect(device.packets[0].cmd).toBe('connack');
        expect(device.packets.find(p => p.cmd === 'suback')).toMatchObject({
          messageId: 3,
          granted: [1],
        });
      });

      it(`MQTT ${version === 5 ? '5.0' : '3.1.1'}: packets split across frames, and a frame ending inside a packet, are read`, async () => {
        const device = await mqttClient(version, 'split');
        const bytes = device.encode(
          { cmd: 'subscribe', messageId: 4, subscriptions: [{ topic: 'g', qos: 0 }] } as any,
          { cmd: 'pingreq' },
          { cmd: 'unsubscribe', messageId: 5, unsubscriptions: ['g'] } as any,
        );
        for (const cut of [1, 3, 9, bytes.length - 1]) {
          device.send(bytes.subarray(0, cut));
          await sleep(20);
          device.send(bytes.subarray(cut));
          await device.packet(p => p.cmd === 'unsuback');
          await device.packet(p => p.cmd === 'pingresp');
          const answers = device.packets.slice(1).map(p => p.cmd);
          expect(answers.filter(cmd => cmd !== 'pingresp')).toEqual(['suback', 'unsuback']);
          expect(answers.filter(cmd => cmd === 'pingresp')).toHaveLength(1);
          device.packets.splice(1);
        }
      });

      for (const kind of ['subscribe', 'unsubscribe'] as const) {
        it(`MQTT ${version === 5 ? '5.0' : '3.1.1'}: ${kind.toUpperCase()} without a topic filter closes the connection (${version === 5 ? 'DISCONNECT 0x82' : 'no packet'})`, async () => {
          const device = await mqttClient(version, `empty${kind}`);
          device.send(rawSubscribe(kind, 6, [], version));
          await closedInTime(device);
          expectDisconnect(device, version, 0x82);
          await waitFor(() => !emulator.hubs.connectionExists('chat', `empty${kind}`));
        });
      }

      it(`MQTT ${version === 5 ? '5.0' : '3.1.1'}: a PUBLISH topic that is not UTF-8 closes the connection (${version === 5 ? '0x81' : 'no packet'}) and reaches nobody`, async () => {
        const member = await jsonClient('member');
        member.send({ type: 'joinGroup', group: '\ufffd(', ackId: 1 });
        await waitFor(() => member.messages().some(m => m.type === 'ack'));
        const device = await mqttClient(version, 'badutf');
        device.send(
          rawPublish(Buffer.from([0xc3, 0x28]), Buffer.from('x'), { protocolVersion: version }),
        );
        await closedInTime(device);
        expectDisconnect(device, version, 0x81);
        await stillServed(member);
        expect(member.messages().filter(m => m.type === 'message')).toEqual([]);
      });

      it(`MQTT ${version === 5 ? '5.0' : '3.1.1'}: a SUBSCRIBE topic filter that is not UTF-8 closes the connection`, async () => {
        const device = await mqttClient(version, 'badfilter');
        device.send(rawSubscribe('subscribe', 2, [Buffer.from([0xff, 0x61])], version));
        await closedInTime(device);
        expectDisconnect(device, version, 0x81);
        expect(device.packets.some(p => p.cmd === 'suback')).toBe(false);
      });

      for (const qos of [1, 2]) {
        it(`MQTT ${version === 5 ? '5.0' : '3.1.1'}: QoS ${qos} with packet id 0 is not acknowledged; the connection closes`, async () => {
          const device = await mqttClient(version, `zero${qos}`);
          device.send(
            rawPublish(Buffer.from('g'), Buffer.from('x'), {
              qos,
              messageId: 0,
              protocolVersion: version,
            }),
          );
          await closedInTime(device);
          expectDisconnect(device, version, 0x82);
          expect(device.packets.some(p => p.cmd === 'puback' || p.cmd === 'pubrec')).toBe(false);
        });
      }

      it(`MQTT ${version === 5 ? '5.0' : '3.1.1'}: SUBSCRIBE with packet id 0 closes the connection`, async () => {
        const device = await mqttClient(version, 'subzero');
        device.send(rawSubscribe('subscribe', 0, [Buffer.from('g')], version));
        await closedInTime(device);
        expectDisconnect(device, version, 0x82);
      });
    }

    it('MQTT 5.0: CONNECT with Receive Maximum 0 is refused with CONNACK 0x82 and closed', async () => {
      const service = new WebPubSubServiceClient(emulator.connectionString, 'chat');
      const { url } = await service.getClientAccessToken({ roles: ROLES, clientProtocol: 'mqtt' });
      const device = new RawMqtt(url, 5);
      opened.push(device);
      await device.opened;
      device.send(device.encode(device.connectPacket('rm0', { receiveMaximum: 0 })));
      await closedInTime(device);
      expect(device.packets.map(p => p.cmd)).toEqual(['connack']);
      expect(device.packets[0].reasonCode).toBe(0x82);
      expect(emulator.hubs.connectionExists('chat', 'rm0')).toBe(false);
    });

    it('MQTT 5.0: a malformed packet before CONNACK gets CONNACK 0x81, never a DISCONNECT', async () => {
      const service = new WebPubSubServiceClient(emulator.connectionString, 'chat');
      const { url } = await service.getClientAccessToken({ roles: ROLES, clientProtocol: 'mqtt' });
      const device = new RawMqtt(url, 5);
      opened.push(device);
      await device.opened;
      const connect = device.encode(device.connectPacket('bad'));
      connect[connect.length - 1] = 0xff; // the client id's last byte: not UTF-8
      device.send(connect);
      await closedInTime(device);
      expect(device.packets.map(p => p.cmd)).toEqual(['connack']);
      expect(device.packets[0].reasonCode).toBe(0x81);
    });
  });

  /** The client's connection closes within 3 s (an answer owed is never waited for longer). */
  function closedInTime(device: RawMqtt): Promise<number> {
    return Promise.race([
      device.closed,
      sleep(3000).then(() => {
        throw new Error('the connection is still open after 3 s');
      }),
    ]);
  }

  function expectDisconnect(device: RawMqtt, version: 4 | 5, code: number): void {
    const last = device.packets[device.packets.length - 1];
    if (version === 5) expect(last).toMatchObject({ cmd: 'disconnect', reasonCode: code });
    else expect(last?.cmd).not.toBe('disconnect');
  }

  describe('4. REST requests that stall', () => {
    it('headers that stall are answered 408 with a JSON body within the header timeout', async () => {
      const socket = await rawSocket(emulator.port);
      const answered = readAnswer(socket);
      socket.write('POST /api/hubs/chat/:send HTTP/1.1\r\nHost: x\r\nContent-Ty');
      const result = await answered;
      expect(result.status).toBe(408);
      expect(JSON.parse(result.body)).toMatchObject({ message: expect.stringMatching(/headers/) });
      expect(result.afterMs).toBeLessThan(2500);
    });

    it('a body that stalls after 9 of 1,000 bytes is answered 408 with a JSON body and the socket closed', async () => {
      const client = await jsonClient('u');
      const socket = await rawSocket(emulator.port);
      const answered = readAnswer(socket);
      const { restToken } = await import('../utils/hostile.js');
      const path = '/api/hubs/chat/:send?api-version=2024-12-01';
      const token = await restToken(`http://127.0.0.1:${emulator.port}${path}`, emulator.accessKey);
      socket.write(
        `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1:${emulator.port}\r\nAuthorization: Bearer ${token}\r\n` +
          'Content-Type: text/plain\r\nContent-Length: 1000\r\n\r\n123456789',
      );
      const result = await answered;
      expect(result.status).toBe(408);
      expect(JSON.parse(result.body)).toMatchObject({ message: expect.stringMatching(/body/) });
      expect(result.afterMs).toBeLessThan(3000);
      await stillServed(client);
      expect(client.messages().filter(m => m.type === 'message')).toEqual([]);
    });

    it('stalled sockets count against a per-client limit: one more from that client is refused 429; other clients are served', async () => {
      const stalled = await Promise.all(
        Array.from({ length: 4 }, async () => {
          const socket = await rawSocket(emulator.port, '127.0.0.2');
          socket.write('GET /api/health HTTP/1.1\r\nHo');
          return socket;
        }),
      );
      opened.push(...stalled.map(socket => ({ close: () => socket.destroy() })));
      await sleep(300);
      const refused = await restCall(emulator.port, emulator.accessKey, {
        method: 'HEAD',
        path: '/api/health',
        localAddress: '127.0.0.2',
      });
      expect(refused.status).toBe(429);
      expect(refused.headers['retry-after']).toBeDefined();
      const other = await restCall(emulator.port, emulator.accessKey, {
        method: 'HEAD',
        path: '/api/health',
      });
      expect(other.status).toBe(200);
      // Once the stalled ones are cut (408), that client is served again.
      await sleep(800);
      const later = await restCall(emulator.port, emulator.accessKey, {
        method: 'HEAD',
        path: '/api/health',
        localAddress: '127.0.0.2',
      });
      expect(later.status).toBe(200);
    });
  });

  describe('5. connection state on every exit path', () => {
    it('a client closed while its event waits for the upstream and one that sent a malformed frame leave nothing', async () => {
      let release: () => void = () => undefined;
      answer = request =>
        request.url.endsWith('/slow')
          ? new Promise<UpstreamAnswer>(resolve => (release = () => resolve({ status: 204 })))
          : { status: 204 };
      const midEvent = await jsonClient('mid');
      midEvent.send({ type: 'event', event: 'slow', ackId: 1, dataType: 'text', data: 'x' });
      await waitFor(() => upstream.events('slow').length === 1);
      midEvent.ws.close();
      const malformed = await jsonClient('bad');
      malformed.send('{"type":');
      await malformed.done;
      release();
      await waitFor(() => [...emulator.hubs.listConnections('chat')].length === 0);
    });
  });

  it('the command-line emulator stays up after the frame of finding 1, closes that client with 1007 and still serves', async () => {
    const bin = bundleBin();
    const running = spawnBin(bin.file, ['--port', '0', '--hub', `chat=${upstream.url}/{event}`]);
    try {
      const line = await running.line(/^Endpoint=/);
      const url = await clientUrl(line, 'chat', { userId: 'u', roles: ROLES });
      const hostile = new RawClient(url, JSON_PROTOCOL);
      opened.push({ close: () => hostile.ws.terminate() });
      await hostile.opened;
      hostile.send(
        `{"type":"sendToGroup","group":"g","ackId":1,"dataType":"json","data":${nestedJson(5000)}}`,
      );
      expect((await hostile.done).code).toBe(1007);
      const next = new RawClient(url, JSON_PROTOCOL);
      opened.push({ close: () => next.ws.terminate() });
      await next.opened;
      await stillServed(next);
      const endpoint = /^Endpoint=([^;]+);/.exec(line)![1];
      const health = await restCall(Number(new URL(endpoint).port), 'unused', {
        method: 'HEAD',
        path: '/api/health',
        signed: false,
      });
      expect(health.status).toBe(200);
      expect(running.child.exitCode).toBeNull();
      next.ws.close();
      running.child.kill('SIGTERM');
      expect(await running.exited).toBe(0);
    } finally {
      running.child.kill('SIGKILL');
      bin.remove();
    }
  });
});
