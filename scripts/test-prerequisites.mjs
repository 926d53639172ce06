// `npm test` runs this before Jest: the suite drives a real `redis-server` (Redis de-duplication)
// and a real Chromium (the live view and the chat sample in a browser), and never skips or mocks
// them. When one is missing on a Debian or Ubuntu machine where it may (root, `apt-get` present),
// it is installed with one `apt-get update` and one `apt-get install` of only the missing packages,
// a line printed per step. Anywhere else, or with TEST_NO_INSTALL=1, it stops before Jest with
// one message naming what is missing and the command that installs it.
// With everything present it prints nothing and takes a few milliseconds.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The executable `name` on `env.PATH`, or undefined. */
export function findOnPath(name, env = process.env) {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** The browser names looked up on PATH when CHROMIUM_PATH is unset (Debian's, then Ubuntu's). */
export const CHROMIUM_NAMES = ['chromium', 'chromium-browser'];

/**
 * The Chromium the browser specs launch: `CHROMIUM_PATH` when set (it must exist), else `chromium`
 * or `chromium-browser` on PATH. Returns `{ path }` or `{ tried }` (what was looked for).
 */
export function locateChromium(env = process.env) {
  if (env.CHROMIUM_PATH) {
    return existsSync(env.CHROMIUM_PATH)
      ? { path: env.CHROMIUM_PATH }
      : { tried: [`${env.CHROMIUM_PATH} (CHROMIUM_PATH)`] };
  }
  for (const name of CHROMIUM_NAMES) {
    const path = findOnPath(name, env);
    if (path) return { path };
  }
  return { tried: CHROMIUM_NAMES.map(name => `${name} on PATH`) };
}

/** What the suite needs: a name, how to find it, and the Debian package that brings it. */
export const PREREQUISITES = [
  {
    name: 'redis-server',
    package: 'redis-server',
    locate: env => {
      const path = findOnPath('redis-server', env);
      return path ? { path } : { tried: ['redis-server on PATH'] };
    },
  },
  { name: 'Chromium', package: 'chromium', locate: locateChromium },
];

/** The prerequisites that cannot be found, with what was tried for each. */
export function missingPrerequisites(env = process.env) {
  const missing = [];
  for (const prerequisite of PREREQUISITES) {
    const found = prerequisite.locate(env);
    if (!found.path) missing.push({ ...prerequisite, tried: found.tried });
  }
  return missing;
}

function mayInstall(env) {
  if (env.TEST_NO_INSTALL === '1') return { ok: false, why: 'TEST_NO_INSTALL=1' };
  if (!findOnPath('apt-get', env)) return { ok: false, why: 'no apt-get on this machine' };
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    return { ok: false, why: 'not running as root' };
  }
  return { ok: true };
}

function run(command, args, env) {
  const result = spawnSync(command, args, {
    env: { ...env, DEBIAN_FRONTEND: 'noninteractive' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (result.error) throw result.error;
  return result.status === 0;
}

function describe(missing) {
  return missing.map(m => `${m.name} (looked for ${m.tried.join(', ')})`).join('; ');
}

/** Checks, installs when it may, and returns the process exit code (0: Jest may start). */
export function main(env = process.env, log = line => console.log(line)) {
  const missing = missingPrerequisites(env);
  if (missing.length === 0) return 0;
  const packages = missing.map(m => m.package);
  const command = `apt-get update && apt-get install -y --no-install-recommends ${packages.join(' ')}`;
  const allowed = mayInstall(env);
  if (!allowed.ok) {
    console.error(
      `test prerequisites: missing ${describe(missing)}. The suite runs against the real ones and ` +
        `skips nothing; install them first (Debian/Ubuntu, as root: ${command}; a Chromium ` +
        `elsewhere can be named with CHROMIUM_PATH). Not installing here: ${allowed.why}.`,
    );
    return 1;
  }
  log(
    `test prerequisites: missing ${missing.map(m => m.name).join(', ')}; installing with apt-get`,
  );
  log('test prerequisites: apt-get update');
  if (!run('apt-get', ['update'], env)) {
    console.error('test prerequisites: apt-get update failed (see above)');
    return 1;
  }
  log(`test prerequisites: apt-get install -y --no-install-recommends ${packages.join(' ')}`);
  if (!run('apt-get', ['install', '-y', '--no-install-recommends', ...packages], env)) {
    console.error(`test prerequisites: apt-get install ${packages.join(' ')} failed (see above)`);
    return 1;
  }
  const still = missingPrerequisites(env);
  if (still.length > 0) {
    console.error(`test prerequisites: still missing after the install: ${describe(still)}`);
    return 1;
  }
  log(`test prerequisites: installed ${packages.join(', ')}`);
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = main();
}
