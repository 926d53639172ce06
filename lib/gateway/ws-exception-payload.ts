import { IntrinsicException, Logger } from '@nestjs/common';

/** Nest's `BaseWsExceptionFilter` logger. */
const logger = new Logger('WsExceptionsHandler');

/**
 * The message Nest's `BaseWsExceptionFilter` (11 and 12, default options) emits for `error`,
 * thrown by the handler of `pattern` given `data`: a `WsException` with an object → that object;
 * with a string → `{ status: 'error', message, cause: { pattern, data } }`; anything else →
 * `'Internal server error'`, logged (unless an `IntrinsicException`), its details never sent.
 * For handlers called directly (no filter can apply to them).
 */
export function wsExceptionMessage(
  error: unknown,
  pattern: string,
  data: unknown,
): { event: 'exception'; data: unknown } {
  const cause = { pattern, data };
  if (isWsException(error)) {
    const result = error.getError();
    if (result !== null && result !== undefined && typeof result === 'object')
      return { event: 'exception', data: result };
    return { event: 'exception', data: { status: 'error', message: result, cause } };
  }
  if (!(error instanceof IntrinsicException)) logger.error(error);
  return {
    event: 'exception',
    data: { status: 'error', message: 'Internal server error', cause },
  };
}

/** `instanceof WsException` without loading `@nestjs/websockets`: by its prototype chain. */
function isWsException(error: unknown): error is { getError(): unknown } {
  if (error === null || typeof error !== 'object') return false;
  for (let proto = Object.getPrototypeOf(error); proto; proto = Object.getPrototypeOf(proto)) {
    const type = (proto as { constructor?: { name?: string } }).constructor;
    if (
      type?.name === 'WsException' &&
      typeof (error as { getError?: unknown }).getError === 'function'
    )
      return true;
  }
  return false;
}
