import type { UserEventDataType } from './headers.js';
import { copyUserProperties, mqttUserPropertyHeaders, type MqttUserProperty } from './mqtt.js';

/** A value a user-event handler may return as reply data. */
export type UserEventData = string | Uint8Array | ArrayBuffer | object | number | boolean;

/** Options of {@link userEventResponse}. @publicApi */
export interface UserEventResponseOptions {
  /**
   * MQTT clients only: user properties of the reply message, sent as `mqtt-<name>` response
   * headers (dropped for other clients, which have no place for them). Names must be HTTP header
   * tokens and values header-safe ASCII (see {@link mqttUserPropertyHeaders}).
   */
  userProperties?: readonly MqttUserProperty[];
}

/**
 * An explicit user-event reply: the handler chooses the data type (and so the WebSocket frame
 * type / `dataType` the client receives) instead of letting the module infer it.
 * Create it with {@link userEventResponse}.
 */
export class UserEventResponse {
  private constructor(
    /** The encoded reply body. */
    readonly body: Buffer,
    readonly dataType: UserEventDataType,
    /** MQTT user properties of the reply (a checked, frozen copy). */
    readonly userProperties?: readonly MqttUserProperty[],
    /** @internal the `mqtt-<name>` headers of {@link userProperties}, built once. */
    readonly mqttHeaders?: Readonly<Record<string, string | readonly string[]>>,
  ) {}

  /** @internal use {@link userEventResponse} */
  static create(
    data: UserEventData,
    dataType: UserEventDataType,
    options?: UserEventResponseOptions,
  ): UserEventResponse {
    const body = encode(data, dataType);
    const given = options?.userProperties;
    if (given === undefined) return new UserEventResponse(body, dataType);
    const userProperties = copyUserProperties(given, 'userEventResponse options.userProperties');
    const headers = mqttUserPropertyHeaders(
      userProperties,
      'userEventResponse options.userProperties',
    );
    return new UserEventResponse(body, dataType, userProperties, headers);
  }
}

/**
 * Builds an explicit user-event reply. Strings and bytes are sent as they are; with `'json'`
 * other values are serialised with `JSON.stringify`, with `'text'` with `String()`.
 * `options.userProperties` become `mqtt-<name>` response headers for MQTT clients.
 * @throws TypeError for a non-byte, non-string value with `'binary'`, and for user properties
 * that are not `{ name, value }` strings, whose name is not an HTTP header token or whose value is
 * not header-safe ASCII.
 * @publicApi
 */
export function userEventResponse(
  data: UserEventData,
  dataType: UserEventDataType,
  options?: UserEventResponseOptions,
): UserEventResponse {
  return UserEventResponse.create(data, dataType, options);
}

function encode(data: UserEventData, dataType: UserEventDataType): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  const bytes = toBuffer(data);
  if (bytes) return bytes;
  switch (dataType) {
    case 'json':
      return Buffer.from(JSON.stringify(data), 'utf8');
    case 'text':
      return Buffer.from(String(data), 'utf8');
    case 'binary':
    case 'protobuf':
      throw new TypeError(
        `userEventResponse(data, "${dataType}") needs a string, Buffer, Uint8Array or ArrayBuffer`,
      );
  }
}

/** Bytes of a Buffer, typed array, DataView or ArrayBuffer without copying; `undefined` otherwise. */
export function toBuffer(value: unknown): Buffer | undefined {
  if (Buffer.isBuffer(value)) return value;
  if (ArrayBuffer.isView(value))
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (value instanceof ArrayBuffer) return Buffer.from(value);
  return undefined;
}
