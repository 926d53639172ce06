// What every benchmark server shares: how it reports its port, answers memory probes and stops.
import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

/**
 * Announces the listening port to the parent (IPC when forked, a JSON line on stdout otherwise)
 * and serves the parent's requests: `{ type: 'memory', id, gc? }`, `{ type: 'profile-start', interval }`,
 * `{ type: 'profile-stop', file }` and `{ type: 'stop' }`.
 * `close` shuts the server down; the process then exits normally, so `--cpu-prof` profiles
 * are written.
 */
export function ready(port, close) {
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    try {
      await close();
    } finally {
      process.exit(0);
    }
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  if (process.send) {
    process.on('message', message => {
      if (message?.type === 'memory') {
        // A full collection first when asked and available (node --expose-gc).
        if (message.gc && typeof globalThis.gc === 'function') globalThis.gc();
        const { rss, heapUsed, heapTotal, external } = process.memoryUsage();
        process.send({ type: 'memory', id: message.id, rss, heapUsed, heapTotal, external });
      } else if (message?.type === 'profile-start') {
        profiler.start(message.interval).then(() => process.send({ type: 'profile-started' }));
      } else if (message?.type === 'profile-stop') {
        profiler
          .stop(message.file)
          .then(() => process.send({ type: 'profile-stopped', file: message.file }));
      } else if (message?.type === 'stop') {
        void stop();
      }
    });
    // The parent went away: do not linger.
    process.on('disconnect', () => void stop());
    process.send({ type: 'ready', port, pid: process.pid });
  } else {
    console.log(JSON.stringify({ type: 'ready', port, pid: process.pid }));
  }
}

/** Port of a listening Nest app. */
export function portOf(app) {
  return app.getHttpServer().address().port;
}

/** Nest logger levels: errors and warnings (no per-request debug lines); `BENCH_SERVER_LOG=0` silences them. */
export const NEST_LOGGER = process.env.BENCH_SERVER_LOG === '0' ? false : ['error', 'warn'];

// Decorators without decorator syntax: the same calls `tsc --experimentalDecorators` emits.

/** `@Dec() class C {}` */
export function decorateClass(target, ...decorators) {
  const result = Reflect.decorate(decorators, target);
  return result ?? target;
}

/** `@Dec() method() {}` */
export function decorateMethod(target, key, ...decorators) {
  const descriptor = Object.getOwnPropertyDescriptor(target.prototype, key);
  const result = Reflect.decorate(decorators, target.prototype, key, descriptor);
  Object.defineProperty(target.prototype, key, result ?? descriptor);
}

/** `method(@Dec() param) {}` */
export function decorateParam(target, key, index, decorator) {
  decorator(target.prototype, key, index);
}

/**
 * The V8 CPU profiler (what `node --cpu-prof` uses) over the inspector protocol, so a profile
 * covers exactly the measured window rather than start-up and warm-up too.
 */
const profiler = {
  session: undefined,
  post(method, params) {
    return new Promise((resolve, reject) =>
      this.session.post(method, params, (error, result) =>
        error ? reject(error) : resolve(result),
      ),
    );
  },
  async start(intervalMicros = 1000) {
    this.session = new Session();
    this.session.connect();
    await this.post('Profiler.enable');
    await this.post('Profiler.setSamplingInterval', { interval: intervalMicros });
    await this.post('Profiler.start');
  },
  async stop(file) {
    const { profile } = await this.post('Profiler.stop');
    writeFileSync(file, JSON.stringify(profile));
    this.session.disconnect();
    this.session = undefined;
  },
};
