/**
 * The CORS settings `preflightContinue: true` (and `strictPreflight: false` on Fastify), which
 * docs/configuration.md says are not needed but work: with them, on Express and Fastify, the
 * abuse-protection handshake is still answered, an unknown origin still refused, and CORS keeps
 * working for the rest of the app.
 */
import { Controller, Get } from '@nestjs/common';
import type { CorsOptions } from '@nestjs/common/interfaces/external/cors-options.interface.js';
import { WebPubSubModule } from '../../lib/index.js';
import { ChatHandlers } from '../fixtures/chat.handlers.js';
import { startApp, type PlatformName, type TestApp } from '../utils/app.js';
import { CONNECTION_STRING, SERVICE_HOST } from '../utils/events.js';
import { http } from '../utils/http.js';

@Controller('api')
class ApiController {
  @Get('ping')
  ping(): string {
    return 'pong';
  }
}

/** The CORS settings the README documents: they let the handshake reach the module. */
const DOCUMENTED: Record<PlatformName, CorsOptions> = {
  express: { origin: 'https://app.example.com', preflightContinue: true },
  fastify: {
    origin: 'https://app.example.com',
    preflightContinue: true,
    strictPreflight: false,
  } as CorsOptions,
};

describe.each(['express', 'fastify'] as PlatformName[])(
  'app.enableCors() with the documented settings on %s',
  platform => {
    let app: TestApp;
    beforeAll(async () => {
      app = await startApp(
        platform,
        {
          imports: [WebPubSubModule.forRoot({ hub: 'chat', connectionString: CONNECTION_STRING })],
          controllers: [ApiController],
          providers: [ChatHandlers],
        },
        { before: nestApp => nestApp.enableCors(DOCUMENTED[platform]) },
      );
    });
    afterAll(() => app?.close());

    it('still answers the abuse-protection handshake', async () => {
      const res = await http(`${app.url}/eventhandler`, {
        method: 'OPTIONS',
        headers: { 'WebHook-Request-Origin': SERVICE_HOST },
      });
      expect(res.status).toBe(200);
      expect(res.headerLines['webhook-allowed-origin']).toEqual([SERVICE_HOST]);
    });

    it('still refuses an unknown origin', async () => {
      const res = await http(`${app.url}/eventhandler`, {
        method: 'OPTIONS',
        headers: { 'WebHook-Request-Origin': 'evil.example.com' },
      });
      expect(res.status).toBe(400);
      expect(res.headers['webhook-allowed-origin']).toBeUndefined();
    });

    it('keeps CORS working for the rest of the app', async () => {
      const res = await http(`${app.url}/api/ping`, {
        headers: { Origin: 'https://app.example.com' },
      });
      expect(res.status).toBe(200);
      expect(res.headers['access-control-allow-origin']).toBe('https://app.example.com');
    });
  },
);
