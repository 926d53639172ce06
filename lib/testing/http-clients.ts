import type { WebPubSubTestRequest } from './event-requests.js';

/**
 * The part of a supertest request (`request(app.getHttpServer())`) the helpers use; typed
 * structurally so this package needs no supertest import.
 */
export interface SupertestLikeTest<T> {
  set(headers: Record<string, string>): T;
  send(data: Buffer): T;
  /** superagent's custom serialiser: used to send the bytes as they are, JSON included. */
  serialize?(serializer: (body: any) => string): T;
}

export interface SupertestLikeAgent<T extends SupertestLikeTest<T>> {
  post(url: string): T;
  options(url: string): T;
}

/**
 * Sends a built request with supertest and returns supertest's `Test` (await it, or chain
 * `.expect(...)`): `await sendWithSupertest(request(app.getHttpServer()), createConnectRequest())`.
 */
export function sendWithSupertest<T extends SupertestLikeTest<T>>(
  agent: SupertestLikeAgent<T>,
  request: WebPubSubTestRequest,
): T {
  const test = (
    request.method === 'OPTIONS' ? agent.options(request.url) : agent.post(request.url)
  ).set(request.headers);
  if (request.payload.length === 0) return test;
  // superagent serialises any non-string body with a JSON content type (a Buffer would become
  // {"type":"Buffer",...}): keep the bytes as built.
  const raw = test.serialize ? test.serialize(body => body) : test;
  return raw.send(request.payload);
}

/** Fastify `inject()` options for a built request (the request already has that shape; this copies it). */
export function toInjectOptions(request: WebPubSubTestRequest): {
  method: 'POST' | 'OPTIONS';
  url: string;
  headers: Record<string, string>;
  payload: Buffer;
} {
  return {
    method: request.method,
    url: request.url,
    headers: { ...request.headers },
    payload: request.payload,
  };
}

/**
 * A response from supertest, Fastify's `inject()`, `fetch` turned into this shape, or any
 * `{ status, headers, body }`.
 */
export interface TestResponseLike {
  /** supertest, fetch-like. */
  readonly status?: number;
  /** Fastify `inject()`. */
  readonly statusCode?: number;
  readonly headers: Readonly<Record<string, string | readonly string[] | number | undefined>>;
  /** supertest: the text of text and JSON bodies. */
  readonly text?: string;
  /** supertest: a Buffer for binary bodies, parsed JSON otherwise; or raw bytes/text. */
  readonly body?: unknown;
  /** Fastify `inject()`: the raw body. */
  readonly rawPayload?: Buffer;
  /** Fastify `inject()`: the body as text. */
  readonly payload?: string;
  /** supertest: Node's response, whose `rawHeaders` keep repeated header lines apart. */
  readonly res?: { readonly rawHeaders?: readonly string[] };
}
