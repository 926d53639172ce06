/**
 * CORS and the abuse-protection handshake on Express and Fastify, for `app.enableCors()`,
 * `app.enableCors({ origin, credentials })` and `{ cors: true }`, each with Nest's defaults:
 * `OPTIONS` and `GET` handshakes on `<path>` and `<path>/:event` answered `200` by the module with
 * one `WebHook-Allowed-Origin` line and no CORS headers; an unknown origin `400`; events served; a
 * browser preflight (`Origin` + `Access-Control-Request-Method`) to `/api/ping` and to the module's
 * path answered `204` by the CORS layer; CORS headers on the rest of the app.
 */
import { Controller, Get, type INestApplication } from '@nestjs/common';
import type { CorsOptions } from '@nestjs/common/interfaces/external/cors-options.interface.js';
import { Test } from '@nestjs/testing';
import { WebPubSubModule } from '../../lib/index.js';
import { ChatHandlers } from '../fixtures/chat.handlers.js';
import { createAdapter, PLATFORMS, type PlatformName } from '../utils/app.js';
import { CONNECTION_STRING, SERVICE_HOST, postEvent } from '../utils/events.js';
import { http } from '../utils/http.js';

@Controller('api')
class ApiController {
  @Get('ping')
  ping(): string {
    return 'pong';
  }
}

const BROWSER_ORIGIN = 'https://app.example.com';

/** The three ways an app turns CORS on, each with Nest's defaults (no workaround). */
const SETUPS: [string, { cors?: boolean | CorsOptions; enable?: CorsOptions | true }][] = [
  ['app.enableCors()', { enable: true }],
  ['app.enableCors(options)', { enable: { origin: BROWSER_ORIGIN, credentials: true } }],
  ['NestFactory.create(..., { cors: true })', { cors: true }],
];

describe.each(PLATFORMS)('CORS and the abuse-protection handshake on %s', platform => {
  describe.each(SETUPS)('%s', (_label, setup) => {
    let app: INestApplication;
    let url: string;
    beforeAll(async () => {
      const moduleRef = await Test.createTestingModule({
        imports: [WebPubSubModule.forRoot({ hub: 'chat', connectionString: CONNECTION_STRING })],
        controllers: [ApiController],
        providers: [ChatHandlers],
      }).compile();
      app = moduleRef.createNestApplication(createAdapter(platform as PlatformName), {
        logger: false,
        ...(setup.cors === undefined ? {} : { cors: setup.cors }),
      });
      if (setup.enable === true) app.enableCors();
      else if (setup.enable) app.enableCors(setup.enable);
      await app.listen(0, '127.0.0.1');
      url = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
    });
    afterAll(() => app?.close());

    it.each(['OPTIONS', 'GET'])('answers the %s handshake from the module', async method => {
      for (const path of ['/eventhandler', '/eventhandler/message']) {
        const res = await http(`${url}${path}`, {
          method,
          headers: { 'WebHook-Request-Origin': SERVICE_HOST },
        });
        expect(res.status).toBe(200);
        expect(res.headerLines['webhook-allowed-origin']).toEqual([SERVICE_HOST]);
        // The CORS layer did not answer it.
        expect(res.headers['access-control-allow-methods']).toBeUndefined();
      }
    });

    it('still refuses a handshake from an unknown origin (400)', async () => {
      const res = await http(`${url}/eventhandler`, {
        method: 'OPTIONS',
        headers: { 'WebHook-Request-Origin': 'evil.example.com' },
      });
      expect(res.status).toBe(400);
      expect(res.headers['webhook-allowed-origin']).toBeUndefined();
    });

    it('still serves events', async () => {
      const res = await postEvent(`${url}/eventhandler`, 'message', 'hello');
      expect(res.status).toBe(200);
    });

    it('leaves a browser preflight elsewhere to the CORS layer', async () => {
      const res = await http(`${url}/api/ping`, {
        method: 'OPTIONS',
        headers: { Origin: BROWSER_ORIGIN, 'Access-Control-Request-Method': 'GET' },
      });
      expect(res.status).toBe(204);
      expect(res.headers['access-control-allow-origin']).toMatch(
        /^(\*|https:\/\/app\.example\.com)$/,
      );
      expect(res.headers['access-control-allow-methods']).toBeDefined();
    });

    it('leaves a browser preflight to the module path to the CORS layer too', async () => {
      const res = await http(`${url}/eventhandler`, {
        method: 'OPTIONS',
        headers: {
          Origin: BROWSER_ORIGIN,
          'Access-Control-Request-Method': 'POST',
          'WebHook-Request-Origin': SERVICE_HOST,
        },
      });
      expect(res.status).toBe(204);
      expect(res.headers['access-control-allow-methods']).toBeDefined();
      expect(res.headers['webhook-allowed-origin']).toBeUndefined();
    });

    it('adds CORS headers to the rest of the app', async () => {
      const res = await http(`${url}/api/ping`, { headers: { Origin: BROWSER_ORIGIN } });
      expect(res.status).toBe(200);
      expect(res.text).toBe('pong');
      expect(res.headers['access-control-allow-origin']).toMatch(
        /^(\*|https:\/\/app\.example\.com)$/,
      );
    });
  });
});
