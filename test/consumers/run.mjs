// `npm run test:consumers`: packs this package (prepack builds it), installs the tarball from the
// npm registry's point of view into scratch apps in a temp folder, and runs them:
//  (a) Nest 11 + Express, CommonJS, Jest 29 + ts-jest as `nest new` (schematics 11.0) configures
//      them, once with `module: commonjs` and once with `module: node16`;
//  (b) Nest 11 + Fastify, Jest 30 + ts-jest, `module: nodenext` as `nest new` (schematics 11.1);
//  (c) Nest 12, an ESM app (`"type": "module"`, `module: nodenext`);
//  (d) the guides' app (test/fixtures/guide-app) in a Nest 11 + Express + Jest 29 app: its
//      `npm run test:e2e` (the emulator, negotiate, @azure/web-pubsub-client) and its tsc build.
// Each Nest 11 app runs a unit spec (compiles the AppModule, signatures on) and an e2e spec that
// imports the AppModule and, through supertest, gets the handshake 200 with the service host, a
// signed user event 200 "echo: hello", connect 200 {"userId":"alice"}, connected and disconnected
// 204 (seen by the handlers), a forged signature 401, and with `managedIdentity` (a local JWKS, an
// RS256 token made with node:crypto) 401 without and 200 with the bearer token: jose loads and
// verifies in Jest's CommonJS runtime. The e2e spec also builds and reads an event with
// `nestjs-web-pubsub/testing`, so the subpath loads from CommonJS apps under `module` commonjs,
// node16 and nodenext. Every app is also built with tsc and started with node, then answers a
// handshake 200, a signed event 200 and a forged one 401 over loopback.
// Needs the npm registry; takes about 1 to 4 minutes (CI runs it).
// npm's cache is shared between runs (CONSUMERS_NPM_CACHE, default <tmp>/nestjs-web-pubsub-npm-cache).
// CONSUMERS_ONLY=guide (or express, fastify, esm; comma-separated) runs only those apps.
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import {
  ACCESS_KEY,
  CONNECTION_STRING,
  E2E_SPEC,
  HUB,
  SERVICE_HOST,
  SUPERTEST_DEFAULT,
  SUPERTEST_NAMESPACE,
  TSCONFIG_COMMONJS,
  TSCONFIG_NODE16,
  TSCONFIG_NODENEXT,
  guideApp,
  nest11App,
  nest12App,
} from './apps.mjs';

const root = join(import.meta.dirname, '..', '..');
const work = mkdtempSync(join(tmpdir(), 'nestjs-web-pubsub-consumers-'));
const cache = process.env.CONSUMERS_NPM_CACHE ?? join(tmpdir(), 'nestjs-web-pubsub-npm-cache');
const started = Date.now();
const APP_ENV = { WebPubSubConnectionString: CONNECTION_STRING };

function log(message) {
  console.log(`[consumers ${((Date.now() - started) / 1000).toFixed(0).padStart(4)}s] ${message}`);
}

/** Runs a command and resolves with its stdout; all its output is shown only when it fails. */
function run(command, args, cwd, env = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: 'pipe' });
    let output = '';
    let stdout = '';
    child.stdout.on('data', chunk => ((output += chunk), (stdout += chunk)));
    child.stderr.on('data', chunk => (output += chunk));
    child.on('error', reject);
    child.on('close', code =>
      code === 0
        ? resolve(stdout)
        : reject(new Error(`${command} ${args.join(' ')} (in ${cwd}) exited ${code}:\n${output}`)),
    );
  });
}

function write(dir, files) {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(
      join(dir, path),
      typeof content === 'string' ? content : JSON.stringify(content, null, 2) + '\n',
    );
  }
}

function install(dir) {
  return run(
    'npm',
    [
      'install',
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      '--loglevel=error',
      '--cache',
      cache,
    ],
    dir,
  );
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

function eventHeaders(key) {
  return {
    'ce-specversion': '1.0',
    'ce-type': 'azure.webpubsub.user.message',
    'ce-source': `/hubs/${HUB}/client/conn-1`,
    'ce-id': '1',
    'ce-hub': HUB,
    'ce-connectionId': 'conn-1',
    'ce-eventName': 'message',
    'WebHook-Request-Origin': SERVICE_HOST,
    'content-type': 'text/plain',
    'ce-signature': `sha256=${createHmac('sha256', key).update('conn-1').digest('hex')}`,
  };
}

/** Starts the built app with node and checks its answers over loopback. */
async function serve(dir, label) {
  const port = await freePort();
  const child = spawn(process.execPath, ['dist/main.js'], {
    cwd: dir,
    env: { ...process.env, ...APP_ENV, PORT: String(port) },
    stdio: 'pipe',
  });
  let output = '';
  const exited = new Promise(resolve => child.on('close', resolve));
  try {
    await new Promise((resolve, reject) => {
      const onData = chunk => {
        output += chunk;
        if (output.includes('listening')) resolve();
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      exited.then(code =>
        reject(new Error(`${label}: node dist/main.js exited ${code}:\n${output}`)),
      );
    });
    const url = `http://127.0.0.1:${port}/eventhandler`;
    const handshake = await fetch(url, {
      method: 'OPTIONS',
      headers: { 'WebHook-Request-Origin': SERVICE_HOST },
    });
    const signed = await fetch(url, {
      method: 'POST',
      headers: eventHeaders(ACCESS_KEY),
      body: 'hello',
    });
    const forged = await fetch(url, {
      method: 'POST',
      headers: eventHeaders('wrong'),
      body: 'hello',
    });
    const seen = {
      handshake: [handshake.status, handshake.headers.get('webhook-allowed-origin')],
      signed: [signed.status, await signed.text()],
      forged: forged.status,
    };
    const expected = { handshake: [200, SERVICE_HOST], signed: [200, 'echo: hello'], forged: 401 };
    if (JSON.stringify(seen) !== JSON.stringify(expected))
      throw new Error(
        `${label}: got ${JSON.stringify(seen)}, expected ${JSON.stringify(expected)}\n${output}`,
      );
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

async function nest11(dir, label, configs) {
  for (const [name, tsconfig, supertestImport] of configs) {
    write(dir, {
      'tsconfig.json': tsconfig,
      'test/app.e2e-spec.ts': E2E_SPEC(
        label.includes('Fastify') ? 'fastify' : 'express',
        supertestImport,
      ),
    });
    rmSync(join(dir, 'dist'), { recursive: true, force: true });
    await run(join(dir, 'node_modules/.bin/jest'), ['--ci'], dir, APP_ENV);
    log(`${label}, ${name}: unit spec (package.json jest block) passed`);
    await run(
      join(dir, 'node_modules/.bin/jest'),
      ['--ci', '--config', './test/jest-e2e.json'],
      dir,
      APP_ENV,
    );
    log(`${label}, ${name}: e2e spec (supertest, signed events, jose) passed`);
    await run(join(dir, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.build.json'], dir);
    await serve(dir, `${label}, ${name}`);
    log(
      `${label}, ${name}: tsc build started with node answered handshake, signed and forged events`,
    );
  }
}

/** The files of test/fixtures/guide-app, by their path in the app. */
function guideFiles() {
  const base = join(root, 'test/fixtures/guide-app');
  const walk = dir =>
    readdirSync(dir).flatMap(name =>
      statSync(join(dir, name)).isDirectory() ? walk(join(dir, name)) : [join(dir, name)],
    );
  return Object.fromEntries(
    walk(base).map(path => [relative(base, path), readFileSync(path, 'utf8')]),
  );
}

try {
  const packed = JSON.parse(await run('npm', ['pack', '--json', '--pack-destination', work], root));
  const tarball = join(work, packed[0].filename);
  log(`packed ${packed[0].filename} (${packed[0].files.length} files) into ${work}`);

  const only = process.env.CONSUMERS_ONLY?.split(',');
  const apps = Object.fromEntries(
    Object.entries({
      express: join(work, 'nest11-express'),
      fastify: join(work, 'nest11-fastify'),
      esm: join(work, 'nest12-esm'),
      guide: join(work, 'nest11-guide'),
    }).filter(([name]) => !only || only.includes(name)),
  );
  if (apps.express) write(apps.express, nest11App({ platform: 'express', tarball, jest: 29 }));
  if (apps.fastify) {
    write(apps.fastify, {
      ...nest11App({ platform: 'fastify', tarball, jest: 30 }),
      'tsconfig.json': TSCONFIG_NODENEXT,
    });
  }
  if (apps.esm) write(apps.esm, nest12App({ tarball }));
  if (apps.guide) write(apps.guide, guideApp({ tarball, files: guideFiles() }));
  await Promise.all(Object.values(apps).map(install));
  log(`installed ${Object.keys(apps).join(', ')}`);

  if (apps.express) {
    await nest11(apps.express, 'Nest 11 + Express + Jest 29', [
      ['module commonjs', TSCONFIG_COMMONJS, SUPERTEST_NAMESPACE],
      ['module node16', TSCONFIG_NODE16, SUPERTEST_DEFAULT],
    ]);
  }
  if (apps.fastify) {
    await nest11(apps.fastify, 'Nest 11 + Fastify + Jest 30', [
      ['module nodenext', TSCONFIG_NODENEXT, SUPERTEST_DEFAULT],
    ]);
  }
  if (apps.esm) {
    await run(join(apps.esm, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.build.json'], apps.esm);
    await serve(apps.esm, 'Nest 12 ESM');
    log(
      'Nest 12 ESM (module nodenext): tsc build started with node answered handshake, signed and forged events',
    );
  }
  if (apps.guide) {
    await run('npm', ['run', 'test:e2e', '--', '--ci'], apps.guide);
    await run(join(apps.guide, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.build.json'], apps.guide);
    log(
      "the guides' app (Nest 11 + Express + Jest 29): test/chat.e2e-spec.ts passed, tsc build ok",
    );
  }
  rmSync(work, { recursive: true, force: true });
  log('all consumer apps passed');
} catch (error) {
  console.error(error.message);
  console.error(`scratch apps left in ${work}`);
  process.exitCode = 1;
}
