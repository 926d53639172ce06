/**
 * `MqttConnectError`, the refusal an MQTT connect handler throws: an `HttpException` with the
 * status its code maps to, the code named in its message when there is no reason, a frozen copy of
 * the user properties, codes outside the tables refused with a `RangeError` and malformed user
 * properties with a `TypeError`; the MQTT request guards narrow MQTT requests and refuse default
 * clients.
 */
import { HttpException } from '@nestjs/common';
import {
  isMqttConnectRequest,
  isMqttDisconnectedRequest,
  isMqttUserEventRequest,
  MqttConnectError,
  MqttV311ConnectReturnCode,
  MqttV500ConnectReasonCode,
  type ConnectRequest,
  type DisconnectedRequest,
  type UserEventRequest,
} from '../../../lib/index.js';

describe('MqttConnectError', () => {
  it('is an HttpException with the status its code maps to', () => {
    const error = new MqttConnectError(MqttV500ConnectReasonCode.Banned, 'banned');
    expect(error).toBeInstanceOf(HttpException);
    expect(error.getStatus()).toBe(403);
    expect(error.code).toBe(0x8a);
    expect(error.reason).toBe('banned');
    expect(error.message).toBe('banned');
    expect(error.name).toBe('MqttConnectError');
  });

  it.each([
    [MqttV311ConnectReturnCode.NotAuthorized, 401],
    [MqttV311ConnectReturnCode.ServerUnavailable, 503],
    [MqttV500ConnectReasonCode.QuotaExceeded, 429],
    [MqttV500ConnectReasonCode.ServerBusy, 500],
  ])('code %i → status %i', (code, status) => {
    expect(new MqttConnectError(code).getStatus()).toBe(status);
  });

  it('names the code in its message when there is no reason, and keeps reason undefined', () => {
    const error = new MqttConnectError(MqttV311ConnectReturnCode.IdentifierRejected);
    expect(error.message).toBe('MQTT connect refused: IdentifierRejected');
    expect(error.getResponse()).toBe('MQTT connect refused: IdentifierRejected');
    expect(error.reason).toBeUndefined();
  });

  it('keeps a frozen copy of the user properties', () => {
    const given = [{ name: 'a', value: '1' }];
    const error = new MqttConnectError(0x87, undefined, given);
    given[0].value = 'changed';
    expect(error.userProperties).toEqual([{ name: 'a', value: '1' }]);
    expect(Object.isFrozen(error.userProperties)).toBe(true);
  });

  it.each([0, -1, 256, 1.5, NaN])('refuses the code %p with a RangeError', code => {
    expect(() => new MqttConnectError(code)).toThrow(RangeError);
  });

  it('refuses malformed user properties with a TypeError', () => {
    expect(() => new MqttConnectError(5, 'r', [{ name: 'a' } as never])).toThrow(TypeError);
  });
});

describe('MQTT request guards', () => {
  const context = (clientProtocol: 'mqtt' | 'default') =>
    ({ clientProtocol }) as ConnectRequest['context'];

  it('narrow MQTT requests', () => {
    expect(
      isMqttConnectRequest({
        context: context('mqtt'),
        mqtt: { protocolVersion: 4 },
      } as ConnectRequest),
    ).toBe(true);
    expect(
      isMqttDisconnectedRequest({
        context: context('mqtt'),
        mqtt: { initiatedByClient: false, disconnectPacket: null },
      } as DisconnectedRequest),
    ).toBe(true);
    expect(
      isMqttUserEventRequest({
        context: context('mqtt'),
        mqtt: { userProperties: [] },
      } as unknown as UserEventRequest),
    ).toBe(true);
  });

  it('refuse default clients', () => {
    expect(isMqttConnectRequest({ context: context('default') } as ConnectRequest)).toBe(false);
    expect(isMqttDisconnectedRequest({ context: context('default') } as DisconnectedRequest)).toBe(
      false,
    );
    expect(
      isMqttUserEventRequest({ context: context('default') } as unknown as UserEventRequest),
    ).toBe(false);
  });
});
