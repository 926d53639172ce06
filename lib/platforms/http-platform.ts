import type { IncomingHttpHeaders } from 'node:http';
import type { EventBody } from '../protocol/cloud-event.reader.js';
import type { WireResponse } from '../protocol/response.writer.js';
import { Header } from '../protocol/headers.js';

/** What the module needs from a request, on either platform. */
export interface PlatformRequest {
  readonly method?: string;
  readonly url?: string;
  readonly headers: IncomingHttpHeaders;
  readonly body?: unknown;
  readonly rawBody?: unknown;
}

/**
 * The module's view of the HTTP platform (Express or Fastify): how to get at a request's bytes
 * and how to send a {@link WireResponse}. Chosen once at start-up.
 */
export interface HttpPlatform {
  readonly name: 'express' | 'fastify';
  /**
   * Adapts the platform's body handling to the event handler route (runs before routes exist).
   * A platform that reads bodies before the route runs calls `beforeBody` first; it answers a
   * refused request itself and returns `false`.
   */
  install(
    beforeBody: (request: PlatformRequest, response: unknown) => boolean | Promise<boolean>,
  ): void;
  /** The request body, in whichever form the platform delivered it. */
  readBody(request: PlatformRequest): EventBody | Promise<EventBody>;
  send(response: unknown, wire: WireResponse): void;
}

/** Already-consumed request bodies, in the order of precedence of the body reader. */
export function deliveredBody(request: PlatformRequest): EventBody | undefined {
  if (Buffer.isBuffer(request.rawBody)) return { form: 'bytes', bytes: request.rawBody };
  const body = request.body;
  if (Buffer.isBuffer(body)) return { form: 'bytes', bytes: body };
  if (typeof body === 'string') return { form: 'text', text: body };
  return undefined;
}

/**
 * The abuse-protection handshake as the service sends it (`OPTIONS`/`GET` with
 * `WebHook-Request-Origin`), not a browser's CORS preflight (`Access-Control-Request-Method`).
 */
export function isHandshakeRequest(request: {
  readonly method?: string;
  readonly headers: PlatformRequest['headers'];
}): boolean {
  const method = request.method;
  return (
    (method === 'OPTIONS' || method === 'GET') &&
    request.headers[Header.webhookRequestOrigin] !== undefined &&
    request.headers['access-control-request-method'] === undefined
  );
}
