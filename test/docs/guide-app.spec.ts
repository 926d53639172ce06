/**
 * The app that grows through the guides (README's Quick start, then the steps of
 * docs/emulator.md, docs/service-client.md and docs/testing.md) is `test/fixtures/guide-app/`:
 * - the guides show exactly its files, as the last step leaves them, and no other app file;
 * - its own end-to-end test, `test/chat.e2e-spec.ts` as a `nest new` app runs it, runs here
 *   (Express: the emulator, the app, two `@azure/web-pubsub-client` users through negotiate);
 * - the same app on Fastify: negotiate, a message broadcast through the injected client, the reply;
 *   and step 2's `scripts/hello.ts` run against it, printing the reply.
 * The guides' blocks are type-checked step by step in readme-examples.spec.ts.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { jest } from '@jest/globals';
import type { INestApplication, Type } from '@nestjs/common';
import type { AbstractHttpAdapter } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { WebPubSubClient } from '@azure/web-pubsub-client';
import { startEmulator, type RunningEmulator } from '../../lib/emulator/index.js';
import { freePort } from '../utils/ports.js';
import { guideAppSteps, ROOT } from '../utils/markdown.js';

// A `nest new` app, whose extensionless imports the repository's NodeNext type check refuses: it is
// loaded by Jest (and type-checked by readme-examples.spec.ts), out of sight of tsc.
const fixture = (path: string) => import(`../fixtures/guide-app/${path}.js`);
const { AppModule } = (await fixture('src/app.module')) as { AppModule: Type<unknown> };
// The guide's own test, registered here as it is.
await fixture('test/chat.e2e-spec');

const FIXTURE = join(ROOT, 'test/fixtures/guide-app');

function fixtureFiles(dir = FIXTURE): string[] {
  return readdirSync(dir).flatMap(name => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? fixtureFiles(path) : [relative(FIXTURE, path)];
  });
}

describe('the guides show the app of test/fixtures/guide-app', () => {
  const steps = guideAppSteps();
  const last = steps.get(Math.max(...steps.keys()))!;

  it('the same files', () => {
    expect([...last.keys()].sort()).toEqual(fixtureFiles().sort());
  });

  it.each(fixtureFiles())('%s as the last step shows it', path => {
    const block = last.get(path)!;
    expect({ path, shown: block.body }).toEqual({
      path,
      shown: readFileSync(join(FIXTURE, path), 'utf8'),
    });
  });
});

describe('the guide app on Fastify, on the emulator', () => {
  let emulator: RunningEmulator;
  let app: INestApplication;
  let port: number;
  beforeAll(async () => {
    port = await freePort();
    emulator = await startEmulator({
      port: 0,
      log: () => {},
      hubs: {
        chat: {
          eventHandlers: [
            {
              urlTemplate: `http://127.0.0.1:${port}/eventhandler/{event}`,
              userEventPattern: '*',
              systemEvents: ['connect', 'connected', 'disconnected'],
            },
          ],
        },
      },
    });
    process.env.WebPubSubConnectionString = emulator.connectionString;
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    app = moduleRef.createNestApplication(new FastifyAdapter() as unknown as AbstractHttpAdapter, {
      logger: false,
    });
    await app.listen(port, '127.0.0.1');
  });
  afterAll(async () => {
    await app?.close();
    await emulator?.close();
    delete process.env.WebPubSubConnectionString;
  });

  it('negotiates, broadcasts a message to the lobby through the injected client and replies', async () => {
    const client = new WebPubSubClient(
      {
        getClientAccessUrl: async () => {
          const response = await fetch(`http://127.0.0.1:${port}/negotiate`, {
            method: 'POST',
            headers: { 'x-user': 'carol' },
          });
          return ((await response.json()) as { url: string }).url;
        },
      },
      { autoReconnect: false, keepAliveIntervalInMs: 500, keepAliveTimeoutInMs: 0 },
    );
    try {
      const broadcast = new Promise(resolve =>
        client.on('group-message', event => {
          if ((event.message.data as { type: string }).type === 'message') {
            resolve(event.message.data);
          }
        }),
      );
      const reply = new Promise(resolve =>
        client.on('server-message', event => resolve(event.message.data)),
      );
      await client.start();
      await client.sendEvent('message', 'from fastify', 'text');
      expect(await broadcast).toEqual({ type: 'message', from: 'carol', text: 'from fastify' });
      expect(await reply).toBe('message 1 received');
    } finally {
      const stopped = new Promise(resolve => client.on('stopped', resolve));
      client.stop();
      await stopped;
    }
  });

  it('scripts/hello.ts (step 2) connects as alice, sends and prints the reply', async () => {
    const printed = new Promise<unknown[]>(resolve =>
      jest.spyOn(console, 'log').mockImplementation((...args: unknown[]) => resolve(args)),
    );
    try {
      await fixture('scripts/hello');
      expect(await printed).toEqual(['reply:', 'message 1 received']);
    } finally {
      jest.restoreAllMocks();
    }
  });
});
