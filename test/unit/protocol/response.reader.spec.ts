/**
 * The emulator's reader of the app's answers, against every answer `response.writer` writes:
 * connect results (user, groups, roles, subprotocol, state; 204 as accepted; MQTT CONNACK user
 * properties; plain and MQTT refusals with code, reason and user properties; a malformed accepting
 * answer named), user event results (replies and their data types, MQTT reply user properties, a
 * body without `Content-Type` as binary, an error status not ok, an unsupported content type and
 * unparsable JSON named), state changes (absent → unchanged, empty → cleared, two headers →
 * refused) and handshake results (the allowed origins one per header line; a refusal or a 200
 * without the header not allowed).
 */
import {
  handshakeAllows,
  readConnectResult,
  readHandshakeResult,
  readStateChange,
  readUserEventResult,
  ResponseFormatError,
  type WireAnswer,
} from '../../../lib/protocol/response.reader.js';
import {
  writeConnectResponse,
  writeError,
  writeHandshakeResponse,
  writeMqttConnectError,
  writeUserEventResponse,
  type WireResponse,
} from '../../../lib/protocol/response.writer.js';
import { encodeConnectionState } from '../../../lib/protocol/connection-state.js';
import { userEventResponse } from '../../../lib/protocol/user-event-response.js';

const STATE = encodeConnectionState({ room: 'a' });
const answer = (response: WireResponse): WireAnswer => response;

describe('response.writer → readConnectResult', () => {
  it('reads back userId, groups, roles, subprotocol and the state', () => {
    const result = readConnectResult(
      answer(
        writeConnectResponse(
          { userId: 'alice', groups: ['g'], roles: ['webpubsub.joinLeaveGroup'], subprotocol: 'p' },
          STATE,
        ),
      ),
    );
    expect(result).toEqual({
      accepted: true,
      status: 200,
      userId: 'alice',
      groups: ['g'],
      roles: ['webpubsub.joinLeaveGroup'],
      subprotocol: 'p',
      state: { changed: true, header: STATE, states: { room: 'a' } },
    });
  });

  it('reads a 204 as accepted with no fields and no state change', () => {
    expect(readConnectResult(answer(writeConnectResponse(undefined)))).toEqual({
      accepted: true,
      status: 204,
      state: { changed: false },
    });
  });

  it('reads MQTT user properties of the CONNACK', () => {
    const result = readConnectResult(
      answer(
        writeConnectResponse(
          { mqtt: { userProperties: [{ name: 'a', value: 'b' }] } },
          undefined,
          true,
        ),
      ),
    );
    expect(result).toMatchObject({
      accepted: true,
      mqttUserProperties: [{ name: 'a', value: 'b' }],
    });
  });

  it('reads a plain refusal and an MQTT refusal with its code, reason and user properties', () => {
    expect(readConnectResult(answer(writeError(401, 'Unauthorized: no token')))).toEqual({
      accepted: false,
      status: 401,
      message: 'Unauthorized: no token',
    });
    const mqtt = readConnectResult(
      answer(writeMqttConnectError(401, 0x87, 'not you', [{ name: 'k', value: 'v' }])),
    );
    expect(mqtt).toMatchObject({
      accepted: false,
      status: 401,
      mqtt: { code: 0x87, reason: 'not you', userProperties: [{ name: 'k', value: 'v' }] },
    });
  });

  it('names what is wrong in a malformed accepting answer', () => {
    const bad = (body: string) => () =>
      readConnectResult({ status: 200, headers: { 'Content-Type': 'application/json' }, body });
    expect(bad('{')).toThrow(ResponseFormatError);
    expect(bad('{')).toThrow(/The connect answer body is not JSON/);
    expect(bad('[1]')).toThrow('The connect answer body must be a JSON object');
    expect(bad('{"userId":1}')).toThrow('The connect answer userId must be a string');
    expect(bad('{"groups":"g"}')).toThrow('The connect answer groups must be an array of strings');
    expect(bad('{"roles":[1]}')).toThrow('The connect answer roles must be an array of strings');
    expect(bad('{"subprotocol":true}')).toThrow('The connect answer subprotocol must be a string');
    expect(bad('{"mqtt":{"userProperties":[{"name":1}]}}')).toThrow(
      /The connect answer mqtt.userProperties\[0\] must be/,
    );
  });
});

describe('response.writer → readUserEventResult', () => {
  it.each([
    ['text', 'hi', 'hi'],
    ['json', { a: [1] }, { a: [1] }],
    ['binary', Buffer.from([1, 2]), Buffer.from([1, 2])],
  ] as const)(
    '%s reply: data type from the content type, data decoded',
    (dataType, value, data) => {
      const result = readUserEventResult(answer(writeUserEventResponse(value, STATE)));
      expect(result).toMatchObject({
        ok: true,
        status: 200,
        dataType,
        data,
        state: { changed: true, states: { room: 'a' } },
      });
    },
  );

  it('204: no reply; MQTT reply user properties from mqtt-<name> headers', () => {
    expect(readUserEventResult(answer(writeUserEventResponse(undefined)))).toMatchObject({
      ok: true,
      status: 204,
      dataType: undefined,
      data: undefined,
      state: { changed: false },
    });
    const reply = userEventResponse('ok', 'text', {
      userProperties: [
        { name: 'x', value: '1' },
        { name: 'x', value: '2' },
      ],
    });
    expect(
      readUserEventResult(answer(writeUserEventResponse(reply, undefined, true))),
    ).toMatchObject({
      dataType: 'text',
      data: 'ok',
      mqttUserProperties: [
        { name: 'x', value: '1' },
        { name: 'x', value: '2' },
      ],
    });
  });

  it('a body without Content-Type is binary (as the service reads it); an error status is not ok', () => {
    expect(readUserEventResult({ status: 200, headers: {}, body: 'raw' })).toMatchObject({
      dataType: 'binary',
      data: Buffer.from('raw'),
    });
    expect(readUserEventResult(answer(writeError(500, 'boom')))).toEqual({
      ok: false,
      status: 500,
      message: 'boom',
    });
  });

  it('names an unsupported content type and unparsable JSON', () => {
    expect(() =>
      readUserEventResult({ status: 200, headers: { 'content-type': 'image/png' }, body: 'x' }),
    ).toThrow('The user event answer has an unsupported Content-Type "image/png"');
    expect(() =>
      readUserEventResult({
        status: 200,
        headers: { 'content-type': 'application/json' },
        body: '{',
      }),
    ).toThrow(/declared JSON but does not parse/);
  });
});

describe('readStateChange', () => {
  it('absent → unchanged; empty → cleared; two headers → refused', () => {
    expect(readStateChange({ status: 204, headers: {} })).toEqual({ changed: false });
    expect(readStateChange({ status: 204, headers: { 'CE-ConnectionState': '' } })).toEqual({
      changed: true,
      header: '',
      states: {},
    });
    expect(() =>
      readStateChange({ status: 204, headers: { 'ce-connectionstate': ['a', 'b'] } }),
    ).toThrow('The answer has 2 ce-connectionState headers: at most one is allowed');
  });
});

describe('response.writer → readHandshakeResult', () => {
  it('reads the allowed origins, one per header line, and whether the service would accept them', () => {
    const result = readHandshakeResult(
      answer(writeHandshakeResponse({ allowed: true, allowedOrigins: ['a.example', 'b.example'] })),
    );
    expect(result).toEqual({
      allowed: true,
      status: 200,
      allowedOrigins: ['a.example', 'b.example'],
    });
    expect(handshakeAllows(result, 'B.example')).toBe(true);
    expect(handshakeAllows(result, 'c.example')).toBe(false);
    expect(
      handshakeAllows(
        readHandshakeResult({ status: 200, headers: { 'webhook-allowed-origin': '*' } }),
        'x',
      ),
    ).toBe(true);
  });

  it('a refusal, or a 200 without the header, is not allowed', () => {
    expect(
      readHandshakeResult(
        answer(writeHandshakeResponse({ allowed: false, status: 400, message: 'Missing origin' })),
      ),
    ).toEqual({ allowed: false, status: 400, message: 'Missing origin' });
    expect(readHandshakeResult({ status: 200, headers: {} })).toEqual({
      allowed: false,
      status: 200,
      message: 'The answer has no WebHook-Allowed-Origin header',
    });
  });
});
