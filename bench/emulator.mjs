// npm run bench:emulator: the emulator at scale, side by side with a bare `ws` server doing the
// same broadcasts (the floor). Each server runs in its own process, the load in another
// (bench/lib/emulator-load.mjs). Per server: hold BENCH_EMU_CONNECTIONS connections (RSS and heap
// per connection after a full GC), fan BENCH_EMU_FANOUT_ROUNDS group messages out to
// BENCH_EMU_MEMBERS members (sent by a client, p50/p99/max delivery), and BENCH_EMU_BROADCAST_ROUNDS
// REST sendToAll calls (WebPubSubServiceClient) to every connection. Writes its own section of
// bench/RESULTS.md (between markers, below the part npm run bench rewrites).
//
// Environment (all optional):
//   BENCH_EMU_CONNECTIONS=10000  BENCH_EMU_MEMBERS=1000  BENCH_EMU_FANOUT_ROUNDS=200
//   BENCH_EMU_BROADCAST_ROUNDS=10  BENCH_EMU_CONCURRENCY=200 (handshakes in flight)
//   BENCH_EMU_RUNS=3 (runs per server, order alternating; the table shows medians)
//   BENCH_EMU_OUT=path (default bench/RESULTS.md for a default run, bench/.runs/EMULATOR-partial.md otherwise)
import { fork } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ACCESS_KEY, positiveIntegerEnv } from './lib/common.mjs';
import { libraryState } from './lib/git.mjs';
import { EMULATOR_SERVERS, startServer } from './lib/servers.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const HUB = 'bench';
const TARGET_P99_MS = 50;
const CONNECTIONS = positiveIntegerEnv('BENCH_EMU_CONNECTIONS', 10_000);
const MEMBERS = Math.min(positiveIntegerEnv('BENCH_EMU_MEMBERS', 1_000), CONNECTIONS - 1);
const FANOUT_ROUNDS = positiveIntegerEnv('BENCH_EMU_FANOUT_ROUNDS', 200);
const BROADCAST_ROUNDS = positiveIntegerEnv('BENCH_EMU_BROADCAST_ROUNDS', 10);
const CONCURRENCY = positiveIntegerEnv('BENCH_EMU_CONCURRENCY', 200);
const RUNS = positiveIntegerEnv('BENCH_EMU_RUNS', 3);
const customised = Object.keys(process.env).some(
  name => name.startsWith('BENCH_EMU_') && name !== 'BENCH_EMU_OUT',
);
const outFile =
  process.env.BENCH_EMU_OUT ??
  `${ROOT}${customised ? 'bench/.runs/EMULATOR-partial.md' : 'bench/RESULTS.md'}`;
const START = '<!-- emulator-bench:start -->';
const END = '<!-- emulator-bench:end -->';

const log = (...args) => console.error(...args);
const LOAD_AT_START = os.loadavg();

if (!existsSync(`${ROOT}dist/esm/emulator/index.js`)) {
  console.error(
    'dist/esm/emulator/index.js is missing: run `npm run build` first (npm run bench:emulator does).',
  );
  process.exit(1);
}

function startLoad() {
  const child = fork(fileURLToPath(new URL('./lib/emulator-load.mjs', import.meta.url)), [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let nextId = 0;
  const pending = new Map();
  child.on('message', message => {
    const entry = pending.get(message.id);
    if (!entry) return;
    pending.delete(message.id);
    if (message.unavailable)
      entry.resolve({ unavailable: message.failure, errors: message.errors });
    else if (message.failure)
      entry.reject(new Error(`load: ${message.failure}\nerrors: ${message.errors.join('\n')}`));
    else entry.resolve({ ...message.result, errors: message.errors });
  });
  child.once('exit', code => {
    for (const entry of pending.values()) entry.reject(new Error(`load process exited (${code})`));
  });
  return {
    call: (type, args = {}) =>
      new Promise((resolve, reject) => {
        const id = ++nextId;
        pending.set(id, { resolve, reject });
        child.send({ type, id, ...args });
      }),
    stop: () => child.kill('SIGTERM'),
  };
}

async function measure(id) {
  const server = await startServer(id, { execArgv: ['--expose-gc'], log });
  const load = startLoad();
  const connectionString = `Endpoint=http://127.0.0.1:${server.port};AccessKey=${ACCESS_KEY};Version=1.0;`;
  try {
    // Warm the code paths, then take the baseline.
    await load.call('open', {
      connectionString,
      hub: HUB,
      connections: 200,
      members: 50,
      concurrency: 50,
    });
    await load.call('fanout', { rounds: 5, members: 50 });
    await load.call('close');
    await new Promise(resolve => setTimeout(resolve, 500));
    const before = await server.memory(true);
    log(`[${id}] opening ${CONNECTIONS} connections`);
    const opened = await load.call('open', {
      connectionString,
      hub: HUB,
      connections: CONNECTIONS,
      members: MEMBERS,
      concurrency: CONCURRENCY,
    });
    const held = await server.memory(true);
    log(`[${id}] ${opened.connections} open in ${(opened.ms / 1000).toFixed(1)} s; fan-out`);
    const fanout = await load.call('fanout', { rounds: FANOUT_ROUNDS, members: MEMBERS });
    log(`[${id}] fan-out p99 ${fanout.p99.toFixed(2)} ms; sendToAll`);
    const broadcast = await load.call('broadcast', {
      connectionString,
      hub: HUB,
      rounds: BROADCAST_ROUNDS,
    });
    log(
      broadcast.unavailable
        ? `[${id}] sendToAll unavailable: ${broadcast.unavailable}`
        : `[${id}] sendToAll last delivery median ${broadcast.lastMedian.toFixed(1)} ms`,
    );
    const peak = await server.memory(false);
    const closed = await load.call('close');
    return { id, opened, before, held, peak, fanout, broadcast, errors: closed.errors };
  } finally {
    load.stop();
    await server.stop();
  }
}

const fmt = (value, digits = 1) =>
  value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const kb = bytes => `${fmt(bytes / 1024, 1)} KB`;
const mb = bytes => `${fmt(bytes / 1024 / 1024, 0)} MB`;
const ratio = (a, b) => (b > 0 ? `${fmt(a / b, 2)}×` : '—');

function report([emu, floor], runs) {
  const perConnection = r => (r.held.rss - r.before.rss) / r.opened.connections;
  const heapPerConnection = r => (r.held.heapUsed - r.before.heapUsed) / r.opened.connections;
  const openRate = r => r.opened.connections / (r.opened.ms / 1000);
  const rows = [
    [
      'Connections held',
      `${emu.opened.connections.toLocaleString('en-US')}`,
      `${floor.opened.connections.toLocaleString('en-US')}`,
      '',
    ],
    [
      `Open them (${CONCURRENCY} handshakes in flight)`,
      `${fmt(emu.opened.ms / 1000)} s (${fmt(openRate(emu), 0)}/s)`,
      `${fmt(floor.opened.ms / 1000)} s (${fmt(openRate(floor), 0)}/s)`,
      ratio(emu.opened.ms, floor.opened.ms),
    ],
    [
      'RSS per connection (after GC)',
      kb(perConnection(emu)),
      kb(perConnection(floor)),
      ratio(perConnection(emu), perConnection(floor)),
    ],
    [
      'JS heap per connection (after GC)',
      kb(heapPerConnection(emu)),
      kb(heapPerConnection(floor)),
      ratio(heapPerConnection(emu), heapPerConnection(floor)),
    ],
    [
      'RSS holding them (after GC) / peak',
      `${mb(emu.held.rss)} / ${mb(emu.peak.rss)}`,
      `${mb(floor.held.rss)} / ${mb(floor.peak.rss)}`,
      ratio(emu.held.rss, floor.held.rss),
    ],
    [
      `Group fan-out to ${MEMBERS.toLocaleString('en-US')} members: p50 delivery`,
      `${fmt(emu.fanout.p50, 2)} ms`,
      `${fmt(floor.fanout.p50, 2)} ms`,
      ratio(emu.fanout.p50, floor.fanout.p50),
    ],
    [
      `Group fan-out: **p99 delivery** (target < ${TARGET_P99_MS} ms)`,
      `**${fmt(emu.fanout.p99, 2)} ms** ${emu.fanout.p99 < TARGET_P99_MS ? '✓' : '✗'}`,
      `${fmt(floor.fanout.p99, 2)} ms`,
      ratio(emu.fanout.p99, floor.fanout.p99),
    ],
    [
      'Group fan-out: p99 of each run',
      `${runs.emulator.map(r => fmt(r.fanout.p99)).join(' · ')} ms`,
      `${runs['ws-floor'].map(r => fmt(r.fanout.p99)).join(' · ')} ms`,
      '',
    ],
    [
      'Group fan-out: max delivery',
      `${fmt(emu.fanout.max, 2)} ms`,
      `${fmt(floor.fanout.max, 2)} ms`,
      ratio(emu.fanout.max, floor.fanout.max),
    ],
    ...(emu.broadcast.unavailable
      ? [
          [
            `REST sendToAll to ${emu.opened.connections.toLocaleString('en-US')}`,
            `not measured: ${emu.broadcast.unavailable}`,
            floor.broadcast.unavailable
              ? '—'
              : `last delivery ${fmt(floor.broadcast.lastMedian)} ms (median)`,
            '—',
          ],
        ]
      : [
          [
            `REST sendToAll to ${emu.opened.connections.toLocaleString('en-US')}: 202 answer (median)`,
            `${fmt(emu.broadcast.answerMedian, 2)} ms`,
            `${fmt(floor.broadcast.answerMedian, 2)} ms`,
            ratio(emu.broadcast.answerMedian, floor.broadcast.answerMedian),
          ],
          [
            'sendToAll: p50 / p99 delivery',
            `${fmt(emu.broadcast.p50)} / ${fmt(emu.broadcast.p99)} ms`,
            `${fmt(floor.broadcast.p50)} / ${fmt(floor.broadcast.p99)} ms`,
            ratio(emu.broadcast.p99, floor.broadcast.p99),
          ],
          [
            'sendToAll: last delivery (median / worst round)',
            `${fmt(emu.broadcast.lastMedian)} / ${fmt(emu.broadcast.lastMax)} ms`,
            `${fmt(floor.broadcast.lastMedian)} / ${fmt(floor.broadcast.lastMax)} ms`,
            ratio(emu.broadcast.lastMedian, floor.broadcast.lastMedian),
          ],
        ]),
  ];
  const checked = list =>
    list.reduce((sum, r) => sum + r.fanout.deliveries + (r.broadcast.deliveries ?? 0), 0);
  const problems = [
    ...emu.errors.map(e => `emulator: ${e}`),
    ...floor.errors.map(e => `floor: ${e}`),
  ];
  const cpus = os.cpus();
  return [
    START,
    '',
    '## Emulator at scale (`npm run bench:emulator`)',
    '',
    problems.length === 0
      ? `Every delivery was checked: ${checked(runs.emulator).toLocaleString('en-US')} (emulator) and ${checked(runs['ws-floor']).toLocaleString('en-US')} (floor) over all runs, each member got each message exactly once, no one else got any, no connection dropped.`
      : `**Problems seen:**\n\n${problems.map(p => `- ${p}`).join('\n')}`,
    '',
    `- Date: ${new Date().toISOString()}`,
    `- Library: ${libraryState(ROOT)}`,
    `- Node: ${process.version}, ${os.type().toLowerCase()} ${os.release()} ${os.arch()}; CPU: ${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown'}; load average at start ${LOAD_AT_START.map(n => n.toFixed(2)).join(' / ')}`,
    '- Servers: `startEmulator()` from `dist/` (no event handlers, log lines off), and the floor, a bare `ws` server (`bench/servers/ws-floor.mjs`) that broadcasts the same frames by hand with no token check, no state and no traffic log. Each in its own process, run with `--expose-gc`.',
    `- Load: one separate process (\`bench/lib/emulator-load.mjs\`), \`ws\` clients with the \`json.webpubsub.azure.v1\` subprotocol and tokens from \`WebPubSubServiceClient.getClientAccessToken()\`, loopback. ${MEMBERS.toLocaleString('en-US')} of the ${CONNECTIONS.toLocaleString('en-US')} connections are in the group (the \`webpubsub.group\` claim). Fan-out: ${FANOUT_ROUNDS} \`sendToGroup\` messages from a client that is not a member, one at a time, each waited for at every member. \`sendToAll\`: ${BROADCAST_ROUNDS} calls of \`WebPubSubServiceClient.sendToAll()\`, one at a time, each waited for at every connection. Latency = arrival at a client − send time, one clock (the load process).`,
    '- Memory: RSS and heap after a full GC with the connections open, minus the same after warm-up (200 connections opened and closed) and before opening them.',
    '',
    `Each server ran ${RUNS} times, alternating which went first; the table shows the median of each figure over the runs.`,
    '',
    '| Measure | emulator | bare ws (floor) | emulator / floor |',
    '|---|--:|--:|--:|',
    ...rows.map(row => `| ${row.join(' | ')} |`),
    '',
    ...(LOAD_AT_START[0] > os.cpus().length
      ? [
          `**The machine was busy** (load average ${LOAD_AT_START[0].toFixed(2)} on ${os.cpus().length} cores at the start): latency tails (p99, max) measure contention with other processes as much as either server; compare the per-run p99s of both servers, and re-run on a quiet machine before judging the 50 ms target.`,
          '',
        ]
      : []),
    'The load process parses every frame it receives, for both servers; on this 2-core machine it competes with the server for CPU, so delivery times for 10,000 receivers are mostly the time one process needs to read 10,000 frames.',
    '',
    END,
  ].join('\n');
}

function write(section) {
  mkdirSync(dirname(outFile), { recursive: true });
  let existing = '';
  try {
    existing = readFileSync(outFile, 'utf8');
  } catch {
    // a new file
  }
  const start = existing.indexOf(START);
  const end = existing.indexOf(END);
  const text =
    start !== -1 && end > start
      ? `${existing.slice(0, start)}${section}${existing.slice(end + END.length)}`
      : `${existing.replace(/\n*$/, '\n\n')}${section}\n`;
  writeFileSync(outFile, text);
  log(`Written to ${relative(process.cwd(), outFile)}`);
}

log(
  `Emulator benchmark: ${Object.keys(EMULATOR_SERVERS).join(' and ')}, ${CONNECTIONS} connections, ${MEMBERS} members, ${RUNS} runs each`,
);
const runs = { emulator: [], 'ws-floor': [] };
for (let run = 0; run < RUNS; run++) {
  const order = run % 2 === 0 ? ['ws-floor', 'emulator'] : ['emulator', 'ws-floor'];
  for (const id of order) runs[id].push(await measure(id));
}
const section = report([medianOf(runs.emulator), medianOf(runs['ws-floor'])], runs);
console.log(section);
write(section);

/** The run-by-run median of every number (same-shaped results); lists are joined, the rest taken from the first. */
function medianOf(results) {
  const [first] = results;
  if (typeof first === 'number') {
    const sorted = [...results].sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)];
  }
  if (Array.isArray(first)) return results.flat();
  if (first && typeof first === 'object') {
    return Object.fromEntries(
      Object.keys(first).map(key => [key, medianOf(results.map(r => r[key]))]),
    );
  }
  return first;
}
