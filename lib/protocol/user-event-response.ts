import type { UserEventDataType } from './headers.js';

/** A value a user-event handler may return as reply data. */
export type UserEventData = string | Uint8Array | ArrayBuffer | object | number | boolean;

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
  ) {}

  /** @internal use {@link userEventResponse} */
  static create(data: UserEventData, dataType: UserEventDataType): UserEventResponse {
    return new UserEventResponse(encode(data, dataType), dataType);
  }
}

/**
 * Builds an explicit user-event reply. Strings and bytes are sent as they are; with `'json'`
 * other values are serialised with `JSON.stringify`, with `'text'` with `String()`.
 * @throws TypeError for a non-byte, non-string value with `'binary'`.
 * @publicApi
 */
export function userEventResponse(data: UserEventData, dataType: UserEventDataType): UserEventResponse {
  return UserEventResponse.create(data, dataType);
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
      throw new TypeError('userEventResponse(data, "binary") needs a string, Buffer, Uint8Array or ArrayBuffer');
  }
}

/** Bytes of a Buffer, typed array, DataView or ArrayBuffer without copying; `undefined` otherwise. */
export function toBuffer(value: unknown): Buffer | undefined {
  if (Buffer.isBuffer(value)) return value;
  if (ArrayBuffer.isView(value)) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (value instanceof ArrayBuffer) return Buffer.from(value);
  return undefined;
}
