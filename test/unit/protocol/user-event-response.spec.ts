/**
 * `userEventResponse` and `toBuffer`: the reply carries its data type; strings sent as they are
 * (with `json` too), bytes as they are, other values through `JSON.stringify` for `json` and
 * `String()` for `text`; buffers viewed without copying (offset and length honoured);
 * `options.userProperties` kept as a frozen copy with the `mqtt-<name>` headers built once.
 */
import {
  toBuffer,
  userEventResponse,
  UserEventResponse,
} from '../../../lib/protocol/user-event-response.js';

describe('userEventResponse', () => {
  it('returns a UserEventResponse carrying the data type', () => {
    const reply = userEventResponse('x', 'text');
    expect(reply).toBeInstanceOf(UserEventResponse);
    expect(reply.dataType).toBe('text');
  });

  it.each(['text', 'json', 'binary'] as const)(
    'sends a string as its UTF-8 bytes with %s',
    dataType => {
      expect(userEventResponse('héllo', dataType).body).toEqual(Buffer.from('héllo', 'utf8'));
    },
  );

  it('sends a string as it is with json (not JSON-quoted)', () => {
    expect(userEventResponse('{"a":1}', 'json').body.toString()).toBe('{"a":1}');
  });

  it.each(['text', 'json', 'binary'] as const)('sends bytes as they are with %s', dataType => {
    const bytes = Buffer.from([0, 255]);
    expect(userEventResponse(bytes, dataType).body).toBe(bytes);
    expect([...userEventResponse(new Uint8Array([1, 2]), dataType).body]).toEqual([1, 2]);
    expect([...userEventResponse(new Uint8Array([3, 4]).buffer, dataType).body]).toEqual([3, 4]);
  });

  it('serialises other values with JSON.stringify for json', () => {
    expect(userEventResponse({ a: [1, null] }, 'json').body.toString()).toBe('{"a":[1,null]}');
    expect(userEventResponse(42, 'json').body.toString()).toBe('42');
    expect(userEventResponse(false, 'json').body.toString()).toBe('false');
  });

  it('converts other values with String() for text', () => {
    expect(userEventResponse(42, 'text').body.toString()).toBe('42');
    expect(userEventResponse(true, 'text').body.toString()).toBe('true');
    expect(userEventResponse({ a: 1 }, 'text').body.toString()).toBe('[object Object]');
  });

  it.each([
    ['an object', { a: 1 }],
    ['a number', 1],
    ['a boolean', true],
  ])('refuses %s with binary', (_what, data) => {
    expect(() => userEventResponse(data, 'binary')).toThrow(TypeError);
    expect(() => userEventResponse(data, 'binary')).toThrow(
      /needs a string, Buffer, Uint8Array or ArrayBuffer/,
    );
  });
});

describe('toBuffer', () => {
  it('returns a Buffer itself', () => {
    const bytes = Buffer.from('x');
    expect(toBuffer(bytes)).toBe(bytes);
  });

  it('views a typed array without copying and honours offset and length', () => {
    const backing = new Uint8Array([0, 1, 2, 3, 4]);
    const buffer = toBuffer(backing.subarray(1, 4)) as Buffer;
    expect([...buffer]).toEqual([1, 2, 3]);
    backing[2] = 99;
    expect(buffer[1]).toBe(99);
  });

  it('views a DataView and other typed arrays by their bytes', () => {
    expect(toBuffer(new DataView(new ArrayBuffer(8), 2, 4))?.length).toBe(4);
    expect(toBuffer(new Float64Array(2))?.length).toBe(16);
  });

  it('views an ArrayBuffer', () => {
    expect([...(toBuffer(new Uint8Array([5, 6]).buffer) as Buffer)]).toEqual([5, 6]);
  });

  it.each([
    ['string', 'x'],
    ['number', 1],
    ['object', { length: 1 }],
    ['array', [1, 2]],
    ['null', null],
    ['undefined', undefined],
  ])('returns undefined for a %s', (_what, value) => {
    expect(toBuffer(value)).toBeUndefined();
  });
});

describe('userEventResponse options.userProperties', () => {
  it('keeps a frozen copy and builds the mqtt-<name> headers once', () => {
    const given = [{ name: 'trace', value: 'abc' }];
    const reply = userEventResponse('x', 'text', { userProperties: given });
    given[0].value = 'changed';
    expect(reply.userProperties).toEqual([{ name: 'trace', value: 'abc' }]);
    expect(Object.isFrozen(reply.userProperties)).toBe(true);
    expect(reply.mqttHeaders).toEqual({ 'mqtt-trace': 'abc' });
  });

  it('has none without the option', () => {
    expect(userEventResponse('x', 'text').userProperties).toBeUndefined();
    expect(userEventResponse('x', 'text', {}).mqttHeaders).toBeUndefined();
  });

  it.each([
    ['not a list', 'a=1', /must be an array/],
    [
      'a non-string value',
      [{ name: 'a', value: 1 }],
      /\[0\] must be \{ name: string, value: string \}/,
    ],
    [
      'a name that is not a header token',
      [{ name: 'a b', value: '1' }],
      /not a valid HTTP header name/,
    ],
    ['a value with a line break', [{ name: 'a', value: '1\r\nx: y' }], /not a header-safe value/],
    ['a non-ASCII value', [{ name: 'a', value: 'é' }], /not a header-safe value/],
  ])(
    'refuses user properties with %s when the reply is created',
    (_what, userProperties, message) => {
      const create = () =>
        userEventResponse('x', 'text', { userProperties: userProperties as never });
      expect(create).toThrow(TypeError);
      expect(create).toThrow(message);
      expect(create).toThrow(/^userEventResponse options\.userProperties/);
    },
  );
});
