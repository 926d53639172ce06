// npm run bench: every server in its own process, loaded by autocannon from this process,
// warm-up then a measured window per (round, scenario, server), medians over the rounds,
// the issue's target ratios, and bench/RESULTS.md.
//
// Environment (all optional):
//   BENCH_DURATION=3      measured seconds per run (whole seconds)
//   BENCH_WARMUP=1        warm-up seconds before each measured run (0: none)
//   BENCH_PREWARM=2       seconds of mixed load per server before the first round (0: none)
//   BENCH_ROUNDS=3        rounds; the table shows medians
//   BENCH_CONNECTIONS=50
//   BENCH_SCENARIOS=connect,text,binary,connected,options
//   BENCH_SERVERS=module-fastify,module-fastify-baseline,module-express,nest-fastify,nest-express,peer-express,node-http,module-fastify-nosig,module-fastify-otel,module-express-otel
//   BENCH_PIN=1           pin the load generator to CPU 0 and every server to CPU 1 (taskset)
//   BENCH_OUT=path        results file (default bench/RESULTS.md for a default run,
//                         bench/.runs/RESULTS-partial.md when any BENCH_* setting is changed)
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BENCH_SCENARIOS, SCENARIOS, sign } from './lib/common.mjs';
import { libraryState } from './lib/git.mjs';
import { failuresOf, probe, runLoad } from './lib/load.mjs';
import { BASELINE_COMMIT } from './lib/baseline.mjs';
import { SERVER_NAMES, SERVERS, startServer } from './lib/servers.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SETTINGS = [
  'BENCH_PIN',
  'BENCH_DURATION',
  'BENCH_WARMUP',
  'BENCH_PREWARM',
  'BENCH_ROUNDS',
  'BENCH_CONNECTIONS',
  'BENCH_SCENARIOS',
  'BENCH_SERVERS',
];
/** CPU (in cores) other processes may use during a measured run before it is repeated. */
const DISTURBED_CORES = 0.1;
/** How often a disturbed run is repeated. */
const MAX_REPEATS = 2;
const KEEP_MARKER =
  '<!-- Everything below this line is kept when npm run bench rewrites this file. -->';

const duration = positiveInt('BENCH_DURATION', 3);
const warmup = nonNegativeInt('BENCH_WARMUP', 1);
const prewarm = nonNegativeInt('BENCH_PREWARM', 2);
const rounds = positiveInt('BENCH_ROUNDS', 3);
const connections = positiveInt('BENCH_CONNECTIONS', 50);
const pin = process.env.BENCH_PIN === '1';
const scenarios = list('BENCH_SCENARIOS', BENCH_SCENARIOS, Object.keys(SCENARIOS));
const servers = list('BENCH_SERVERS', SERVER_NAMES, SERVER_NAMES);
const customised = SETTINGS.filter(name => process.env[name] !== undefined);
const outFile =
  process.env.BENCH_OUT ??
  (customised.length > 0 ? `${ROOT}bench/.runs/RESULTS-partial.md` : `${ROOT}bench/RESULTS.md`);
const command = [
  ...customised.map(name => `${name}=${process.env[name]}`),
  process.env.npm_lifecycle_event
    ? `npm run ${process.env.npm_lifecycle_event}`
    : 'node bench/run.mjs',
].join(' ');

/** (scenario, server) pairs to measure, in scenario order. */
const pairs = scenarios.flatMap(scenario =>
  servers
    .filter(server => !SERVERS[server].scenarios || SERVERS[server].scenarios.includes(scenario))
    .map(server => ({ scenario, server })),
);

const startedAt = new Date();
const library = libraryState(ROOT);
const estimate = pairs.length * rounds * (warmup + duration + 0.4) + servers.length * (prewarm + 1);
log(
  `Benchmark: ${servers.length} servers × ${scenarios.length} scenarios (${pairs.length} pairs), ${rounds} rounds × (${warmup} s warm-up + ${duration} s), ${connections} connections`,
);
log(`Estimated time: ${formatDuration(estimate)} (+ start-up)\n`);

const running = new Map();
/** Set when the machine was busy before the run. */
let busy;
let interrupted = false;
process.on('SIGINT', () => {
  interrupted = true;
  log('\nInterrupted: stopping the servers…');
  void stopAll().then(() => process.exit(130));
});

try {
  await main();
} finally {
  await stopAll();
}

async function main() {
  // Is anything else using the CPU? (Numbers from a busy machine are not comparable.)
  await waitForIdle(30_000);
  const idle = await idleShare(1000);
  if (idle !== undefined && idle < 0.9) {
    busy = `the machine was ${Math.round((1 - idle) * 100)}% busy just before the run (other processes): numbers may be depressed and noisy`;
    log(`WARNING: ${busy}\n`);
  }

  // Start every server (one at a time, so start-up work does not overlap).
  if (pin) pinTo(process.pid, 0);
  for (const id of servers) {
    const server = await startServer(id);
    running.set(id, server);
    if (pin) pinTo(server.pid, 1);
    log(`started ${id.padEnd(22)} pid ${server.pid}, ${server.url}${pin ? ' (CPU 1)' : ''}`);
  }

  // Pre-flight: one fully checked request per pair, and a forged signature per server.
  log(
    '\nPre-flight (each server also gets one forged signature: "Rejected … 401" warnings are expected)',
  );
  const preflight = [];
  for (const { scenario, server } of pairs) {
    const problems = await probe(running.get(server).url, scenario);
    for (const problem of problems) preflight.push(`${server} / ${scenario}: ${problem}`);
  }
  const signatureChecks = {};
  for (const id of servers) {
    const forged = { 'ce-signature': sign('bench-conn-0001', 'not-the-access-key') };
    const problems = await probe(running.get(id).url, 'text', forged, 401);
    signatureChecks[id] = problems.length === 0;
    if (SERVERS[id].signature && !signatureChecks[id]) {
      preflight.push(
        `${id}: a forged ce-signature was accepted (${problems.join('; ')}), but this server should check signatures`,
      );
    }
  }
  log(
    preflight.length === 0
      ? 'Pre-flight: every answer is right.\n'
      : `\nPre-flight problems:\n${preflight.map(p => `  - ${p}`).join('\n')}\n`,
  );

  // Pre-warm: each server runs all its scenarios once, so the first measured runs are not cold.
  const warmupFailures = new Map();
  if (prewarm > 0) {
    log(`Pre-warm: ${prewarm} s of mixed load per server`);
    for (const server of servers) {
      const mix = pairs.filter(pair => pair.server === server).map(pair => pair.scenario);
      if (mix.length === 0) continue;
      const warm = await runLoad({
        url: running.get(server).url,
        scenario: mix,
        duration: prewarm,
        connections,
        latencies: false,
      });
      const failed = failuresOf(warm);
      if (failed > 0) warmupFailures.set(`pre-warm / ${server}`, failed);
    }
    log('');
  }

  // Rounds: the server order rotates each round so no server always runs first or last.
  const runs = new Map(pairs.map(({ scenario, server }) => [key(scenario, server), []]));
  for (let round = 0; round < rounds; round++) {
    for (const scenario of scenarios) {
      const here = pairs.filter(pair => pair.scenario === scenario).map(pair => pair.server);
      const order = here.map((_, i) => here[(i + round) % here.length]);
      for (const server of order) {
        if (interrupted) return;
        const { url } = running.get(server);
        if (warmup > 0) {
          const warm = await runLoad({
            url,
            scenario,
            duration: warmup,
            connections,
            latencies: false,
          });
          const failed = failuresOf(warm);
          if (failed > 0)
            warmupFailures.set(
              key(scenario, server),
              (warmupFailures.get(key(scenario, server)) ?? 0) + failed,
            );
        }
        // Measured run; repeated (up to MAX_REPEATS times, once the machine is idle again) when
        // other processes took CPU time during it.
        let run;
        for (let attempt = 0; ; attempt++) {
          const before = cpuSnapshot();
          run = await runLoad({ url, scenario, duration, connections });
          run.others = othersCores(before, cpuSnapshot());
          if (!(run.others > DISTURBED_CORES) || attempt >= MAX_REPEATS) break;
          log(
            `        (other processes used ${run.others.toFixed(2)} CPU during that run: ` +
              'repeating it once the machine is idle)',
          );
          await waitForIdle(20_000);
          if (warmup > 0) {
            await runLoad({ url, scenario, duration: warmup, connections, latencies: false });
          }
        }
        runs.get(key(scenario, server)).push(run);
        const failed = failuresOf(run);
        log(
          `[${round + 1}/${rounds}] ${scenario.padEnd(10)} ${server.padEnd(22)} ${fmtInt(run.rps).padStart(7)} req/s  ` +
            `p50 ${fmtMs(run.p50).padStart(6)}  p99 ${fmtMs(run.p99).padStart(6)} ms` +
            (run.others > DISTURBED_CORES
              ? `  (disturbed: others used ${run.others.toFixed(2)} CPU)`
              : '') +
            (failed > 0 ? `  !!! ${describeFailures(run)}` : ''),
        );
      }
    }
  }

  const results = summarise(runs);
  const targets = evaluateTargets(results);
  const failures = collectFailures(results, warmupFailures, preflight);
  const memory = {};
  for (const id of servers) memory[id] = (await running.get(id).memory()).rss;

  const report = renderReport({ results, targets, failures, signatureChecks, memory });
  log(`\n${report}`);
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, withKeptSection(report));
  log(`\nWritten to ${relative(process.cwd(), outFile)}`);
  if (failures.total > 0) {
    log(`\n${failures.banner}`);
    process.exitCode = 1;
  }
}

async function stopAll() {
  const stopping = [...running.values()].map(server => server.stop().catch(() => undefined));
  running.clear();
  await Promise.all(stopping);
}

// --- results ---------------------------------------------------------------------------------

function summarise(runs) {
  const results = new Map();
  for (const [pair, list] of runs) {
    if (list.length === 0) continue;
    const rps = list.map(run => run.rps);
    results.set(pair, {
      rps: median(rps),
      rpsMin: Math.min(...rps),
      rpsMax: Math.max(...rps),
      p50: median(list.map(run => run.p50)),
      p99: median(list.map(run => run.p99)),
      requests: list.reduce((sum, run) => sum + run.requests, 0),
      wrongStatus: sum(list, 'wrongStatus'),
      mismatches: sum(list, 'mismatches'),
      missingHeader: sum(list, 'missingHeader'),
      errors: sum(list, 'errors'),
      timeouts: sum(list, 'timeouts'),
      statusCounts: mergeCounts(list.map(run => run.statusCounts)),
      disturbed: list.filter(run => run.others > DISTURBED_CORES).length,
    });
  }
  return results;
}

function collectFailures(results, warmupFailures, preflight) {
  const lines = [];
  let total = 0;
  for (const [pair, result] of results) {
    const failed = failuresOf(result);
    if (failed > 0) {
      total += failed;
      lines.push(
        `${pair}: ${describeFailures(result)} of ${fmtInt(result.requests)} measured responses`,
      );
    }
  }
  for (const [pair, failed] of warmupFailures) {
    total += failed;
    lines.push(`${pair}: ${fmtInt(failed)} wrong answers or errors during warm-up`);
  }
  total += preflight.length;
  lines.push(...preflight.map(problem => `pre-flight: ${problem}`));
  const banner =
    total === 0
      ? ''
      : [
          '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!',
          `!!! ${fmtInt(total)} WRONG ANSWERS OR ERRORS: the numbers below are NOT valid !!!`,
          ...lines.map(line => `!!! ${line}`),
          '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!',
        ].join('\n');
  return { total, lines, banner };
}

function describeFailures(run) {
  const parts = [];
  if (run.wrongStatus)
    parts.push(
      `${fmtInt(run.wrongStatus)} wrong status (${Object.entries(run.statusCounts)
        .map(([code, n]) => `${code}×${n.count ?? n}`)
        .join(', ')})`,
    );
  if (run.mismatches) parts.push(`${fmtInt(run.mismatches)} wrong bodies`);
  if (run.missingHeader) parts.push(`${fmtInt(run.missingHeader)} without the expected header`);
  if (run.errors) parts.push(`${fmtInt(run.errors)} errors (${fmtInt(run.timeouts)} timeouts)`);
  return parts.join(', ');
}

/** The ratios issue #3 targets; a target is `n/a` when a server or scenario it needs was not run. */
function evaluateTargets(results) {
  const get = (scenario, server) => results.get(key(scenario, server));
  const targets = [];
  const ratio = (name, scenario, a, b, threshold, kind = 'min') => {
    const x = get(scenario, a);
    const y = get(scenario, b);
    if (!x || !y) return targets.push({ name, scenario, value: undefined, threshold, kind });
    if (kind === 'cost')
      return targets.push({
        name,
        scenario,
        value: 1 - x.rps / y.rps,
        threshold,
        kind,
        detail: `${fmtInt(x.rps)} vs ${fmtInt(y.rps)} req/s`,
      });
    if (kind === 'p99')
      return targets.push({
        name,
        scenario,
        value: x.p99,
        threshold: y.p99,
        kind,
        detail: `${fmtMs(x.p99)} vs ${fmtMs(y.p99)} ms`,
      });
    return targets.push({
      name,
      scenario,
      value: x.rps / y.rps,
      threshold,
      kind,
      detail: `${fmtInt(x.rps)} vs ${fmtInt(y.rps)} req/s`,
    });
  };
  for (const scenario of ['connect', 'text'])
    ratio('Fastify module ÷ peer (req/s)', scenario, 'module-fastify', 'peer-express', 2.5);
  for (const scenario of BENCH_SCENARIOS)
    ratio(
      'Fastify module ÷ bare Nest Fastify (req/s)',
      scenario,
      'module-fastify',
      'nest-fastify',
      0.85,
    );
  // Issue 17: the move into rooms and the one request flow, against the build before them.
  for (const scenario of ['connect', 'text', 'connected'])
    ratio(
      'Issue 17 aim: Fastify module ÷ bare Nest Fastify (req/s)',
      scenario,
      'module-fastify',
      'nest-fastify',
      0.9,
    );
  ratio(
    'Issue 17 aim: Fastify module with keys ÷ without (req/s)',
    'connect',
    'module-fastify',
    'module-fastify-nosig',
    0.95,
  );
  for (const scenario of ['connect', 'text', 'connected'])
    ratio(
      `Fastify module ÷ the ${BASELINE_COMMIT} build (req/s)`,
      scenario,
      'module-fastify',
      'module-fastify-baseline',
      undefined,
    );
  for (const scenario of BENCH_SCENARIOS)
    ratio(
      'Express module ÷ bare Nest Express (req/s)',
      scenario,
      'module-express',
      'nest-express',
      0.85,
    );
  for (const scenario of SERVERS['module-fastify-nosig'].scenarios)
    ratio(
      'Signature cost, Fastify module (1 − on ÷ off)',
      scenario,
      'module-fastify',
      'module-fastify-nosig',
      0.05,
      'cost',
    );
  for (const scenario of BENCH_SCENARIOS)
    ratio(
      'p99 Fastify module ≤ peer',
      scenario,
      'module-fastify',
      'peer-express',
      undefined,
      'p99',
    );
  for (const target of targets) {
    if (target.value === undefined || target.threshold === undefined) target.pass = undefined;
    else if (target.kind === 'cost') target.pass = target.value <= target.threshold;
    else if (target.kind === 'p99') target.pass = target.value <= target.threshold;
    else target.pass = target.value >= target.threshold;
  }
  return targets;
}

function renderReport({ results, targets, failures, signatureChecks, memory }) {
  const cpus = os.cpus();
  const shown = servers.filter(server => pairs.some(pair => pair.server === server));
  const out = [];
  out.push('# Benchmark results', '');
  if (failures.total > 0) {
    out.push(
      '> [!CAUTION]',
      `> **${fmtInt(failures.total)} WRONG ANSWERS OR ERRORS — these numbers are not valid.**`,
      '>',
    );
    for (const line of failures.lines) out.push(`> - ${line}`);
    out.push('');
  } else {
    out.push(
      `All ${fmtInt([...results.values()].reduce((n, r) => n + r.requests, 0))} measured responses (and every warm-up and pre-flight response) had the expected status, body and headers; no connection errors or timeouts.`,
      '',
    );
  }
  out.push(
    `- Date: ${startedAt.toISOString()}`,
    `- Command: \`${command}\``,
    `- Library: ${library}`,
    `- Node: ${process.version} (V8 ${process.versions.v8}), ${os.platform()} ${os.release()} ${os.arch()}`,
    `- CPU: ${cpus.length} × ${cpus[0]?.model?.trim() ?? 'unknown'}; load average at start ${os
      .loadavg()
      .map(n => n.toFixed(2))
      .join(' / ')}`,
    `- Load: autocannon ${autocannonVersion()} in the runner process, ${connections} connections, loopback (127.0.0.1); each server in its own process${pin ? '; load generator pinned to CPU 0, servers to CPU 1' : ''}`,
    `- Method: ${prewarm} s of mixed load per server first; then per round, scenario and server: ${warmup} s warm-up (discarded) then ${duration} s measured; ${rounds} round${rounds > 1 ? 's' : ''}, server order rotated per round; medians over the rounds. Latencies are per-request (full precision), p50/p99 in ms.`,
    '',
  );
  if (busy) out.push(`> [!WARNING]`, `> ${busy}.`, '');
  const disturbed = [...results.values()].reduce((n, r) => n + r.disturbed, 0);
  out.push(
    disturbed === 0
      ? `No measured run was disturbed by other processes (a run is repeated, up to ${MAX_REPEATS} times, when they use over ${DISTURBED_CORES} CPU during it).`
      : `> [!WARNING]\n> ${disturbed} measured run${disturbed > 1 ? 's were' : ' was'} disturbed by other processes (over ${DISTURBED_CORES} CPU, even after ${MAX_REPEATS} repeats): marked † below.`,
    '',
  );

  out.push('## Throughput (req/s, median)', '');
  out.push(`| Scenario | ${shown.map(s => SERVERS[s].title).join(' | ')} |`);
  out.push(`|---|${shown.map(() => '--:').join('|')}|`);
  for (const scenario of scenarios) {
    out.push(
      `| ${scenario} | ${shown.map(server => (results.get(key(scenario, server)) ? fmtInt(results.get(key(scenario, server)).rps) : '—')).join(' | ')} |`,
    );
  }
  out.push('');

  out.push('## Details', '');
  out.push(
    '| Scenario | Server | req/s (median) | req/s range | p50 ms | p99 ms | responses | statuses |',
  );
  out.push('|---|---|--:|--:|--:|--:|--:|---|');
  for (const scenario of scenarios) {
    for (const server of shown) {
      const r = results.get(key(scenario, server));
      if (!r) continue;
      const statuses = Object.entries(r.statusCounts)
        .map(([code, n]) => `${code}: ${fmtInt(n)}`)
        .join(', ');
      out.push(
        `| ${SCENARIOS[scenario].title} | ${SERVERS[server].title} | ${fmtInt(r.rps)} | ${fmtInt(r.rpsMin)}–${fmtInt(r.rpsMax)}${r.disturbed ? ` †${r.disturbed}` : ''} | ${fmtMs(r.p50)} | ${fmtMs(r.p99)} | ${fmtInt(r.requests)} | ${statuses}${failuresOf(r) ? ` ⚠️ ${describeFailures(r)}` : ''} |`,
      );
    }
  }
  out.push('');

  out.push('## Targets (issues #3 and #17)', '');
  out.push('| Target | Scenario | Measured | Required | Result |');
  out.push('|---|---|--:|--:|:-:|');
  for (const t of targets) {
    let measured = 'not measured';
    let required = '';
    if (t.kind === 'cost') {
      required = `≤ ${fmtPct(t.threshold)}`;
      if (t.value !== undefined) measured = `${fmtPct(t.value)} (${t.detail})`;
    } else if (t.kind === 'p99') {
      required = t.threshold === undefined ? '≤ peer' : `≤ ${fmtMs(t.threshold)} ms`;
      if (t.value !== undefined) measured = `${fmtMs(t.value)} ms`;
    } else {
      required = t.threshold === undefined ? 'shown' : `≥ ${t.threshold.toFixed(2)}×`;
      if (t.value !== undefined) measured = `${t.value.toFixed(2)}× (${t.detail})`;
    }
    out.push(`| ${t.name} | ${t.scenario} | ${measured} | ${required} | ${verdict(t)} |`);
  }
  const judged = targets.filter(t => t.pass !== undefined);
  out.push(
    '',
    `${judged.filter(t => t.pass).length} of ${judged.length} measured targets pass${failures.total > 0 ? ' (but the run had wrong answers: see above)' : ''}.`,
    '',
  );

  out.push('## Servers', '');
  out.push('| Server | Checks ce-signature (forged event refused) | RSS at the end |');
  out.push('|---|:-:|--:|');
  for (const server of servers) {
    out.push(
      `| ${SERVERS[server].title} (\`${server}\`) | ${signatureChecks[server] ? 'yes' : 'no'} | ${fmtMb(memory[server])} |`,
    );
  }
  out.push(
    '',
    "- module: `WebPubSubModule.forRoot({ hub, connectionString })` from the built `dist/`, handlers `@OnConnect()` → `{ userId }`, `@OnUserEvent('message')` → echo, `@OnConnected()` → nothing; Nest logger errors/warnings only.",
    "- bare Nest: one controller (`@Req()`/`@Res()`) doing the same work by hand: HMAC-SHA256 check of `ce-signature` with `node:crypto`, body read, `JSON.parse` of system events, same status/body. Fastify: Fastify's content-type parsers deliver the body (plus an `application/octet-stream` buffer parser). Express: `bodyParser: false`, the route reads the stream itself.",
    '- peer: `@azure/web-pubsub-express` 1.1.0 middleware on a plain Express 5 app. **It does not check `ce-signature` at all** (no access-key option), so it does less work per event than the others.',
    '- node:http: the same hand-written work on a bare `node:http` server: the limit.',
    '- Connection ids: every `connect` request carries a connection id not used for the previous 100,000 requests (a new connection), the other events one of 1,000 ids (established connections), each with its valid signature. A constant id would turn any per-connection cache of signature work into a 100% hit rate.',
    '- signature off: the Fastify module without a connection string, for the signature-cost target. Without a connection string the module knows neither a key nor a service origin, so it checks neither `ce-signature` nor `WebHook-Request-Origin`: the "cost" measured is that of both checks.',
    '- Numbers on a 2-core machine: the load generator takes most of one core, so the fastest servers are partly limited by it; each server is given the same conditions, but absolute numbers vary between runs by ±10–20% (see the ranges).',
    '- The peer has been seen to run at two distinct speeds on this 2-vCPU machine: about 12–17k req/s on text in isolated and partial runs, 25–30k in full runs (cause not found). The ratios against it are the least stable numbers here.',
    '',
  );
  return out.join('\n');
}

/** PASS, or FAIL with how far the measured value is from the required one. */
function verdict(target) {
  if (target.pass === undefined) return 'n/a';
  if (target.pass) return 'PASS';
  if (target.kind === 'min')
    return `**FAIL** (${fmtPct(1 - target.value / target.threshold)} short)`;
  if (target.kind === 'cost') return `**FAIL** (${fmtPct(target.value - target.threshold)} over)`;
  return '**FAIL**';
}

/** Keeps the hand-written part of an existing results file (below KEEP_MARKER). */
function withKeptSection(report) {
  let kept = `${KEEP_MARKER}\n\n## Optimisation log\n\nWhat each optimisation bought (fill in by hand: change, before → after, on which scenario).\n`;
  try {
    const existing = readFileSync(outFile, 'utf8');
    const at = existing.indexOf(KEEP_MARKER);
    if (at !== -1) kept = existing.slice(at);
  } catch {
    // no previous file
  }
  return `${report}\n${kept}`;
}

// --- helpers ---------------------------------------------------------------------------------

function key(scenario, server) {
  return `${scenario} / ${server}`;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function sum(list, field) {
  return list.reduce((total, item) => total + item[field], 0);
}

function mergeCounts(list) {
  const merged = {};
  for (const counts of list)
    for (const [code, count] of Object.entries(counts)) merged[code] = (merged[code] ?? 0) + count;
  return merged;
}

function positiveInt(name, fallback) {
  const value = nonNegativeInt(name, fallback);
  if (value === 0) throw new Error(`${name} must be at least 1`);
  return value;
}

function nonNegativeInt(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0)
    throw new Error(`${name} must be a whole number, not "${raw}"`);
  return value;
}

function list(name, fallback, known) {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const values = raw
    .split(',')
    .map(v => v.trim())
    .filter(Boolean);
  const unknown = values.filter(v => !known.includes(v));
  if (unknown.length > 0)
    throw new Error(`${name}: unknown ${unknown.join(', ')} (known: ${known.join(', ')})`);
  return values;
}

function autocannonVersion() {
  try {
    return JSON.parse(readFileSync(`${ROOT}node_modules/autocannon/package.json`, 'utf8')).version;
  } catch {
    return '?';
  }
}

function fmtInt(n) {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '—';
}

function fmtMs(n) {
  return Number.isFinite(n) ? n.toFixed(2) : '—';
}

function fmtPct(n) {
  return `${(n * 100).toFixed(1)}%`;
}

function fmtMb(bytes) {
  return Number.isFinite(bytes) ? `${(bytes / 1048576).toFixed(1)} MB` : '—';
}

function formatDuration(seconds) {
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds % 60);
  return m > 0 ? `${m} min ${s} s` : `${s} s`;
}

/** The machine's CPU time counters (the `cpu` line of /proc/stat, in clock ticks). Linux only. */
function procStatFields() {
  return readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
}

/**
 * CPU time so far (Linux, in clock ticks): of the whole machine, and of this process (the load
 * generator), npm above it and the servers.
 */
function cpuSnapshot() {
  try {
    const fields = procStatFields();
    let own = 0;
    for (const pid of [
      process.pid,
      process.ppid,
      ...[...running.values()].map(server => server.pid),
    ]) {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const after = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        own += Number(after[11]) + Number(after[12]);
      } catch {
        // process gone
      }
    }
    // user + nice + system + irq + softirq: a process's system time includes the softirq work
    // (loopback delivery) done on its behalf, so both sides count it.
    return {
      busy: fields[0] + fields[1] + fields[2] + fields[5] + fields[6],
      own,
      at: performance.now(),
    };
  } catch {
    return undefined;
  }
}

/** CPU used by other processes between two snapshots, in cores (USER_HZ = 100). */
function othersCores(before, after) {
  if (!before || !after) return undefined;
  const seconds = (after.at - before.at) / 1000;
  return Math.max(0, after.busy - before.busy - (after.own - before.own)) / 100 / seconds;
}

/** Pins every thread of a process to one CPU (Linux `taskset`). */
function pinTo(pid, cpu) {
  execFileSync('taskset', ['-a', '-p', '-c', String(cpu), String(pid)], { stdio: 'ignore' });
}

/** Waits (up to `limit` ms) until the machine is at least 90% idle over half a second. */
async function waitForIdle(limit) {
  const until = Date.now() + limit;
  while (Date.now() < until) {
    const idle = await idleShare(500);
    if (idle === undefined || idle >= 0.9) return;
  }
}

/** Share of CPU time idle over `ms` (Linux /proc/stat), or undefined elsewhere. */
async function idleShare(ms) {
  const read = () => {
    try {
      const fields = procStatFields();
      return { idle: fields[3] + (fields[4] ?? 0), total: fields.reduce((a, b) => a + b, 0) };
    } catch {
      return undefined;
    }
  };
  const before = read();
  await new Promise(resolve => setTimeout(resolve, ms));
  const after = read();
  if (!before || !after || after.total === before.total) return undefined;
  return (after.idle - before.idle) / (after.total - before.total);
}

function log(message) {
  console.log(message);
}
