/**
 * The REST data plane's error answers in the service's two forms, with the codes and message
 * wording the service uses. The reference is what the service answered to `@azure/web-pubsub`'s own
 * tests, as the Azure SDK for JavaScript recorded it (API versions 2023-07-01 to 2024-12-01):
 *
 * - **Detail** (most errors): `Content-Type: application/json; charset=utf-8`,
 *   `x-ms-error-code: <code>`, `api-supported-versions`, body
 *   `{"code","message","target","details":null,"inner":null}` (the SDK's `ErrorDetail`), so the
 *   SDK's `RestError.code` and `.message` are the code and the message.
 * - **Validation** (a request parameter the service's model validation refuses, such as an invalid
 *   OData `filter`): `Content-Type: application/problem+json; charset=utf-8`, `x-ms-error-code`,
 *   no `api-supported-versions`, body `{"code","message","target","errors":{<target>:[message]},
 *   "type":null,"title":"One or more validation errors occurred.","status":400,"detail":null,
 *   "instance":null,"extensions":{}}`. core-client does not parse that content type, so
 *   `RestError.message` is the body itself; the SDK's tests read `JSON.parse(error.message).message`.
 *
 * Codes the recordings show: `Error.BadRequest` (400), `Error.Connection.NotExisted` (404, adding an
 * unknown connection to a group), `Info.Connection.NotExisted` (404, a permission of an unknown
 * connection), `Warning.Connection.NotExisted` / `Warning.User.NotExisted` /
 * `Warning.Group.NotExisted` (404 answers to the existence checks). Answers the recordings do not
 * show (401, 404 for a path that is no operation, 405, 413, 415, 500, 501) keep the detail form
 * with an `Error.<status name>` code; README's table of differences lists them.
 */
import { quote } from '../../protocol/text.js';
import type { ODataFilterError } from './odata-filter.js';

/** The `api-supported-versions` header of the service's answers (2026). */
export const SERVICE_API_VERSIONS = '2021-10-01, 2022-11-01, 2023-07-01, 2024-01-01, 2024-12-01';

export const ServiceErrorCode = {
  badRequest: 'Error.BadRequest',
  /** Adding an unknown connection to a group. */
  connectionNotExisted: 'Error.Connection.NotExisted',
  /** Granting or checking a permission of an unknown connection. */
  permissionConnectionNotExisted: 'Info.Connection.NotExisted',
  /** `connectionExists` of an unknown connection. */
  connectionNotFound: 'Warning.Connection.NotExisted',
  userNotFound: 'Warning.User.NotExisted',
  groupNotFound: 'Warning.Group.NotExisted',
  unauthorized: 'Error.Unauthorized',
  /** A Socket.IO tunnel's call for a hub other than its own. */
  forbidden: 'Error.Forbidden',
  notFound: 'Error.NotFound',
  methodNotAllowed: 'Error.MethodNotAllowed',
  payloadTooLarge: 'Error.PayloadTooLarge',
  unsupportedMediaType: 'Error.UnsupportedMediaType',
  notImplemented: 'Error.NotImplemented',
  internalServerError: 'Error.InternalServerError',
} as const;

/** The service's message for any group name it refuses (1 to 1024 characters). */
export const INVALID_GROUP_NAME_MESSAGE =
  'Invalid group name. Valid group name should be in between 1 and 1024 characters long.';

/** `detail`: the service's `ErrorDetail` JSON; `validation`: its problem+json for a refused parameter. */
export type RestErrorForm = 'detail' | 'validation';

/** An error answer of the REST data plane. */
export class RestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** What the error is about: a parameter (`filter`), `Connection`, `User`, `Group` or `Request`. */
    readonly target: string,
    readonly form: RestErrorForm = 'detail',
    /** Extra headers (`WWW-Authenticate`, `Allow`). */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'RestError';
  }
}

/** 400 in the detail form. */
export function badRequest(message: string, target = 'Request'): RestError {
  return new RestError(400, ServiceErrorCode.badRequest, message, target);
}

/** 400 in the validation form, for a query parameter or a body member named `target`. */
export function invalidParameter(target: string, message: string): RestError {
  return new RestError(400, ServiceErrorCode.badRequest, message, target, 'validation');
}

/** A group name the service refuses: its own fixed wording. */
export function invalidGroupName(): RestError {
  return badRequest(INVALID_GROUP_NAME_MESSAGE);
}

/**
 * An OData filter that does not parse or type-check, in the service's words:
 * `Invalid syntax for '<filter>': <reason> (Parameter 'filter')`. `target` is `filter` for the
 * query parameter and `Filter` for the member of an `:addToGroups` / `:removeFromGroups` body.
 */
export function invalidFilter(
  filter: string,
  error: ODataFilterError,
  target: 'filter' | 'Filter',
): RestError {
  const reason = /[.!?]$/.test(error.reason)
    ? error.reason
    : `${error.reason} (position ${error.position}).`;
  return invalidParameter(target, `Invalid syntax for '${filter}': ${reason} (Parameter 'filter')`);
}

type Missing = 'connection' | 'permissionConnection' | 'groupConnection' | 'user' | 'group';

const MISSING: Record<Missing, { code: string; target: string; noun: string }> = {
  connection: {
    code: ServiceErrorCode.connectionNotFound,
    target: 'Connection',
    noun: 'Connection',
  },
  permissionConnection: {
    code: ServiceErrorCode.permissionConnectionNotExisted,
    target: 'Connection',
    noun: 'Connection',
  },
  groupConnection: {
    code: ServiceErrorCode.connectionNotExisted,
    target: 'Connection',
    noun: 'Connection',
  },
  user: { code: ServiceErrorCode.userNotFound, target: 'User', noun: 'User' },
  group: { code: ServiceErrorCode.groupNotFound, target: 'Group', noun: 'Group' },
};

/** 404 for a connection, user or group that does not exist: "Connection `id` is not found." */
export function notFound(what: Missing, name: string): RestError {
  const { code, target, noun } = MISSING[what];
  return new RestError(404, code, `${noun} \`${name}\` is not found.`, target);
}

/** 404 for a method and path that is no operation. */
export function noSuchOperation(method: string, path: string): RestError {
  return new RestError(
    404,
    ServiceErrorCode.notFound,
    `No REST operation at ${method} ${quote(path)}`,
    'Request',
  );
}

/** 500 for a failure of the emulator itself: its message, never its stack. */
export function emulatorFailure(thrown: unknown): RestError {
  const message = thrown instanceof Error ? thrown.message : String(thrown);
  return new RestError(
    500,
    ServiceErrorCode.internalServerError,
    `The emulator failed: ${message}`,
    'Request',
  );
}

/** The status line, headers and body of an error answer (on HEAD only its length is sent). */
export function writeRestError(error: RestError): {
  headers: Record<string, string>;
  body: string;
} {
  const headers: Record<string, string> = {
    ...error.headers,
    'x-ms-error-code': error.code,
  };
  let body: string;
  if (error.form === 'validation') {
    headers['content-type'] = 'application/problem+json; charset=utf-8';
    body = JSON.stringify({
      code: error.code,
      message: error.message,
      target: error.target,
      errors: { [error.target]: [error.message] },
      type: null,
      title: 'One or more validation errors occurred.',
      status: error.status,
      detail: null,
      instance: null,
      extensions: {},
    });
  } else {
    headers['content-type'] = 'application/json; charset=utf-8';
    headers['api-supported-versions'] = SERVICE_API_VERSIONS;
    body = JSON.stringify({
      code: error.code,
      message: error.message,
      target: error.target,
      details: null,
      inner: null,
    });
  }
  return { headers, body };
}
