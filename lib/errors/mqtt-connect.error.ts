import { HttpException } from '@nestjs/common';
import {
  copyUserProperties,
  httpStatusFromMqttConnectCode,
  mqttConnectCodeName,
  type MqttUserProperty,
  type MqttV311ConnectReturnCode,
  type MqttV500ConnectReasonCode,
} from '../protocol/mqtt.js';

/**
 * Thrown by an `@OnConnect()` handler to refuse an MQTT client with an exact CONNACK code
 * (`MqttV311ConnectReturnCode` for MQTT 3.1.1, `MqttV500ConnectReasonCode` for 5.0).
 *
 * - **MQTT client:** answered with the HTTP status its code maps to ({@link httpStatusFromMqttConnectCode},
 *   e.g. NotAuthorized → 401, Banned → 403, 3.1.1 ServerUnavailable → 503) and the JSON body
 *   `{"mqtt":{"code","reason"?,"userProperties"?}}`. A code of the other version's table is
 *   translated to its equivalent for the client's protocol version (3.1.1 NotAuthorized 5 ↔ 5.0
 *   NotAuthorized 0x87), so one handler can serve both versions.
 * - **Any other client, or thrown by a user event handler:** it is an `HttpException` with that same
 *   mapped status, so it is answered like any `HttpException`: that status (401 for the
 *   NotAuthorized / BadUsernameOrPassword codes, not always 401) with the reason (or the code's name)
 *   as the plain-text message. A handler serving both kinds of client can throw it unconditionally.
 *
 * @throws RangeError when `code` is not an integer from 1 to 255 (0 means success in MQTT).
 * @throws TypeError when `userProperties` is not a list of `{ name, value }` strings.
 * @publicApi
 */
export class MqttConnectError extends HttpException {
  /** The CONNACK code. */
  readonly code: number;
  /** The reason string (reaches MQTT 5 clients only). */
  readonly reason?: string;
  /** CONNACK user properties (reach MQTT 5 clients only). */
  readonly userProperties?: readonly MqttUserProperty[];

  constructor(
    code: MqttV311ConnectReturnCode | MqttV500ConnectReasonCode | number,
    reason?: string,
    userProperties?: readonly MqttUserProperty[],
  ) {
    if (!Number.isInteger(code) || code < 1 || code > 255) {
      throw new RangeError(
        `MqttConnectError needs an MQTT connect refusal code from 1 to 255, not ${String(code)}`,
      );
    }
    if (reason !== undefined && typeof reason !== 'string')
      throw new TypeError('MqttConnectError reason must be a string');
    const properties =
      userProperties === undefined
        ? undefined
        : copyUserProperties(userProperties, 'MqttConnectError userProperties');
    super(
      reason ?? `MQTT connect refused: ${mqttConnectCodeName(code)}`,
      httpStatusFromMqttConnectCode(code),
    );
    this.code = code;
    this.reason = reason;
    this.userProperties = properties;
  }
}
