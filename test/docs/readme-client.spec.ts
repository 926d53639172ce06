/**
 * The reference examples of docs/service-client.md, run as written: the four fixtures in
 * `test/fixtures/readme/` are blocks of the guide character for character once their first comment
 * line is dropped and the import path is the package's (changing the guide's text fails it). Their
 * code runs on Express and Fastify against the loopback service (`test/utils/loopback-service.ts`):
 * the Announcer's sends through the injected and the run-time clients reach it, the `forRootAsync`
 * example resolves a client per hub (`notifications`), and the page-side `connect()` gets a URL
 * through the negotiate guard and `resolve`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { decodeJwt } from 'jose';
import { getWebPubSubServiceClientToken } from '../../lib/index.js';
import { PLATFORMS, startApp } from '../utils/app.js';
import { http } from '../utils/http.js';
import { LoopbackService } from '../utils/loopback-service.js';

// One service for the file: the examples' modules read the connection string once, when imported.
let service: LoopbackService;
let previous: string | undefined;
beforeAll(async () => {
  service = await LoopbackService.start();
  previous = process.env.WebPubSubConnectionString;
  // The examples read it when their modules are defined, so before they are imported.
  process.env.WebPubSubConnectionString = `Endpoint=${service.endpoint};AccessKey=readme-key-0123456789;Version=1.0;`;
});
afterAll(async () => {
  if (previous === undefined) delete process.env.WebPubSubConnectionString;
  else process.env.WebPubSubConnectionString = previous;
  await service.close();
});

const read = (path: string) => readFileSync(new URL(path, import.meta.url), 'utf8');

/** Each fixture is a block of docs/service-client.md: its first line (a comment) dropped, the import path the package's. */
describe('docs/service-client.md examples are the fixtures', () => {
  const blocks = [...read('../../docs/service-client.md').matchAll(/```ts\n([\s\S]*?)```/g)].map(
    m => m[1],
  );
  const fixtures = readdirSync(new URL('../fixtures/readme/', import.meta.url));
  it('finds the four fixtures', () => {
    expect(fixtures.sort()).toEqual([
      'negotiate-client.example.ts',
      'negotiate.example.ts',
      'service-client-async.example.ts',
      'service-client.example.ts',
    ]);
  });
  it.each(fixtures)('%s is a block of docs/service-client.md', file => {
    const code = read(`../fixtures/readme/${file}`)
      .replace(/^\/\/.*\n/, '')
      .replaceAll("'../../../lib/index.js'", "'nestjs-web-pubsub'");
    expect(blocks).toContain(code);
  });
});

describe.each(PLATFORMS)('docs/service-client.md examples on %s', platform => {
  it('Service client: Announcer sends through the injected and the run-time clients', async () => {
    const { AppModule, Announcer } = await import('../fixtures/readme/service-client.example.js');
    const app = await startApp(platform, { imports: [AppModule] });
    try {
      const before = service.requests.length;
      await app.app.get(Announcer).announce('maintenance at noon');
      await app.app.get(Announcer).notify('notifications', 'alice', 'you have mail');
      const [announce, notify] = service.requests.slice(before);
      expect(announce).toMatchObject({ method: 'POST', path: '/api/hubs/chat/:send' });
      expect(JSON.parse(announce.body)).toEqual({ from: 'system', text: 'maintenance at noon' });
      expect(notify).toMatchObject({
        method: 'POST',
        path: '/api/hubs/notifications/users/alice/:send',
      });
      expect(notify.body).toBe('you have mail');
    } finally {
      await app.close();
    }
  });

  it('Service client with forRootAsync: a client per hub named next to useFactory', async () => {
    const { AsyncAppModule } = await import('../fixtures/readme/service-client-async.example.js');
    const app = await startApp(platform, { imports: [AsyncAppModule] });
    try {
      const client = await app.app.resolve(getWebPubSubServiceClientToken('notifications'));
      expect(client.hubName).toBe('notifications');
      expect(client.endpoint).toBe(service.endpoint);
    } finally {
      await app.close();
    }
  });

  it('Negotiate: the guard, resolve and the client-side connect()', async () => {
    const { AppModule } = await import('../fixtures/readme/negotiate.example.js');
    const { connect } = await import('../fixtures/readme/negotiate-client.example.js');
    const app = await startApp(platform, { imports: [AppModule] });
    try {
      expect((await http(`${app.url}/negotiate`)).status).toBe(403);
      const before = service.upgrades.length;
      const client = connect(
        `${app.url}/negotiate`,
        { 'x-ms-client-principal-name': 'alice' },
        { autoReconnect: false, keepAliveIntervalInMs: 0, keepAliveTimeoutInMs: 0 },
      );
      const connected = new Promise(resolve => client.on('connected', resolve));
      await client.start();
      await connected;
      const stopped = new Promise(resolve => client.on('stopped', resolve));
      client.stop();
      await stopped;
      const upgrade = service.upgrades[before];
      expect(upgrade.path).toBe('/client/hubs/chat');
      const payload = decodeJwt(upgrade.accessToken!);
      expect(payload.sub).toBe('alice');
      expect(payload.role).toEqual(['webpubsub.joinLeaveGroup', 'webpubsub.sendToGroup']);
      expect(payload.exp! - payload.iat!).toBe(30 * 60);
    } finally {
      await app.close();
    }
  });
});
