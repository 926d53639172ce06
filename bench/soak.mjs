// npm run bench:soak: mixed events at full speed against the module on each adapter, every
// answer checked; RSS after warm-up and at the end, and the error count.
//
// Environment (all optional):
//   BENCH_SOAK_DURATION=60     seconds of mixed load per server
//   BENCH_SOAK_WARMUP=10       seconds of the same load before the start measurement
//   BENCH_CONNECTIONS=50
//   BENCH_SOAK_SERVERS=module-fastify,module-express
//   BENCH_OUT=path             results file (default bench/SOAK.md for a default run,
//                              bench/.runs/SOAK-partial.md when any setting is changed)
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { libraryState } from './lib/git.mjs';
import { failuresOf, runLoad } from './lib/load.mjs';
import { SERVER_NAMES, SERVERS, startServer } from './lib/servers.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SETTINGS = [
  'BENCH_SOAK_DURATION',
  'BENCH_SOAK_WARMUP',
  'BENCH_CONNECTIONS',
  'BENCH_SOAK_SERVERS',
];
/** The mix each connection cycles through (one connect and disconnect per five messages or so). */
const MIX = ['connect', 'connected', 'text', 'text', 'text', 'binary', 'text', 'disconnected'];
const RSS_GROWTH_LIMIT = 30 * 1024 * 1024;
const SAMPLE_EVERY = 10;

const duration = int('BENCH_SOAK_DURATION', 60, 1);
const warmup = int('BENCH_SOAK_WARMUP', 10, 0);
const connections = int('BENCH_CONNECTIONS', 50, 1);
const servers = (process.env.BENCH_SOAK_SERVERS ?? 'module-fastify,module-express')
  .split(',')
  .map(s => s.trim())
  .filter(Boolean);
for (const id of servers)
  if (!SERVERS[id])
    throw new Error(`BENCH_SOAK_SERVERS: unknown ${id} (known: ${SERVER_NAMES.join(', ')})`);
const customised = SETTINGS.filter(name => process.env[name] !== undefined);
const outFile =
  process.env.BENCH_OUT ??
  `${ROOT}bench/${customised.length > 0 ? '.runs/SOAK-partial.md' : 'SOAK.md'}`;
const command = [
  ...customised.map(name => `${name}=${process.env[name]}`),
  process.env.npm_lifecycle_event
    ? `npm run ${process.env.npm_lifecycle_event}`
    : 'node bench/soak.mjs',
].join(' ');
const startedAt = new Date();
const library = libraryState(ROOT);

console.log(
  `Soak: ${servers.join(', ')}; ${warmup} s warm-up then ${duration} s of mixed events (${MIX.join(', ')}), ${connections} connections\n`,
);

const results = [];
for (const id of servers) {
  // --expose-gc: the memory probe can also report the heap after a full collection.
  const server = await startServer(id, { execArgv: ['--expose-gc'] });
  try {
    console.log(`${id}: started (pid ${server.pid})`);
    let warmFailures = 0;
    if (warmup > 0)
      warmFailures = failuresOf(
        await runLoad({
          url: server.url,
          scenario: MIX,
          duration: warmup,
          connections,
          latencies: false,
        }),
      );
    const start = await server.memory();
    const startGc = await server.memory(true);
    console.log(
      `${id}: after warm-up  RSS ${mb(start.rss)}  (heap after GC ${mb(startGc.heapUsed)})`,
    );

    // The soak itself, with a memory sample every SAMPLE_EVERY seconds.
    const samples = [];
    const sampler = setInterval(() => {
      server.memory().then(
        m => samples.push(m.rss),
        () => undefined,
      );
    }, SAMPLE_EVERY * 1000);
    const run = await runLoad({
      url: server.url,
      scenario: MIX,
      duration,
      connections,
      latencies: true,
    });
    clearInterval(sampler);

    const end = await server.memory();
    const endGc = await server.memory(true);
    const failures = failuresOf(run) + warmFailures;
    const growth = end.rss - start.rss;
    const result = {
      id,
      run,
      start,
      end,
      startGc,
      endGc,
      samples,
      failures,
      warmFailures,
      growth,
      pass: failures === 0 && growth < RSS_GROWTH_LIMIT,
    };
    results.push(result);
    console.log(`${id}: end          RSS ${mb(end.rss)}  (heap after GC ${mb(endGc.heapUsed)})`);
    console.log(`${id}: RSS samples  ${samples.map(mb).join(' → ')}`);
    console.log(
      `${id}: ${fmtInt(run.requests)} responses in ${run.duration} s (${fmtInt(run.rps)} req/s, p50 ${run.p50.toFixed(2)} ms, p99 ${run.p99.toFixed(2)} ms); ` +
        `errors ${failures} (wrong status ${run.wrongStatus}, wrong body ${run.mismatches}, connection errors ${run.errors}, timeouts ${run.timeouts}, during warm-up ${warmFailures}); ` +
        `RSS growth ${signedMb(growth)} → ${result.pass ? 'PASS' : 'FAIL'}\n`,
    );
  } finally {
    await server.stop();
  }
}

const report = render();
console.log(report);
mkdirSync(dirname(outFile), { recursive: true });
writeFileSync(outFile, report);
console.log(`Written to ${relative(process.cwd(), outFile)}`);
if (results.some(r => r.failures > 0)) {
  console.log(
    `\n!!! ${results.reduce((n, r) => n + r.failures, 0)} WRONG ANSWERS OR ERRORS DURING THE SOAK !!!`,
  );
  process.exitCode = 1;
}

function render() {
  const cpus = os.cpus();
  const out = ['# Soak results', ''];
  if (results.some(r => r.failures > 0))
    out.push('> [!CAUTION]', '> **The soak had wrong answers or errors.**', '');
  out.push(
    `- Date: ${startedAt.toISOString()}`,
    `- Command: \`${command}\``,
    `- Library: ${library}`,
    `- Node: ${process.version}, ${os.platform()} ${os.release()} ${os.arch()}; CPU: ${cpus.length} × ${cpus[0]?.model?.trim() ?? 'unknown'}`,
    `- Load: autocannon, ${connections} connections, each cycling through ${MIX.join(', ')}; every answer checked (status and body)`,
    `- ${warmup} s warm-up, then ${duration} s measured. Target: zero errors, RSS growth under 30 MB after warm-up.`,
    '',
    '| Server | Responses | req/s | p99 ms | Errors | RSS after warm-up | RSS at end | RSS growth | Heap after GC (start → end) | Result |',
    '|---|--:|--:|--:|--:|--:|--:|--:|--:|:-:|',
  );
  for (const r of results) {
    out.push(
      `| ${SERVERS[r.id].title} | ${fmtInt(r.run.requests)} | ${fmtInt(r.run.rps)} | ${r.run.p99.toFixed(2)} | ${r.failures} | ${mb(r.start.rss)} | ${mb(r.end.rss)} | ${signedMb(r.growth)} | ${mb(r.startGc.heapUsed)} → ${mb(r.endGc.heapUsed)} | ${r.pass ? 'PASS' : '**FAIL**'} |`,
    );
  }
  out.push('', 'RSS every 10 s during the soak:', '');
  for (const r of results)
    out.push(
      `- ${SERVERS[r.id].title}: ${[r.start.rss, ...r.samples, r.end.rss].map(mb).join(' → ')}`,
    );
  out.push('');
  return out.join('\n');
}

function int(name, fallback, min) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min)
    throw new Error(`${name} must be a whole number ≥ ${min}, not "${raw}"`);
  return value;
}

function mb(bytes) {
  return `${(bytes / 1048576).toFixed(1)} MB`;
}

function signedMb(bytes) {
  return `${bytes >= 0 ? '+' : '−'}${(Math.abs(bytes) / 1048576).toFixed(1)} MB`;
}

function fmtInt(n) {
  return Math.round(n).toLocaleString('en-US');
}
