// npm run bench:profile: CPU profile of one server under one scenario (default: the Fastify
// module, text messages), then the functions with the most self time, overall and in dist/
// (mapped back to lib/ through the source maps).
//
// Environment (all optional):
//   BENCH_PROFILE_SERVER=module-fastify
//   BENCH_PROFILE_SCENARIO=text
//   BENCH_PROFILE_DURATION=10    profiled seconds (after BENCH_PROFILE_WARMUP=5 s of warm-up)
//   BENCH_PROFILE_INTERVAL=200   sampling interval in µs
//   BENCH_CONNECTIONS=50
//   BENCH_PROFILE_TOP=25
//   BENCH_PROFILE_FILE=path      analyse an existing .cpuprofile instead of profiling
//
// The profile (Chrome DevTools / speedscope format) is kept in bench/.runs/profiles/.
import { mkdirSync, readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { failuresOf, runLoad } from './lib/load.mjs';
import { startServer } from './lib/servers.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const serverId = process.env.BENCH_PROFILE_SERVER ?? 'module-fastify';
const scenario = process.env.BENCH_PROFILE_SCENARIO ?? 'text';
const duration = Number(process.env.BENCH_PROFILE_DURATION ?? 10);
const warmup = Number(process.env.BENCH_PROFILE_WARMUP ?? 5);
const interval = Number(process.env.BENCH_PROFILE_INTERVAL ?? 200);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const top = Number(process.env.BENCH_PROFILE_TOP ?? 25);

const sourceMaps = new Map();
const dir = `${ROOT}bench/.runs/profiles`;
mkdirSync(dir, { recursive: true });
const file =
  process.env.BENCH_PROFILE_FILE ??
  `${dir}/${serverId}-${scenario}-${new Date().toISOString().replace(/[:.]/g, '-')}.cpuprofile`;

if (!process.env.BENCH_PROFILE_FILE) {
  const server = await startServer(serverId);
  let run;
  try {
    await runLoad({ url: server.url, scenario, duration: warmup, connections, latencies: false });
    await server.profileStart(interval);
    run = await runLoad({ url: server.url, scenario, duration, connections });
    await server.profileStop(file);
  } finally {
    await server.stop();
  }
  console.log(
    `${serverId} / ${scenario}: ${Math.round(run.rps).toLocaleString('en-US')} req/s under the profiler ` +
      `(${failuresOf(run) === 0 ? 'every answer right' : `!!! ${failuresOf(run)} wrong answers`}); profile: ${relative(process.cwd(), file)}\n`,
  );
}
analyse(JSON.parse(readFileSync(file, 'utf8')));

function analyse(profile) {
  const nodes = new Map(profile.nodes.map(node => [node.id, node]));
  const parent = new Map();
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parent.set(child, node.id);

  // Time per sample: the delta to the next sample (the last one gets the mean).
  const deltas = profile.timeDeltas;
  const total = profile.endTime - profile.startTime;
  const self = new Map();
  const inclusive = new Map();
  const byCategory = new Map();
  for (let i = 0; i < profile.samples.length; i++) {
    const time = i + 1 < deltas.length ? deltas[i + 1] : total / profile.samples.length;
    const node = nodes.get(profile.samples[i]);
    const k = keyOf(node.callFrame);
    self.set(k, (self.get(k) ?? 0) + time);
    const category = categoryOf(node.callFrame);
    byCategory.set(category, (byCategory.get(category) ?? 0) + time);
    // Inclusive time: every distinct function on the stack.
    const seen = new Set();
    for (let id = node.id; id !== undefined; id = parent.get(id)) {
      const kk = keyOf(nodes.get(id).callFrame);
      if (seen.has(kk)) continue;
      seen.add(kk);
      inclusive.set(kk, (inclusive.get(kk) ?? 0) + time);
    }
  }
  const pct = t => `${((t / total) * 100).toFixed(2).padStart(6)}%`;

  console.log(
    `Profiled ${(total / 1e6).toFixed(1)} s, ${profile.samples.length.toLocaleString('en-US')} samples.\n`,
  );
  console.log('Self time by origin:');
  for (const [category, time] of [...byCategory].sort((a, b) => b[1] - a[1]).slice(0, 15))
    console.log(`  ${pct(time)}  ${category}`);

  console.log(`\nTop ${top} functions by self time (all code):`);
  for (const [k, time] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top))
    console.log(`  ${pct(time)}  ${describe(k)}`);

  const lib = [...self].filter(([k]) => isLib(k)).sort((a, b) => b[1] - a[1]);
  const libSelf = lib.reduce((sum, [, time]) => sum + time, 0);
  console.log(
    `\nFunctions of this library (dist/ → lib/) by self time: ${pct(libSelf).trim()} of all samples in total`,
  );
  for (const [k, time] of lib.slice(0, top))
    console.log(`  ${pct(time)}  self  ${pct(inclusive.get(k))} incl.  ${describe(k)}`);

  const libInclusive = [...inclusive].filter(([k]) => isLib(k)).sort((a, b) => b[1] - a[1]);
  console.log(`\nFunctions of this library by inclusive time (self + callees):`);
  for (const [k, time] of libInclusive.slice(0, 15))
    console.log(`  ${pct(time)}  incl.  ${describe(k)}`);
}

function keyOf(frame) {
  return JSON.stringify([
    frame.functionName || '(anonymous)',
    frame.url,
    frame.lineNumber,
    frame.columnNumber,
  ]);
}

function isLib(k) {
  return isLibUrl(JSON.parse(k)[1]);
}

/** This library's built code (not a dependency's dist/). */
function isLibUrl(url) {
  return url.startsWith(`file://${ROOT}dist/`);
}

function categoryOf(frame) {
  const url = frame.url ?? '';
  if (!url)
    return frame.functionName.startsWith('(') ? frame.functionName : '(native / V8 builtins)';
  if (isLibUrl(url)) return 'this library (dist/)';
  const pkg = url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
  if (pkg) return pkg[1];
  if (url.startsWith('node:')) return 'Node.js core';
  if (url.includes('/bench/')) return 'bench server code';
  return url;
}

function describe(k) {
  const [name, url, line, column] = JSON.parse(k);
  if (!url) return name;
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  let where = `${path.replace(ROOT, '')}:${line + 1}`;
  if (isLibUrl(url)) {
    const original = originalPosition(path, line, column);
    if (original) where = `${original} (${where})`;
  }
  return `${name}  ${where}`;
}

function originalPosition(path, line, column) {
  if (!sourceMaps.has(path)) {
    try {
      sourceMaps.set(path, new SourceMap(JSON.parse(readFileSync(`${path}.map`, 'utf8'))));
    } catch {
      sourceMaps.set(path, undefined);
    }
  }
  const entry = sourceMaps.get(path)?.findEntry(line, column);
  if (!entry?.originalSource) return undefined;
  const source = entry.originalSource.startsWith('file://')
    ? fileURLToPath(entry.originalSource)
    : new URL(entry.originalSource, `file://${path}`).pathname;
  return `${source.replace(ROOT, '')}:${entry.originalLine + 1}`;
}
