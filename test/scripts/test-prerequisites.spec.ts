/**
 * `npm test` provisions what the suite runs against (scripts/test-prerequisites.mjs, run before Jest):
 * - with everything present it exits 0 and prints nothing;
 * - with a PATH that hides `redis-server` and Chromium and installs turned off (TEST_NO_INSTALL=1),
 *   it names each missing part and the apt-get command, and exits non-zero, so `npm test` stops
 *   before Jest starts;
 * - only the missing parts are named and installed (one `apt-get update`, one `apt-get install`);
 * - without apt-get, or not as root, it says why it does not install.
 * The install path runs against a stand-in `apt-get` on PATH that records its arguments and puts the
 * packages' commands in place; the real apt-get path is what CI and a fresh machine take.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');
const script = join(root, 'scripts', 'test-prerequisites.mjs');
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

let bin: string;

beforeEach(() => {
  // A PATH with node and the shell only: no redis-server, no chromium, no apt-get.
  bin = mkdtempSync(join(tmpdir(), 'nestjs-web-pubsub-prereq-'));
  symlinkSync(process.execPath, join(bin, 'node'));
  symlinkSync('/bin/sh', join(bin, 'sh'));
});

afterEach(() => rmSync(bin, { recursive: true, force: true }));

function executable(name: string, body = 'exit 0'): void {
  writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`);
  chmodSync(join(bin, name), 0o755);
}

function runScript(env: Record<string, string>) {
  const clean = { ...process.env };
  delete clean.CHROMIUM_PATH;
  delete clean.TEST_NO_INSTALL;
  const result = spawnSync(process.execPath, [script], {
    env: { ...clean, PATH: bin, ...env },
    encoding: 'utf8',
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

it('exits 0 and prints nothing when everything is present', () => {
  executable('redis-server');
  executable('chromium');
  const result = runScript({ TEST_NO_INSTALL: '1' });
  expect(result).toEqual({ status: 0, stdout: '', stderr: '' });
});

it('names each missing part and the command, and exits non-zero with installs turned off', () => {
  executable('apt-get', 'echo "apt-get must not run" >&2; exit 3');
  const result = runScript({ TEST_NO_INSTALL: '1' });
  expect(result.status).toBe(1);
  expect(result.stdout).toBe('');
  expect(result.stderr).toContain('missing redis-server (looked for redis-server on PATH)');
  expect(result.stderr).toContain(
    'Chromium (looked for chromium on PATH, chromium-browser on PATH)',
  );
  expect(result.stderr).toContain(
    'apt-get update && apt-get install -y --no-install-recommends redis-server chromium',
  );
  expect(result.stderr).toContain('Not installing here: TEST_NO_INSTALL=1.');
  expect(result.stderr).not.toContain('apt-get must not run');
});

it('names only what is missing: a CHROMIUM_PATH that does not exist', () => {
  executable('redis-server');
  executable('chromium'); // on PATH, but CHROMIUM_PATH wins and must exist
  const result = runScript({ TEST_NO_INSTALL: '1', CHROMIUM_PATH: join(bin, 'no-such-chrome') });
  expect(result.status).toBe(1);
  expect(result.stderr).toContain(
    `Chromium (looked for ${join(bin, 'no-such-chrome')} (CHROMIUM_PATH))`,
  );
  expect(result.stderr).not.toContain('redis-server (looked');
  expect(result.stderr).toContain('apt-get install -y --no-install-recommends chromium;');
});

it('says why it does not install where there is no apt-get', () => {
  executable('chromium');
  const result = runScript({});
  expect(result.status).toBe(1);
  expect(result.stderr).toContain('missing redis-server');
  expect(result.stderr).toContain('Not installing here: no apt-get on this machine.');
});

it('installs only the missing packages: one apt-get update, then one apt-get install', () => {
  const calls = join(bin, 'calls.log');
  executable('chromium');
  // Records each call; `install` puts the packages' commands on PATH as Debian's packages would.
  executable(
    'apt-get',
    [
      `echo "$*" >> ${calls}`,
      'if [ "$1" = install ]; then',
      `  for p in "$@"; do case "$p" in redis-server) printf '#!/bin/sh\\n' > ${bin}/redis-server; /bin/chmod 755 ${bin}/redis-server;; esac; done`,
      'fi',
    ].join('\n'),
  );
  const result = runScript({});
  if (!isRoot) {
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('Not installing here: not running as root.');
    return;
  }
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  expect(readFileSync(calls, 'utf8')).toBe(
    'update\ninstall -y --no-install-recommends redis-server\n',
  );
  expect(result.stdout.trim().split('\n')).toEqual([
    'test prerequisites: missing redis-server; installing with apt-get',
    'test prerequisites: apt-get update',
    'test prerequisites: apt-get install -y --no-install-recommends redis-server',
    'test prerequisites: installed redis-server',
  ]);
});

it('fails when the install did not bring the command', () => {
  executable('chromium');
  executable('apt-get', 'exit 0');
  const result = runScript({});
  expect(result.status).toBe(1);
  expect(result.stderr).toContain(
    isRoot ? 'still missing after the install: redis-server' : 'not running as root',
  );
});

it('`npm test` stops before Jest when a part is missing and installs are off', () => {
  const npmCli = join(
    dirname(process.execPath),
    '..',
    'lib',
    'node_modules',
    'npm',
    'bin',
    'npm-cli.js',
  );
  const clean = { ...process.env };
  delete clean.CHROMIUM_PATH;
  delete clean.npm_config_ignore_scripts;
  const result = spawnSync(process.execPath, [npmCli, 'test', '--', '--listTests'], {
    cwd: root,
    env: { ...clean, PATH: bin, TEST_NO_INSTALL: '1' },
    encoding: 'utf8',
  });
  expect(result.status).not.toBe(0);
  expect(result.stderr).toContain('test prerequisites: missing redis-server');
  // Jest never started: with --listTests it would have printed the spec paths.
  expect(result.stdout + result.stderr).not.toContain('.spec.ts');
});
