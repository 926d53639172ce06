// npm run bench:instructions: the instructions a server executes per event, counted by valgrind
// (callgrind) for a fixed number of requests: load-independent, unlike req/s and CPU time on a
// shared machine. Every thread of the server process counts (the garbage collector's helpers and
// the compiler's too), the kernel does not.
//
// Each server (bench/lib/servers.mjs ids) runs under valgrind in turn, started without
// instrumentation; BENCH_IR_WARMUP requests warm it up (the JIT tiers up by counts, not time),
// then instrumentation is switched on, BENCH_IR_SETTLE requests are discarded, the counters are
// zeroed, BENCH_IR_REQUESTS requests are counted and dumped. Requests go one connection id of the
// warm pool after another, BENCH_IR_CONCURRENCY at a time, each answer checked.
//
// Environment (all optional):
//   BENCH_IR_SERVERS=module-fastify,gateway-fastify   BENCH_IR_SCENARIOS=text
//   BENCH_IR_WARMUP=10000  BENCH_IR_SETTLE=500  BENCH_IR_REQUESTS=3000  BENCH_IR_CONCURRENCY=8
//   BENCH_IR_OUT=path (default bench/.runs/INSTRUCTIONS.md)
// Needs valgrind (callgrind_control with it). Slow: minutes per server.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { baselineDist, BASELINE_COMMIT } from './lib/baseline.mjs';
import { connectionPool, HUB, positiveIntegerEnv, SCENARIOS } from './lib/common.mjs';
import { EMULATOR_SERVERS, GATEWAY_SERVERS, SERVERS } from './lib/servers.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const serverIds = (process.env.BENCH_IR_SERVERS ?? 'module-fastify,gateway-fastify').split(',');
const scenarios = (process.env.BENCH_IR_SCENARIOS ?? 'text').split(',');
const warmup = positiveIntegerEnv('BENCH_IR_WARMUP', 10_000);
const settle = positiveIntegerEnv('BENCH_IR_SETTLE', 500);
const requests = positiveIntegerEnv('BENCH_IR_REQUESTS', 3000);
const concurrency = positiveIntegerEnv('BENCH_IR_CONCURRENCY', 8);
const outFile = process.env.BENCH_IR_OUT ?? `${ROOT}bench/.runs/INSTRUCTIONS.md`;
const work = `${ROOT}bench/.runs/callgrind`;
const log = (...args) => console.error(...args);

mkdirSync(work, { recursive: true });
const results = [];
const load = [os.loadavg()[0]];
for (const id of serverIds) {
  const spec = SERVERS[id] ?? GATEWAY_SERVERS[id] ?? EMULATOR_SERVERS[id];
  if (!spec?.script) throw new Error(`Unknown server "${id}"`);
  for (const name of scenarios) {
    const started = Date.now();
    const count = await countServer(id, spec, name);
    results.push({ id, name, ...count });
    log(
      `${id} ${name}: ${Math.round(count.perEvent).toLocaleString('en-US')} instructions per event (${((Date.now() - started) / 1000).toFixed(0)} s)`,
    );
  }
}
load.push(os.loadavg()[0]);
const table = report();
console.log(table);
mkdirSync(dirname(outFile), { recursive: true });
writeFileSync(outFile, `${table}\n`);
log(`written to ${outFile}`);

async function countServer(id, spec, scenario) {
  const commit = spec.baseline === true ? BASELINE_COMMIT : spec.baseline;
  const args = commit ? [...spec.args, '--dist', baselineDist(ROOT, commit, log)] : spec.args;
  const prefix = `${work}/${id}-${scenario}-${process.pid}`;
  for (const file of readdirSync(work))
    if (file.startsWith(`${id}-${scenario}-${process.pid}`)) rmSync(`${work}/${file}`);
  const child = spawn(
    'valgrind',
    [
      '--tool=callgrind',
      '--cache-sim=no',
      '--branch-sim=no',
      '--instr-atstart=no',
      `--callgrind-out-file=${prefix}.out`,
      process.execPath,
      fileURLToPath(new URL(spec.script, new URL('./lib/', import.meta.url))),
      ...args,
    ],
    {
      // Not forked: the harness prints its port as a JSON line.
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_ENV: 'production', BENCH_SERVER_LOG: '0' },
    },
  );
  let output = '';
  const port = await new Promise((resolve, reject) => {
    child.stdout.on('data', chunk => {
      output += chunk;
      const match = output.match(/"type":"ready","port":(\d+)/);
      if (match) resolve(Number(match[1]));
    });
    child.stderr.on('data', chunk => {
      if (process.env.BENCH_IR_VERBOSE) process.stderr.write(chunk);
    });
    child.once('exit', code => reject(new Error(`${id} exited before it was ready (${code})`)));
  });
  try {
    const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
    const send = batch(port, agent, scenario);
    await send(warmup);
    callgrind('-i', 'on', child.pid);
    await send(settle);
    callgrind('-z', child.pid);
    await send(requests);
    callgrind('-d', child.pid);
    agent.destroy();
  } finally {
    child.kill('SIGKILL');
  }
  let total = 0;
  for (const file of readdirSync(work)) {
    if (!file.startsWith(`${id}-${scenario}-${process.pid}.out.`)) continue;
    const match = readFileSync(`${work}/${file}`, 'utf8').match(/^(?:summary|totals): (\d+)/m);
    if (match) total += Number(match[1]);
  }
  if (total === 0) throw new Error(`${id}: callgrind dumped nothing (see ${work})`);
  return { total, perEvent: total / requests };
}

function callgrind(...args) {
  execFileSync('callgrind_control', args.map(String), { stdio: 'ignore' });
}

/** `send(n)`: n requests of the scenario, `concurrency` at a time, each answer checked. */
function batch(port, agent, scenarioName) {
  const scenario = SCENARIOS[scenarioName];
  const pool = scenario.connections ? connectionPool(scenario.connections) : undefined;
  const { method, path, headers, body } = scenario.request;
  const one = () => {
    const sent = { ...headers };
    if (pool) {
      const [connectionId, signature] = pool.next();
      sent['ce-connectionId'] = connectionId;
      sent['ce-signature'] = signature;
      sent['ce-source'] = `/hubs/${HUB}/client/${connectionId}`;
    }
    return new Promise((resolve, reject) => {
      const request = http.request(
        { host: '127.0.0.1', port, path, method, headers: sent, agent },
        response => {
          const chunks = [];
          response.on('data', chunk => chunks.push(chunk));
          response.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            if (!scenario.expect.status.includes(response.statusCode))
              reject(new Error(`status ${response.statusCode}`));
            else if (text !== scenario.expect.body) reject(new Error('wrong body'));
            else resolve();
          });
        },
      );
      request.on('error', reject);
      request.end(body);
    });
  };
  return async count => {
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next++ < count) await one();
      }),
    );
  };
}

function report() {
  const cpus = os.cpus();
  const base = new Map(
    results.filter(({ id }) => id === serverIds[0]).map(row => [row.name, row.perEvent]),
  );
  return [
    `Instructions per event (valgrind ${valgrindVersion()} callgrind, every thread of the server process, not the kernel): ${warmup.toLocaleString('en-US')} requests of warm-up uninstrumented, ${settle} discarded, ${requests.toLocaleString('en-US')} counted, ${concurrency} at a time. Run ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, Node ${process.version}, ${cpus.length} × ${cpus[0]?.model?.trim() ?? 'CPU'}; load average ${load[0].toFixed(2)} before, ${load[1].toFixed(2)} after (the counts do not depend on it).`,
    '',
    `| Server | Scenario | instructions per event | ÷ ${serverIds[0]} |`,
    '| --- | --- | --- | --- |',
    ...results.map(
      ({ id, name, perEvent }) =>
        `| ${id} | ${name} | ${Math.round(perEvent).toLocaleString('en-US')} | ${(perEvent / base.get(name)).toFixed(3)} |`,
    ),
  ].join('\n');
}

function valgrindVersion() {
  try {
    return execFileSync('valgrind', ['--version'])
      .toString()
      .trim()
      .replace(/^valgrind-/, '');
  } catch {
    return existsSync('/usr/bin/valgrind') ? '' : '(missing)';
  }
}
