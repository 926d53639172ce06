// The emulator benchmark's load, in its own process (forked by bench/emulator.mjs): WebSocket
// clients with the JSON subprotocol (`ws`), tokens from WebPubSubServiceClient, group messages sent
// by a client, sendToAll through WebPubSubServiceClient. Every delivery is checked: each member gets
// each message exactly once, no one else gets it. Latencies are measured in this process (one clock).
import { WebPubSubServiceClient } from '@azure/web-pubsub';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';

const PROTOCOL = 'json.webpubsub.azure.v1';
const GROUP = 'bench';

/** @type {{ socket: WebSocket, member: boolean }[]} */
let clients = [];
let round; // { kind: 'group' | 'server', seq, expected, received, latencies, done }
const errors = [];

function error(text) {
  if (errors.length < 20) errors.push(text);
}

function onMessage(client, data) {
  const message = JSON.parse(data.toString('utf8'));
  if (message.type !== 'message') return;
  const now = performance.now();
  if (!round || message.data?.seq !== round.seq || message.from !== round.kind) {
    error(
      `unexpected ${message.from} message ${JSON.stringify(message.data)} (round ${round?.kind} ${round?.seq})`,
    );
    return;
  }
  if (round.kind === 'group' && !client.member) {
    error('a non-member received a group message');
    return;
  }
  if (client.lastSeq === `${round.kind}${round.seq}`) {
    error(`duplicate delivery of ${round.kind} ${round.seq}`);
    return;
  }
  client.lastSeq = `${round.kind}${round.seq}`;
  round.latencies[round.received++] = now - message.data.t;
  if (round.received === round.expected) round.done();
}

function connect(url) {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, PROTOCOL, { perMessageDeflate: false });
    const timer = setTimeout(() => {
      socket.terminate();
      reject(new Error('no connected message within 30 s'));
    }, 30_000);
    socket.once('message', data => {
      clearTimeout(timer);
      const message = JSON.parse(data.toString('utf8'));
      if (message.type !== 'system' || message.event !== 'connected') {
        reject(new Error(`first message was not "connected": ${data}`));
        return;
      }
      resolve(socket);
    });
    socket.once('unexpected-response', (_, response) =>
      reject(new Error(`handshake answered ${response.statusCode}`)),
    );
    socket.once('error', reject);
  });
}

async function open({ connectionString, hub, connections, members, concurrency }) {
  const service = new WebPubSubServiceClient(connectionString, hub);
  const memberUrl = (
    await service.getClientAccessToken({ groups: [GROUP], expirationTimeInMinutes: 120 })
  ).url;
  const otherUrl = (
    await service.getClientAccessToken({
      roles: ['webpubsub.sendToGroup'],
      expirationTimeInMinutes: 120,
    })
  ).url;
  clients = [];
  const start = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < connections) {
      const member = next < members;
      next++;
      const socket = await connect(member ? memberUrl : otherUrl);
      const client = { socket, member, lastSeq: '' };
      socket.on('message', data => onMessage(client, data));
      socket.on('close', () => {
        if (!client.closing) error('a connection closed during the run');
      });
      clients.push(client);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const ms = performance.now() - start;
  return { connections: clients.length, ms };
}

function runRound(kind, seq, expected, send, timeoutMs = 30_000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(
          new Error(
            `${kind} round ${seq}: ${round.received} of ${expected} deliveries in ${timeoutMs} ms`,
          ),
        ),
      timeoutMs,
    );
    round = {
      kind,
      seq,
      expected,
      received: 0,
      latencies: new Float64Array(expected),
      done: () => {
        clearTimeout(timer);
        resolve(round.latencies);
      },
    };
    send(round).catch(reject);
  });
}

function summary(all, extra = {}) {
  const sorted = Float64Array.from(all).sort();
  const at = q => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return {
    deliveries: sorted.length,
    p50: at(0.5),
    p99: at(0.99),
    max: sorted[sorted.length - 1],
    ...extra,
  };
}

async function fanout({ rounds, members }) {
  const sender = clients.find(client => !client.member).socket;
  const all = [];
  for (let seq = 1; seq <= rounds; seq++) {
    const latencies = await runRound('group', seq, members, async () => {
      sender.send(
        JSON.stringify({
          type: 'sendToGroup',
          group: GROUP,
          dataType: 'json',
          data: { seq, t: performance.now() },
          noEcho: true,
        }),
      );
    });
    all.push(...latencies);
  }
  return summary(all, { rounds, members });
}

async function broadcast({ connectionString, hub, rounds }) {
  const service = new WebPubSubServiceClient(connectionString, hub, {
    allowInsecureConnection: true,
  });
  const all = [];
  const answers = [];
  const lasts = [];
  for (let seq = 1; seq <= rounds; seq++) {
    const latencies = await runRound(
      'server',
      seq,
      clients.length,
      async current => {
        const t = performance.now();
        try {
          await service.sendToAll({ seq: current.seq, t });
        } catch (failure) {
          throw Object.assign(
            new Error(`sendToAll: ${failure.statusCode ?? ''} ${failure.message}`),
            { unavailable: true },
          );
        }
        answers.push(performance.now() - t);
      },
      60_000,
    );
    all.push(...latencies);
    lasts.push(Math.max(...latencies));
  }
  lasts.sort((a, b) => a - b);
  answers.sort((a, b) => a - b);
  return summary(all, {
    rounds,
    lastMedian: lasts[Math.floor(lasts.length / 2)],
    lastMax: lasts.at(-1),
    answerMedian: answers[Math.floor(answers.length / 2)],
  });
}

async function close() {
  for (const client of clients) {
    client.closing = true;
    client.socket.terminate();
  }
  clients = [];
  return { errors };
}

const handlers = { open, fanout, broadcast, close };
process.on('message', async message => {
  try {
    const result = await handlers[message.type](message);
    process.send({ id: message.id, result, errors: errors.slice() });
  } catch (failure) {
    process.send({
      id: message.id,
      failure: failure.unavailable ? failure.message : (failure.stack ?? String(failure)),
      unavailable: failure.unavailable === true,
      errors: errors.slice(),
    });
  }
});
process.on('disconnect', () => process.exit(0));
