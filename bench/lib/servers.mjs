// The benchmark servers and how to start and stop them, each in its own process.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { BASELINE_COMMIT, baselineDist, GATEWAY_BASELINE_COMMIT } from './baseline.mjs';

const here = dirname => fileURLToPath(new URL(dirname, import.meta.url));

/** Scenarios that carry a signed event (the handshake has no signature to check). */
const SIGNED_SCENARIOS = ['connect', 'text', 'binary', 'connected'];

/**
 * Every server the benchmark knows. `signature`: whether it checks ce-signature (the pre-flight
 * verifies that a forged event is refused). `scenarios`: limits the scenarios it runs.
 */
export const SERVERS = {
  'module-fastify': {
    title: 'module · Fastify',
    script: '../servers/module.mjs',
    args: ['fastify'],
    signature: true,
  },
  'module-fastify-baseline': {
    title: `module · Fastify · the ${BASELINE_COMMIT} build`,
    script: '../servers/module.mjs',
    args: ['fastify'],
    signature: true,
    // The build before issue 17, compiled from git on first use (bench/lib/baseline.mjs).
    baseline: true,
  },
  'module-express': {
    title: 'module · Express',
    script: '../servers/module.mjs',
    args: ['express'],
    signature: true,
  },
  'nest-fastify': {
    title: 'bare Nest · Fastify',
    script: '../servers/nest-floor.mjs',
    args: ['fastify'],
    signature: true,
  },
  'nest-express': {
    title: 'bare Nest · Express',
    script: '../servers/nest-floor.mjs',
    args: ['express'],
    signature: true,
  },
  'peer-express': {
    title: '@azure/web-pubsub-express 1.1.0 · Express',
    script: '../servers/peer.mjs',
    args: [],
    // The peer has no signature check at all.
    signature: false,
  },
  'node-http': {
    title: 'bare node:http',
    script: '../servers/node-http.mjs',
    args: [],
    signature: true,
  },
  'module-fastify-nosig': {
    title: 'module · Fastify · signature off',
    script: '../servers/module.mjs',
    args: ['fastify', '--no-signature'],
    signature: false,
    scenarios: SIGNED_SCENARIOS,
  },
  'module-fastify-otel': {
    title: 'module · Fastify · OpenTelemetry SDK',
    script: '../servers/module.mjs',
    args: ['fastify', '--telemetry'],
    signature: true,
  },
  'module-express-otel': {
    title: 'module · Express · OpenTelemetry SDK',
    script: '../servers/module.mjs',
    args: ['express', '--telemetry'],
    signature: true,
  },
};

export const SERVER_NAMES = Object.keys(SERVERS);

/** The gateway benchmark's servers (`npm run bench:gateway`), kept out of the default run. */
export const GATEWAY_SERVERS = {
  'gateway-fastify': {
    title: 'gateway (@SubscribeMessage) · Fastify',
    script: '../servers/gateway.mjs',
    args: ['fastify'],
    signature: true,
  },
  'gateway-fastify-before': {
    title: `gateway (@SubscribeMessage) · Fastify · the ${GATEWAY_BASELINE_COMMIT} build`,
    script: '../servers/gateway.mjs',
    args: ['fastify'],
    signature: true,
    // The gateway before its per-event garbage was found (bench/RESULTS.md, optimisation log).
    baseline: GATEWAY_BASELINE_COMMIT,
  },
};

/** The emulator benchmark's servers (`npm run bench:emulator`), kept out of the default run. */
export const EMULATOR_SERVERS = {
  emulator: { title: 'emulator', script: '../servers/emulator.mjs', args: [] },
  'ws-floor': { title: 'bare ws (floor)', script: '../servers/ws-floor.mjs', args: [] },
};

/** Lines of child output shown per server before the rest is only counted. */
const MAX_LOG_LINES = 20;

/**
 * Starts one server in its own process and waits for its port.
 * `execPath`/`execArgv`: run it under another program (`valgrind … node`, bench/instructions.mjs);
 * `startTimeout`: how long it may take to listen (ms).
 * Returns `{ id, port, pid, memory(gc?), stop() }`.
 */
export async function startServer(
  id,
  { execArgv = [], execPath, startTimeout = 30_000, log = console.error } = {},
) {
  const spec = SERVERS[id] ?? GATEWAY_SERVERS[id] ?? EMULATOR_SERVERS[id];
  if (!spec) throw new Error(`Unknown server "${id}" (known: ${SERVER_NAMES.join(', ')})`);
  const commit = spec.baseline === true ? BASELINE_COMMIT : spec.baseline;
  const args = commit
    ? [...spec.args, '--dist', baselineDist(here('../..'), commit, log)]
    : spec.args;
  const child = fork(here(spec.script), args, {
    execArgv,
    ...(execPath === undefined ? {} : { execPath }),
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: { ...process.env, NODE_ENV: 'production' },
  });
  let shown = 0;
  let suppressed = 0;
  const relay = chunk => {
    for (const line of String(chunk).split('\n')) {
      if (line.trim() === '') continue;
      if (shown < MAX_LOG_LINES) {
        shown++;
        log(`  [${id}] ${line}`);
      } else {
        suppressed++;
      }
    }
  };
  child.stdout.on('data', relay);
  child.stderr.on('data', relay);

  const exited = new Promise(resolve =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${id} did not start within ${startTimeout / 1000} s`)),
      startTimeout,
    );
    child.on('message', message => {
      if (message?.type === 'ready') {
        clearTimeout(timer);
        resolve(message.port);
      }
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`${id} exited before it was ready (code ${code}, signal ${signal})`));
    });
  });

  let nextId = 0;
  const pending = new Map();
  child.on('message', message => {
    if (message?.type === 'memory') {
      pending.get(message.id)?.(message);
      pending.delete(message.id);
    }
  });

  const reply = (message, type) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${id} did not answer ${message.type}`)),
        30_000,
      );
      const listener = answer => {
        if (answer?.type !== type) return;
        clearTimeout(timer);
        child.off('message', listener);
        resolve(answer);
      };
      child.on('message', listener);
      child.send(message);
    });

  return {
    id,
    spec,
    port,
    pid: child.pid,
    url: `http://127.0.0.1:${port}`,
    /** The server's process.memoryUsage(); with `gc` (and --expose-gc) after a full GC. */
    memory(gc = false) {
      const requestId = ++nextId;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`${id} did not answer a memory probe`)),
          10_000,
        );
        pending.set(requestId, value => {
          clearTimeout(timer);
          resolve(value);
        });
        child.send({ type: 'memory', id: requestId, gc });
      });
    },
    /** Starts the V8 CPU profiler in the server (sampling every `intervalMicros` µs). */
    profileStart(intervalMicros = 1000) {
      return reply({ type: 'profile-start', interval: intervalMicros }, 'profile-started');
    },
    /** Stops the profiler and has the server write the profile (`.cpuprofile` JSON) to `file`. */
    profileStop(file) {
      return reply({ type: 'profile-stop', file }, 'profile-stopped');
    },
    /** Output lines that were not shown. */
    get suppressedLogLines() {
      return suppressed;
    },
    /** Asks the server to close and waits for its process to exit (killed after 10 s). */
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      if (child.connected) child.send({ type: 'stop' });
      else child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
}
