import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { freePort } from './ports.js';

/** A real `redis-server` of the test's own, on a free loopback port, persistence off. */
export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** Stops the server (SIGTERM) and waits for it to exit. */
  stop(): Promise<void>;
  /** Starts it again on the same port (after `stop()`). */
  restart(): Promise<void>;
}

/** Fails with a clear message when `redis-server` is missing: these tests never skip. */
export function assertRedisInstalled(): void {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new Error(
      'redis-server is not installed: the Redis de-duplication tests run against a real server. ' +
        'Install it (Debian/Ubuntu: apt-get install -y redis-server) and run the tests again.',
    );
  }
}

function launch(port: number): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`redis-server did not start on port ${port}:\n${output}`));
    }, 10_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.once('exit', code => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited (${code}) on port ${port}:\n${output}`));
    });
  });
}

export async function startRedis(): Promise<RedisServer> {
  assertRedisInstalled();
  const port = await freePort();
  let child: ChildProcess | undefined = await launch(port);
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      const running = child;
      child = undefined;
      if (!running || running.exitCode !== null) return;
      await new Promise<void>(resolve => {
        running.once('exit', () => resolve());
        running.kill('SIGTERM');
      });
    },
    async restart() {
      child = await launch(port);
    },
  };
}
