/**
 * `writeCloudEvent` (the emulator's outgoing direction), read back by the module's own reader:
 * every event kind written and read back (headers, payload, signature, state, MQTT identity and
 * bodies); every `ce-*` attribute of a connect as the service writes it, signed with every key
 * given (rotation), a fresh id per event; states the module decodes; non-ASCII ids sent as UTF-8
 * bytes that the reader and the signature read back; header values with control characters refused
 * (no header injection); data that does not fit its data type refused; MQTT identity headers and
 * user properties; extra headers last; `writeHandshakeRequest` an unsigned, empty `OPTIONS` with
 * `WebHook-Request-Origin` and `ce-awpsversion`.
 */
import {
  assertJsonContentType,
  assertUserEventContentType,
  readConnectPayload,
  readDisconnectedPayload,
  readEventHeaders,
  readGroupPayload,
  readUserEventPayload,
  type EventBody,
} from '../../../lib/protocol/cloud-event.reader.js';
import {
  writeCloudEvent,
  writeHandshakeRequest,
  wireHeaderValue,
  type OutgoingCloudEvent,
  type WireRequest,
} from '../../../lib/protocol/cloud-event.writer.js';
import { decodeConnectionState } from '../../../lib/protocol/connection-state.js';
import { SignatureVerifier } from '../../../lib/protocol/signature.js';

const KEY = 'primary-access-key';
const SECONDARY = 'secondary-access-key';
const ORIGIN = 'my-pubsub.webpubsub.azure.com';
const base = { hub: 'chat', connectionId: 'conn-1', origin: ORIGIN, accessKeys: [KEY] };

/** The request as Node's HTTP server delivers it: lower-case header names. */
function received(request: WireRequest): Record<string, string> {
  return Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k.toLowerCase(), v]));
}
const bytes = (request: WireRequest): EventBody => ({ form: 'bytes', bytes: request.body });

describe('writeCloudEvent', () => {
  it('writes every ce-* attribute of a connect as the service does, signed', () => {
    const request = writeCloudEvent({
      ...base,
      kind: 'connect',
      id: '0',
      time: new Date('2026-11-28T10:20:30.456Z'),
      userId: 'alice',
      subprotocol: 'json.webpubsub.azure.v1',
      claims: { sub: ['alice'] },
    });
    expect(request.method).toBe('POST');
    expect(request.headers).toEqual({
      'ce-specversion': '1.0',
      'ce-type': 'azure.webpubsub.sys.connect',
      'ce-source': '/hubs/chat/client/conn-1',
      'ce-id': '0',
      'ce-time': '2026-11-28T10:20:30Z',
      'ce-awpsversion': '1.0',
      'ce-hub': 'chat',
      'ce-connectionId': 'conn-1',
      'ce-userId': 'alice',
      'ce-eventName': 'connect',
      'ce-subprotocol': 'json.webpubsub.azure.v1',
      'ce-signature': expect.stringMatching(/^sha256=[0-9a-f]{64}$/),
      'WebHook-Request-Origin': ORIGIN,
      'content-type': 'application/json; charset=utf-8',
    });
    expect(JSON.parse(request.body.toString())).toEqual({
      claims: { sub: ['alice'] },
      query: {},
      headers: {},
      subprotocols: [],
      clientCertificates: [],
    });
  });

  it('signs with every key given (rotation), and not at all with none', () => {
    const both = writeCloudEvent({ ...base, kind: 'connected', accessKeys: [KEY, SECONDARY] });
    const signature = both.headers['ce-signature'];
    expect(signature.split(',')).toHaveLength(2);
    expect(new SignatureVerifier([KEY]).verify('conn-1', signature)).toBe(true);
    expect(new SignatureVerifier([SECONDARY]).verify('conn-1', signature)).toBe(true);
    expect(new SignatureVerifier(['other']).verify('conn-1', signature)).toBe(false);

    expect(
      writeCloudEvent({ ...base, kind: 'connected', accessKeys: [] }).headers,
    ).not.toHaveProperty('ce-signature');
    expect(
      writeCloudEvent({ ...base, kind: 'connected', accessKeys: undefined }).headers,
    ).not.toHaveProperty('ce-signature');
  });

  it('gives every event a fresh id unless one is given', () => {
    const a = writeCloudEvent({ ...base, kind: 'connected' }).headers['ce-id'];
    const b = writeCloudEvent({ ...base, kind: 'connected' }).headers['ce-id'];
    expect(a).not.toBe(b);
  });

  it('encodes states the module decodes, and passes a string state as it is', () => {
    const request = writeCloudEvent({
      ...base,
      kind: 'connected',
      connectionState: { room: 'a', n: 1 },
    });
    expect(decodeConnectionState(request.headers['ce-connectionState'])).toEqual({
      room: 'a',
      n: 1,
    });
    expect(
      writeCloudEvent({ ...base, kind: 'connected', connectionState: 'opaque' }).headers[
        'ce-connectionState'
      ],
    ).toBe('opaque');
  });

  it('sends non-ASCII identifiers as UTF-8 bytes, which the reader and the signature read back', () => {
    const request = writeCloudEvent({
      ...base,
      kind: 'connected',
      userId: '用户',
      connectionId: 'é-1',
    });
    expect(request.headers['ce-userId']).toBe(Buffer.from('用户').toString('latin1'));
    expect(wireHeaderValue('ascii')).toBe('ascii');
    const headers = readEventHeaders(received(request));
    expect(headers.userId).toBe('用户');
    expect(headers.connectionId).toBe('é-1');
    expect(new SignatureVerifier([KEY]).verify(headers.connectionId, headers.signature)).toBe(true);
  });

  it('refuses header values with control characters (no header injection)', () => {
    expect(() => writeCloudEvent({ ...base, kind: 'connected', userId: 'a\r\nx-evil: 1' })).toThrow(
      /ce-userId header value .* control characters/,
    );
  });

  it('refuses data that does not fit the data type, and a user event without a name', () => {
    expect(() =>
      writeCloudEvent({
        ...base,
        kind: 'user',
        eventName: 'm',
        dataType: 'text',
        data: 1 as never,
      }),
    ).toThrow('Text user event data must be a string');
    expect(() =>
      writeCloudEvent({
        ...base,
        kind: 'user',
        eventName: 'm',
        dataType: 'binary',
        data: 'x' as never,
      }),
    ).toThrow('Binary user event data must be a Buffer, Uint8Array or ArrayBuffer');
    expect(() =>
      writeCloudEvent({ ...base, kind: 'user', eventName: '', dataType: 'text', data: 'x' }),
    ).toThrow('A user event needs an event name');
  });

  it('writes MQTT identity headers: physical connection id, session id (not on connect), subprotocol mqtt', () => {
    const mqtt = { physicalConnectionId: 'phys-1', sessionId: 'sess-1' };
    const connect = writeCloudEvent({
      ...base,
      ...mqtt,
      kind: 'connect',
      mqtt: { protocolVersion: 5 },
    });
    expect(connect.headers).toMatchObject({
      'ce-subprotocol': 'mqtt',
      'ce-physicalConnectionId': 'phys-1',
      'ce-source': '/hubs/chat/client/conn-1/phys-1',
    });
    expect(connect.headers).not.toHaveProperty('ce-sessionId');
    const connected = writeCloudEvent({ ...base, ...mqtt, kind: 'connected' });
    expect(connected.headers['ce-sessionId']).toBe('sess-1');
    expect(() => writeCloudEvent({ ...base, physicalConnectionId: 'p', kind: 'connect' })).toThrow(
      /MQTT connect event needs its mqtt part/,
    );
  });

  it('writes MQTT user properties as mqtt-<name> headers, a repeated name joined as Node delivers it', () => {
    const request = writeCloudEvent({
      ...base,
      physicalConnectionId: 'p',
      sessionId: 's',
      kind: 'user',
      eventName: 'telemetry',
      dataType: 'text',
      data: '21.5',
      mqttUserProperties: [
        { name: 'unit', value: 'celsius' },
        { name: 'tag', value: 'a' },
        { name: 'tag', value: 'b' },
      ],
    });
    expect(request.headers).toMatchObject({ 'mqtt-unit': 'celsius', 'mqtt-tag': 'a, b' });
    expect(readEventHeaders(received(request)).mqttUserProperties).toEqual([
      { name: 'unit', value: 'celsius' },
      { name: 'tag', value: 'a, b' },
    ]);
  });

  it('adds extra headers last (e.g. Authorization)', () => {
    const request = writeCloudEvent({
      ...base,
      kind: 'connected',
      headers: { Authorization: 'Bearer x' },
    });
    expect(request.headers.Authorization).toBe('Bearer x');
  });
});

describe('writeCloudEvent → the module reader: the same event', () => {
  const cases: [string, OutgoingCloudEvent][] = [
    ['connected', { ...base, kind: 'connected' }],
    ['disconnected', { ...base, kind: 'disconnected', reason: 'gone' }],
    ['group joined', { ...base, kind: 'groupJoined', group: 'room-1' }],
    ['group left', { ...base, kind: 'groupLeft', group: 'room-1' }],
    ['text', { ...base, kind: 'user', eventName: 'message', dataType: 'text', data: 'héllo' }],
    ['json', { ...base, kind: 'user', eventName: 'move', dataType: 'json', data: { x: [1, 2] } }],
    [
      'binary',
      {
        ...base,
        kind: 'user',
        eventName: 'blob',
        dataType: 'binary',
        data: Uint8Array.from([0, 255, 7]),
      },
    ],
  ];

  it.each(cases)('%s: headers and payload read back', (_name, event) => {
    const request = writeCloudEvent({ ...event, userId: 'alice', connectionState: { a: 1 } });
    const headers = readEventHeaders(received(request));
    expect(headers).toMatchObject({
      kind: event.kind,
      hub: 'chat',
      connectionId: 'conn-1',
      userId: 'alice',
      origin: ORIGIN,
      clientProtocol: 'default',
      awpsVersion: '1.0',
    });
    expect(decodeConnectionState(headers.connectionState)).toEqual({ a: 1 });
    expect(new SignatureVerifier([KEY]).verify('conn-1', headers.signature)).toBe(true);
    switch (event.kind) {
      case 'user': {
        expect(headers.eventName).toBe(event.eventName);
        const dataType = assertUserEventContentType(headers.contentType);
        expect(dataType).toBe(event.dataType);
        const payload = readUserEventPayload(bytes(request), dataType);
        expect(payload.data).toEqual(
          event.dataType === 'binary' ? Buffer.from(event.data as Uint8Array) : event.data,
        );
        break;
      }
      case 'disconnected':
        assertJsonContentType(headers.contentType, 'disconnected');
        expect(readDisconnectedPayload(bytes(request))).toEqual({ reason: 'gone' });
        break;
      case 'groupJoined':
      case 'groupLeft':
        expect(headers.eventName).toBe(event.kind === 'groupJoined' ? 'joined' : 'left');
        expect(readGroupPayload(bytes(request), 'group')).toEqual({ group: 'room-1' });
        break;
      default:
        expect(headers.eventName).toBe('connected');
    }
  });

  it('connect with claims, query, client headers, subprotocols and certificates', () => {
    const connect = {
      claims: { sub: ['alice'], role: ['admin'] },
      query: { access_token: ['t'], room: ['a'] },
      clientHeaders: { host: ['example'], 'x-trace': ['1', '2'] },
      subprotocols: ['json.webpubsub.azure.v1', 'protobuf.webpubsub.azure.v1'],
      clientCertificates: [{ thumbprint: 'ABC', content: '-----BEGIN CERTIFICATE-----' }],
    };
    const request = writeCloudEvent({ ...base, kind: 'connect', ...connect });
    expect(readEventHeaders(received(request)).kind).toBe('connect');
    const { clientHeaders, ...rest } = connect;
    expect(readConnectPayload(bytes(request))).toEqual({ ...rest, headers: clientHeaders });
  });

  it('MQTT connect: protocol version, username, password bytes, user properties', () => {
    const request = writeCloudEvent({
      ...base,
      physicalConnectionId: 'phys-1',
      kind: 'connect',
      mqtt: {
        protocolVersion: 5,
        username: 'device',
        passwordBytes: Uint8Array.from([1, 2, 250]),
        userProperties: [{ name: 'a', value: 'b' }],
      },
    });
    const headers = readEventHeaders(received(request));
    expect(headers).toMatchObject({
      clientProtocol: 'mqtt',
      physicalConnectionId: 'phys-1',
      subprotocol: 'mqtt',
    });
    expect(headers.sessionId).toBeUndefined();
    const payload = readConnectPayload(bytes(request), true);
    expect(payload.mqtt).toEqual({
      protocolVersion: 5,
      username: 'device',
      password: Buffer.from([1, 2, 250]).toString('base64'),
      passwordBytes: Buffer.from([1, 2, 250]),
      userProperties: [{ name: 'a', value: 'b' }],
    });
  });

  it('MQTT disconnected: initiatedByClient and the DISCONNECT packet', () => {
    const mqtt = {
      initiatedByClient: true,
      disconnectPacket: { code: 0x04, userProperties: [{ name: 'why', value: 'bye' }] },
    };
    const request = writeCloudEvent({
      ...base,
      physicalConnectionId: 'p',
      sessionId: 's',
      kind: 'disconnected',
      reason: 'client closed',
      mqtt,
    });
    const headers = readEventHeaders(received(request));
    expect(headers).toMatchObject({ clientProtocol: 'mqtt', sessionId: 's' });
    expect(readDisconnectedPayload(bytes(request), true)).toEqual({
      reason: 'client closed',
      mqtt,
    });
    const noPacket = writeCloudEvent({
      ...base,
      physicalConnectionId: 'p',
      kind: 'disconnected',
      mqtt: { initiatedByClient: false, disconnectPacket: null },
    });
    expect(readDisconnectedPayload(bytes(noPacket), true).mqtt).toEqual({
      initiatedByClient: false,
      disconnectPacket: null,
    });
  });
});

describe('writeHandshakeRequest', () => {
  it('is an OPTIONS with WebHook-Request-Origin and ce-awpsversion, unsigned, empty', () => {
    expect(writeHandshakeRequest(ORIGIN)).toEqual({
      method: 'OPTIONS',
      headers: { 'WebHook-Request-Origin': ORIGIN, 'ce-awpsversion': '1.0' },
      body: Buffer.alloc(0),
    });
  });
});
