/**
 * The module's reader of the service's CloudEvents requests: `headerValue`; `readEventHeaders`
 * reads every attribute, leaves optional ones undefined, names every missing required header (the
 * six, in the plural where needed, before the spec version and the type), refuses another
 * `ce-specversion` with 400, cuts a very long `ce-type` in its message, takes the first value of
 * repeated headers; content types mapped to data types, a missing one refused with 415;
 * `readJsonObjectBody`; `readConnectPayload` reads every field.
 */
import {
  assertUserEventContentType,
  headerValue,
  mediaType,
  readConnectPayload,
  readDisconnectedPayload,
  readEventHeaders,
  readGroupPayload,
  readJsonObjectBody,
  readUserEventPayload,
  userEventDataType,
  type EventBody,
  type IncomingHeaders,
} from '../../../lib/protocol/cloud-event.reader.js';
import { ProtocolError } from '../../../lib/protocol/protocol.error.js';

const baseHeaders = (
  overrides: Record<string, string | string[] | undefined> = {},
): IncomingHeaders => ({
  'ce-specversion': '1.0',
  'ce-type': 'azure.webpubsub.sys.connect',
  'ce-source': '/hubs/chat/client/conn-1',
  'ce-id': '7',
  'ce-time': '2026-01-01T00:00:00Z',
  'ce-awpsversion': '1.0',
  'ce-hub': 'Chat',
  'ce-connectionid': 'conn-1',
  'ce-eventname': 'connect',
  ...overrides,
});

/** Runs `fn` and returns the ProtocolError it throws. */
function protocolError(fn: () => unknown): ProtocolError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ProtocolError);
    return error as ProtocolError;
  }
  throw new Error('expected a ProtocolError');
}

const text = (value: string): EventBody => ({ form: 'text', text: value });
const bytes = (value: string | Buffer): EventBody => ({
  form: 'bytes',
  bytes: Buffer.isBuffer(value) ? value : Buffer.from(value),
});
const parsed = (value: unknown): EventBody => ({ form: 'parsed', value });

describe('headerValue', () => {
  it('returns a string header as it is', () => {
    expect(headerValue({ a: 'x' }, 'a')).toBe('x');
  });

  it('returns the first value of a repeated header', () => {
    expect(headerValue({ a: ['x', 'y'] }, 'a')).toBe('x');
  });

  it('returns undefined for an absent header or an empty array', () => {
    expect(headerValue({}, 'a')).toBeUndefined();
    expect(headerValue({ a: undefined }, 'a')).toBeUndefined();
    expect(headerValue({ a: [] }, 'a')).toBeUndefined();
  });
});

describe('readEventHeaders', () => {
  it('reads every attribute of a complete request', () => {
    const event = readEventHeaders(
      baseHeaders({
        'ce-userid': 'alice',
        'ce-signature': 'sha256=abc',
        'ce-subprotocol': 'json.webpubsub.azure.v1',
        'ce-connectionstate': 'e30=',
        'webhook-request-origin': 'x.webpubsub.azure.com',
        'content-type': 'application/json; charset=utf-8',
      }),
    );
    expect(event).toEqual({
      kind: 'connect',
      type: 'azure.webpubsub.sys.connect',
      eventName: 'connect',
      specVersion: '1.0',
      id: '7',
      hub: 'Chat',
      connectionId: 'conn-1',
      userId: 'alice',
      source: '/hubs/chat/client/conn-1',
      time: '2026-01-01T00:00:00Z',
      awpsVersion: '1.0',
      signature: 'sha256=abc',
      subprotocol: 'json.webpubsub.azure.v1',
      connectionState: 'e30=',
      origin: 'x.webpubsub.azure.com',
      contentType: 'application/json; charset=utf-8',
      clientProtocol: 'default',
    });
  });

  it('leaves optional attributes undefined when absent', () => {
    const event = readEventHeaders(
      baseHeaders({ 'ce-source': undefined, 'ce-time': undefined, 'ce-awpsversion': undefined }),
    );
    for (const field of [
      'userId',
      'source',
      'time',
      'awpsVersion',
      'signature',
      'subprotocol',
      'connectionState',
      'origin',
      'contentType',
    ] as const) {
      expect(event[field]).toBeUndefined();
    }
  });

  it('reads an empty ce-userid and ce-subprotocol as absent', () => {
    const event = readEventHeaders(baseHeaders({ 'ce-userid': '', 'ce-subprotocol': '' }));
    expect(event.userId).toBeUndefined();
    expect(event.subprotocol).toBeUndefined();
  });

  it('keeps an empty ce-connectionstate (it clears the state)', () => {
    expect(readEventHeaders(baseHeaders({ 'ce-connectionstate': '' })).connectionState).toBe('');
  });

  it.each(['ce-specversion', 'ce-type', 'ce-id', 'ce-hub', 'ce-connectionid', 'ce-eventname'])(
    'refuses a request without %s with 400 naming it',
    name => {
      const error = protocolError(() => readEventHeaders(baseHeaders({ [name]: undefined })));
      expect(error.status).toBe(400);
      expect(error.message).toBe(`Missing CloudEvents header: ${name}`);
    },
  );

  it.each(['ce-specversion', 'ce-type', 'ce-id', 'ce-hub', 'ce-connectionid', 'ce-eventname'])(
    'counts an empty %s as missing',
    name => {
      const error = protocolError(() => readEventHeaders(baseHeaders({ [name]: '' })));
      expect(error.status).toBe(400);
      expect(error.message).toBe(`Missing CloudEvents header: ${name}`);
    },
  );

  it('counts an empty array as missing', () => {
    expect(protocolError(() => readEventHeaders(baseHeaders({ 'ce-id': [] }))).message).toBe(
      'Missing CloudEvents header: ce-id',
    );
  });

  it('names every missing header, with the plural form', () => {
    const error = protocolError(() =>
      readEventHeaders(
        baseHeaders({ 'ce-hub': undefined, 'ce-id': '', 'ce-connectionid': undefined }),
      ),
    );
    expect(error.status).toBe(400);
    expect(error.message).toBe('Missing CloudEvents headers: ce-id, ce-hub, ce-connectionid');
  });

  it('names all six required headers for an empty request', () => {
    const error = protocolError(() => readEventHeaders({}));
    expect(error.message).toBe(
      'Missing CloudEvents headers: ce-specversion, ce-type, ce-id, ce-hub, ce-connectionid, ce-eventname',
    );
  });

  it('does not require ce-source, ce-time, ce-awpsversion, ce-signature or webhook-request-origin', () => {
    expect(() =>
      readEventHeaders(
        baseHeaders({ 'ce-source': undefined, 'ce-time': undefined, 'ce-awpsversion': undefined }),
      ),
    ).not.toThrow();
  });

  it.each(['0.3', '1', '1.0.0', '2.0', ' 1.0'])('refuses ce-specversion %p with 400', version => {
    const error = protocolError(() => readEventHeaders(baseHeaders({ 'ce-specversion': version })));
    expect(error.status).toBe(400);
    expect(error.message).toContain('ce-specversion');
    expect(error.message).toContain(JSON.stringify(version));
    expect(error.message).toContain('"1.0"');
  });

  it.each([
    'azure.webpubsub.sys.foo',
    'azure.webpubsub.user.',
    'azure.webpubsub.user',
    'azure.webpubsub.gp.other',
    'azure.webpubsub.sys.connect.extra',
    'Azure.WebPubSub.Sys.Connect',
    'com.example.event',
    'azure.webpubsub.',
  ])('refuses ce-type %p with 400 naming it', type => {
    const error = protocolError(() => readEventHeaders(baseHeaders({ 'ce-type': type })));
    expect(error.status).toBe(400);
    expect(error.message).toContain(`Unsupported ce-type ${JSON.stringify(type)}`);
    expect(error.message).toContain('azure.webpubsub.user.<event>');
  });

  it('cuts a very long ce-type in the message', () => {
    const type = `x${'y'.repeat(1000)}`;
    const error = protocolError(() => readEventHeaders(baseHeaders({ 'ce-type': type })));
    expect(error.message).not.toContain(type);
    expect(error.message.length).toBeLessThan(400);
  });

  it.each([
    ['azure.webpubsub.sys.connect', 'connect', 'connect'],
    ['azure.webpubsub.sys.connected', 'connected', 'connected'],
    ['azure.webpubsub.sys.disconnected', 'disconnected', 'disconnected'],
    ['azure.webpubsub.gp.joined', 'groupJoined', 'joined'],
    ['azure.webpubsub.gp.left', 'groupLeft', 'left'],
  ])('classifies %s as %s', (type, kind, eventName) => {
    const event = readEventHeaders(baseHeaders({ 'ce-type': type, 'ce-eventname': eventName }));
    expect(event.kind).toBe(kind);
    expect(event.type).toBe(type);
    expect(event.eventName).toBe(eventName);
  });

  it.each([
    ['azure.webpubsub.user.message', 'message'],
    ['azure.webpubsub.user.chat.send', 'chat.send'],
    ['azure.webpubsub.user.UpperCase', 'UpperCase'],
    ['azure.webpubsub.user.x', 'x'],
  ])('classifies %s as a user event named %p', (type, name) => {
    const event = readEventHeaders(
      baseHeaders({ 'ce-type': type, 'ce-eventname': 'something-else' }),
    );
    expect(event.kind).toBe('user');
    expect(event.eventName).toBe(name);
  });

  it('takes the first value of repeated headers', () => {
    const event = readEventHeaders(
      baseHeaders({
        'ce-type': ['azure.webpubsub.user.first', 'azure.webpubsub.sys.connect'],
        'ce-hub': ['hub1', 'hub2'],
        'ce-connectionid': ['c1', 'c2'],
        'ce-signature': ['sha256=1', 'sha256=2'],
        'ce-connectionstate': ['s1', 's2'],
      }),
    );
    expect(event.kind).toBe('user');
    expect(event.eventName).toBe('first');
    expect(event.hub).toBe('hub1');
    expect(event.connectionId).toBe('c1');
    expect(event.signature).toBe('sha256=1');
    expect(event.connectionState).toBe('s1');
  });

  it('counts a repeated header whose first value is empty as missing', () => {
    expect(
      protocolError(() => readEventHeaders(baseHeaders({ 'ce-hub': ['', 'chat'] }))).message,
    ).toBe('Missing CloudEvents header: ce-hub');
  });

  it('checks for missing headers before the spec version and the type', () => {
    const error = protocolError(() =>
      readEventHeaders(
        baseHeaders({ 'ce-specversion': '0.3', 'ce-type': 'bogus', 'ce-hub': undefined }),
      ),
    );
    expect(error.message).toBe('Missing CloudEvents header: ce-hub');
  });
});

describe('content types', () => {
  it.each([
    ['application/json', 'application/json'],
    ['Application/JSON; charset=utf-8', 'application/json'],
    ['  text/plain  ; charset=utf-8', 'text/plain'],
    ['text/plain;charset=utf-8;foo=bar', 'text/plain'],
    ['', ''],
    [undefined, ''],
  ])('mediaType(%p) is %p', (contentType, expected) => {
    expect(mediaType(contentType)).toBe(expected);
  });

  it.each([
    ['text/plain', 'text'],
    ['text/plain; charset=utf-8', 'text'],
    ['TEXT/PLAIN', 'text'],
    ['application/json', 'json'],
    ['application/json; charset=utf-8', 'json'],
    ['APPLICATION/JSON;charset=UTF-8', 'json'],
    ['application/octet-stream', 'binary'],
    ['Application/Octet-Stream', 'binary'],
    ['application/x-protobuf', 'protobuf'],
    ['Application/X-Protobuf; proto=azure.webpubsub', 'protobuf'],
  ])('maps %p to %p', (contentType, dataType) => {
    expect(userEventDataType(contentType)).toBe(dataType);
    expect(assertUserEventContentType(contentType)).toBe(dataType);
  });

  it.each([
    'application/protobuf',
    'text/html',
    'application/xml',
    'application/jsonx',
    'text',
    'application/octet-stream2',
  ])('refuses unsupported %p with 415 naming it and the supported types', contentType => {
    expect(userEventDataType(contentType)).toBeUndefined();
    const error = protocolError(() => assertUserEventContentType(contentType));
    expect(error.status).toBe(415);
    expect(error.message).toBe(
      `Unsupported Content-Type ${JSON.stringify(contentType)} for a user event: ` +
        'expected text/plain, application/json, application/octet-stream, application/x-protobuf',
    );
  });

  it.each([undefined, ''])('refuses a missing Content-Type (%p) with 415', contentType => {
    const error = protocolError(() => assertUserEventContentType(contentType));
    expect(error.status).toBe(415);
    expect(error.message).toBe(
      'Missing Content-Type for a user event: expected text/plain, application/json, application/octet-stream, application/x-protobuf',
    );
  });
});

describe('readJsonObjectBody', () => {
  it.each([
    ['text', text('{"a":1}')],
    ['bytes', bytes('{"a":1}')],
    ['parsed', parsed({ a: 1 })],
  ])('reads a JSON object from the %s form', (_form, body) => {
    expect(readJsonObjectBody(body, 'connected')).toEqual({ a: 1 });
  });

  it.each([
    ['empty text', text('')],
    ['blank text', text(' \r\n\t ')],
    ['empty bytes', bytes(Buffer.alloc(0))],
    ['blank bytes', bytes('  \n')],
  ])('refuses %s (400): the service always sends a JSON object', (_what, body) => {
    const error = protocolError(() => readJsonObjectBody(body, 'connected'));
    expect(error.status).toBe(400);
    expect(error.message).toBe('The connected event body is empty: a JSON object is expected');
  });

  it.each([
    ['text', text('{"a":')],
    ['bytes', bytes('not json')],
  ])('refuses invalid JSON (%s) with 400 naming the event', (_form, body) => {
    const error = protocolError(() => readJsonObjectBody(body, 'connected'));
    expect(error.status).toBe(400);
    expect(error.message).toMatch(/^The connected event body is not valid JSON: /);
  });

  it.each([
    ['an array', text('[1,2]')],
    ['a string', text('"hello"')],
    ['null', text('null')],
    ['a number', bytes('42')],
    ['true', text('true')],
    ['a parsed array', parsed([])],
    ['a parsed null', parsed(null)],
    ['a parsed string', parsed('x')],
  ])('refuses %s with 400', (_what, body) => {
    const error = protocolError(() => readJsonObjectBody(body, 'disconnected'));
    expect(error.status).toBe(400);
    expect(error.message).toBe('The disconnected event body must be a JSON object');
  });
});

describe('readConnectPayload', () => {
  const full = {
    claims: { sub: ['alice'], role: ['admin', 'user'] },
    query: { access_token: ['t'] },
    headers: { host: ['example'] },
    subprotocols: ['json.webpubsub.azure.v1', 'protobuf.webpubsub.azure.v1'],
    clientCertificates: [{ thumbprint: 'ABC', content: '-----BEGIN CERTIFICATE-----' }],
  };

  it('reads every field', () => {
    expect(readConnectPayload(text(JSON.stringify(full)))).toEqual(full);
    expect(readConnectPayload(parsed(full))).toEqual(full);
  });

  it('defaults every field for {}', () => {
    const defaults = {
      claims: {},
      query: {},
      headers: {},
      subprotocols: [],
      clientCertificates: [],
    };
    expect(readConnectPayload(bytes('{}'))).toEqual(defaults);
    expect(readConnectPayload(parsed({}))).toEqual(defaults);
  });

  it('defaults fields of the wrong shape', () => {
    expect(
      readConnectPayload(
        parsed({
          claims: [],
          query: null,
          headers: 'x',
          subprotocols: 'json',
          clientCertificates: {},
        }),
      ),
    ).toEqual({ claims: {}, query: {}, headers: {}, subprotocols: [], clientCertificates: [] });
  });

  it('drops fields it does not know', () => {
    expect(readConnectPayload(parsed({ ...full, mqtt: { protocolVersion: 5 }, extra: 1 }))).toEqual(
      full,
    );
  });

  it('refuses a non-object body', () => {
    expect(protocolError(() => readConnectPayload(text('[]'))).message).toBe(
      'The connect event body must be a JSON object',
    );
    expect(protocolError(() => readConnectPayload(text('{'))).status).toBe(400);
  });
});

describe('readDisconnectedPayload', () => {
  it('reads the reason', () => {
    expect(readDisconnectedPayload(text('{"reason":"closed by client"}'))).toEqual({
      reason: 'closed by client',
    });
  });

  it('reads a missing, null or non-string reason as undefined', () => {
    expect(readDisconnectedPayload(text('{}'))).toEqual({ reason: undefined });
    expect(readDisconnectedPayload(parsed({ reason: null }))).toEqual({ reason: undefined });
    expect(readDisconnectedPayload(parsed({ reason: 3 }))).toEqual({ reason: undefined });
  });

  it('keeps an empty reason', () => {
    expect(readDisconnectedPayload(parsed({ reason: '' }))).toEqual({ reason: '' });
  });

  it('refuses a JSON array body', () => {
    expect(protocolError(() => readDisconnectedPayload(text('["x"]'))).status).toBe(400);
  });
});

describe('readGroupPayload', () => {
  it('reads the group', () => {
    expect(readGroupPayload(text('{"group":"g1"}'), 'joined')).toEqual({ group: 'g1' });
  });

  it.each([text('{}'), parsed({ group: 1 }), parsed({ group: '' }), parsed({})])(
    'refuses a body without a group name (400)',
    body => {
      const error = protocolError(() => readGroupPayload(body, 'left'));
      expect(error.status).toBe(400);
      expect(error.message).toBe('The left event body must name the group: {"group":"<name>"}');
    },
  );

  it('names the event in its errors', () => {
    expect(protocolError(() => readGroupPayload(text('null'), 'left')).message).toBe(
      'The left event body must be a JSON object',
    );
  });
});

describe('readUserEventPayload', () => {
  describe('text', () => {
    it('reads text, bytes (UTF-8) and parsed forms as a string', () => {
      expect(readUserEventPayload(text('héllo'), 'text')).toEqual({
        dataType: 'text',
        data: 'héllo',
      });
      expect(readUserEventPayload(bytes(Buffer.from('héllo €', 'utf8')), 'text')).toEqual({
        dataType: 'text',
        data: 'héllo €',
      });
      expect(readUserEventPayload(parsed('already text'), 'text')).toEqual({
        dataType: 'text',
        data: 'already text',
      });
    });

    it('keeps an empty body as an empty string', () => {
      expect(readUserEventPayload(bytes(Buffer.alloc(0)), 'text')).toEqual({
        dataType: 'text',
        data: '',
      });
    });

    it('does not parse JSON-looking text', () => {
      expect(readUserEventPayload(text('{"a":1}'), 'text').data).toBe('{"a":1}');
    });
  });

  describe('json', () => {
    it.each([
      ['text', text('{"a":[1,2]}'), { a: [1, 2] }],
      ['bytes', bytes('{"a":[1,2]}'), { a: [1, 2] }],
      ['parsed', parsed({ a: [1, 2] }), { a: [1, 2] }],
      ['a text array', text('[1,"x"]'), [1, 'x']],
      ['a text string', text('"s"'), 's'],
      ['a text number', text('3.5'), 3.5],
      ['text null', text('null'), null],
      ['a parsed null', parsed(null), null],
    ])('reads %s', (_what, body, expected) => {
      expect(readUserEventPayload(body, 'json')).toEqual({ dataType: 'json', data: expected });
    });

    it('refuses invalid JSON with 400 naming the user event', () => {
      const error = protocolError(() => readUserEventPayload(text('{oops'), 'json'));
      expect(error.status).toBe(400);
      expect(error.message).toMatch(/^The user event body is not valid JSON: /);
    });

    it('refuses an empty JSON body with 400', () => {
      expect(protocolError(() => readUserEventPayload(bytes(Buffer.alloc(0)), 'json')).status).toBe(
        400,
      );
    });
  });

  describe('binary', () => {
    it('returns the bytes as they are', () => {
      const payload = Buffer.from([0, 1, 2, 255, 254]);
      const result = readUserEventPayload(bytes(payload), 'binary');
      expect(result.dataType).toBe('binary');
      expect(result.data).toBe(payload);
    });

    it('encodes a text body as UTF-8 bytes', () => {
      expect(readUserEventPayload(text('é'), 'binary')).toEqual({
        dataType: 'binary',
        data: Buffer.from([0xc3, 0xa9]),
      });
    });

    it('encodes a parsed body as JSON bytes', () => {
      expect(readUserEventPayload(parsed({ a: 1 }), 'binary')).toEqual({
        dataType: 'binary',
        data: Buffer.from('{"a":1}'),
      });
    });
  });
});

describe('MQTT events', () => {
  const mqttHeaders = (overrides: Record<string, string | string[] | undefined> = {}) =>
    baseHeaders({ 'ce-subprotocol': 'mqtt', 'ce-physicalconnectionid': 'phys-1', ...overrides });
  const userHeaders = (overrides: Record<string, string | string[] | undefined> = {}) =>
    mqttHeaders({
      'ce-type': 'azure.webpubsub.user.telemetry',
      'ce-eventname': 'telemetry',
      'ce-sessionid': 'sess-1',
      'content-type': 'application/octet-stream',
      ...overrides,
    });

  describe('readEventHeaders', () => {
    it('recognises an MQTT client and reads its physical connection and session ids', () => {
      const event = readEventHeaders(mqttHeaders({ 'ce-sessionid': 'sess-1' }));
      expect(event.clientProtocol).toBe('mqtt');
      expect(event.physicalConnectionId).toBe('phys-1');
      expect(event.sessionId).toBe('sess-1');
      expect(event.mqttUserProperties).toBeUndefined();
    });

    it('matches the subprotocol case-insensitively, as a substring', () => {
      expect(readEventHeaders(mqttHeaders({ 'ce-subprotocol': 'MQTT' })).clientProtocol).toBe(
        'mqtt',
      );
      expect(readEventHeaders(mqttHeaders({ 'ce-subprotocol': 'x.mqtt.v5' })).clientProtocol).toBe(
        'mqtt',
      );
    });

    it.each([
      ['no ce-physicalConnectionId', { 'ce-physicalconnectionid': undefined }],
      ['no ce-subprotocol', { 'ce-subprotocol': undefined }],
      ['another subprotocol', { 'ce-subprotocol': 'json.webpubsub.azure.v1' }],
    ])('reads a default client with %s, ignoring the MQTT headers', (_what, overrides) => {
      const event = readEventHeaders(mqttHeaders({ 'ce-sessionid': 'sess-1', ...overrides }));
      expect(event.clientProtocol).toBe('default');
      expect(event.physicalConnectionId).toBeUndefined();
      expect(event.sessionId).toBeUndefined();
    });

    it('reads the mqtt-<name> headers of an MQTT user event as user properties, in order', () => {
      const event = readEventHeaders(
        userHeaders({ 'mqtt-b': '2', 'mqtt-a': '1', 'mqtt-tag': ['x', 'y'] }),
      );
      expect(event.mqttUserProperties).toEqual([
        { name: 'b', value: '2' },
        { name: 'a', value: '1' },
        { name: 'tag', value: 'x' },
        { name: 'tag', value: 'y' },
      ]);
    });

    it('gives an MQTT user event without mqtt-* headers an empty list', () => {
      expect(readEventHeaders(userHeaders()).mqttUserProperties).toEqual([]);
    });

    it('does not read mqtt-* headers of a default client', () => {
      const event = readEventHeaders(
        userHeaders({ 'ce-physicalconnectionid': undefined, 'mqtt-a': '1' }),
      );
      expect(event.mqttUserProperties).toBeUndefined();
    });

    it('reads no more than ce-physicalConnectionId for a default client', () => {
      const read: string[] = [];
      const headers = new Proxy(
        baseHeaders({ 'ce-subprotocol': 'json.webpubsub.azure.v1' }) as Record<string, unknown>,
        {
          get(target, name) {
            read.push(String(name));
            return target[name as string];
          },
          ownKeys(target) {
            read.push('<scan>');
            return Reflect.ownKeys(target);
          },
        },
      );
      readEventHeaders(headers as IncomingHeaders);
      expect(
        read.filter(
          name => name.includes('mqtt') || name.includes('session') || name.includes('physical'),
        ),
      ).toEqual(['ce-physicalconnectionid']);
      expect(read).not.toContain('<scan>');
    });
  });

  describe('readConnectPayload', () => {
    const connect = (mqtt: unknown) => text(JSON.stringify({ claims: {}, mqtt }));

    it('reads the mqtt part: version, username, password as sent and decoded, user properties', () => {
      const password = Buffer.from([0x00, 0xff, 0x10, 0x80]);
      const payload = readConnectPayload(
        connect({
          protocolVersion: 5,
          username: 'device-1',
          password: password.toString('base64'),
          userProperties: [
            { name: 'a', value: '1' },
            { name: 'a', value: '2' },
          ],
        }),
        true,
      );
      expect(payload.mqtt).toEqual({
        protocolVersion: 5,
        username: 'device-1',
        password: 'AP8QgA==',
        passwordBytes: password,
        userProperties: [
          { name: 'a', value: '1' },
          { name: 'a', value: '2' },
        ],
      });
      expect(Buffer.isBuffer(payload.mqtt?.passwordBytes)).toBe(true);
    });

    it('reads a bare MQTT 3.1.1 connect (no username, password or properties)', () => {
      expect(readConnectPayload(connect({ protocolVersion: 4 }), true).mqtt).toEqual({
        protocolVersion: 4,
      });
    });

    it('reads an empty password as empty bytes', () => {
      expect(
        readConnectPayload(connect({ protocolVersion: 4, password: '' }), true).mqtt?.passwordBytes,
      ).toEqual(Buffer.alloc(0));
    });

    it('accepts unpadded base64', () => {
      expect(
        readConnectPayload(connect({ protocolVersion: 4, password: 'AP8' }), true).mqtt
          ?.passwordBytes,
      ).toEqual(Buffer.from([0x00, 0xff]));
    });

    it('reads fields of the wrong type as absent', () => {
      expect(
        readConnectPayload(
          connect({
            protocolVersion: 5,
            username: 7,
            password: null,
            userProperties: [{ name: 1 }],
          }),
          true,
        ).mqtt,
      ).toEqual({ protocolVersion: 5 });
    });

    it.each([
      ['no mqtt part', undefined],
      ['no protocolVersion', {}],
      ['a string protocolVersion', { protocolVersion: '5' }],
      ['a fractional protocolVersion', { protocolVersion: 4.5 }],
    ])('refuses an MQTT connect with %s: 400', (_what, mqtt) => {
      const error = protocolError(() => readConnectPayload(connect(mqtt), true));
      expect(error.status).toBe(400);
      expect(error.message).toBe(
        'The MQTT connect event body lacks an integer mqtt.protocolVersion',
      );
    });

    it.each(['not base64!', 'abcde', 'ab=c'])(
      'refuses a password that is not base64 (%p): 400',
      password => {
        const error = protocolError(() =>
          readConnectPayload(connect({ protocolVersion: 4, password }), true),
        );
        expect(error.status).toBe(400);
        expect(error.message).toBe('The MQTT connect event mqtt.password is not base64');
      },
    );

    it('ignores the mqtt part of a default client', () => {
      expect(readConnectPayload(connect({ protocolVersion: 4 })).mqtt).toBeUndefined();
      expect(readConnectPayload(connect('garbage'))).not.toHaveProperty('mqtt');
    });
  });

  describe('readDisconnectedPayload', () => {
    it('reads initiatedByClient and the DISCONNECT packet', () => {
      const body = text(
        JSON.stringify({
          reason: 'bye',
          mqtt: {
            initiatedByClient: true,
            disconnectPacket: { code: 0x8e, userProperties: [{ name: 'k', value: 'v' }] },
          },
        }),
      );
      expect(readDisconnectedPayload(body, true)).toEqual({
        reason: 'bye',
        mqtt: {
          initiatedByClient: true,
          disconnectPacket: { code: 0x8e, userProperties: [{ name: 'k', value: 'v' }] },
        },
      });
    });

    it('reads a null or absent DISCONNECT packet as null', () => {
      expect(
        readDisconnectedPayload(
          text('{"mqtt":{"initiatedByClient":false,"disconnectPacket":null}}'),
          true,
        ).mqtt,
      ).toEqual({
        initiatedByClient: false,
        disconnectPacket: null,
      });
      expect(readDisconnectedPayload(text('{}'), true).mqtt).toEqual({
        initiatedByClient: false,
        disconnectPacket: null,
      });
    });

    it('reads leniently: a packet without a numeric code is null, a non-true initiatedByClient is false', () => {
      expect(
        readDisconnectedPayload(
          text('{"mqtt":{"initiatedByClient":"yes","disconnectPacket":{"code":"0"}}}'),
          true,
        ).mqtt,
      ).toEqual({ initiatedByClient: false, disconnectPacket: null });
    });

    it('ignores the mqtt part of a default client', () => {
      expect(
        readDisconnectedPayload(text('{"reason":"x","mqtt":{"initiatedByClient":true}}')),
      ).toEqual({ reason: 'x' });
    });
  });
});
