/**
 * The module's paths on Express and Fastify: a global prefix applies to the module's controller,
 * body handling included; under `RouterModule` with options from `registerAs(...).asProvider()`
 * (`@nestjs/config`) the controller is mounted under the module's route prefix.
 */
import { Module } from '@nestjs/common';
import { registerAs } from '@nestjs/config';
import { RouterModule } from '@nestjs/core';
import { WebPubSubModule, type WebPubSubModuleOptions } from '../../lib/index.js';
import { HardeningHandlers } from '../fixtures/hardening.handlers.js';
import { startApp, PLATFORMS, type TestApp } from '../utils/app.js';
import { CONNECTION_STRING, SERVICE_HOST, eventHeaders } from '../utils/events.js';
import { http } from '../utils/http.js';

const webPubSubConfig = registerAs('webPubSub', (): WebPubSubModuleOptions => ({
  hub: 'chat',
  connectionString: CONNECTION_STRING,
}));

@Module({
  imports: [
    // asProvider() brings ConfigModule.forFeature(webPubSubConfig), useFactory and inject.
    WebPubSubModule.forRootAsync(webPubSubConfig.asProvider()),
  ],
  providers: [HardeningHandlers],
})
class EventsModule {}

const bigJson = JSON.stringify({ blob: 'x'.repeat(600 * 1024) });

describe.each(PLATFORMS)('paths on %s', platform => {
  describe('a global prefix', () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await startApp(
        platform,
        {
          imports: [WebPubSubModule.forRoot({ hub: 'chat', connectionString: CONNECTION_STRING })],
          providers: [HardeningHandlers],
        },
        { before: nestApp => void nestApp.setGlobalPrefix('api') },
      );
    });
    afterAll(() => app?.close());

    it('applies to the module’s controller, body handling included', async () => {
      const handshake = await http(`${app.url}/api/eventhandler`, {
        method: 'OPTIONS',
        headers: { 'WebHook-Request-Origin': SERVICE_HOST },
      });
      expect(handshake.status).toBe(200);
      const big = await http(`${app.url}/api/eventhandler/message`, {
        method: 'POST',
        headers: eventHeaders('message', { contentType: 'application/json' }),
        body: bigJson,
      });
      expect(big.status).toBe(200);
      expect(
        (
          await http(`${app.url}/eventhandler`, {
            method: 'OPTIONS',
            headers: { 'WebHook-Request-Origin': SERVICE_HOST },
          })
        ).status,
      ).toBe(404);
    });
  });

  describe('RouterModule and registerAs(...).asProvider()', () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await startApp(platform, {
        imports: [
          EventsModule,
          RouterModule.register([{ path: 'hooks', module: WebPubSubModule }]),
        ],
      });
    });
    afterAll(() => app?.close());

    it('mounts the controller under the module’s route prefix, configured through @nestjs/config', async () => {
      const res = await http(`${app.url}/hooks/eventhandler`, {
        method: 'POST',
        headers: eventHeaders('message'),
        body: 'x',
      });
      expect(res.status).toBe(200);
      expect(JSON.parse(res.text)).toMatchObject({ dataType: 'text', text: 'x' });
      const forged = await http(`${app.url}/hooks/eventhandler`, {
        method: 'POST',
        headers: eventHeaders('message', { keys: ['forged'] }),
        body: 'x',
      });
      expect(forged.status).toBe(401);
    });
  });
});
