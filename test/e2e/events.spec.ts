/**
 * The event handler end to end, over the full matrix: platform (Express, Fastify) × `rawBody`
 * on/off × `forRoot` / `forRootAsync` with `ConfigService` × the default and a custom path. The
 * abuse-protection handshake (`OPTIONS` and `GET`, on `<path>/validate` too; the known host among
 * several, in any case, with any separator; an origin not allowed or missing → 400 without
 * `WebHook-Allowed-Origin`); signatures (`, ` separators and upper-case hex accepted, another
 * connection's signature refused); `connect` (the returned object as 200 JSON with only the connect
 * response fields, nothing returned → 204, an `HttpException` → its status and message, any other
 * error → 500 without its message or stack, the state set by the handler, invalid or non-object
 * JSON → 400 without calling the handler); user events (text, JSON, binary byte-exact and protobuf
 * data, routed by `ce-type` on `<path>/<event>` too, the user id and subprotocol in the context,
 * nothing or `null` returned → 204, no handler → 204, async handlers awaited, a crash → 500 without
 * its message, invalid JSON → 400, a 600 KB JSON event above Express's own 100 KB limit); the
 * connection state decoded, merged, cleared and left out when unchanged, malformed states refused;
 * malformed requests (every missing CloudEvents attribute named, `ce-specversion` other than 1.0,
 * unknown event types, a hub the app does not serve → 404, hubs matched case-insensitively);
 * non-blocking events (`connected`, `disconnected` with its reason, group joined/left) acknowledged
 * with 204 and handled. Every answer's status is asserted, so a crash or a 404 cannot pass for
 * success.
 */
import { randomBytes } from 'node:crypto';
import { packAny, unpackAny } from '../../lib/index.js';
import { ChatHandlers, SECRET_IN_ERROR } from '../fixtures/chat.handlers.js';
import { webPubSubImport } from '../fixtures/web-pubsub-imports.js';
import { startApp, type TestApp } from '../utils/app.js';
import {
  ACCESS_KEY,
  CONNECTION_STRING,
  SECONDARY_CONNECTION_STRING,
  SECONDARY_KEY,
  SERVICE_HOST,
  connectBody,
  eventHeaders,
  type EventOptions,
} from '../utils/events.js';
import { http, type HttpResult } from '../utils/http.js';
import { fullMatrix } from '../utils/matrix.js';
import { waitFor } from '../utils/wait.js';

const decodeState = (value: unknown) =>
  JSON.parse(Buffer.from(String(value), 'base64').toString('utf8'));
const encodeState = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64');

describe.each(fullMatrix())('event handler (%s)', (_name, setup) => {
  let app: TestApp;
  let handlers: ChatHandlers;

  beforeAll(async () => {
    app = await startApp(
      setup.platform,
      {
        imports: [
          webPubSubImport(
            setup.registration,
            { hub: 'chat', connectionString: [CONNECTION_STRING, SECONDARY_CONNECTION_STRING] },
            { path: setup.path },
          ),
        ],
        providers: [ChatHandlers],
      },
      { rawBody: setup.rawBody },
    );
    handlers = app.app.get(ChatHandlers);
  });
  afterAll(() => app?.close());

  const url = (suffix = '') => `${app.url}${setup.base}${suffix}`;
  const post = (
    event: string,
    body: string | Buffer = '',
    options: EventOptions = {},
    suffix = '',
  ): Promise<HttpResult> =>
    http(url(suffix), { method: 'POST', headers: eventHeaders(event, options), body });
  const callsOf = (event: string) => handlers.calls.filter(call => call.event === event).length;

  describe('abuse-protection handshake', () => {
    it.each(['OPTIONS', 'GET'])('%s names the allowed requested host', async method => {
      const res = await http(url(), {
        method,
        headers: { 'WebHook-Request-Origin': SERVICE_HOST },
      });
      expect(res.status).toBe(200);
      expect(res.headerLines['webhook-allowed-origin']).toEqual([SERVICE_HOST]);
    });

    it('is answered on <path>/validate, for URL templates with {event}', async () => {
      const res = await http(url('/validate'), {
        method: 'OPTIONS',
        headers: { 'WebHook-Request-Origin': SERVICE_HOST },
      });
      expect(res.status).toBe(200);
      expect(res.headerLines['webhook-allowed-origin']).toEqual([SERVICE_HOST]);
    });

    it('allows the known host among several, in any case, with any separator', async () => {
      const origin = `other.example.com, ${SERVICE_HOST.toUpperCase()} third.example.com`;
      const res = await http(url(), {
        method: 'OPTIONS',
        headers: { 'WebHook-Request-Origin': origin },
      });
      expect(res.status).toBe(200);
      expect(res.headerLines['webhook-allowed-origin']).toEqual([SERVICE_HOST.toUpperCase()]);
    });

    it('refuses an origin that is not allowed: 400 without WebHook-Allowed-Origin', async () => {
      const res = await http(url(), {
        method: 'OPTIONS',
        headers: { 'WebHook-Request-Origin': 'evil.example.com' },
      });
      expect(res.status).toBe(400);
      expect(res.headers['webhook-allowed-origin']).toBeUndefined();
      expect(res.text).toContain('evil.example.com');
    });

    it('refuses a handshake without WebHook-Request-Origin: 400', async () => {
      const res = await http(url(), { method: 'OPTIONS' });
      expect(res.status).toBe(400);
      expect(res.headers['webhook-allowed-origin']).toBeUndefined();
      expect(res.text).toBe('Missing WebHook-Request-Origin header');
    });
  });

  describe('signature', () => {
    const body = 'hello';
    it.each([
      ['primary key only', { keys: [ACCESS_KEY] }],
      ['secondary key only', { keys: [SECONDARY_KEY] }],
      ['both keys, "," separated', { keys: [ACCESS_KEY, SECONDARY_KEY] }],
      ['an unknown key first', { keys: ['some-other-key', ACCESS_KEY] }],
    ])('accepts %s', async (_label, options) => {
      const res = await post('message', body, options);
      expect(res.status).toBe(200);
      expect(res.text).toBe('echo: hello');
    });

    it('accepts ", " separators and upper-case hex', async () => {
      const headers = eventHeaders('message', { keys: ['some-other-key', ACCESS_KEY] });
      headers['ce-signature'] = headers['ce-signature']
        .replace(',', ', ')
        .replace(/=([0-9a-f]+)/g, (_m, hex: string) => `=${hex.toUpperCase()}`);
      const res = await http(url(), { method: 'POST', headers, body });
      expect(res.status).toBe(200);
    });

    it.each([
      ['a wrong key', { keys: ['not-the-key'] }, 'Invalid ce-signature'],
      ['no ce-signature', { keys: [] }, 'Missing ce-signature header'],
    ])('refuses %s with 401 and never calls the handler', async (_label, options, message) => {
      const before = callsOf('message');
      const res = await post('message', body, options);
      expect(res.status).toBe(401);
      expect(res.text).toBe(message);
      expect(callsOf('message')).toBe(before);
    });

    it('refuses a signature for another connection id', async () => {
      const headers = eventHeaders('message', { connectionId: 'conn-A' });
      headers['ce-connectionId'] = 'conn-B';
      const res = await http(url(), { method: 'POST', headers, body });
      expect(res.status).toBe(401);
    });
  });

  describe('connect', () => {
    it('answers a returned object with 200 JSON holding only the connect response fields', async () => {
      const res = await post('connect', connectBody());
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(JSON.parse(res.text)).toEqual({
        userId: 'alice',
        groups: ['lobby'],
        roles: ['webpubsub.sendToGroup.lobby'],
        subprotocol: 'json.webpubsub.azure.v1',
      });
      const request = handlers.calls.filter(call => call.event === 'connect').at(-1)!.request;
      expect(request.claims).toEqual({ sub: ['alice'] });
      expect(request.query).toEqual({ access_token: ['token'] });
      expect(request.headers).toEqual({ host: ['example'] });
      expect(request.subprotocols).toEqual(['json.webpubsub.azure.v1']);
      expect(request.clientCertificates).toEqual([]);
      expect(request.context.connectionId).toBe('conn-1');
    });

    it('answers nothing returned with 204', async () => {
      const res = await post(
        'connect',
        JSON.stringify({ claims: {}, query: { mode: ['nothing'] } }),
      );
      expect(res.status).toBe(204);
      expect(res.text).toBe('');
    });

    it('turns an HttpException into its status and message (client rejected)', async () => {
      const res = await post('connect', JSON.stringify({ claims: {}, query: {} }));
      expect(res.status).toBe(401);
      expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
      expect(res.text).toBe('sign in first');
    });

    it('turns any other error into a 500 without its message or stack', async () => {
      const res = await post('connect', JSON.stringify({ query: { mode: ['crash'] } }));
      expect(res.status).toBe(500);
      expect(res.text).toBe('Internal server error');
      expect(res.text).not.toContain(SECRET_IN_ERROR);
    });

    it('sends the state set by the handler with a 204', async () => {
      const res = await post('connect', JSON.stringify({ query: { mode: ['state'] } }));
      expect(res.status).toBe(204);
      expect(decodeState(res.headers['ce-connectionstate'])).toEqual({ joinedAt: 42 });
    });

    it('refuses a body that is not valid JSON with 400, without calling the handler', async () => {
      const before = callsOf('connect');
      const res = await post('connect', '{"claims":');
      expect(res.status).toBe(400);
      expect(res.text).toMatch(/JSON/);
      expect(callsOf('connect')).toBe(before);
    });

    it('refuses a JSON body that is not an object with 400', async () => {
      const res = await post('connect', '[1,2]');
      expect(res.status).toBe(400);
      expect(res.text).toContain('must be a JSON object');
    });
  });

  describe('user events', () => {
    it('echoes text as 200 text/plain and carries the new state', async () => {
      const res = await post('message', 'hi there');
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
      expect(res.text).toBe('echo: hi there');
      expect(decodeState(res.headers['ce-connectionstate'])).toEqual({ lastMessage: 'hi there' });
    });

    it('routes by ce-type on <path>/<event> as well', async () => {
      const res = await post('message', 'routed', {}, '/message');
      expect(res.status).toBe(200);
      expect(res.text).toBe('echo: routed');
    });

    it('gives JSON data parsed and answers an object as 200 JSON', async () => {
      const res = await post('describe', JSON.stringify({ a: [1, 'two'] }), {
        contentType: 'application/json',
      });
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
      const described = JSON.parse(res.text);
      expect(described).toMatchObject({
        dataType: 'json',
        isBuffer: false,
        data: { a: [1, 'two'] },
      });
      expect(described.context).toMatchObject({
        hub: 'chat',
        connectionId: 'conn-1',
        eventName: 'describe',
        origin: SERVICE_HOST,
        eventId: '1',
        states: {},
        cloudEventType: 'azure.webpubsub.user.describe',
        cloudEventSource: '/hubs/chat/client/conn-1',
      });
    });

    it('gives text data as a string', async () => {
      const res = await post('describe', 'plain words', { contentType: 'text/plain' });
      expect(JSON.parse(res.text)).toMatchObject({
        dataType: 'text',
        isBuffer: false,
        data: 'plain words',
      });
    });

    it('gives binary data as a Buffer and echoes bytes byte-exact as application/octet-stream', async () => {
      const bytes = randomBytes(16 * 1024);
      const described = await post('describe', bytes, { contentType: 'application/octet-stream' });
      expect(JSON.parse(described.text)).toMatchObject({
        dataType: 'binary',
        isBuffer: true,
        length: bytes.length,
      });
      const res = await post('echo', bytes, { contentType: 'application/octet-stream' });
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('application/octet-stream');
      expect(res.body.equals(bytes)).toBe(true);
    });

    it('gives protobuf data (a serialized Any) as a Buffer and answers a protobuf reply as application/x-protobuf', async () => {
      const any = packAny('type.googleapis.com/test.Point', Buffer.from([8, 1, 16, 2]));
      const described = await post('describe', any, { contentType: 'application/x-protobuf' });
      expect(JSON.parse(described.text)).toMatchObject({
        dataType: 'protobuf',
        isBuffer: true,
        data: any.toString('base64'),
      });
      const res = await post('reverse-any', any, { contentType: 'application/x-protobuf' });
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('application/x-protobuf');
      expect(unpackAny(res.body)).toEqual({
        typeUrl: 'type.googleapis.com/test.Point.Reversed',
        value: Buffer.from([2, 16, 1, 8]),
      });
    });

    it('reads the user id and subprotocol into the context', async () => {
      const res = await post('describe', 'x', {
        userId: 'bob',
        extra: { 'ce-subprotocol': 'json.webpubsub.azure.v1' },
      });
      expect(JSON.parse(res.text).context).toMatchObject({
        userId: 'bob',
        subprotocol: 'json.webpubsub.azure.v1',
      });
    });

    it.each(['nothing', 'null'])('answers %s returned with 204', async event => {
      const res = await post(event, 'x');
      expect(res.status).toBe(204);
      expect(res.body.length).toBe(0);
    });

    it('answers a user event without a handler with 204', async () => {
      const res = await post('nobody-listens', 'x');
      expect(res.status).toBe(204);
    });

    it.each([
      ['json', 'application/json; charset=utf-8', '{"preserialised":true}'],
      ['text', 'text/plain; charset=utf-8', '123'],
      ['binary', 'application/octet-stream', 'raw bytes'],
      ['protobuf', 'application/x-protobuf', '\n\x0ftype.test/Reply\x12\x01\x01'],
    ])('lets the handler choose the data type (%s)', async (kind, contentType, body) => {
      const res = await post('explicit', kind);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe(contentType);
      expect(res.text).toBe(body);
    });

    it('awaits async handlers', async () => {
      const res = await post('async', 'soon');
      expect(res.status).toBe(200);
      expect(res.text).toBe('later: soon');
    });

    it.each([
      ['forbidden', 403, 'not for you'],
      ['reject', 401, 'token expired'],
    ])(
      'turns an HttpException from %s into its status and message',
      async (event, status, message) => {
        const res = await post(event, 'x');
        expect(res.status).toBe(status);
        expect(res.text).toBe(message);
      },
    );

    it('turns a crash into 500 without its message', async () => {
      const res = await post('crash', 'x');
      expect(res.status).toBe(500);
      expect(res.text).toBe('Internal server error');
    });

    it.each([
      ['an unsupported Content-Type', { contentType: 'application/xml' }],
      ['no Content-Type', { omit: ['content-type'] }],
    ])('refuses %s with 415 naming the supported types', async (_label, options) => {
      const before = callsOf('message');
      const res = await post('message', 'x', options as EventOptions);
      expect(res.status).toBe(415);
      expect(callsOf('message')).toBe(before);
      expect(res.text).toContain(
        'text/plain, application/json, application/octet-stream, application/x-protobuf',
      );
    });

    it('refuses invalid JSON data with 400', async () => {
      const res = await post('describe', '{nope', { contentType: 'application/json' });
      expect(res.status).toBe(400);
      expect(res.text).toMatch(/JSON/);
    });

    it('accepts a 600 KB JSON event (above Express’s own 100 KB JSON limit)', async () => {
      const payload = { blob: 'x'.repeat(600 * 1024) };
      const res = await post('describe', JSON.stringify(payload), {
        contentType: 'application/json',
      });
      expect(res.status).toBe(200);
      expect(JSON.parse(res.text).data.blob.length).toBe(600 * 1024);
    });

    it.each([
      ['declared (Content-Length)', false],
      ['undeclared (chunked)', true],
    ])('refuses a body over maxBodySize, %s, with 413', async (_label, chunked) => {
      const before = callsOf('echo');
      const res = await http(url(), {
        method: 'POST',
        headers: eventHeaders('echo', { contentType: 'application/octet-stream' }),
        body: Buffer.alloc(1_048_576 + 1, 1),
        chunked,
      });
      expect(res.status).toBe(413);
      expect(callsOf('echo')).toBe(before);
    });
  });

  describe('connection state', () => {
    it('decodes ce-connectionState and answers with the merged state', async () => {
      const res = await post('counter', 'x', { state: encodeState({ count: 2, room: 'blue' }) });
      expect(res.status).toBe(200);
      expect(JSON.parse(res.text)).toEqual({ count: 3, states: { count: 3, room: 'blue' } });
      const next = decodeState(res.headers['ce-connectionstate']);
      expect(next).toEqual({ count: 3, room: 'blue' });
      // round trip: the state the service sends back next time
      const again = await post('counter', 'x', {
        state: res.headers['ce-connectionstate'] as string,
      });
      expect(JSON.parse(again.text).count).toBe(4);
    });

    it.each(['%%%not-base64', encodeState([1, 2]), Buffer.from('not json').toString('base64')])(
      'reads a malformed state (%s) as {}',
      async state => {
        const res = await post('counter', 'x', { state });
        expect(res.status).toBe(200);
        expect(JSON.parse(res.text)).toEqual({ count: 1, states: { count: 1 } });
      },
    );

    it('clears the state: 204 with a header that decodes to {}', async () => {
      const res = await post('clear', 'x', { state: encodeState({ count: 9 }) });
      expect(res.status).toBe(204);
      expect(decodeState(res.headers['ce-connectionstate'])).toEqual({});
    });

    it('sends no state header when the handler changed nothing', async () => {
      const res = await post('echo', 'x', { state: encodeState({ count: 9 }) });
      expect(res.status).toBe(200);
      expect(res.text).toBe('x');
      expect(res.headers['ce-connectionstate']).toBeUndefined();
    });
  });

  describe('malformed requests', () => {
    it('names every missing CloudEvents attribute (400)', async () => {
      const res = await post('message', 'x', { omit: ['ce-id', 'ce-hub'] });
      expect(res.status).toBe(400);
      expect(res.text).toBe('Missing CloudEvents headers: ce-id, ce-hub');
    });

    it.each(['ce-specversion', 'ce-type', 'ce-connectionId', 'ce-eventName'])(
      'refuses an event without %s',
      async header => {
        const res = await post('message', 'x', { omit: [header] });
        expect(res.status).toBe(400);
        expect(res.text).toContain(header.toLowerCase());
      },
    );

    it('refuses ce-specversion other than 1.0', async () => {
      const res = await post('message', 'x', { extra: { 'ce-specversion': '0.3' } });
      expect(res.status).toBe(400);
      expect(res.text).toContain('ce-specversion');
    });

    it.each(['com.example.thing', 'azure.webpubsub.sys.reboot', 'azure.webpubsub.user.'])(
      'refuses ce-type %s',
      async type => {
        const res = await post('message', 'x', { extra: { 'ce-type': type } });
        expect(res.status).toBe(400);
        expect(res.text).toContain('Unsupported ce-type');
      },
    );

    it('answers an event for a hub the app does not serve with 404', async () => {
      const before = callsOf('message');
      const res = await post('message', 'x', { hub: 'elsewhere' });
      expect(res.status).toBe(404);
      expect(res.text).toContain('"elsewhere"');
      expect(callsOf('message')).toBe(before);
    });

    it('matches the hub case-insensitively', async () => {
      const res = await post('message', 'x', { hub: 'CHAT' });
      expect(res.status).toBe(200);
    });
  });

  describe('non-blocking events', () => {
    it('acknowledges connected with 204 and calls the handler', async () => {
      const before = callsOf('connected');
      const res = await post('connected', '{}');
      expect(res.status).toBe(204);
      await waitFor(() => callsOf('connected') === before + 1);
    });

    it('gives the disconnect reason', async () => {
      const res = await post('disconnected', JSON.stringify({ reason: 'client closed' }), {
        connectionId: 'conn-gone',
      });
      expect(res.status).toBe(204);
      await waitFor(() =>
        handlers.calls.some(
          c => c.event === 'disconnected' && c.request.context.connectionId === 'conn-gone',
        ),
      );
      const call = handlers.calls.find(
        c => c.event === 'disconnected' && c.request.context.connectionId === 'conn-gone',
      )!;
      expect(call.request.reason).toBe('client closed');
    });

    it.each(['azure.webpubsub.gp.joined', 'azure.webpubsub.gp.left'])(
      'acknowledges group presence %s with 2xx',
      async type => {
        const res = await post('connected', JSON.stringify({ group: 'lobby' }), {
          extra: { 'ce-type': type },
        });
        expect(res.status).toBe(204);
      },
    );
  });
});
