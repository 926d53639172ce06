import { toBuffer } from '../protocol/user-event-response.js';

/** What a gateway may send: text, bytes, or any value with a JSON form. */
export type WebPubSubMessage =
  string | Buffer | Uint8Array | ArrayBuffer | object | number | boolean;

/** One of the SDK's send methods, with its overloads folded into one signature. */
export type SendMethod = (message: never, options?: never) => Promise<void>;

/**
 * Sends `data` through an SDK send method, typed as Web PubSub clients then receive it: a string
 * as text, bytes as binary, anything else as JSON (the same mapping as a handler's reply).
 * @throws TypeError (as a rejection) for `undefined`, functions and symbols: no JSON form.
 */
export function sendThrough(send: SendMethod, data: unknown, options: object = {}): Promise<void> {
  const call = send as (message: unknown, options?: object) => Promise<void>;
  if (typeof data === 'string') return call(data, { ...options, contentType: 'text/plain' });
  const bytes = toBuffer(data);
  if (bytes) return call(bytes, options);
  if (data === undefined || typeof data === 'function' || typeof data === 'symbol')
    return Promise.reject(
      new TypeError(`Cannot send ${typeof data}: send a string, bytes or a JSON value`),
    );
  return call(data, options);
}

/** The `{ event, data }` JSON message of `emit()`, the shape of Nest's `WsResponse`. */
export function eventMessage(event: string, data: unknown): { event: string; data: unknown } {
  if (typeof event !== 'string' || event === '')
    throw new TypeError('emit(event, data) needs a non-empty event name');
  return { event, data };
}
