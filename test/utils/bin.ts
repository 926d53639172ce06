/**
 * Runs `lib/bin/emulator.ts` as the real command: bundled from source with esbuild (dependencies
 * stay external and resolve from this repository's node_modules), then spawned with `node`.
 * `npm test` runs before `npm run build`, so the specs cannot rely on `dist/`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Bundles the bin into `node_modules/.cache/` (so bare imports resolve); returns the file and a cleanup. */
export function bundleBin(): { file: string; remove(): void } {
  const dir = join(
    ROOT,
    'node_modules/.cache/nestjs-web-pubsub-bin',
    `${process.pid}-${Date.now()}`,
  );
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'emulator.mjs');
  // buildSync: no esbuild service process is left running in the test worker.
  buildSync({
    entryPoints: [join(ROOT, 'lib/bin/emulator.ts')],
    outfile: file,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'silent',
  });
  return { file, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface BinProcess {
  readonly child: ChildProcess;
  /** Every stdout line so far. */
  readonly stdout: string[];
  readonly stderr: string[];
  /** Resolves with the first stdout line that matches. */
  line(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves with the exit code (or the signal's name). */
  readonly exited: Promise<number | string>;
}

export function spawnBin(file: string, args: readonly string[]): BinProcess {
  const child = spawn(process.execPath, [file, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const stdout: string[] = [];
  const stderr: string[] = [];
  const waiters: { pattern: RegExp; resolve(line: string): void }[] = [];
  createInterface({ input: child.stdout! }).on('line', line => {
    stdout.push(line);
    for (const waiter of waiters.filter(w => w.pattern.test(line))) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve(line);
    }
  });
  createInterface({ input: child.stderr! }).on('line', line => stderr.push(line));
  const exited = new Promise<number | string>(resolve =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  return {
    child,
    stdout,
    stderr,
    exited,
    line: (pattern, timeoutMs = 10_000) => {
      const seen = stdout.find(line => pattern.test(line));
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolveLine, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new Error(
                `no stdout line matching ${pattern} in ${timeoutMs} ms; stdout: ${stdout.join('\n')}; stderr: ${stderr.join('\n')}`,
              ),
            ),
          timeoutMs,
        );
        waiters.push({
          pattern,
          resolve: line => {
            clearTimeout(timer);
            resolveLine(line);
          },
        });
        void exited.then(() => {
          clearTimeout(timer);
          reject(
            new Error(
              `exited before printing ${pattern}; stdout: ${stdout.join('\n')}; stderr: ${stderr.join('\n')}`,
            ),
          );
        });
      });
    },
  };
}
