/**
 * MQTT clients' events through the module on Express and Fastify: an MQTT client recognised and
 * `context.clientProtocol` and `context.mqtt` filled (the subprotocol matched case-insensitively,
 * `ce-sessionId` read on later events); `connect` gives the handler the MQTT connect fields and the
 * password both as sent and as bytes, answers success with 200 JSON carrying `mqtt.userProperties`
 * (dropped for a default client), nothing returned → 204, a connect response that cannot be encoded
 * → a 500 MQTT error, a body without `mqtt.protocolVersion` → 400 without calling the handler;
 * `disconnected` gives `mqtt.initiatedByClient` and `mqtt.disconnectPacket` (null read as null), a
 * default client no `mqtt` part; user events: every `mqtt-<name>` request header as a user
 * property, in order (a header repeated on the wire is one property with the values joined, as Node
 * joins them), returned user properties as `mqtt-<name>` response headers (a repeated one as
 * several lines), none of it for a default client, a plain string reply as text without `mqtt-*`
 * headers. The call log is cleared per test, so no test can read an earlier test's call.
 */
import { MqttHandlers, MQTT_SECRET_IN_ERROR } from '../fixtures/mqtt.handlers.js';
import { WebPubSubModule } from '../../lib/index.js';
import { PLATFORMS, startApp, type TestApp } from '../utils/app.js';
import {
  CONNECTION_STRING,
  connectBody,
  eventHeaders,
  type EventOptions,
} from '../utils/events.js';
import { http, type HttpResult } from '../utils/http.js';
import { waitFor } from '../utils/wait.js';

const JSON_TYPE = 'application/json; charset=utf-8';
const PHYSICAL_ID = 'phys-7f3a';
const SESSION_ID = 'sess-42';

/** The headers of an MQTT client's event: `ce-subprotocol: mqtt` and a physical connection id. */
const mqttExtra = (
  extra: Record<string, string> = {},
  sessionId?: string,
): Record<string, string> => ({
  'ce-subprotocol': 'mqtt',
  'ce-physicalConnectionId': PHYSICAL_ID,
  ...(sessionId === undefined ? {} : { 'ce-sessionId': sessionId }),
  ...extra,
});

/** An MQTT connect body as the service sends it. */
const mqttConnectBody = (mqtt: Record<string, unknown>) =>
  JSON.stringify({
    claims: {},
    query: {},
    headers: { 'user-agent': ['mqttjs'] },
    subprotocols: ['mqtt'],
    clientCertificates: [],
    mqtt,
  });

describe.each(PLATFORMS)('MQTT clients (%s)', platform => {
  let app: TestApp;
  let handlers: MqttHandlers;

  beforeAll(async () => {
    app = await startApp(platform, {
      imports: [WebPubSubModule.forRoot({ hub: 'chat', connectionString: CONNECTION_STRING })],
      providers: [MqttHandlers],
    });
    handlers = app.app.get(MqttHandlers);
  });
  afterAll(() => app?.close());

  const post = (
    event: string,
    body: string | Buffer,
    options: EventOptions = {},
    extraHeaders: Record<string, string | string[]> = {},
  ): Promise<HttpResult> =>
    http(`${app.url}/eventhandler`, {
      method: 'POST',
      headers: { ...eventHeaders(event, options), ...extraHeaders },
      body,
    });

  const mqttConnect = (
    protocolVersion: number,
    username: string | undefined,
    more: Record<string, unknown> = {},
  ) =>
    post('connect', mqttConnectBody({ protocolVersion, username, ...more }), {
      connectionId: 'device-1',
      extra: mqttExtra(),
    });

  // Each test sees only its own calls: a call left by an earlier test cannot stand in for one.
  beforeEach(() => {
    handlers.calls.length = 0;
  });
  const lastCall = (event: string) => {
    const call = handlers.calls.filter(c => c.event === event).at(-1);
    if (!call) throw new Error(`no ${event} handler call in this test`);
    return call;
  };
  const mqttError = (res: HttpResult) => {
    expect(res.headers['content-type']).toBe(JSON_TYPE);
    return JSON.parse(res.text) as {
      mqtt: { code: number; reason?: string; userProperties?: unknown };
    };
  };

  describe('detection and context', () => {
    it('recognises an MQTT client and fills context.clientProtocol and context.mqtt', async () => {
      const res = await mqttConnect(5, 'device-1');
      expect(res.status).toBe(200);
      const { context } = lastCall('connect').request;
      expect(context.clientProtocol).toBe('mqtt');
      expect(context.mqtt).toEqual({ physicalConnectionId: PHYSICAL_ID });
      expect(context.connectionId).toBe('device-1');
      expect(context.subprotocol).toBe('mqtt');
      expect(context.cloudEvent.physicalconnectionid).toBe(PHYSICAL_ID);
    });

    it('reads ce-sessionId on later events', async () => {
      const res = await post('connected', '{}', { extra: mqttExtra({}, SESSION_ID) });
      expect(res.status).toBe(204);
      await waitFor(() => handlers.calls.some(call => call.event === 'connected'));
      expect(lastCall('connected').request.context.mqtt).toEqual({
        physicalConnectionId: PHYSICAL_ID,
        sessionId: SESSION_ID,
      });
    });

    it('matches the subprotocol case-insensitively', async () => {
      const res = await post('connect', mqttConnectBody({ protocolVersion: 4 }), {
        extra: mqttExtra({ 'ce-subprotocol': 'MQTT' }),
      });
      expect(res.status).toBe(200);
      expect(lastCall('connect').request.context.clientProtocol).toBe('mqtt');
    });

    it.each([
      ['no ce-physicalConnectionId', { 'ce-subprotocol': 'mqtt' }],
      [
        'another subprotocol',
        { 'ce-subprotocol': 'json.webpubsub.azure.v1', 'ce-physicalConnectionId': PHYSICAL_ID },
      ],
    ])('treats an event with %s as a default client', async (_what, extra) => {
      const res = await post('connect', mqttConnectBody({ protocolVersion: 5, username: 'x' }), {
        extra,
      });
      expect(res.status).toBe(200);
      const request = lastCall('connect').request;
      expect(request.context.clientProtocol).toBe('default');
      expect(request.context.mqtt).toBeUndefined();
      expect(request.mqtt).toBeUndefined();
      expect(JSON.parse(res.text)).not.toHaveProperty('mqtt');
    });
  });

  describe('connect', () => {
    it('gives the handler the MQTT connect fields, the password both as sent and as bytes', async () => {
      const password = Buffer.from([0x00, 0x01, 0xfe, 0xff, 0x80]);
      const res = await mqttConnect(5, 'device-1', {
        password: password.toString('base64'),
        userProperties: [
          { name: 'model', value: 'x1' },
          { name: 'model', value: 'x2' },
        ],
      });
      expect(res.status).toBe(200);
      const request = lastCall('connect').request;
      expect(request.mqtt.protocolVersion).toBe(5);
      expect(request.mqtt.username).toBe('device-1');
      expect(request.mqtt.password).toBe(password.toString('base64'));
      expect(Buffer.isBuffer(request.mqtt.passwordBytes)).toBe(true);
      expect(request.mqtt.passwordBytes.equals(password)).toBe(true);
      expect(request.mqtt.userProperties).toEqual([
        { name: 'model', value: 'x1' },
        { name: 'model', value: 'x2' },
      ]);
      expect(request.subprotocols).toEqual(['mqtt']);
      expect(request.headers).toEqual({ 'user-agent': ['mqttjs'] });
    });

    it('answers success with 200 JSON carrying mqtt.userProperties', async () => {
      const res = await mqttConnect(5, 'device-1');
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe(JSON_TYPE);
      expect(JSON.parse(res.text)).toEqual({
        userId: 'device-1',
        groups: ['devices'],
        mqtt: {
          userProperties: [
            { name: 'welcome', value: 'yes' },
            { name: 'tier', value: 'gold' },
          ],
        },
      });
    });

    it('answers nothing returned with 204', async () => {
      const res = await mqttConnect(4, 'nothing');
      expect(res.status).toBe(204);
      expect(res.text).toBe('');
    });

    it('drops mqtt.userProperties for a default client', async () => {
      const res = await post('connect', connectBody());
      expect(res.status).toBe(200);
      expect(JSON.parse(res.text)).toEqual({ userId: 'anonymous', groups: ['devices'] });
    });

    it.each([
      [4, 'unauthorized', 401, 5, 'bad credentials'],
      [5, 'unauthorized', 401, 135, 'bad credentials'],
      [4, 'forbidden', 403, 5, 'not on this hub'],
      [5, 'forbidden', 403, 0x87, 'not on this hub'],
      [4, 'bad-request', 400, 4, 'malformed client id'],
      [5, 'bad-request', 400, 0x86, 'malformed client id'],
      [4, 'teapot', 418, 3, 'short and stout'],
      [5, 'teapot', 418, 0x80, 'short and stout'],
      [5, 'redirect', 500, 0x80, 'moved'],
      [3, 'unauthorized', 401, 1, 'bad credentials'],
    ])(
      'refuses MQTT %i on an HttpException (%s): HTTP %i, code %i, the message as reason',
      async (version, username, status, code, reason) => {
        const res = await mqttConnect(version, username);
        expect(res.status).toBe(status);
        expect(mqttError(res)).toEqual({ mqtt: { code, reason } });
      },
    );

    it.each([
      [4, 3],
      [5, 0x80],
    ])(
      'refuses MQTT %i on any other error: 500, code %i, a generic reason, no message',
      async (version, code) => {
        const res = await mqttConnect(version, 'crash');
        expect(res.status).toBe(500);
        expect(mqttError(res)).toEqual({ mqtt: { code, reason: 'Internal server error' } });
        expect(res.text).not.toContain(MQTT_SECRET_IN_ERROR);
      },
    );

    it('refuses with a 500 MQTT error when the connect response cannot be encoded', async () => {
      const res = await mqttConnect(5, 'bad-properties');
      expect(res.status).toBe(500);
      expect(mqttError(res)).toEqual({ mqtt: { code: 0x80, reason: 'Internal server error' } });
    });

    it.each([
      [
        'banned',
        5,
        403,
        { code: 0x8a, reason: 'banned device', userProperties: [{ name: 'why', value: 'abuse' }] },
      ],
      ['busy', 5, 500, { code: 0x89 }],
      ['not-authorized', 5, 401, { code: 0x87, reason: 'token expired' }],
      ['identifier', 4, 400, { code: 2, reason: 'client id rejected' }],
    ])(
      'refuses with MqttConnectError (%s) for MQTT %i: HTTP %i and its exact code',
      async (username, version, status, mqtt) => {
        const res = await mqttConnect(version, username);
        expect(res.status).toBe(status);
        expect(mqttError(res)).toEqual({ mqtt });
      },
    );

    it.each([
      ['a 5.0 code to a 3.1.1 client', 'not-authorized', 4, 401, 5],
      ['a 3.1.1 code to a 5.0 client', 'identifier', 5, 400, 0x85],
    ])('translates %s', async (_what, username, version, status, code) => {
      const res = await mqttConnect(version, username);
      expect(res.status).toBe(status);
      expect(mqttError(res).mqtt.code).toBe(code);
    });

    it.each([
      ['banned', 403, 'banned device'],
      ['not-authorized', 401, 'token expired'],
      ['busy', 500, 'MQTT connect refused: ServerBusy'],
    ])(
      'answers MqttConnectError (%s) to a default client like an HttpException of its mapped status',
      async (mode, status, text) => {
        const res = await post('connect', JSON.stringify({ query: { mode: [mode] } }));
        expect(res.status).toBe(status);
        expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
        expect(res.text).toBe(text);
      },
    );

    it('refuses an MQTT connect body without mqtt.protocolVersion with 400, without calling the handler', async () => {
      const before = handlers.calls.length;
      const res = await post('connect', mqttConnectBody({ username: 'x' }), { extra: mqttExtra() });
      expect(res.status).toBe(400);
      expect(res.text).toContain('mqtt.protocolVersion');
      expect(handlers.calls.length).toBe(before);
    });
  });

  describe('disconnected', () => {
    it('gives the handler mqtt.initiatedByClient and mqtt.disconnectPacket', async () => {
      const body = JSON.stringify({
        reason: 'session expired',
        mqtt: {
          initiatedByClient: true,
          disconnectPacket: { code: 0x04, userProperties: [{ name: 'bye', value: 'now' }] },
        },
      });
      const res = await post('disconnected', body, {
        connectionId: 'dev-gone',
        extra: mqttExtra({}, SESSION_ID),
      });
      expect(res.status).toBe(204);
      await waitFor(() =>
        handlers.calls.some(
          call => call.event === 'disconnected' && call.request.context.connectionId === 'dev-gone',
        ),
      );
      const request = lastCall('disconnected').request;
      expect(request.reason).toBe('session expired');
      expect(request.mqtt).toEqual({
        initiatedByClient: true,
        disconnectPacket: { code: 4, userProperties: [{ name: 'bye', value: 'now' }] },
      });
      expect(request.context.mqtt).toEqual({
        physicalConnectionId: PHYSICAL_ID,
        sessionId: SESSION_ID,
      });
    });

    it('reads a null DISCONNECT packet', async () => {
      const body = JSON.stringify({
        reason: '',
        mqtt: { initiatedByClient: false, disconnectPacket: null },
      });
      const res = await post('disconnected', body, {
        connectionId: 'dev-dropped',
        extra: mqttExtra({}, SESSION_ID),
      });
      expect(res.status).toBe(204);
      await waitFor(() =>
        handlers.calls.some(
          call =>
            call.event === 'disconnected' && call.request.context.connectionId === 'dev-dropped',
        ),
      );
      expect(lastCall('disconnected').request.mqtt).toEqual({
        initiatedByClient: false,
        disconnectPacket: null,
      });
    });

    it('gives a default client no mqtt part', async () => {
      const res = await post(
        'disconnected',
        JSON.stringify({ reason: 'x', mqtt: { initiatedByClient: true } }),
        { connectionId: 'ws-gone' },
      );
      expect(res.status).toBe(204);
      await waitFor(() =>
        handlers.calls.some(
          call => call.event === 'disconnected' && call.request.context.connectionId === 'ws-gone',
        ),
      );
      expect(lastCall('disconnected').request).not.toHaveProperty('mqtt');
    });
  });

  describe('user events', () => {
    const telemetry = (extra: Record<string, string | string[]>, mqtt = true) =>
      post(
        'telemetry',
        Buffer.from([1, 2, 3]),
        { contentType: 'application/octet-stream', extra: mqtt ? mqttExtra({}, SESSION_ID) : {} },
        extra,
      );

    it('gives the handler every mqtt-<name> request header as a user property, in order', async () => {
      const res = await telemetry({
        'mqtt-unit': 'celsius',
        'mqtt-trace-id': 'abc-123',
        'mqtt-note': 'a, b',
      });
      expect(res.status).toBe(200);
      const request = lastCall('telemetry').request;
      expect(request.context.clientProtocol).toBe('mqtt');
      expect(request.context.mqtt).toEqual({
        physicalConnectionId: PHYSICAL_ID,
        sessionId: SESSION_ID,
      });
      expect(request.mqtt).toEqual({
        userProperties: [
          { name: 'unit', value: 'celsius' },
          { name: 'trace-id', value: 'abc-123' },
          { name: 'note', value: 'a, b' },
        ],
      });
      expect(request.data).toEqual(Buffer.from([1, 2, 3]));
    });

    it('gives an empty list when the PUBLISH had no user properties', async () => {
      await telemetry({});
      expect(lastCall('telemetry').request.mqtt).toEqual({ userProperties: [] });
    });

    it('receives a header repeated on the wire as one property with the values joined (as Node joins them)', async () => {
      await telemetry({ 'mqtt-tag': ['one', 'two'] });
      expect(lastCall('telemetry').request.mqtt.userProperties).toEqual([
        { name: 'tag', value: 'one, two' },
      ]);
    });

    it('sends the user properties the handler returns as mqtt-<name> response headers', async () => {
      const res = await telemetry({ 'mqtt-unit': 'celsius', 'mqtt-trace-id': 'abc-123' });
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('application/octet-stream');
      expect(res.body).toEqual(Buffer.from([1, 2, 3]));
      expect(res.headerLines['mqtt-received']).toEqual(['2']);
      expect(res.headerLines['mqtt-unit']).toEqual(['celsius']);
      expect(res.headerLines['mqtt-trace-id']).toEqual(['abc-123']);
    });

    it('sends a repeated returned property as several header lines', async () => {
      const res = await telemetry({ 'mqtt-tag': ['one', 'two'], 'mqtt-tag2': 'x' });
      expect(res.headerLines['mqtt-received']).toEqual(['2']);
      expect(res.headerLines['mqtt-tag']).toEqual(['one, two']);
      expect(res.headerLines['mqtt-tag2']).toEqual(['x']);
    });

    it('neither reads nor sends user properties for a default client', async () => {
      const res = await telemetry({ 'mqtt-unit': 'celsius' }, false);
      expect(res.status).toBe(200);
      const request = lastCall('telemetry').request;
      expect(request.context.clientProtocol).toBe('default');
      expect(request).not.toHaveProperty('mqtt');
      expect(Object.keys(res.headers).filter(name => name.startsWith('mqtt-'))).toEqual([]);
    });

    it('answers a plain string reply to an MQTT client as text, with no mqtt-* headers', async () => {
      const res = await post(
        'plain',
        'hi',
        { extra: mqttExtra({}, SESSION_ID) },
        { 'mqtt-a': '1' },
      );
      expect(res.status).toBe(200);
      expect(res.text).toBe('plain reply');
      expect(lastCall('plain').request.mqtt).toEqual({
        userProperties: [{ name: 'a', value: '1' }],
      });
      expect(Object.keys(res.headers).filter(name => name.startsWith('mqtt-'))).toEqual([]);
    });
  });
});
