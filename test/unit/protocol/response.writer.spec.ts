/**
 * The module's answers to the service: `NO_CONTENT` a frozen 204; the state header only when the
 * state changed (an empty one clears it); `writeConnectResponse` answers 200 JSON of the four
 * fields the service reads (others dropped, getters of class instances read) or 204;
 * `writeUserEventResponse` answers strings as text, bytes of every kind (Buffer, typed arrays with
 * their offset and length, ArrayBuffer, DataView) as octet-stream, `UserEventResponse`s with their
 * data type, nothing as 204, with the state header on 200 and 204.
 */
import type { HandshakeAnswer } from '../../../lib/protocol/abuse-protection.js';
import {
  NO_CONTENT,
  stateHeader,
  writeConnectResponse,
  writeError,
  writeHandshakeResponse,
  writeMqttConnectError,
  writeUserEventResponse,
} from '../../../lib/protocol/response.writer.js';
import { userEventResponse } from '../../../lib/protocol/user-event-response.js';

const JSON_TYPE = 'application/json; charset=utf-8';
const TEXT_TYPE = 'text/plain; charset=utf-8';
const BINARY_TYPE = 'application/octet-stream';
const STATE = 'eyJrZXkiOiJhIn0=';

describe('NO_CONTENT', () => {
  it('is a frozen 204 without headers or body', () => {
    expect(NO_CONTENT).toEqual({ status: 204, headers: {} });
    expect(NO_CONTENT.body).toBeUndefined();
    expect(Object.isFrozen(NO_CONTENT)).toBe(true);
    expect(Object.isFrozen(NO_CONTENT.headers)).toBe(true);
  });
});

describe('stateHeader', () => {
  it('encodes the states when they changed', () => {
    expect(stateHeader({ key: 'a' }, true)).toBe(STATE);
    expect(stateHeader({}, true)).toBe('e30=');
  });

  it('is undefined when nothing changed', () => {
    expect(stateHeader({ key: 'a' }, false)).toBeUndefined();
  });
});

describe('writeConnectResponse', () => {
  it('answers an object with 200 JSON of the four fields the service reads', () => {
    const response = writeConnectResponse({
      userId: 'alice',
      groups: ['g1', 'g2'],
      roles: ['webpubsub.sendToGroup'],
      subprotocol: 'json.webpubsub.azure.v1',
    });
    expect(response.status).toBe(200);
    expect(response.headers).toEqual({ 'content-type': JSON_TYPE });
    expect(JSON.parse(response.body as string)).toEqual({
      userId: 'alice',
      groups: ['g1', 'g2'],
      roles: ['webpubsub.sendToGroup'],
      subprotocol: 'json.webpubsub.azure.v1',
    });
  });

  it('drops every other field', () => {
    const response = writeConnectResponse({
      userId: 'bob',
      states: { a: 1 },
      password: 'x',
      mqtt: {},
      extra: true,
    });
    expect(response.body).toBe('{"userId":"bob"}');
  });

  it('omits undefined fields', () => {
    expect(writeConnectResponse({ userId: undefined, groups: ['g'] }).body).toBe(
      '{"groups":["g"]}',
    );
  });

  it('answers an empty object with 200 and {}', () => {
    expect(writeConnectResponse({})).toEqual({
      status: 200,
      headers: { 'content-type': JSON_TYPE },
      body: '{}',
    });
  });

  it('reads fields from a class instance, including getters on the prototype', () => {
    class Answer {
      readonly userId = 'carol';
      private readonly secret = 's';
      get roles(): string[] {
        return ['r'];
      }
    }
    expect(JSON.parse(writeConnectResponse(new Answer()).body as string)).toEqual({
      userId: 'carol',
      roles: ['r'],
    });
  });

  it.each([undefined, null])('answers %p with 204 and no body', result => {
    const response = writeConnectResponse(result);
    expect(response).toEqual({ status: 204, headers: {} });
    expect(response.body).toBeUndefined();
  });

  it('adds the state header to a 204', () => {
    expect(writeConnectResponse(undefined, STATE)).toEqual({
      status: 204,
      headers: { 'ce-connectionstate': STATE },
    });
  });

  it('adds the state header to a 200', () => {
    const response = writeConnectResponse({ userId: 'a' }, STATE);
    expect(response.status).toBe(200);
    expect(response.headers).toEqual({ 'content-type': JSON_TYPE, 'ce-connectionstate': STATE });
  });

  it('sends an empty state header (it clears the state)', () => {
    expect(writeConnectResponse(undefined, '').headers).toEqual({ 'ce-connectionstate': '' });
  });

  it.each([
    ['a string', 'alice', 'string'],
    ['a number', 42, 'number'],
    ['a boolean', true, 'boolean'],
    ['an array', ['alice'], 'an array'],
    ['a function', () => ({}), 'function'],
  ])('refuses %s with a TypeError naming the type', (_what, result, named) => {
    expect(() => writeConnectResponse(result)).toThrow(TypeError);
    expect(() => writeConnectResponse(result)).toThrow(
      `A connect handler must return an object or nothing, not ${named}`,
    );
  });
});

describe('writeUserEventResponse', () => {
  it('answers a string with 200 text/plain', () => {
    expect(writeUserEventResponse('héllo')).toEqual({
      status: 200,
      headers: { 'content-type': TEXT_TYPE },
      body: 'héllo',
    });
  });

  it('answers an empty string with 200 and an empty text body', () => {
    expect(writeUserEventResponse('')).toEqual({
      status: 200,
      headers: { 'content-type': TEXT_TYPE },
      body: '',
    });
  });

  it('answers a Buffer with 200 octet-stream, the same bytes', () => {
    const bytes = Buffer.from([1, 2, 3]);
    const response = writeUserEventResponse(bytes);
    expect(response.status).toBe(200);
    expect(response.headers).toEqual({ 'content-type': BINARY_TYPE });
    expect(response.body).toBe(bytes);
  });

  it('answers a Uint8Array with its own bytes (respecting offset and length)', () => {
    const backing = new Uint8Array([9, 9, 1, 2, 3, 9]);
    const view = backing.subarray(2, 5);
    const response = writeUserEventResponse(view);
    expect(response.headers).toEqual({ 'content-type': BINARY_TYPE });
    expect(Buffer.isBuffer(response.body)).toBe(true);
    expect([...(response.body as Buffer)]).toEqual([1, 2, 3]);
  });

  it('answers an ArrayBuffer with octet-stream', () => {
    const response = writeUserEventResponse(new Uint8Array([7, 8]).buffer);
    expect(response.headers).toEqual({ 'content-type': BINARY_TYPE });
    expect([...(response.body as Buffer)]).toEqual([7, 8]);
  });

  it('answers other typed arrays and DataView with their bytes', () => {
    expect((writeUserEventResponse(new Uint16Array([0x0102])).body as Buffer).length).toBe(2);
    expect(writeUserEventResponse(new DataView(new ArrayBuffer(3))).headers).toEqual({
      'content-type': BINARY_TYPE,
    });
  });

  it.each([
    ['an object', { a: 1, b: [true, null] }, '{"a":1,"b":[true,null]}'],
    ['an array', [1, 'x'], '[1,"x"]'],
    ['a number', 42, '42'],
    ['zero', 0, '0'],
    ['false', false, 'false'],
    ['a Date', new Date('2026-01-01T00:00:00Z'), '"2026-01-01T00:00:00.000Z"'],
  ])('answers %s with 200 JSON', (_what, result, body) => {
    expect(writeUserEventResponse(result)).toEqual({
      status: 200,
      headers: { 'content-type': JSON_TYPE },
      body,
    });
  });

  it.each([undefined, null])('answers %p with 204', result => {
    expect(writeUserEventResponse(result)).toEqual({ status: 204, headers: {} });
  });

  it.each([
    ['text', TEXT_TYPE],
    ['json', JSON_TYPE],
    ['binary', BINARY_TYPE],
  ] as const)('answers a UserEventResponse(%s) with its body and type', (dataType, contentType) => {
    const reply = userEventResponse('"payload"', dataType);
    const response = writeUserEventResponse(reply);
    expect(response.status).toBe(200);
    expect(response.headers).toEqual({ 'content-type': contentType });
    expect(response.body).toBe(reply.body);
    expect((response.body as Buffer).toString()).toBe('"payload"');
  });

  it('answers a UserEventResponse(json) of an object with its JSON', () => {
    expect(
      (writeUserEventResponse(userEventResponse({ a: 1 }, 'json')).body as Buffer).toString(),
    ).toBe('{"a":1}');
  });

  it('adds the state header to 200 and 204 answers', () => {
    expect(writeUserEventResponse('x', STATE).headers).toEqual({
      'content-type': TEXT_TYPE,
      'ce-connectionstate': STATE,
    });
    expect(writeUserEventResponse(Buffer.from('x'), STATE).headers).toEqual({
      'content-type': BINARY_TYPE,
      'ce-connectionstate': STATE,
    });
    expect(writeUserEventResponse({ a: 1 }, STATE).headers).toEqual({
      'content-type': JSON_TYPE,
      'ce-connectionstate': STATE,
    });
    expect(writeUserEventResponse(userEventResponse('x', 'binary'), STATE).headers).toEqual({
      'content-type': BINARY_TYPE,
      'ce-connectionstate': STATE,
    });
    expect(writeUserEventResponse(null, STATE)).toEqual({
      status: 204,
      headers: { 'ce-connectionstate': STATE },
    });
  });

  it('propagates a JSON serialisation failure (cycle, BigInt)', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => writeUserEventResponse(cyclic)).toThrow(TypeError);
    expect(() => writeUserEventResponse(10n)).toThrow(TypeError);
  });
});

describe('writeError', () => {
  it('answers the status with a plain-text message', () => {
    expect(writeError(401, 'Invalid ce-signature')).toEqual({
      status: 401,
      headers: { 'content-type': TEXT_TYPE },
      body: 'Invalid ce-signature',
    });
  });

  it('adds extra headers', () => {
    expect(writeError(405, 'nope', { allow: 'OPTIONS, GET, POST' }).headers).toEqual({
      'content-type': TEXT_TYPE,
      allow: 'OPTIONS, GET, POST',
    });
  });
});

describe('writeHandshakeResponse', () => {
  it('answers an allowed handshake with 200 and one WebHook-Allowed-Origin value per origin', () => {
    const answer: HandshakeAnswer = {
      allowed: true,
      allowedOrigins: ['a.webpubsub.azure.com', 'b.webpubsub.azure.com'],
    };
    const response = writeHandshakeResponse(answer);
    expect(response).toEqual({
      status: 200,
      headers: { 'webhook-allowed-origin': ['a.webpubsub.azure.com', 'b.webpubsub.azure.com'] },
    });
    expect(response.body).toBeUndefined();
  });

  it('answers * for any origin', () => {
    expect(writeHandshakeResponse({ allowed: true, allowedOrigins: ['*'] }).headers).toEqual({
      'webhook-allowed-origin': ['*'],
    });
  });

  it('answers a refused handshake with 400 and the message, without WebHook-Allowed-Origin', () => {
    const response = writeHandshakeResponse({
      allowed: false,
      status: 400,
      message: 'Missing WebHook-Request-Origin header',
    });
    expect(response).toEqual({
      status: 400,
      headers: { 'content-type': TEXT_TYPE },
      body: 'Missing WebHook-Request-Origin header',
    });
    expect(response.headers).not.toHaveProperty('webhook-allowed-origin');
  });
});

describe('values without a wire form', () => {
  it('drops null connect response fields', () => {
    const response = writeConnectResponse({ userId: null, groups: ['g'] });
    expect(JSON.parse(String(response.body))).toEqual({ groups: ['g'] });
  });

  it.each([() => 1, Symbol('s')])(
    'refuses a user event result %p (no JSON form) rather than answer 204',
    value => {
      expect(() => writeUserEventResponse(value)).toThrow(TypeError);
    },
  );
});

describe('MQTT responses', () => {
  const properties = [
    { name: 'a', value: '1' },
    { name: 'b', value: 'two' },
  ];

  describe('writeConnectResponse', () => {
    it('passes mqtt.userProperties on for an MQTT client, only name and value', () => {
      const response = writeConnectResponse(
        {
          userId: 'dev',
          mqtt: { userProperties: [{ name: 'a', value: '1', extra: 'x' }], other: 1 },
        },
        undefined,
        true,
      );
      expect(JSON.parse(response.body as string)).toEqual({
        userId: 'dev',
        mqtt: { userProperties: [{ name: 'a', value: '1' }] },
      });
    });

    it('drops mqtt for a default client', () => {
      expect(
        writeConnectResponse({ userId: 'dev', mqtt: { userProperties: properties } }).body,
      ).toBe('{"userId":"dev"}');
    });

    it('sends no mqtt part when there are no user properties', () => {
      expect(writeConnectResponse({ userId: 'dev', mqtt: {} }, undefined, true).body).toBe(
        '{"userId":"dev"}',
      );
      expect(writeConnectResponse({ mqtt: null }, undefined, true).body).toBe('{}');
    });

    it('sends an empty list as given', () => {
      expect(writeConnectResponse({ mqtt: { userProperties: [] } }, undefined, true).body).toBe(
        '{"mqtt":{"userProperties":[]}}',
      );
    });

    it('keeps any string in a JSON property (no header rules apply)', () => {
      const body = writeConnectResponse(
        { mqtt: { userProperties: [{ name: 'ü n', value: 'é\n' }] } },
        undefined,
        true,
      ).body;
      expect(JSON.parse(body as string).mqtt.userProperties).toEqual([
        { name: 'ü n', value: 'é\n' },
      ]);
    });

    it.each([
      ['not a list', { userProperties: 'a=1' }],
      ['a non-string value', { userProperties: [{ name: 'a', value: 1 }] }],
    ])('refuses user properties that are %s with a TypeError', (_what, mqtt) => {
      expect(() => writeConnectResponse({ mqtt }, undefined, true)).toThrow(TypeError);
    });
  });

  describe('writeUserEventResponse', () => {
    it('sends the user properties of a reply as mqtt-<name> headers for an MQTT client', () => {
      const reply = userEventResponse('ok', 'text', {
        userProperties: [...properties, { name: 'a', value: '3' }],
      });
      expect(writeUserEventResponse(reply, STATE, true)).toEqual({
        status: 200,
        headers: {
          'content-type': TEXT_TYPE,
          'ce-connectionstate': STATE,
          'mqtt-a': ['1', '3'],
          'mqtt-b': 'two',
        },
        body: reply.body,
      });
    });

    it('drops them for a default client', () => {
      const reply = userEventResponse('ok', 'text', { userProperties: properties });
      expect(writeUserEventResponse(reply).headers).toEqual({ 'content-type': TEXT_TYPE });
    });

    it('answers a reply without user properties the same for both clients', () => {
      const reply = userEventResponse(Buffer.from([1]), 'binary');
      expect(writeUserEventResponse(reply, undefined, true)).toEqual(writeUserEventResponse(reply));
    });
  });

  describe('writeMqttConnectError', () => {
    it('answers the status with JSON {"mqtt":{"code","reason"}}', () => {
      expect(writeMqttConnectError(401, 5, 'who are you')).toEqual({
        status: 401,
        headers: { 'content-type': JSON_TYPE },
        body: '{"mqtt":{"code":5,"reason":"who are you"}}',
      });
    });

    it('omits an absent reason and adds user properties when given', () => {
      expect(writeMqttConnectError(403, 0x8a).body).toBe('{"mqtt":{"code":138}}');
      expect(JSON.parse(writeMqttConnectError(401, 0x87, 'no', properties).body as string)).toEqual(
        {
          mqtt: { code: 0x87, reason: 'no', userProperties: properties },
        },
      );
    });
  });
});
