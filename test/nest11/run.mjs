// `npm run test:nest11`: the dispatch, events, authentication, CORS, shutdown, negotiate,
// service-client and gateway e2e specs (on Express and Fastify) against Nest 11, which the peer range
// promises besides the Nest 12 of development.
// Installs Nest 11 into a temp folder (npm cache shared with test:consumers), then runs the specs
// with test/nest11/jest.config.js, which maps every @nestjs/* import (ours, the specs', and Nest's
// own) to that install: @nestjs/common, core, platform-express, platform-fastify, testing,
// websockets and config 4, and rxjs. The run checks that Nest 11 was really the one loaded.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');
const dir = process.env.NEST11_DIR ?? join(tmpdir(), 'nestjs-web-pubsub-nest11');
const cache = process.env.CONSUMERS_NPM_CACHE ?? join(tmpdir(), 'nestjs-web-pubsub-npm-cache');
const specs = [
  'test/e2e/dispatch.spec.ts',
  'test/e2e/events.spec.ts',
  'test/e2e/authentication.spec.ts',
  'test/e2e/cors-handshake.spec.ts',
  'test/e2e/shutdown.spec.ts',
  'test/e2e/negotiate.spec.ts',
  'test/e2e/service-client.spec.ts',
  'test/e2e/gateway.spec.ts',
];

function run(command, args, options) {
  const result = spawnSync(command, args, { stdio: 'inherit', ...options });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
writeFileSync(
  join(dir, 'package.json'),
  JSON.stringify({
    name: 'nest11-for-e2e',
    private: true,
    dependencies: {
      '@nestjs/common': '^11.0.1',
      '@nestjs/core': '^11.0.1',
      '@nestjs/platform-express': '^11.0.1',
      '@nestjs/platform-fastify': '^11.0.1',
      '@nestjs/testing': '^11.0.1',
      '@nestjs/config': '^4.0.0',
      '@nestjs/websockets': '^11.0.1',
      'reflect-metadata': '^0.2.2',
      rxjs: '^7.8.1',
    },
  }),
);
run(
  'npm',
  ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', '--cache', cache],
  {
    cwd: dir,
  },
);
for (const name of [
  'common',
  'core',
  'platform-express',
  'platform-fastify',
  'testing',
  'websockets',
]) {
  const { version } = JSON.parse(
    readFileSync(join(dir, 'node_modules/@nestjs', name, 'package.json'), 'utf8'),
  );
  if (!version.startsWith('11.')) throw new Error(`@nestjs/${name} ${version} is not Nest 11`);
  console.log(`@nestjs/${name} ${version}`);
}
run(
  join(root, 'node_modules/.bin/jest'),
  ['--config', 'test/nest11/jest.config.js', '--maxWorkers=1', ...specs],
  {
    cwd: root,
    env: { ...process.env, NEST11_DIR: dir, NODE_OPTIONS: '--experimental-vm-modules' },
  },
);
