/**
 * The MQTT parts of the protocol: the code tables have the values of the protocol notes;
 * `isMqttEvent`; connect codes mapped from and to HTTP statuses and to the client version's own
 * table (a code of another version translated, an unknown version's code sent as it is) and named;
 * user properties copied frozen, written as `mqtt-<name>` headers (repeated names as several lines,
 * in order; token characters in names; bad names and lists refused, naming the list) and read back
 * in order, undecoded.
 */
import {
  MqttDisconnectReasonCode as ExpressDisconnectReasonCode,
  MqttV311ConnectReturnCode as ExpressV311ConnectReturnCode,
  MqttV500ConnectReasonCode as ExpressV500ConnectReasonCode,
} from '@azure/web-pubsub-express';
import {
  copyUserProperties,
  httpStatusFromMqttConnectCode,
  isMqttEvent,
  mqttConnectCodeForVersion,
  mqttConnectCodeFromStatus,
  mqttConnectCodeName,
  MqttDisconnectReasonCode,
  mqttUserPropertyHeaders,
  MqttV311ConnectReturnCode,
  MqttV500ConnectReasonCode,
  readMqttUserProperties,
} from '../../../lib/protocol/mqtt.js';

/** The numeric members of a TypeScript enum, as name → value. */
const members = (enumObject: object) =>
  Object.fromEntries(Object.entries(enumObject).filter(([, value]) => typeof value === 'number'));

describe('MQTT code tables', () => {
  it.each([
    ['MqttV311ConnectReturnCode', MqttV311ConnectReturnCode, ExpressV311ConnectReturnCode],
    ['MqttV500ConnectReasonCode', MqttV500ConnectReasonCode, ExpressV500ConnectReasonCode],
    ['MqttDisconnectReasonCode', MqttDisconnectReasonCode, ExpressDisconnectReasonCode],
  ])('%s has the names and values of @azure/web-pubsub-express', (_name, ours, theirs) => {
    expect(members(ours)).toEqual(members(theirs));
  });

  it('has the values of the protocol notes', () => {
    expect(members(MqttV311ConnectReturnCode)).toEqual({
      UnacceptableProtocolVersion: 1,
      IdentifierRejected: 2,
      ServerUnavailable: 3,
      BadUsernameOrPassword: 4,
      NotAuthorized: 5,
    });
    expect(MqttV500ConnectReasonCode.UnspecifiedError).toBe(0x80);
    expect(MqttV500ConnectReasonCode.BadUserNameOrPassword).toBe(134);
    expect(MqttV500ConnectReasonCode.NotAuthorized).toBe(135);
    expect(MqttV500ConnectReasonCode.ConnectionRateExceeded).toBe(0x9f);
    expect(MqttDisconnectReasonCode.NormalDisconnection).toBe(0);
  });
});

describe('isMqttEvent', () => {
  it.each([
    ['mqtt', 'p1', true],
    ['MQTT', 'p1', true],
    ['mqtt.v5', 'p1', true],
    ['mqtt', '', true],
    ['mqtt', undefined, false],
    [undefined, 'p1', false],
    ['json.webpubsub.azure.v1', 'p1', false],
    ['', 'p1', false],
  ])('subprotocol %p, physical connection %p → %p', (subprotocol, physical, expected) => {
    expect(isMqttEvent(subprotocol, physical)).toBe(expected);
  });
});

describe('mqttConnectCodeFromStatus', () => {
  it.each([
    [400, 4, 4],
    [401, 4, 5],
    [403, 4, 5],
    [500, 4, 3],
    [404, 4, 3],
    [503, 4, 3],
    [400, 5, 0x86],
    [401, 5, 0x87],
    [403, 5, 0x87],
    [500, 5, 0x80],
    [429, 5, 0x80],
  ])('HTTP %i for protocol version %i → %i', (status, version, code) => {
    expect(mqttConnectCodeFromStatus(status, version)).toBe(code);
  });

  it.each([3, 6, 0, NaN])(
    'answers UnacceptableProtocolVersion (1) for protocol version %p',
    version => {
      expect(mqttConnectCodeFromStatus(401, version)).toBe(
        MqttV311ConnectReturnCode.UnacceptableProtocolVersion,
      );
    },
  );
});

describe('httpStatusFromMqttConnectCode', () => {
  it.each([
    [1, 400],
    [2, 400],
    [3, 503],
    [4, 401],
    [5, 401],
    [6, 500],
    [0x7f, 500],
    [0x86, 401],
    [0x87, 401],
    [0x81, 400],
    [0x83, 400],
    [0x84, 400],
    [0x85, 400],
    [0x8c, 400],
    [0x90, 400],
    [0x95, 400],
    [0x99, 400],
    [0x9a, 400],
    [0x9b, 400],
    [0x97, 429],
    [0x9f, 429],
    [0x8a, 403],
    [0x80, 500],
    [0x82, 500],
    [0x88, 500],
    [0x89, 500],
    [0x9c, 500],
    [0x9d, 500],
    [0xff, 500],
  ])('code %i → HTTP %i', (code, status) => {
    expect(httpStatusFromMqttConnectCode(code)).toBe(status);
  });
});

describe('mqttConnectCodeForVersion', () => {
  it('keeps a code of the client version’s own table', () => {
    expect(mqttConnectCodeForVersion(4, 4)).toBe(4);
    expect(mqttConnectCodeForVersion(0x8a, 5)).toBe(0x8a);
  });

  it.each([
    [1, 0x84],
    [2, 0x85],
    [3, 0x88],
    [4, 0x86],
    [5, 0x87],
    [9, 0x80],
  ])('translates 3.1.1 code %i to 5.0 code %i for an MQTT 5 client', (code, translated) => {
    expect(mqttConnectCodeForVersion(code, 5)).toBe(translated);
  });

  it.each([
    [0x84, 1],
    [0x85, 2],
    [0x86, 4],
    [0x8c, 4],
    [0x87, 5],
    [0x8a, 5],
    [0x80, 3],
    [0x89, 3],
  ])('translates 5.0 code %i to 3.1.1 code %i for an MQTT 3.1.1 client', (code, translated) => {
    expect(mqttConnectCodeForVersion(code, 4)).toBe(translated);
  });

  it('sends the code as it is for an unknown protocol version', () => {
    expect(mqttConnectCodeForVersion(0x87, 3)).toBe(0x87);
  });
});

describe('mqttConnectCodeName', () => {
  it('names codes of both tables, and gives the number otherwise', () => {
    expect(mqttConnectCodeName(5)).toBe('NotAuthorized');
    expect(mqttConnectCodeName(0x8a)).toBe('Banned');
    expect(mqttConnectCodeName(42)).toBe('42');
  });
});

describe('copyUserProperties', () => {
  it('returns a frozen copy with only name and value', () => {
    const copy = copyUserProperties([{ name: 'a', value: '1', extra: true }], 'p');
    expect(copy).toEqual([{ name: 'a', value: '1' }]);
    expect(Object.isFrozen(copy)).toBe(true);
    expect(Object.isFrozen(copy[0])).toBe(true);
  });

  it.each([
    ['not an array', { name: 'a', value: 'b' }, 'p must be an array'],
    ['a null entry', [null], 'p[0] must be { name: string, value: string }'],
    ['a numeric value', [{ name: 'a', value: 1 }], 'p[0]'],
    ['a missing name', [{ name: 'a', value: 'b' }, { value: 'b' }], 'p[1]'],
  ])('refuses %s with a TypeError', (_what, value, message) => {
    expect(() => copyUserProperties(value, 'p')).toThrow(TypeError);
    expect(() => copyUserProperties(value, 'p')).toThrow(message);
  });
});

describe('mqttUserPropertyHeaders', () => {
  it('makes one mqtt-<name> header per property', () => {
    expect(
      mqttUserPropertyHeaders([
        { name: 'trace-id', value: 'abc' },
        { name: 'Priority', value: 'high, urgent' },
        { name: 'empty', value: '' },
      ]),
    ).toEqual({ 'mqtt-trace-id': 'abc', 'mqtt-Priority': 'high, urgent', 'mqtt-empty': '' });
  });

  it('groups repeated names (in any case) into several header lines, in order', () => {
    expect(
      mqttUserPropertyHeaders([
        { name: 'tag', value: '1' },
        { name: 'other', value: 'x' },
        { name: 'TAG', value: '2' },
        { name: 'tag', value: '3' },
      ]),
    ).toEqual({ 'mqtt-tag': ['1', '2', '3'], 'mqtt-other': 'x' });
  });

  it('accepts every token character in names, and inner spaces and tabs in values', () => {
    expect(mqttUserPropertyHeaders([{ name: "!#$%&'*+-.^_`|~09azAZ", value: 'a \tb' }])).toEqual({
      "mqtt-!#$%&'*+-.^_`|~09azAZ": 'a \tb',
    });
  });

  it.each(['', 'with space', 'a:b', 'a/b', 'é', 'a\nb', '(x)'])('refuses the name %p', name => {
    expect(() => mqttUserPropertyHeaders([{ name, value: 'v' }])).toThrow(TypeError);
    expect(() => mqttUserPropertyHeaders([{ name, value: 'v' }])).toThrow(
      'is not a valid HTTP header name',
    );
  });

  it.each([
    ['a line break', 'a\r\nX-Injected: 1'],
    ['a NUL', 'a\u0000b'],
    ['DEL', 'a\u007fb'],
    ['non-ASCII (Latin-1)', 'café'],
    ['non-ASCII (beyond Latin-1)', '日本'],
    ['a leading space', ' a'],
    ['a trailing tab', 'a\t'],
  ])('refuses a value with %s', (_what, value) => {
    expect(() => mqttUserPropertyHeaders([{ name: 'n', value }])).toThrow(TypeError);
    expect(() => mqttUserPropertyHeaders([{ name: 'n', value }])).toThrow(
      'is not a header-safe value',
    );
  });

  it('names the list in its errors', () => {
    expect(() =>
      mqttUserPropertyHeaders(
        [
          { name: 'ok', value: 'v' },
          { name: 'b d', value: 'v' },
        ],
        'opts',
      ),
    ).toThrow('opts[1].name "b d"');
  });
});

describe('readMqttUserProperties', () => {
  it('reads every mqtt-<name> header in order and nothing else', () => {
    expect(
      readMqttUserProperties({
        'ce-type': 'azure.webpubsub.user.message',
        'mqtt-b': '2',
        'content-type': 'text/plain',
        'mqtt-a': '1',
        'mqtt-1': 'numeric name',
        'x-mqtt-c': 'not one',
        mqtt: 'not one',
        'mqtt-': 'no name',
      }),
    ).toEqual([
      { name: 'b', value: '2' },
      { name: 'a', value: '1' },
      { name: '1', value: 'numeric name' },
    ]);
  });

  it('decodes nothing: values and names are taken as they are', () => {
    expect(
      readMqttUserProperties({
        'mqtt-enc': '%C3%A9',
        'mqtt-b64': 'w6k=',
        'mqtt-spaced': 'a, b',
        'Mqtt-Case': 'X',
      }),
    ).toEqual([
      { name: 'enc', value: '%C3%A9' },
      { name: 'b64', value: 'w6k=' },
      { name: 'spaced', value: 'a, b' },
      { name: 'Case', value: 'X' },
    ]);
  });

  it('makes one property per value of a header given as an array, and skips undefined ones', () => {
    expect(readMqttUserProperties({ 'mqtt-tag': ['1', '2'], 'mqtt-gone': undefined })).toEqual([
      { name: 'tag', value: '1' },
      { name: 'tag', value: '2' },
    ]);
  });

  it('is empty without mqtt-* headers', () => {
    expect(readMqttUserProperties({ 'ce-type': 'x' })).toEqual([]);
  });
});
