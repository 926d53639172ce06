// npm run bench:gateway: the same user event ("message", echoed) answered through a Nest gateway
// (@SubscribeMessage with @MessageBody, WebPubSubWsAdapter) and through @OnUserEvent, both on
// Fastify, each app in its own process, loaded by autocannon from this one, alternating order per
// round, in one run. The gateway path must reach 0.9x the decorator path's throughput (median
// over the rounds). Writes its own section of bench/RESULTS.md (between markers).
//
// Environment (all optional):
//   BENCH_GATEWAY_ROUNDS=5  BENCH_DURATION=3 (s)  BENCH_WARMUP=1 (s)  BENCH_CONNECTIONS=50
//   BENCH_GATEWAY_BEFORE=1  also the gateway from the build of GATEWAY_BASELINE_COMMIT
//                           (bench/lib/baseline.mjs), in the same run: before and after
//   BENCH_GATEWAY_OUT=path (default bench/RESULTS.md for a default run, bench/.runs/GATEWAY-partial.md otherwise)
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { positiveIntegerEnv, SCENARIOS } from './lib/common.mjs';
import { GATEWAY_BASELINE_COMMIT } from './lib/baseline.mjs';
import { failuresOf, probe, runLoad } from './lib/load.mjs';
import { startServer } from './lib/servers.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const START = '<!-- gateway-bench:start -->';
const END = '<!-- gateway-bench:end -->';
const FLOOR = 0.9;
const SETTINGS = ['BENCH_GATEWAY_ROUNDS', 'BENCH_DURATION', 'BENCH_WARMUP', 'BENCH_CONNECTIONS'];
const withBefore = process.env.BENCH_GATEWAY_BEFORE === '1';
const rounds = positiveIntegerEnv('BENCH_GATEWAY_ROUNDS', 5);
const duration = positiveIntegerEnv('BENCH_DURATION', 3);
const warmup = positiveIntegerEnv('BENCH_WARMUP', 1);
const connections = positiveIntegerEnv('BENCH_CONNECTIONS', 50);
const customised = SETTINGS.filter(name => process.env[name] !== undefined);
const outFile =
  process.env.BENCH_GATEWAY_OUT ??
  (customised.length > 0 ? `${ROOT}bench/.runs/GATEWAY-partial.md` : `${ROOT}bench/RESULTS.md`);
const SCENARIO_NAMES = ['text', 'binary'];
const PATHS = [
  { id: 'module-fastify', title: '@OnUserEvent (module)' },
  { id: 'gateway-fastify', title: '@SubscribeMessage (gateway)' },
  ...(withBefore
    ? [
        {
          id: 'gateway-fastify-before',
          title: `@SubscribeMessage, ${GATEWAY_BASELINE_COMMIT} build`,
        },
      ]
    : []),
];
const log = (...args) => console.error(...args);
const median = values => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

const servers = {};
const load = [os.loadavg()[0]];
try {
  for (const { id } of PATHS) servers[id] = await startServer(id, { log });
  // Pre-flight: both answer every scenario right, and refuse a forged signature.
  for (const { id } of PATHS) {
    for (const name of SCENARIO_NAMES) {
      const problems = await probe(servers[id].url, name);
      if (problems.length) throw new Error(`${id} ${name}: ${problems.join('; ')}`);
    }
    const forged = await probe(servers[id].url, 'text', { 'ce-signature': 'sha256=00' }, 401);
    if (forged.length) throw new Error(`${id} accepted a forged signature: ${forged.join('; ')}`);
  }
  const results = {};
  for (let round = 0; round < rounds; round++) {
    // Each path in each position in turn.
    const order = PATHS.map((_, at) => PATHS[(at + round) % PATHS.length]);
    if (Math.floor(round / PATHS.length) % 2 === 1) order.reverse();
    for (const name of SCENARIO_NAMES) {
      for (const { id } of order) {
        const url = servers[id].url;
        await runLoad({ url, scenario: name, duration: warmup, connections, latencies: false });
        const cpuBefore = cpuMillis(servers[id].pid);
        const run = await runLoad({ url, scenario: name, duration, connections });
        // Server CPU per request: steadier than throughput when other work shares the cores.
        run.cpuMicros = ((cpuMillis(servers[id].pid) - cpuBefore) * 1000) / run.requests;
        ((results[name] ??= {})[id] ??= []).push(run);
        log(
          `round ${round + 1}/${rounds} ${name.padEnd(6)} ${id.padEnd(16)} ${run.rps.toFixed(0)} req/s, ${run.cpuMicros.toFixed(0)} µs CPU/request, p99 ${run.p99.toFixed(1)} ms, ${failuresOf(run)} wrong`,
        );
      }
    }
  }
  load.push(os.loadavg()[0]);
  const rows = [];
  let pass = true;
  for (const name of SCENARIO_NAMES) {
    const [module, gateway, old] = PATHS.map(({ id }) => {
      const runs = results[name][id];
      return {
        rps: median(runs.map(run => run.rps)),
        p50: median(runs.map(run => run.p50)),
        p99: median(runs.map(run => run.p99)),
        cpu: median(runs.map(run => run.cpuMicros)),
        failures: runs.reduce((sum, run) => sum + failuresOf(run), 0),
        runs: runs.map(run => run.rps),
      };
    });
    const ratio = gateway.rps / module.rps;
    const ok = ratio >= FLOOR && module.failures === 0 && gateway.failures === 0;
    pass &&= ok;
    rows.push({ name, module, gateway, old, ratio, ok });
  }
  const section = report(rows, load);
  console.log(section);
  writeSection(section);
  log(`${relative(process.cwd(), outFile)}: gateway section written`);
  for (const { name, ratio, ok, module, gateway } of rows)
    log(
      `${name}: gateway ÷ module ${ratio.toFixed(2)} (floor ${FLOOR}): ${ok ? 'MET' : 'NOT MET'}; server CPU ${module.cpu.toFixed(0)} / ${gateway.cpu.toFixed(0)} µs per request`,
    );
  if (!pass) {
    log(`FAIL: the gateway path is below ${FLOOR}x the decorator path, or answers were wrong`);
    process.exitCode = 1;
  } else
    log(`PASS: the gateway path is at or above ${FLOOR}x the decorator path in every scenario`);
} finally {
  await Promise.all(Object.values(servers).map(server => server.stop()));
}

/** User + system CPU time of a process, in ms (Linux /proc; clock ticks of 10 ms). */
function cpuMillis(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After the command name: field 3 is the state, so utime and stime (fields 14, 15) are at 11, 12.
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function report(rows, [before, after]) {
  const cpus = os.cpus();
  const lines = [
    START,
    '## Gateway path vs decorator path (`npm run bench:gateway`)',
    '',
    `The same user event, echoed, through \`@SubscribeMessage('message')\` with \`@MessageBody()\` on a gateway (\`WebPubSubWsAdapter\`) and through \`@OnUserEvent('message')\`: ${withBefore ? `three Fastify apps, two built from \`dist/\` and the third the same gateway app from the build of ${GATEWAY_BASELINE_COMMIT} (before its per-event garbage was found)` : 'two Fastify apps built from `dist/`'}, each in its own process, loaded by autocannon (${connections} connections, a pool of warm connection ids) from this process, ${rounds} rounds of ${warmup} s warm-up + ${duration} s measured per app and scenario, the order rotating per round. Medians over the rounds; floor: gateway ≥ ${FLOOR}× module, in the same run. The server's CPU time per request (from /proc, user + system) is shown beside: steadier than throughput when other work shares the cores.`,
    '',
    `Run ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, Node ${process.version}, ${cpus.length} × ${cpus[0]?.model?.trim() ?? 'CPU'}; load average ${before.toFixed(2)} before, ${after.toFixed(2)} after (the load after includes the bench's own): ${before > 1 ? 'the machine was busy (other work shares these cores), so compare the ratio, not the absolute figures' : 'the machine was quiet before the run'}.`,
    '',
    `| Scenario | @OnUserEvent req/s (p50 / p99 ms) | @SubscribeMessage req/s (p50 / p99 ms) | gateway ÷ module | floor ${FLOOR} | server CPU µs/request: module / gateway |${withBefore ? ` ${GATEWAY_BASELINE_COMMIT} gateway req/s (÷ module) / CPU µs |` : ''}`,
    `| --- | --- | --- | --- | --- | --- |${withBefore ? ' --- |' : ''}`,
    ...rows.map(
      ({ name, module, gateway, old, ratio, ok }) =>
        `| ${SCENARIOS[name].title} | ${module.rps.toFixed(0)} (${module.p50.toFixed(1)} / ${module.p99.toFixed(1)}) | ${gateway.rps.toFixed(0)} (${gateway.p50.toFixed(1)} / ${gateway.p99.toFixed(1)}) | ${ratio.toFixed(2)} | ${ok ? 'met' : '**not met**'}${module.failures + gateway.failures ? `, ${module.failures + gateway.failures} wrong answers` : ''} | ${module.cpu.toFixed(0)} / ${gateway.cpu.toFixed(0)} |${old ? ` ${old.rps.toFixed(0)} (${(old.rps / module.rps).toFixed(2)}) / ${old.cpu.toFixed(0)}${old.failures ? `, ${old.failures} wrong answers` : ''} |` : ''}`,
    ),
    '',
    'Per-round req/s: ' +
      rows
        .map(
          ({ name, module, gateway, old }) =>
            `${name}: module ${module.runs.map(rps => rps.toFixed(0)).join(', ')}; gateway ${gateway.runs.map(rps => rps.toFixed(0)).join(', ')}${old ? `; ${GATEWAY_BASELINE_COMMIT} gateway ${old.runs.map(rps => rps.toFixed(0)).join(', ')}` : ''}`,
        )
        .join(' — ') +
      '.',
    END,
  ];
  return lines.join('\n');
}

function writeSection(section) {
  mkdirSync(dirname(outFile), { recursive: true });
  let text = '';
  try {
    text = readFileSync(outFile, 'utf8');
  } catch {
    // a new file
  }
  const start = text.indexOf(START);
  const end = text.indexOf(END);
  text =
    start >= 0 && end > start
      ? text.slice(0, start) + section + text.slice(end + END.length)
      : `${text.trimEnd()}\n\n${section}\n`;
  writeFileSync(outFile, text);
}
