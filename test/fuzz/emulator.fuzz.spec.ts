/**
 * The emulator's robustness spec: seeded hostile input on every surface a client reaches (JSON,
 * reliable JSON, simple and MQTT 3.1.1 / 5.0 WebSocket clients, the REST data plane), all over
 * loopback against one emulator. For every input, the answer the protocol owes arrives within
 * DEADLINE_MS (3 s): an ack (success, or the error name), a pong, an echo, a close code (1003,
 * 1007, 1009), an MQTT answer or reason code (DISCONNECT 0x81 / 0x82 / 0x90 for MQTT 5), a REST
 * status (2xx, or a 4xx whose JSON body names the problem, 408 for stalled headers and bodies;
 * never a 5xx). Throughout, a control client sends to its group every 40 ms and must get each ack
 * and message in order within DEADLINE_MS. At the end: no uncaught exception, no connection left in
 * the state once the clients have gone, `close()` leaves no handle, and RSS grows by less than
 * RSS_BOUND_MB (96).
 *
 * Size: INPUTS per surface (40 in `npm test`; `npm run fuzz` sets FUZZ_RUNS, and this spec sends
 * FUZZ_RUNS / 20 per surface; EMULATOR_FUZZ_INPUTS overrides). Seed: FUZZ_SEED (default 20). Every
 * failure message names the seed and the input. The spec prints its figures (inputs and answers per
 * surface, control latency, RSS growth, time). A run at the `npm run fuzz` size (1,000 inputs per
 * surface, seed 20, on a busy 2-core machine) sent 5,000 inputs with 0 failures, 2,211 control
 * messages in order (worst 724 ms), RSS +43 MB, in 175 s.
 *
 * Seen failing with the JSON depth check, the MQTT close rules, the body deadline, the REST
 * content-type `Map` or the state removal taken out.
 */
import { jest } from '@jest/globals';
import { WebPubSubServiceClient } from '@azure/web-pubsub';
import { startEmulator, type RunningEmulator } from '../../lib/emulator/index.js';
import { MAX_JSON_DEPTH } from '../../lib/protocol/json-depth.js';
import {
  clientUrl,
  FAST_TIMINGS,
  newHandles,
  RawClient,
  recordingUpstream,
  type UpstreamRequest,
} from '../emulator/harness.js';
import { collectGarbage } from '../utils/leaks.js';
import {
  nestedJson,
  rawPublish,
  rawSocket,
  rawSubscribe,
  readAnswer,
  restCall,
  restToken,
  RawMqtt,
  type RawAnswer,
} from '../utils/hostile.js';
import { sleep, waitFor } from '../utils/wait.js';

const INPUTS = Number(
  process.env.EMULATOR_FUZZ_INPUTS ??
    (process.env.FUZZ_RUNS ? Math.ceil(Number(process.env.FUZZ_RUNS) / 20) : 40),
);
const SEED = Number(process.env.FUZZ_SEED ?? 20);
const DEADLINE_MS = 3000;
const RSS_BOUND_MB = 96;
/** Each surface's test may take this long (a longer `npm run fuzz` sends more inputs). */
const SURFACE_TIMEOUT_MS = 30_000 + INPUTS * 250;
const ROLES = ['webpubsub.joinLeaveGroup', 'webpubsub.sendToGroup'];
const JSON_PROTOCOL = 'json.webpubsub.azure.v1';
const RELIABLE_PROTOCOL = 'json.reliable.webpubsub.azure.v1';

/** mulberry32: a small seeded generator, so a failing run can be replayed. */
class Random {
  #state: number;
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }
  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  bytes(length: number): Buffer {
    const out = Buffer.alloc(length);
    for (let i = 0; i < length; i++) out[i] = this.int(0, 255);
    return out;
  }
  /** Text with ASCII, controls, Object member names, astral characters and lone surrogates. */
  text(max = 40): string {
    const parts = [
      () => String.fromCharCode(this.int(32, 126)),
      () => String.fromCharCode(this.int(0, 31)),
      () => this.pick(['__proto__', 'constructor', 'toString', 'prototype', 'hasOwnProperty']),
      () => this.pick(['é', '中', '😀', '\u202e', '\ufffd', '\ud800', '\udfff']),
      () => this.pick(['"', '\\', "'", '{', '[', '%', '+', '#', '/']),
    ];
    let text = '';
    const length = this.int(0, max);
    while (text.length < length) text += this.pick(parts)();
    return text;
  }
  /** A group name the service accepts (1 to 1024 characters, not only white space). */
  group(): string {
    const name = this.text(this.chance(0.05) ? 1024 : 30).slice(0, 1024);
    return name.trim() === '' ? `g${name}`.slice(0, 1024) : name;
  }
  /** A JSON value at most `depth` deep. */
  json(depth = 6): unknown {
    const kind = this.int(0, depth > 0 ? 6 : 3);
    switch (kind) {
      case 0:
        return null;
      case 1:
        return this.chance(0.5);
      case 2:
        return this.pick([0, -1, 1.5, 1e308, -0, 2 ** 53 + 1]);
      case 3:
        return this.text();
      case 4:
        return Array.from({ length: this.int(0, 4) }, () => this.json(depth - 1));
      default: {
        const object: Record<string, unknown> = {};
        for (let i = this.int(0, 4); i > 0; i--) object[this.text(8)] = this.json(depth - 1);
        return object;
      }
    }
  }
}

/** A path segment: percent-encoded, lone surrogates (which URLs cannot carry) replaced first. */
function segment(text: string): string {
  return encodeURIComponent(
    text.replace(
      /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g,
      '\ufffd',
    ),
  );
}

/** Resolves `promise`, or fails naming `what` after DEADLINE_MS. */
async function within<T>(promise: Promise<T>, what: string, ms = DEADLINE_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`seed ${SEED}: no answer within ${ms} ms to ${what}`)),
          ms,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** A 4xx body as the emulator owes it: JSON naming the problem (any of the fields readers use). */
function namesProblem(answer: RawAnswer): boolean {
  if (!/json/.test(answer.headers['content-type'] ?? '')) return false;
  try {
    const body = JSON.parse(answer.body) as Record<string, any>;
    const text = body.message ?? body.detail ?? body.title ?? body.error?.message;
    return typeof text === 'string' && text.length > 0 && !/\n\s+at /.test(answer.body);
  } catch {
    return false;
  }
}

interface Tally {
  sent: number;
  answers: Record<string, number>;
}

describe('emulator robustness (seeded hostile input on every surface)', () => {
  jest.setTimeout(SURFACE_TIMEOUT_MS);
  let emulator: RunningEmulator;
  let upstream: Awaited<ReturnType<typeof recordingUpstream>>;
  let handlesBefore: string[];
  let rssBefore: number;
  let uncaught = 0;
  const onUncaught = () => uncaught++;
  const tallies: Record<string, Tally> = {};
  const tally = (surface: string, answer: string) => {
    const entry = (tallies[surface] ??= { sent: 0, answers: {} });
    entry.sent++;
    entry.answers[answer] = (entry.answers[answer] ?? 0) + 1;
  };
  const hostile = new Set<{ close(): void }>();
  const started = Date.now();

  // The control client: served in order throughout.
  let control: RawClient;
  let controlRunning = true;
  let controlLoop: Promise<void>;
  let controlError: unknown;
  let controlSent = 0;
  let controlWorst = 0;

  function upstreamAnswer(request: UpstreamRequest) {
    const event = request.url.split('/').pop();
    if (event === 'deep') {
      return {
        status: 200,
        headers: { 'content-type': 'application/json' },
        body: nestedJson(5000),
      };
    }
    if (event === 'echo' || event === 'message') {
      return {
        status: 200,
        headers: { 'content-type': String(request.headers['content-type'] ?? 'text/plain') },
        body: request.body,
      };
    }
    return { status: 204 };
  }

  beforeAll(async () => {
    process.on('uncaughtExceptionMonitor', onUncaught);
    handlesBefore = process.getActiveResourcesInfo();
    upstream = await recordingUpstream(upstreamAnswer);
    emulator = await startEmulator({
      port: 0,
      log: () => undefined,
      timings: {
        ...FAST_TIMINGS,
        keepAliveIntervalMs: 2_000,
        requestHeadersTimeoutMs: 600,
        requestBodyGracePeriodMs: 300,
        requestStalledAfterMs: 200,
        maxStalledRequestsPerClient: 8,
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
    await collectGarbage();
    rssBefore = process.memoryUsage().rss;

    control = new RawClient(
      await clientUrl(emulator.connectionString, 'chat', { userId: 'control', roles: ROLES }),
      JSON_PROTOCOL,
    );
    await control.opened;
    control.send({ type: 'joinGroup', group: 'control', ackId: 0 });
    await waitFor(() => control.messages().some(m => m.type === 'ack' && m.ackId === 0));
    controlLoop = (async () => {
      while (controlRunning) {
        const n = ++controlSent;
        const sentAt = Date.now();
        control.send({
          type: 'sendToGroup',
          group: 'control',
          ackId: n,
          dataType: 'json',
          data: n,
        });
        await within(
          waitFor(() => {
            const messages = control.messages();
            return (
              messages.some(m => m.type === 'ack' && m.ackId === n && m.success) &&
              messages.some(m => m.type === 'message' && m.data === n)
            );
          }, DEADLINE_MS + 1000),
          `the control client's message ${n}`,
        );
        controlWorst = Math.max(controlWorst, Date.now() - sentAt);
        await sleep(40);
      }
    })().catch((error: unknown) => {
      controlError = error;
    });
  });

  afterAll(async () => {
    process.off('uncaughtExceptionMonitor', onUncaught);
    for (const client of hostile) client.close();
    controlRunning = false;
    control?.ws.terminate();
    await emulator?.close();
    await upstream?.close();
  });

  async function jsonClient(protocol: string | undefined, roles = ROLES): Promise<RawClient> {
    const raw = new RawClient(
      await clientUrl(emulator.connectionString, 'chat', { userId: 'fuzz', roles }),
      protocol,
    );
    hostile.add({ close: () => raw.ws.terminate() });
    await within(raw.opened, 'a client upgrade');
    if (protocol)
      await within(
        waitFor(() => raw.frames.length > 0),
        'the connected message',
      );
    return raw;
  }

  /** JSON and reliable JSON clients: each input and the answer owed to it. */
  for (const protocol of [JSON_PROTOCOL, RELIABLE_PROTOCOL]) {
    const surface = protocol === JSON_PROTOCOL ? 'json' : 'reliable';
    it(`${surface} clients: every frame gets its ack, pong, reply or close code`, async () => {
      const random = new Random(SEED + (surface === 'json' ? 1 : 2));
      let client = await jsonClient(protocol);
      let ackId = 1;
      let lastSequenceId = 0;
      const succeeded: number[] = [];
      for (let i = 0; i < INPUTS; i++) {
        const kind = random.int(0, 12);
        const id = ackId++;
        let frame: string | Buffer;
        let owed:
          { ack: true; error?: string; reply?: boolean } | { pong: true } | { close: number };
        switch (kind) {
          case 0:
            frame = JSON.stringify({
              type: random.pick(['joinGroup', 'leaveGroup']),
              group: random.group(),
              ackId: id,
            });
            owed = { ack: true };
            break;
          case 1:
            frame = JSON.stringify({
              type: 'sendToGroup',
              group: random.group(),
              ackId: id,
              noEcho: random.chance(0.5),
              dataType: 'json',
              data: random.json(),
            });
            owed = { ack: true };
            break;
          case 2:
            frame = JSON.stringify({
              type: 'event',
              event: 'echo',
              ackId: id,
              dataType: random.pick(['text', 'json', 'binary']),
              data: 'aGVsbG8=',
            });
            owed = { ack: true, reply: true };
            break;
          case 3:
            frame = JSON.stringify({ type: 'event', event: 'deep', ackId: id, data: 1 });
            owed = { ack: true, error: 'InternalServerError' };
            break;
          case 4:
            if (succeeded.length === 0) {
              frame = JSON.stringify({ type: 'ping' });
              owed = { pong: true };
              break;
            }
            frame = JSON.stringify({
              type: 'joinGroup',
              group: 'g',
              ackId: random.pick(succeeded),
            });
            owed = { ack: true, error: 'Duplicate' };
            break;
          case 5:
            // A reliable client's sequenceAck has no answer: the ping behind it shows it was read.
            if (surface === 'reliable') {
              client.send({ type: 'sequenceAck', sequenceId: random.int(0, 2 ** 40) });
            }
            frame = JSON.stringify({ type: 'ping' });
            owed = { pong: true };
            break;
          case 6:
            frame = `{"type":"sendToGroup","group":"g","ackId":${id},"data":${nestedJson(random.int(MAX_JSON_DEPTH, 20_000))}}`;
            owed = { close: 1007 };
            break;
          case 7:
            frame = random.pick([
              random.text(30),
              JSON.stringify(random.json(2)) + random.pick(['', ',', '}']),
              '[]',
              '"ping"',
              '{"type":"nope"}',
              JSON.stringify({ type: 'joinGroup', group: '', ackId: id }),
              JSON.stringify({ type: 'joinGroup', group: 'x'.repeat(1025), ackId: id }),
              JSON.stringify({ type: 'joinGroup', group: 'g', ackId: -1 }),
              JSON.stringify({ type: 'joinGroup', group: 'g', ackId: 1.5 }),
              JSON.stringify({ type: 'sendToGroup', group: 'g', dataType: 'binary', data: '%%' }),
              JSON.stringify({ type: 'sendToGroup', group: 'g', dataType: '__proto__', data: 1 }),
              JSON.stringify({ type: 'event', event: 'a b', data: 1 }),
              JSON.stringify({ type: 'sequenceAck', sequenceId: -1 }),
            ]);
            // Text that happens to be a valid message is not hostile: send it as a ping instead.
            owed = { close: 1007 };
            if (frame === '' || /^\s*$/.test(frame)) frame = '{';
            break;
          case 8:
            frame = random.bytes(random.int(0, 64));
            owed = { close: 1003 };
            break;
          case 9:
            if (random.chance(0.2)) {
              frame = `"${'x'.repeat(1024 * 1024)}"`;
              owed = { close: 1009 };
              break;
            }
            frame = JSON.stringify({ type: 'ping' });
            owed = { pong: true };
            break;
          default:
            frame = JSON.stringify({
              type: 'sendToGroup',
              group: random.group(),
              ackId: id,
              dataType: 'text',
              data: random.text(200),
            });
            owed = { ack: true };
        }
        const what = `${surface} input ${i} (${typeof frame === 'string' ? frame.slice(0, 80) : `${frame.length} bytes`})`;
        const before = client.frames.length;
        if (typeof frame === 'string') client.ws.send(frame);
        else client.ws.send(frame, { binary: true });
        if ('close' in owed) {
          const closed = await within(client.done, what);
          expect({ what, code: closed.code }).toEqual({ what, code: owed.close });
          tally(surface, `close ${closed.code}`);
          client = await jsonClient(protocol);
          lastSequenceId = 0;
          // Ack ids are per connection.
          succeeded.length = 0;
          continue;
        }
        if ('pong' in owed) {
          await within(
            waitFor(() =>
              client
                .messages()
                .slice(before)
                .some(m => m.type === 'pong'),
            ),
            what,
          );
          tally(surface, 'pong');
          continue;
        }
        const awaited = kind === 4 ? (JSON.parse(frame as string).ackId as number) : id;
        const ackOf = () =>
          client
            .messages()
            .slice(before)
            .find(m => m.type === 'ack' && m.ackId === awaited);
        await within(
          waitFor(() => ackOf() !== undefined),
          what,
        );
        const ack = ackOf();
        expect({ what, error: ack?.error?.name }).toEqual({ what, error: owed.error });
        if (!owed.error) succeeded.push(id);
        if (owed.reply) {
          expect(
            client
              .messages()
              .slice(before)
              .some(m => m.type === 'message' && m.from === 'server'),
          ).toBe(true);
        }
        for (const message of client.messages().slice(before)) {
          if (message.sequenceId === undefined) continue;
          expect(message.sequenceId).toBe(lastSequenceId + 1);
          lastSequenceId = message.sequenceId;
        }
        tally(surface, ack?.error ? `ack ${ack.error.name}` : 'ack');
      }
      client.ws.close();
    });
  }

  it('simple clients: every frame is answered by its echo, in order; invalid text and oversize frames are closed', async () => {
    const random = new Random(SEED + 3);
    let client = await jsonClient(undefined);
    for (let i = 0; i < INPUTS; i++) {
      const binary = random.chance(0.5);
      const kind = random.int(0, 9);
      const what = `simple input ${i}`;
      if (kind === 0) {
        // Text frame that is not UTF-8: ws closes it with 1007.
        client.ws.send(Buffer.from([0x61, 0xff, 0xfe]), { binary: false });
        const closed = await within(client.done, `${what} (invalid UTF-8 text)`);
        expect(closed.code).toBe(1007);
        tally('simple', 'close 1007');
        client = await jsonClient(undefined);
        continue;
      }
      if (kind === 1 && random.chance(0.3)) {
        client.ws.send(Buffer.alloc(1024 * 1024 + 1), { binary: true });
        const closed = await within(client.done, `${what} (oversize)`);
        expect(closed.code).toBe(1009);
        tally('simple', 'close 1009');
        client = await jsonClient(undefined);
        continue;
      }
      const payload = binary ? random.bytes(random.int(1, 256)) : random.text(100) || 'x';
      const before = client.frames.length;
      client.ws.send(payload, { binary });
      await within(
        waitFor(() => client.frames.length > before),
        what,
      );
      const echo = client.frames[before];
      expect({ what, binary: echo.binary }).toEqual({ what, binary });
      expect(
        Buffer.from(echo.data as string | Buffer).equals(Buffer.from(payload as string | Buffer)),
      ).toBe(true);
      tally('simple', 'echo');
    }
    client.ws.close();
  });

  async function mqttDevice(version: 4 | 5, clientId: string): Promise<RawMqtt> {
    const service = new WebPubSubServiceClient(emulator.connectionString, 'chat');
    const { url } = await service.getClientAccessToken({ roles: ROLES, clientProtocol: 'mqtt' });
    const device = new RawMqtt(url, version);
    hostile.add(device);
    await within(device.opened, 'an MQTT upgrade');
    device.send(device.encode(device.connectPacket(clientId)));
    await within(
      device.packet(p => p.cmd === 'connack'),
      'CONNACK',
    );
    return device;
  }

  it('MQTT 3.1.1 and 5.0 clients: packets in any framing get their answers; violations close with their reason', async () => {
    const random = new Random(SEED + 4);
    let serial = 0;
    const open = async () => {
      const version = random.pick([4, 5] as const);
      return mqttDevice(version, `fuzz${++serial}`);
    };
    let device = await open();
    for (let i = 0; i < INPUTS; i++) {
      const version = device.protocolVersion;
      const kind = random.int(0, 9);
      const what = `mqtt ${version} input ${i} (kind ${kind})`;
      const topic = () =>
        random.text(20).replaceAll('\u0000', '').replace(/[+#]/g, '').replace(/^\$/, '_') || 't';
      if (kind <= 4) {
        // A batch of valid packets, written in one frame or cut anywhere.
        const packets: any[] = [];
        const owed: { cmd: string; messageId?: number }[] = [];
        for (let n = random.int(1, 4); n > 0; n--) {
          const messageId = random.int(1, 65535);
          switch (random.int(0, 3)) {
            case 0:
              packets.push({
                cmd: 'subscribe',
                messageId,
                subscriptions: Array.from({ length: random.int(1, 3) }, () => ({
                  topic: topic(),
                  qos: random.int(0, 1),
                })),
              });
              owed.push({ cmd: 'suback', messageId });
              break;
            case 1:
              packets.push({
                cmd: 'publish',
                topic: topic(),
                qos: 1,
                messageId,
                payload: random.bytes(random.int(0, 300)),
                dup: false,
                retain: false,
              });
              owed.push({ cmd: 'puback', messageId });
              break;
            case 2:
              packets.push({ cmd: 'unsubscribe', messageId, unsubscriptions: [topic()] });
              owed.push({ cmd: 'unsuback', messageId });
              break;
            default:
              packets.push({ cmd: 'pingreq' });
              owed.push({ cmd: 'pingresp' });
          }
        }
        const bytes = device.encode(...packets);
        const before = device.packets.length;
        if (random.chance(0.5)) device.send(bytes);
        else {
          let at = 0;
          while (at < bytes.length) {
            const next = Math.min(bytes.length, at + random.int(1, 40));
            device.send(bytes.subarray(at, next));
            at = next;
          }
        }
        await within(
          waitFor(() => device.packets.length - before >= owed.length),
          `${what}: ${owed.map(o => o.cmd).join(', ')}`,
        );
        // PINGREQ is answered at once; the others in their order.
        const answers = device.packets.slice(before).filter(p => p.cmd !== 'publish');
        const inOrder = (list: { cmd: string; messageId?: number }[]) =>
          list.filter(p => p.cmd !== 'pingresp').map(p => `${p.cmd} ${p.messageId}`);
        expect({ what, answers: inOrder(answers) }).toEqual({ what, answers: inOrder(owed) });
        expect({ what, pings: answers.filter(p => p.cmd === 'pingresp').length }).toEqual({
          what,
          pings: owed.filter(p => p.cmd === 'pingresp').length,
        });
        tally(`mqtt${version}`, 'answered');
        continue;
      }
      let bytes: Buffer;
      let code: number;
      switch (kind) {
        case 5:
          bytes = rawSubscribe(
            random.pick(['subscribe', 'unsubscribe'] as const),
            random.int(1, 9),
            [],
            version,
          );
          code = 0x82;
          break;
        case 6:
          bytes = rawPublish(
            Buffer.from([0x61, random.pick([0xc3, 0xff, 0xed, 0x00])]),
            Buffer.from('x'),
            { protocolVersion: version },
          );
          code = 0x81;
          break;
        case 7:
          bytes = rawPublish(Buffer.from('t'), Buffer.from('x'), {
            qos: random.int(1, 2),
            messageId: 0,
            protocolVersion: version,
          });
          code = 0x82;
          break;
        case 8:
          bytes = Buffer.concat([Buffer.from([0x00, 4]), random.bytes(4)]);
          code = 0x81;
          break;
        default:
          bytes = device.encode({
            cmd: 'publish',
            topic: `a/${random.pick(['+', '#'])}`,
            qos: 0,
            payload: Buffer.from('x'),
            dup: false,
            retain: false,
          } as any);
          code = 0x90;
      }
      device.send(bytes);
      await within(device.closed, what);
      const last = device.packets[device.packets.length - 1];
      if (version === 5)
        expect({ what, last: { cmd: last?.cmd, reasonCode: last?.reasonCode } }).toEqual({
          what,
          last: { cmd: 'disconnect', reasonCode: code },
        });
      tally(`mqtt${version}`, `closed 0x${code.toString(16)}`);
      device = await open();
    }
    device.close();
  });

  it('REST calls: every request gets its status, errors a 4xx with a JSON body naming the problem, stalls a 408 in time', async () => {
    const random = new Random(SEED + 5);
    const port = emulator.port;
    const key = emulator.accessKey;
    const send = (path: string) =>
      `/api/hubs/chat/${path}${path.includes('?') ? '&' : '?'}api-version=2024-12-01`;
    for (let i = 0; i < INPUTS; i++) {
      const kind = random.int(0, 11);
      let owed: number;
      let answer: RawAnswer;
      const what = () => `REST input ${i} (kind ${kind})`;
      switch (kind) {
        case 0: {
          const type = random.pick(['text/plain', 'application/json', 'application/octet-stream']);
          const body =
            type === 'application/json'
              ? JSON.stringify(random.json())
              : type === 'text/plain'
                ? random.text(50).replace(/[\ud800-\udfff]/g, '')
                : random.bytes(50);
          answer = await within(
            restCall(port, key, {
              method: 'POST',
              path: send(
                random.pick([
                  ':send',
                  `groups/${segment(random.group().slice(0, 50))}/:send`,
                  'users/u/:send',
                ]),
              ),
              headers: { 'content-type': type },
              body,
            }),
            what(),
          );
          owed = 202;
          break;
        }
        case 1:
          answer = await within(
            restCall(port, key, {
              method: 'POST',
              path: send(':send'),
              headers: {
                'content-type': random.pick([
                  'constructor',
                  '__proto__',
                  'toString',
                  'text/html',
                  random.text(10).replace(/[^\x21-\x7e]/g, 'x') || 'x/y',
                ]),
              },
              body: 'x',
            }),
            what(),
          );
          owed = 415;
          break;
        case 2: {
          const filter = random.pick([
            `${random.pick(['constructor', '__proto__', 'valueOf', 'foo'])}(userId) eq 'a'`,
            random.text(20).replace(/[^\x21-\x7e]/g, '(') || '(',
            "userId eq 'a' and",
            '((((',
          ]);
          answer = await within(
            restCall(port, key, {
              method: 'POST',
              path: send(`:send?filter=${encodeURIComponent(filter)}`),
              headers: { 'content-type': 'text/plain' },
              body: 'x',
            }),
            what(),
          );
          owed = 400;
          break;
        }
        case 3:
          answer = await within(
            restCall(port, key, {
              method: 'POST',
              path: send(random.pick([':send', ':addToGroups'])),
              headers: { 'content-type': 'application/json' },
              body: nestedJson(random.int(MAX_JSON_DEPTH + 1, 50_000)),
            }),
            what(),
          );
          owed = 400;
          break;
        case 4:
          answer = await within(
            restCall(port, key, {
              method: 'POST',
              path: send(':send'),
              headers: { 'content-type': 'application/json' },
              body: random.pick(['{', '', 'nul', '[1,]', '"\\x"']),
            }),
            what(),
          );
          owed = 400;
          break;
        case 5:
          answer = await within(
            restCall(port, key, {
              method: 'GET',
              path: send(`${random.pick(['nothing', 'groups', 'users/u/x/y/z'])}`),
            }),
            what(),
          );
          owed = 404;
          break;
        case 6:
          answer = await within(
            restCall(port, key, {
              method: 'POST',
              path: send(':send'),
              headers: { 'content-type': 'text/plain' },
              body: 'x',
              signed: false,
            }),
            what(),
          );
          owed = 401;
          break;
        case 7: {
          // A body that stalls: 408 once the grace period has passed.
          const socket = await rawSocket(port, '127.0.0.3');
          hostile.add({ close: () => socket.destroy() });
          const answered = readAnswer(socket);
          const path = send(':send');
          const token = await restToken(`http://127.0.0.1:${port}${path}`, key);
          socket.write(
            `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${token}\r\n` +
              `Content-Type: text/plain\r\nContent-Length: 1000\r\n\r\n${'x'.repeat(random.int(0, 100))}`,
          );
          answer = await within(answered, what());
          owed = 408;
          break;
        }
        case 8: {
          // Headers that stall: 408 once the header timeout has passed.
          const socket = await rawSocket(port, '127.0.0.3');
          hostile.add({ close: () => socket.destroy() });
          const answered = readAnswer(socket);
          socket.write(`GET /api/health HTTP/1.1\r\n${'X-A: b\r\n'.repeat(random.int(0, 5))}`);
          answer = await within(answered, what());
          owed = 408;
          break;
        }
        case 9:
          answer = await within(
            restCall(port, key, {
              method: 'PUT',
              path: send(`groups/${segment(random.pick([' ', 'x'.repeat(1025)]))}/connections/c`),
            }),
            what(),
          );
          owed = 400;
          break;
        case 10:
          answer = await within(
            restCall(port, key, {
              method: 'POST',
              path: send(`:send?messageTtlSeconds=${random.pick(['-1', '301', 'x', '1.5'])}`),
              headers: { 'content-type': 'text/plain' },
              body: 'x',
            }),
            what(),
          );
          owed = 400;
          break;
        default:
          answer = await within(
            restCall(port, key, {
              method: 'HEAD',
              path: send(`connections/${segment(random.text(10)) || 'c'}`),
            }),
            what(),
          );
          owed = 404;
      }
      expect({ what: what(), status: answer.status }).toEqual({ what: what(), status: owed });
      if (owed >= 400 && kind !== 11)
        expect({ what: what(), body: answer.body, named: namesProblem(answer) }).toMatchObject({
          named: true,
        });
      tally('rest', String(answer.status));
    }
  });

  it('afterwards: the control client was served in order, no uncaught exception, no connection left, no handle after close(), RSS bounded', async () => {
    controlRunning = false;
    await controlLoop;
    for (const client of hostile) client.close();
    hostile.clear();
    await waitFor(() => [...emulator.hubs.listConnections('chat')].length === 1, 5000);
    control.ws.close();
    await control.done;
    await waitFor(() => [...emulator.hubs.listConnections('chat')].length === 0, 5000);
    await collectGarbage();
    const rssGrowthMb = (process.memoryUsage().rss - rssBefore) / 1024 / 1024;
    await emulator.close();
    await upstream.close();
    await waitFor(() => newHandles(handlesBefore).length === 0, 5000).catch(() => undefined);
    const figures = {
      seed: SEED,
      inputsPerSurface: INPUTS,
      surfaces: tallies,
      controlMessages: controlSent,
      controlWorstMs: controlWorst,
      rssGrowthMb: Math.round(rssGrowthMb * 10) / 10,
      seconds: Math.round((Date.now() - started) / 100) / 10,
    };
    console.log(`emulator robustness figures: ${JSON.stringify(figures)}`);
    expect(controlError).toBeUndefined();
    expect(uncaught).toBe(0);
    expect(newHandles(handlesBefore)).toEqual([]);
    expect(rssGrowthMb).toBeLessThan(RSS_BOUND_MB);
    expect(controlSent).toBeGreaterThan(5);
  });
});
