/**
 * The emulator's REST data plane: every operation `@azure/web-pubsub` 1.2 calls, under `/api/`,
 * with the service's exact statuses (202 sends, 204 deletes and closes, 200 PUTs and
 * add/remove-to-groups, 200/404 HEADs). It authenticates, validates and translates requests, then
 * acts only through `HubOperations`. Every call is recorded in the traffic log and logged in one line.
 *
 * Answers a client can act on: 400 (bad input, naming it), 401 (bad token, saying why), 404
 * (no such operation, or an unknown connection, user or group where the service says so), 405, 413
 * (body over 1 MB), 415 (content type), 501 (an operation the emulator does not implement), 500 (a
 * fault of the emulator itself; never a stack trace). Error answers take the service's forms, codes
 * and wording (`rest-errors.ts`).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { audienceKey, verifyAccessToken } from '../../protocol/client-access-token.js';
import { hubNameProblem } from '../../protocol/names.js';
import { quote } from '../../protocol/text.js';
import { OperationNotImplementedError, type HubOperations } from '../state/hub-operations.js';
import { DEFAULT_HTTP_LIMITS, type HttpLimits } from '../http-limits.js';
import {
  badRequest,
  emulatorFailure,
  invalidParameter,
  noSuchOperation,
  RestError,
  SERVICE_API_VERSIONS,
  ServiceErrorCode,
  writeRestError,
} from './rest-errors.js';
import { elapsedMs, mediaBody, type TrafficLog } from '../traffic-log.js';

import { Call, checkGroupName, REST_MAX_BODY_BYTES } from './rest-call.js';
import { matchPath, MEMBER, OK, ROUTES_BY_LENGTH, type Answer } from './rest-routes.js';

/** How much of a body the traffic log keeps. */

export {
  DEFAULT_PAGE_SIZE,
  MAX_MESSAGE_TTL_SECONDS,
  MAX_PAGE_SIZE,
  REST_API_VERSION,
  REST_MAX_BODY_BYTES,
} from './rest-call.js';

export interface RestApiOptions {
  readonly hubs: HubOperations;
  /** The key REST tokens must be signed with, and client tokens from `:generateToken` are. */
  readonly accessKey: string;
  readonly traffic: TrafficLog;
  /** One line per call. */
  readonly log: (line: string) => void;
  /** Request body limit in bytes (default 1 MB, as the service). */
  readonly maxBodyBytes?: number;
  /** How slowly a body may arrive before the call is answered 408 (default: Kestrel's, see `http-limits.ts`). */
  readonly limits?: HttpLimits;
}

export interface RestApi {
  /** Answers any request whose path starts with `/api/`. Never rejects. */
  handleRestRequest(req: IncomingMessage, res: ServerResponse): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// The factory

/** The part of a request URL after `/api/`, split raw and decoded segment by segment. */
function splitPath(rawPath: string): string[] {
  return rawPath
    .slice('/api/'.length)
    .split('/')
    .map(segment => {
      try {
        return decodeURIComponent(segment);
      } catch {
        throw badRequest(`Path segment ${quote(segment)} is not valid percent-encoding`);
      }
    });
}

const safeDecode = (text: string): string => {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
};

export function createRestApi(options: RestApiOptions): RestApi {
  const { hubs, accessKey, traffic, log } = options;
  const maxBodyBytes = options.maxBodyBytes ?? REST_MAX_BODY_BYTES;
  const limits = options.limits ?? DEFAULT_HTTP_LIMITS;

  async function authenticate(req: IncomingMessage, rawPath: string): Promise<void> {
    const header = req.headers.authorization;
    if (!header) {
      throw unauthorized(
        'The Authorization header is missing: send "Bearer <JWT signed with the access key>"',
      );
    }
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) throw unauthorized('The Authorization header is not "Bearer <token>"');
    // The SDK's audience is the whole request URL; the service compares host and path only,
    // raw or decoded once, whatever the scheme and query.
    const expected = audienceKey(`http://${req.headers.host ?? 'localhost'}${rawPath}`);
    const expectedDecoded = expected === undefined ? undefined : safeDecode(expected);
    const result = await verifyAccessToken(match[1], accessKey, {
      audience: aud => {
        const key = audienceKey(aud);
        return key !== undefined && (key === expected || safeDecode(key) === expectedDecoded);
      },
    });
    if (!result.ok) {
      const message =
        result.reason === 'wrong-audience'
          ? `${result.message}: expected the request URL, ${quote(`http://${req.headers.host ?? ''}${rawPath}`)} (host and path are compared)`
          : result.message;
      throw unauthorized(message);
    }
  }

  async function handleRestRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = Date.now();
    const startedAt = performance.now();
    const method = req.method ?? 'GET';
    const rawUrl = req.url ?? '/';
    const queryStart = rawUrl.indexOf('?');
    const rawPath = queryStart < 0 ? rawUrl : rawUrl.slice(0, queryStart);
    const query = new URLSearchParams(queryStart < 0 ? '' : rawUrl.slice(queryStart + 1));
    let operation = 'unknown';
    let hub = '';
    let call: Call | undefined;
    let answer: Answer;
    let error: RestError | undefined;
    try {
      const segments = rawPath.startsWith('/api/') ? splitPath(rawPath) : [];
      if (segments.length === 1 && segments[0].toLowerCase() === 'health') {
        operation = 'getServiceStatus';
        if (method !== 'HEAD' && method !== 'GET') throw notAllowed(method, ['HEAD', 'GET']);
        answer = OK;
      } else {
        if (segments.length < 3 || segments[0].toLowerCase() !== 'hubs')
          throw noSuchOperation(method, rawPath);
        hub = segments[1];
        const rest = segments.slice(2);
        const candidates = (ROUTES_BY_LENGTH.get(rest.length) ?? [])
          .map(route => ({ route, params: matchPath(route.path, rest) }))
          .filter(m => m.params !== undefined);
        if (candidates.length === 0) throw noSuchOperation(method, rawPath);
        const matched = candidates.find(m => m.route.method === method);
        if (!matched)
          throw notAllowed(
            method,
            candidates.map(m => m.route.method),
          );
        const { route } = matched;
        const params = matched.params as Map<string, string>;
        operation = route.operation;
        await authenticate(req, rawPath);
        const hubProblem = hubNameProblem(hub);
        if (hubProblem) throw invalidParameter('hub', hubProblem);
        for (const [name, value] of params) {
          if (name === 'group') checkGroupName(value);
          else if (value === '') throw badRequest(`${name} is empty`);
        }
        const member = MEMBER[operation];
        if (member !== undefined && typeof hubs[member] !== 'function') {
          throw new OperationNotImplementedError(operation);
        }
        call = new Call(req, hubs, hub, params, query, accessKey, maxBodyBytes, limits);
        answer = await route.run(call);
      }
    } catch (thrown) {
      error = toRestError(thrown);
      answer = { status: error.status };
    }
    let responseBody: string | undefined;
    let responseHeaders: Record<string, string> = {};
    try {
      ({ body: responseBody, headers: responseHeaders } = send(
        res,
        method,
        answer,
        error,
        req.complete,
      ));
    } catch {
      // The socket is gone; nothing more can be said to this client.
      res.destroy();
    }
    // A failing log sink or live-view listener must not become an unhandled rejection.
    const durationMs = elapsedMs(startedAt);
    const target = call ? [...call.params.values()].join(' · ') : '';
    const url = redactUrl(rawUrl);
    const line = `REST ${method} ${url} -> ${answer.status} ${operation} (${durationMs} ms)${error ? `: ${error.message}` : ''}`;
    try {
      log(line);
    } catch {
      // A log sink that throws cannot be told about it.
    }
    try {
      traffic.record({
        kind: 'rest',
        time: started,
        hub,
        action: operation,
        method,
        url,
        status: answer.status,
        durationMs,
        ...(target === '' ? {} : { target }),
        ...(call?.dataType === undefined ? {} : { dataType: call.dataType }),
        ...(call?.reach === undefined ? {} : { reach: call.reach }),
        detail: error?.message,
        request: {
          headers: redactHeaders(req.headers),
          body:
            call?.requestBody === undefined
              ? undefined
              : mediaBody(call.requestBody, req.headers['content-type']),
        },
        response: {
          headers: { ...stringHeaders(res.getHeaders()), ...responseHeaders },
          body:
            operation === 'generateClientToken' && !error ? '{"token":"<redacted>"}' : responseBody,
        },
      });
    } catch (thrown) {
      try {
        log(
          `REST traffic record failed: ${thrown instanceof Error ? thrown.message : String(thrown)}`,
        );
      } catch {
        // as above
      }
    }
  }

  return { handleRestRequest };
}

function unauthorized(message: string): RestError {
  return new RestError(401, ServiceErrorCode.unauthorized, message, 'Authorization', 'detail', {
    'www-authenticate': 'Bearer error="invalid_token"',
  });
}

function notAllowed(method: string, allowed: string[]): RestError {
  return new RestError(
    405,
    ServiceErrorCode.methodNotAllowed,
    `Method ${method} is not allowed here; allowed: ${allowed.join(', ')}`,
    'Request',
    'detail',
    { allow: allowed.join(', ') },
  );
}

function toRestError(thrown: unknown): RestError {
  if (thrown instanceof RestError) return thrown;
  if (thrown instanceof OperationNotImplementedError) {
    return new RestError(501, ServiceErrorCode.notImplemented, thrown.message, 'Request');
  }
  return emulatorFailure(thrown);
}

/** Writes the answer; returns the body text and the headers written, for the traffic record. */
function send(
  res: ServerResponse,
  method: string,
  answer: Answer,
  error: RestError | undefined,
  requestComplete: boolean,
): { body: string | undefined; headers: Record<string, string> } {
  if (res.headersSent) {
    res.end();
    return { body: undefined, headers: {} };
  }
  let headers: Record<string, string>;
  let text: string | undefined;
  if (error) {
    ({ headers, body: text } = writeRestError(error));
  } else {
    headers = { 'api-supported-versions': SERVICE_API_VERSIONS };
    if (answer.body !== undefined) {
      text = JSON.stringify(answer.body);
      headers['content-type'] = 'application/json; charset=utf-8';
    }
  }
  // Answered before its body arrived (refused, or too slow): the connection closes with the
  // answer rather than wait for the rest of a body that may never come.
  if (!requestComplete) headers.connection = 'close';
  const payload = text === undefined ? undefined : Buffer.from(text);
  // No Content-Length on 204 (RFC 9110 §8.6). A HEAD answer says the length, as the service's do,
  // and sends no body.
  if (answer.status !== 204) headers['content-length'] = String(payload?.length ?? 0);
  res.writeHead(answer.status, headers);
  // Nothing more is read from a connection that closes: its socket goes with the answer.
  const socket = res.socket;
  if (headers.connection === 'close') res.once('finish', () => socket?.destroy());
  if (method === 'HEAD') {
    res.end();
    return { body: undefined, headers };
  }
  res.end(payload);
  return { body: text, headers };
}

function redactUrl(rawUrl: string): string {
  return rawUrl.replace(/([?&]access_token=)[^&]*/gi, '$1<redacted>');
}

function redactHeaders(headers: IncomingMessage['headers']): Record<string, string> {
  const result = stringHeaders(headers);
  if (result.authorization !== undefined) {
    result.authorization = result.authorization.replace(/^(\S+\s+).*$/, '$1<redacted>');
    if (!result.authorization.endsWith('<redacted>')) result.authorization = '<redacted>';
  }
  return result;
}

function stringHeaders(
  headers: Record<string, number | string | string[] | undefined>,
): Record<string, string> {
  // Keyed by header names from the request: no prototype to shadow or set.
  const result: Record<string, string> = Object.create(null);
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) result[name] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return result;
}
