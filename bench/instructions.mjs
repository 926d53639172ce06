// npm run bench:instructions: instructions the server process executes per request, counted by
// valgrind (callgrind) over a fixed number of requests, for each server and scenario. Unlike
// req/s, the count does not depend on what else runs on the machine, so small differences
// (a few percent) are visible on a busy machine too.
//
// Each server runs under `valgrind --tool=callgrind` (no cache or branch simulation, one count
// per thread), in its own process; this process sends the requests (keep-alive HTTP/1.1,
// BENCH_IR_CONCURRENCY at a time, every answer checked). Per server: BENCH_IR_WARMUP requests of
// each scenario with the instrumentation off (the JIT settles; about 5× slower than without
// valgrind rather than 50×), then per scenario BENCH_IR_REPEATS windows: counters zeroed
// (`callgrind_control -z`), BENCH_IR_REQUESTS requests, counters dumped (`callgrind_control -d`).
// The figure is the main thread's instructions ÷ requests (where JavaScript runs: the request
// path, with the scavenges and the main thread's part of the major collections); every thread's
// total (V8's compiler and concurrent GC threads too) is shown beside it and varies far more
// between windows. Only user space counts: the kernel's socket work does not.
//
// Environment (all optional):
//   BENCH_IR_SERVERS=module-fastify,module-fastify-baseline,nest-fastify,module-fastify-nosig
//   BENCH_IR_SCENARIOS=connect,text,connected
//   BENCH_IR_WARMUP=20000       requests per server and scenario before counting (not instrumented)
//   BENCH_IR_REQUESTS=1000      counted requests per window
//   BENCH_IR_CONCURRENCY=8      requests in flight
//   BENCH_IR_REPEATS=3          counted windows per server and scenario (the table shows the median)
//   BENCH_OUT=path              results file (default: the instruction section of bench/RESULTS.md
//                               for the default settings, bench/.runs/INSTRUCTIONS.md otherwise)
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectionPool, HUB, positiveIntegerEnv, SCENARIOS } from './lib/common.mjs';
import { libraryState } from './lib/git.mjs';
import { BASELINE_COMMIT } from './lib/baseline.mjs';
import { GATEWAY_SERVERS, SERVERS as BENCH_SERVERS, startServer } from './lib/servers.mjs';

/** The default benchmark's servers and the gateway benchmark's. */
const SERVERS = { ...BENCH_SERVERS, ...GATEWAY_SERVERS };

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SETTINGS = [
  'BENCH_IR_SERVERS',
  'BENCH_IR_SCENARIOS',
  'BENCH_IR_WARMUP',
  'BENCH_IR_REQUESTS',
  'BENCH_IR_CONCURRENCY',
  'BENCH_IR_REPEATS',
];
const START = '<!-- instructions-bench:start -->';
const END = '<!-- instructions-bench:end -->';

const serverIds = list('BENCH_IR_SERVERS', [
  'module-fastify',
  'module-fastify-baseline',
  'nest-fastify',
  'module-fastify-nosig',
]);
const scenarios = list('BENCH_IR_SCENARIOS', ['connect', 'text', 'connected']);
const warmupRequests = positiveIntegerEnv('BENCH_IR_WARMUP', 20_000);
const requests = positiveIntegerEnv('BENCH_IR_REQUESTS', 1000);
const concurrency = positiveIntegerEnv('BENCH_IR_CONCURRENCY', 8);
const repeats = positiveIntegerEnv('BENCH_IR_REPEATS', 3);
/** BENCH_IR_KEEP=dir: keep each window's callgrind dump there (for callgrind_annotate). */
const keepDir = process.env.BENCH_IR_KEEP;
let dumpCount = 0;
const customised = SETTINGS.filter(name => process.env[name] !== undefined);
const outFile =
  process.env.BENCH_OUT ??
  (customised.length > 0 ? `${ROOT}bench/.runs/INSTRUCTIONS.md` : `${ROOT}bench/RESULTS.md`);

for (const id of serverIds) if (!SERVERS[id]) throw new Error(`Unknown server "${id}"`);
for (const name of scenarios) if (!SCENARIOS[name]) throw new Error(`Unknown scenario "${name}"`);
try {
  execFileSync('valgrind', ['--version'], { stdio: 'ignore' });
} catch {
  throw new Error(
    'valgrind is not installed (apt-get install valgrind): it counts the instructions',
  );
}

const workDir = join(os.tmpdir(), `bench-instructions-${process.pid}`);
mkdirSync(workDir, { recursive: true });
const startedAt = new Date();
const loadBefore = os.loadavg();
/** What dist/ was built from, read before the servers start (lib/ may change during a long run). */
const library = libraryState(ROOT);
/** counts[server][scenario] = instructions per request, one per repeat */
const counts = {};
/** the same, every thread */
const allThreads = {};
let failures = 0;

try {
  for (const id of serverIds) {
    counts[id] = {};
    allThreads[id] = {};
    const out = join(workDir, `${id}.callgrind`);
    const started = Date.now();
    const server = await startServer(id, {
      execPath: 'valgrind',
      execArgv: [
        '--tool=callgrind',
        '--cache-sim=no',
        '--branch-sim=no',
        '--dump-instr=no',
        // No instrumentation (much faster) until the warm-up is done.
        '--instr-atstart=no',
        '--trace-children=no',
        '--separate-threads=yes',
        `--callgrind-out-file=${out}`,
        process.execPath,
      ],
      startTimeout: 300_000,
      log: () => undefined,
    });
    log(`${id}: started under callgrind in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    try {
      const mine = scenarios.filter(
        scenario => !SERVERS[id].scenarios || SERVERS[id].scenarios.includes(scenario),
      );
      // Warm-up without instrumentation (about 5× slower than without valgrind rather than 50×):
      // every scenario, twice over, so the JIT has seen them all.
      for (let pass = 0; pass < 2; pass++)
        for (const scenario of mine) await send(server.port, scenario, warmupRequests / 2);
      callgrind('--instr=on', server.pid);
      for (const scenario of mine) {
        counts[id][scenario] = [];
        allThreads[id][scenario] = [];
        // A few requests after the switch, not counted.
        await send(server.port, scenario, 200);
        for (let repeat = 0; repeat < repeats; repeat++) {
          callgrind('-z', server.pid);
          const wall = Date.now();
          await send(server.port, scenario, requests);
          const { main, all } = dump(server.pid, out);
          counts[id][scenario].push(main / requests);
          allThreads[id][scenario].push(all / requests);
          log(
            `  ${scenario.padEnd(10)} ${fmtInt(main / requests).padStart(9)} instructions/request on the main thread, ${fmtInt(all / requests).padStart(9)} in all` +
              `  (${requests} requests in ${((Date.now() - wall) / 1000).toFixed(1)} s)`,
          );
        }
      }
    } finally {
      await server.stop();
    }
  }
} finally {
  rmSync(workDir, { recursive: true, force: true });
}

const report = render();
log(`\n${report}`);
mkdirSync(dirname(outFile), { recursive: true });
writeFileSync(outFile, withSection(report));
log(`\nWritten to ${relative(process.cwd(), outFile)}`);
if (failures > 0) {
  log(`!!! ${failures} wrong answers: the counts are not valid`);
  process.exitCode = 1;
}

// --- load ------------------------------------------------------------------------------------

/** Sends `count` requests of `scenario`, `concurrency` at a time; every answer is checked. */
async function send(port, scenario, count) {
  const spec = SCENARIOS[scenario];
  const pool = spec.connections ? connectionPool(spec.connections) : undefined;
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  let sent = 0;
  const one = () =>
    new Promise((resolve, reject) => {
      const headers = { ...spec.request.headers };
      if (pool) {
        const [connectionId, signature] = pool.next();
        headers['ce-connectionId'] = connectionId;
        headers['ce-signature'] = signature;
        headers['ce-source'] = `/hubs/${HUB}/client/${connectionId}`;
      }
      const request = http.request(
        {
          host: '127.0.0.1',
          port,
          path: spec.request.path,
          method: spec.request.method,
          headers,
          agent,
        },
        response => {
          const chunks = [];
          response.on('data', chunk => chunks.push(chunk));
          response.on('end', () => {
            const body = Buffer.concat(chunks).toString('utf8');
            if (!spec.expect.status.includes(response.statusCode) || body !== spec.expect.body) {
              failures++;
              if (failures <= 5)
                log(
                  `!!! ${scenario}: status ${response.statusCode}, body ${JSON.stringify(body.slice(0, 80))}`,
                );
            }
            resolve();
          });
          response.on('error', reject);
        },
      );
      request.on('error', reject);
      request.end(spec.request.body);
    });
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (sent < count) {
        sent++;
        await one();
      }
    }),
  );
  agent.destroy();
}

// --- callgrind -------------------------------------------------------------------------------

function callgrind(option, pid) {
  execFileSync('callgrind_control', [option, String(pid)], { stdio: 'ignore' });
}

/**
 * Dumps the counters since the last zeroing: `{ main, all }` instructions (the main thread, where
 * JavaScript runs, and every thread: V8's compiler, GC and libuv helpers too).
 */
function dump(pid, out) {
  const before = new Set(dumps(out));
  callgrind('-d', pid);
  const added = dumps(out).filter(file => !before.has(file));
  if (added.length === 0) throw new Error('callgrind_control -d wrote no dump');
  let all = 0;
  let main = 0;
  for (const file of added) {
    const text = readFileSync(join(dirname(out), file), 'utf8');
    const match = /^(?:summary|totals):\s+(\d+)/m.exec(text);
    const count = match ? Number(match[1]) : 0;
    all += count;
    // --separate-threads=yes: one file per thread, `<out>.<dump>-<thread>`; thread 1 is the main one.
    if (/-0*1$/.test(file)) main += count;
    if (keepDir) {
      mkdirSync(keepDir, { recursive: true });
      writeFileSync(join(keepDir, `${file}.${dumpCount++}`), text);
    }
    rmSync(join(dirname(out), file));
  }
  return { main, all };
}

function dumps(out) {
  const base = out.slice(dirname(out).length + 1);
  return readdirSync(dirname(out)).filter(file => file.startsWith(`${base}.`));
}

// --- report ----------------------------------------------------------------------------------

function render() {
  const median = values => {
    const sorted = [...values].sort((a, b) => a - b);
    const mid = sorted.length >> 1;
    return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  };
  const value = (id, scenario) =>
    counts[id]?.[scenario]?.length ? median(counts[id][scenario]) : undefined;
  const loadAfter = os.loadavg();
  const out = [];
  out.push(START, '## Instructions per request (`npm run bench:instructions`)', '');
  out.push(
    `- Date: ${startedAt.toISOString()}; command \`${[...customised.map(n => `${n}=${process.env[n]}`), 'npm run bench:instructions'].join(' ')}\``,
    `- Library: ${library}; baseline: the \`${BASELINE_COMMIT}\` build (before issue 17)`,
    `- Node ${process.version}, valgrind ${execFileSync('valgrind', ['--version'], { encoding: 'utf8' }).trim()}; load average ${loadBefore.map(n => n.toFixed(2)).join(' / ')} at the start, ${loadAfter.map(n => n.toFixed(2)).join(' / ')} at the end (the counts do not depend on it)`,
    `- Method: each server under \`valgrind --tool=callgrind\` in its own process; ${fmtInt(warmupRequests)} requests of each scenario first, not instrumented; then per scenario ${repeats} window${repeats > 1 ? 's' : ''} of ${fmtInt(requests)} counted requests (median shown); ${concurrency} requests in flight, keep-alive, connection ids as in \`npm run bench\`. Main thread: user-space instructions of the thread that runs JavaScript ÷ requests (its GC work included); all threads: plus V8's compiler and concurrent GC threads (noisier). The kernel's socket work is not counted.`,
    failures === 0
      ? '- Every answer had the expected status and body.'
      : `- **${failures} wrong answers: the counts are not valid.**`,
    '',
  );
  const cell = (id, scenario) => {
    if (value(id, scenario) === undefined) return '—';
    const windows = counts[id][scenario].map(n => fmtInt(n / 1000)).join(' · ');
    return `**${fmtInt(value(id, scenario))}** (${windows}k; all threads ${fmtInt(median(allThreads[id][scenario]))})`;
  };
  out.push(
    'Main-thread instructions per request, median (each window in thousands; all threads, median):',
    '',
    `| Scenario | ${serverIds.map(id => `${SERVERS[id].title}`).join(' | ')} |`,
    `|---|${serverIds.map(() => '--:').join('|')}|`,
  );
  for (const scenario of scenarios)
    out.push(`| ${scenario} | ${serverIds.map(id => cell(id, scenario)).join(' | ')} |`);
  out.push('');

  // The aims of issue 17 as ratios of counts: fewer instructions, more requests per second.
  const rows = [];
  const ratioRow = (name, scenario, fast, slow, threshold) => {
    // Throughput ratio implied by the counts: fast's instructions ÷ slow's (≤ 1 when slow costs more).
    const f = value(fast, scenario);
    const s = value(slow, scenario);
    if (f === undefined || s === undefined) return;
    const ratio = f / s;
    let verdict = '';
    if (threshold !== undefined) {
      const allowed = f / threshold;
      verdict =
        ratio >= threshold
          ? 'met'
          : `**not met**: ${fmtInt(s - allowed)} instructions per request over the ${fmtInt(allowed)} allowed`;
    }
    rows.push(
      `| ${name} | ${scenario} | ${ratio.toFixed(3)}× (${fmtInt(f)} ÷ ${fmtInt(s)}) | ${threshold === undefined ? 'shown' : `≥ ${threshold.toFixed(2)}×`} | ${verdict} |`,
    );
  };
  for (const scenario of scenarios)
    ratioRow(
      'bare Nest Fastify ÷ module (module at ≥ 0.9× the floor)',
      scenario,
      'nest-fastify',
      'module-fastify',
      0.9,
    );
  if (scenarios.includes('connect'))
    ratioRow(
      'module without keys ÷ with keys (signature cost ≤ 5%)',
      'connect',
      'module-fastify-nosig',
      'module-fastify',
      0.95,
    );
  for (const scenario of scenarios)
    ratioRow(
      `the ${BASELINE_COMMIT} build ÷ module (before ÷ after)`,
      scenario,
      'module-fastify-baseline',
      'module-fastify',
      undefined,
    );
  if (rows.length > 0) {
    out.push(
      'Aims of issue 17 in instructions (a ratio of counts is the throughput ratio the same CPU would give, kernel work aside):',
      '',
      '| Aim | Scenario | Ratio | Required | Result |',
      '|---|---|--:|--:|---|',
      ...rows,
      '',
    );
  }
  out.push(END);
  return out.join('\n');
}

/** Replaces the instruction section of the results file (or appends it). */
function withSection(report) {
  let existing = '';
  try {
    existing = readFileSync(outFile, 'utf8');
  } catch {
    return `${report}\n`;
  }
  const start = existing.indexOf(START);
  const end = existing.indexOf(END);
  if (start !== -1 && end > start)
    return existing.slice(0, start) + report + existing.slice(end + END.length);
  return `${existing.trimEnd()}\n\n${report}\n`;
}

// --- helpers ---------------------------------------------------------------------------------

function list(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  return raw
    .split(',')
    .map(value => value.trim())
    .filter(Boolean);
}

function fmtInt(n) {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '—';
}

function log(message) {
  console.log(message);
}
