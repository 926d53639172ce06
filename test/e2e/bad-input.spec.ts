/**
 * Hand-written bad input on Express and Fastify, 60 requests per platform: each answer within 2 s,
 * never a 5xx, each refusal's text asserted (the module's plain-text message naming the problem),
 * and no handler run for a refused request (checked after a valid probe's handler ran). CloudEvents
 * headers (each missing, names in any case, a duplicated `ce-signature` read as one list, 150 wrong
 * signature entries refused quickly, a 4 KiB connection id and user id, non-ASCII user and
 * connection ids signed over their bytes, a non-ASCII hub it does not serve → 404 naming it);
 * bodies (an empty group presence body, JSON that is not an object, invalid UTF-8 read as U+FFFD,
 * JSON nested 10,000 deep parsed in bounded time, a body over the limit → 413);
 * `WebHook-Request-Origin` (1,000 hosts answered quickly, naming only the allowed one); no access
 * key in any log line or answer, whatever was refused.
 *
 * Answers that come from the platform, not the module: header sets over 16 KiB (10,000 signature
 * entries, a 64 KiB `ce-connectionState`) get `431` from Node with no body on Express, from Fastify
 * with its JSON body; on Fastify an empty `application/json` body gets Fastify's JSON `400` and a
 * body over `maxBodySize` Fastify's JSON `413` (`Request body is too large`). Fastify also answers
 * a handshake carrying a body of an unknown media type with its own `415`; every answer is still a
 * 4xx.
 */
import { WebPubSubModule } from '../../lib/index.js';
import { signatureHeader } from '../../lib/protocol/signature.js';
import { HardeningHandlers } from '../fixtures/hardening.handlers.js';
import {
  CapturingLogger,
  startApp,
  PLATFORMS,
  type PlatformName,
  type TestApp,
} from '../utils/app.js';
import {
  ACCESS_KEY,
  CONNECTION_STRING,
  SERVICE_HOST,
  connectBody,
  eventHeaders,
  type EventOptions,
} from '../utils/events.js';
import { http, type HttpResult } from '../utils/http.js';
import { waitFor } from '../utils/wait.js';

/** Every answer must come quickly, whatever was sent. */
const BOUND_MS = 2000;

/** Answers the platform gives before the module sees the request. */
const HEADERS_TOO_LARGE: Record<PlatformName, string> = {
  express: '', // Node's own 431
  fastify:
    '{"error":"Request Header Fields Too Large","message":"Exceeded maximum allowed HTTP header size","statusCode":431}',
};
/** Fastify's JSON parser refuses an empty application/json body itself. */
const FASTIFY_EMPTY_JSON =
  '{"statusCode":400,"message":"Body cannot be empty when content-type is set to \'application/json\'"}';

describe.each(PLATFORMS)('bad input on %s', platform => {
  let app: TestApp;
  let handlers: HardeningHandlers;
  const logger = new CapturingLogger();

  beforeAll(async () => {
    app = await startApp(
      platform,
      {
        imports: [WebPubSubModule.forRoot({ hub: 'chat', connectionString: CONNECTION_STRING })],
        providers: [HardeningHandlers],
      },
      { logger },
    );
    handlers = app.app.get(HardeningHandlers);
  });
  afterAll(() => app?.close());

  let probes = 0;
  /**
   * Sends a request and checks the answer came in bounded time and, if refused, called no handler:
   * checked once a valid non-blocking probe sent afterwards has run its handler (handlers run in
   * order, so one the refused request had started would have run by then).
   */
  async function send(
    headers: Record<string, string | string[]>,
    body?: string | Buffer,
    method = 'POST',
  ): Promise<HttpResult> {
    const before = handlers.calls;
    const started = Date.now();
    const res = await http(`${app.url}/eventhandler`, { method, headers, body });
    expect(Date.now() - started).toBeLessThan(BOUND_MS);
    expect(res.status).toBeLessThan(500);
    if (res.status >= 400) {
      const probe = `probe-${++probes}`;
      const ack = await http(`${app.url}/eventhandler`, {
        method: 'POST',
        headers: { ...eventHeaders('connected'), 'ce-id': probe },
        body: '{}',
      });
      expect(ack.status).toBe(204);
      await waitFor(() => handlers.eventIds.includes(probe));
      expect(handlers.calls).toBe(before + 1);
    }
    return res;
  }
  const post = (event: string, body: string | Buffer, options: EventOptions = {}) =>
    send(eventHeaders(event, options), body);

  describe('CloudEvents headers', () => {
    it.each(['ce-specversion', 'ce-type', 'ce-id', 'ce-hub', 'ce-connectionId', 'ce-eventName'])(
      'refuses an empty %s (400)',
      async header => {
        const res = await post('message', 'x', { extra: { [header]: '' } });
        expect(res.status).toBe(400);
        expect(res.text).toBe(`Missing CloudEvents header: ${header.toLowerCase()}`);
      },
    );

    it('accepts header names in any case', async () => {
      const headers = Object.fromEntries(
        Object.entries(eventHeaders('message')).map(([name, value]) => [name.toUpperCase(), value]),
      );
      const res = await send(headers, 'x');
      expect(res.status).toBe(200);
    });

    it.each([
      ['ce-hub', 404, 'Hub "chat, chat" is not served by this event handler'],
      [
        'ce-type',
        400,
        'Unsupported ce-type "azure.webpubsub.user.message, azure.webpubsub.user.message"',
      ],
      ['ce-specversion', 400, 'Unsupported ce-specversion "1.0, 1.0"'],
      ['ce-connectionId', 401, 'Invalid ce-signature'],
    ])(
      'refuses a duplicated %s: Node joins the values, which then do not match (%i)',
      async (header, status, message) => {
        const headers: Record<string, string | string[]> = eventHeaders('message');
        const key = Object.keys(headers).find(name => name.toLowerCase() === header.toLowerCase())!;
        headers[key] = [headers[key] as string, headers[key] as string];
        const res = await send(headers, 'x');
        expect(res.status).toBe(status);
        expect(res.text).toContain(message);
      },
    );

    it('reads a duplicated ce-signature as one list of entries (tolerant)', async () => {
      const headers: Record<string, string | string[]> = eventHeaders('message');
      headers['ce-signature'] = ['sha256=' + '0'.repeat(64), headers['ce-signature'] as string];
      expect((await send(headers, 'x')).status).toBe(200);
    });

    it.each([
      '',
      'sha256=',
      'sha256=abc',
      `sha256=${'g'.repeat(64)}`,
      `md5=${'0'.repeat(64)}`,
      'sha256=' + '0'.repeat(65),
      ' , ,,',
    ])('refuses the ce-signature %p (401)', async signature => {
      const res = await post('message', 'x', { extra: { 'ce-signature': signature } });
      expect(res.status).toBe(401);
      expect(res.text).toBe(
        signature === '' ? 'Missing ce-signature header' : 'Invalid ce-signature',
      );
    });

    it('refuses 150 wrong signature entries quickly (401)', async () => {
      const many = Array.from(
        { length: 150 },
        (_, i) => `sha256=${i.toString(16).padStart(64, '0')}`,
      ).join(',');
      const res = await post('message', 'x', { extra: { 'ce-signature': many } });
      expect(res.status).toBe(401);
      expect(res.text).toBe('Invalid ce-signature');
    });

    // The module never sees these: Node answers 431 with no body on Express, and Fastify (which
    // handles Node's client errors) with its own JSON.
    it('refuses a header set over Node’s 16 KiB limit (10,000 signature entries): Node’s 431', async () => {
      const huge = Array.from({ length: 10_000 }, () => `sha256=${'0'.repeat(64)}`).join(',');
      const res = await post('message', 'x', { extra: { 'ce-signature': huge } });
      expect(res.status).toBe(431);
      expect(res.text).toBe(HEADERS_TOO_LARGE[platform]);
    });

    it.each([
      ['not base64', '%%%%'],
      ['not JSON', Buffer.from('{nope').toString('base64')],
      ['not an object', Buffer.from('[1,2,3]').toString('base64')],
      ['a JSON string', Buffer.from('"text"').toString('base64')],
      ['10 KiB of it', Buffer.from(JSON.stringify({ blob: 'x'.repeat(7000) })).toString('base64')],
    ])('reads a ce-connectionState that is %s tolerantly', async (_label, state) => {
      expect((await post('message', 'x', { state })).status).toBe(200);
    });

    it('refuses a 64 KiB ce-connectionState: Node’s 431 (header limit)', async () => {
      const res = await post('message', 'x', { state: 'A'.repeat(64 * 1024) });
      expect(res.status).toBe(431);
      expect(res.text).toBe(HEADERS_TOO_LARGE[platform]);
    });

    it('accepts a 4 KiB connection id, signed', async () => {
      const connectionId = 'c'.repeat(4096);
      const res = await post('message', 'x', { connectionId });
      expect(res.status).toBe(200);
      expect(JSON.parse(res.text).connectionIdLength).toBe(4096);
    });

    it('reads non-ASCII (UTF-8) user ids and connection ids, and checks the signature over their bytes', async () => {
      const connectionId = 'verbindung-ü-用户';
      const headers = eventHeaders('message', { connectionId: 'placeholder', keys: [] });
      headers['ce-connectionId'] = Buffer.from(connectionId, 'utf8').toString('latin1');
      headers['ce-userId'] = Buffer.from('用户-ünïcode', 'utf8').toString('latin1');
      headers['ce-signature'] = signatureHeader(connectionId, [ACCESS_KEY]);
      const res = await send(headers, 'x');
      expect(res.status).toBe(200);
      expect(JSON.parse(res.text)).toMatchObject({
        userId: '用户-ünïcode',
        connectionIdLength: connectionId.length,
      });
    });

    it('refuses a non-ASCII hub it does not serve (404), naming it', async () => {
      const headers = eventHeaders('message', { hub: 'chat' });
      headers['ce-hub'] = Buffer.from('chät', 'utf8').toString('latin1');
      const res = await send(headers, 'x');
      expect(res.status).toBe(404);
      expect(res.text).toContain('"chät"');
    });

    it('accepts a 4 KiB user id', async () => {
      const res = await post('message', 'x', { userId: 'u'.repeat(4096) });
      expect(res.status).toBe(200);
      expect(JSON.parse(res.text).userId).toHaveLength(4096);
    });
  });

  describe('bodies', () => {
    it.each([
      [
        'connect',
        'application/json',
        400,
        'The connect event body is empty: a JSON object is expected',
      ],
      [
        'connected',
        'application/json',
        400,
        'The connected event body is empty: a JSON object is expected',
      ],
      [
        'disconnected',
        'application/json',
        400,
        'The disconnected event body is empty: a JSON object is expected',
      ],
      [
        'message',
        'application/json',
        400,
        'The user event body is not valid JSON: Unexpected end of JSON input',
      ],
      [
        'message',
        'text/plain',
        200,
        '{"dataType":"text","kind":"string","text":"","connectionIdLength":6}',
      ],
      [
        'message',
        'application/octet-stream',
        200,
        '{"dataType":"binary","kind":"buffer","connectionIdLength":6}',
      ],
    ])('answers an empty %s body (%s) with %i', async (event, contentType, status, text) => {
      const res = await post(event, '', { contentType });
      expect(res.status).toBe(status);
      // Fastify's JSON parser answers an empty JSON body before the module sees it.
      expect(res.text).toBe(
        platform === 'fastify' && contentType === 'application/json' ? FASTIFY_EMPTY_JSON : text,
      );
    });

    it('refuses an empty group presence body (400)', async () => {
      const res = await post('x', '', {
        contentType: 'application/json',
        extra: { 'ce-type': 'azure.webpubsub.gp.joined' },
      });
      expect(res.status).toBe(400);
      expect(res.text).toBe(
        platform === 'fastify'
          ? FASTIFY_EMPTY_JSON
          : 'The x event body is empty: a JSON object is expected',
      );
    });

    it.each(['"a string"', '42', '[1,2]', 'null', 'true'])(
      'refuses the connect body %s (400: not a JSON object)',
      async body => {
        const res = await post('connect', body);
        expect(res.status).toBe(400);
        expect(res.text).toBe('The connect event body must be a JSON object');
      },
    );

    it.each([
      ['"a string"', 'string'],
      ['42', 'number'],
      ['[1,2]', 'object'],
      ['null', 'null'],
    ])('gives a JSON user event %s to the handler as it is', async (body, kind) => {
      const res = await post('message', body, { contentType: 'application/json' });
      expect(res.status).toBe(200);
      expect(JSON.parse(res.text)).toMatchObject({ dataType: 'json', kind });
    });

    it('reads invalid UTF-8 in a text event tolerantly (U+FFFD)', async () => {
      const res = await post('message', Buffer.from([0x68, 0xff, 0xfe, 0x69]), {
        contentType: 'text/plain',
      });
      expect(res.status).toBe(200);
      expect(JSON.parse(res.text).text).toBe('h\uFFFD\uFFFDi');
    });

    it('parses JSON nested 10,000 levels deep in bounded time', async () => {
      const deep = '['.repeat(10_000) + ']'.repeat(10_000);
      const user = await post('message', deep, { contentType: 'application/json' });
      expect(user.status).toBe(200);
      const connect = await post('connect', `{"claims":{"sub":["a"]},"headers":{"x":${deep}}}`);
      expect(connect.status).toBe(200);
    });

    it('refuses a huge JSON body over the limit (413)', async () => {
      const res = await post('message', JSON.stringify({ a: 'x'.repeat(2 * 1024 * 1024) }), {
        contentType: 'application/json',
      });
      expect(res.status).toBe(413);
      // On Fastify the route's bodyLimit (maxBodySize) is enforced by Fastify, with its message.
      expect(res.text).toBe(
        platform === 'fastify'
          ? '{"statusCode":413,"message":"Request body is too large"}'
          : 'Request body exceeds the 1048576-byte limit (maxBodySize)',
      );
    });

    it.each([
      ['a missing', { omit: ['content-type'] }],
      ['an unsupported', { contentType: 'application/xml' }],
      ['a malformed', { contentType: ';;;' }],
    ])(
      'refuses a user event with %s Content-Type: 415 naming the supported types',
      async (_label, options) => {
        const res = await post('message', 'x', options as EventOptions);
        expect(res.status).toBe(415);
        expect(res.text).toContain(
          'expected text/plain, application/json, application/octet-stream, application/x-protobuf',
        );
      },
    );
  });

  describe('WebHook-Request-Origin', () => {
    const handshake = (origin: string) =>
      send({ 'WebHook-Request-Origin': origin }, undefined, 'OPTIONS');

    it.each([
      [`${SERVICE_HOST.toUpperCase()}`, [SERVICE_HOST.toUpperCase()]],
      [`${SERVICE_HOST}:443`, [`${SERVICE_HOST}:443`]],
      [`https://${SERVICE_HOST}`, [`https://${SERVICE_HOST}`]],
      [`a.example,,  ${SERVICE_HOST}\t, ,b.example`, [SERVICE_HOST]],
      [`${SERVICE_HOST};other.example`, undefined],
    ])('answers %p', async (origin, allowed) => {
      const res = await handshake(origin);
      if (allowed) {
        expect(res.status).toBe(200);
        expect(res.headerLines['webhook-allowed-origin']).toEqual(allowed);
      } else {
        expect(res.status).toBe(400);
        expect(res.text).toBe(
          `WebHook-Request-Origin ${JSON.stringify(origin)} is not an allowed service endpoint`,
        );
        expect(res.headers['webhook-allowed-origin']).toBeUndefined();
      }
    });

    it('answers 1,000 hosts quickly, naming only the allowed one', async () => {
      const hosts = Array.from({ length: 1000 }, (_, i) => `h${i}.x`);
      hosts.splice(500, 0, SERVICE_HOST);
      const res = await handshake(hosts.join(','));
      expect(res.status).toBe(200);
      expect(res.headerLines['webhook-allowed-origin']).toEqual([SERVICE_HOST]);
    });
  });

  it('never writes an access key to the logs or an answer, whatever was refused', async () => {
    const forged = await post('message', 'x', { keys: ['forged'] });
    expect(forged.status).toBe(401);
    const accepted = await post('connect', connectBody());
    expect(accepted.status).toBe(200);
    const logged = logger.lines.map(line => `${line.message} ${line.context ?? ''}`).join('\n');
    // the refusals of this spec are logged, so there is something to search
    expect(logged).toContain('Rejected POST /eventhandler: 401 Invalid ce-signature');
    expect(logged).not.toContain(ACCESS_KEY);
    expect(`${forged.text} ${JSON.stringify(forged.headerLines)}`).not.toContain(ACCESS_KEY);
    expect(`${accepted.text} ${JSON.stringify(accepted.headerLines)}`).not.toContain(ACCESS_KEY);
  });
});
