import type { Logger } from '@nestjs/common';
import { mediaType, type EventBody } from '../protocol/cloud-event.reader.js';
import { ContentType } from '../protocol/headers.js';
import type { WireResponse } from '../protocol/response.writer.js';
import { WEB_PUBSUB_HANDSHAKE_MARKER, WEB_PUBSUB_ROUTE_MARKER } from '../web-pubsub.constants.js';
import { Messages } from '../web-pubsub.messages.js';
import { EMPTY_BODY } from '../protocol/body.reader.js';
import { isHandshakeRequest, type HttpPlatform, type PlatformRequest } from './http-platform.js';

type RouteHook = (request: PlatformRequest, reply: unknown, done: () => void) => void;
interface RouteOptionsLike {
  config?: Record<string, unknown>;
  bodyLimit?: number;
  onRequest?: RouteHook | RouteHook[];
}

/** The few members of a Fastify instance the module uses (no runtime import of fastify). */
interface FastifyInstanceLike {
  initialConfig?: { bodyLimit?: number };
  hasContentTypeParser(type: string): boolean;
  addContentTypeParser(
    type: string,
    options: { parseAs: 'buffer' },
    parser: (
      request: unknown,
      body: Buffer,
      done: (error: Error | null, body?: unknown) => void,
    ) => void,
  ): void;
  addHook(name: 'onRoute', hook: (route: RouteOptionsLike) => void): void;
}

/** Nest's Fastify adapter (12) keeps the `app.enableCors()` request hook here. */
interface FastifyAdapterLike {
  corsHook?: RouteHook;
}

type RoutedRequest = PlatformRequest & { routeOptions?: { config?: Record<string, unknown> } };

interface FastifyReplyLike {
  code(status: number): FastifyReplyLike;
  headers(headers: Record<string, unknown>): FastifyReplyLike;
  send(body?: unknown): FastifyReplyLike;
}

/**
 * Fastify: the module registers the `application/octet-stream` and `application/x-protobuf`
 * parsers binary and protobuf events need (unless the app has them) and gives its own route a `bodyLimit` of `maxBodySize` and an `onRequest` hook
 * that inspects each event before its body is read.
 */
export class FastifyPlatform implements HttpPlatform {
  readonly name = 'fastify';

  constructor(
    private readonly fastify: FastifyInstanceLike,
    private readonly maxBodySize: number,
    private readonly logger: Logger,
    private readonly adapter?: object,
  ) {}

  install(
    beforeBody: (request: PlatformRequest, response: unknown) => boolean | Promise<boolean>,
  ): void {
    const fastify = this.fastify;
    for (const contentType of [ContentType.binary, ContentType.protobuf]) {
      if (fastify.hasContentTypeParser(contentType)) continue;
      // No parser-level bodyLimit: the route's limit (maxBodySize) applies.
      fastify.addContentTypeParser(contentType, { parseAs: 'buffer' }, (_request, body, done) =>
        done(null, body),
      );
    }
    const maxBodySize = this.maxBodySize;
    // Inspect (attributes, hub, signature, content type) before Fastify looks for a parser and
    // reads the body: a refused request is answered without reading it, as on Express.
    const inspect: RouteHook = (request, reply, done) => {
      const passed = beforeBody(request, reply);
      if (passed === true) done();
      else if (passed !== false) void passed.then(ok => ok && done());
    };
    fastify.addHook('onRoute', route => {
      if (route.config?.[WEB_PUBSUB_ROUTE_MARKER] !== true) return;
      route.bodyLimit = maxBodySize;
      route.onRequest = [
        ...(route.onRequest === undefined ? [] : ([] as RouteHook[]).concat(route.onRequest)),
        inspect,
      ];
    });
    this.guardCors();
    const fastifyLimit = fastify.initialConfig?.bodyLimit;
    if (typeof fastifyLimit === 'number' && fastifyLimit < maxBodySize) {
      this.logger.warn(Messages.bodyLimitBelowMax(fastifyLimit, maxBodySize));
    }
  }

  /**
   * Nest's Fastify adapter runs the CORS hook of `app.enableCors()` (or the `cors` option) in a
   * request hook of its own, before any the module could add, and it answers every `OPTIONS`:
   * the hook is wrapped (whenever it is set) so it lets the handshake on the module's routes
   * through to them.
   */
  private guardCors(): void {
    const adapter = this.adapter as FastifyAdapterLike | undefined;
    if (!adapter || !('corsHook' in adapter)) return;
    const wrap = (hook: RouteHook | undefined): RouteHook | undefined =>
      hook &&
      ((request, reply, done) => {
        const config = (request as RoutedRequest).routeOptions?.config;
        if (config?.[WEB_PUBSUB_HANDSHAKE_MARKER] === true && isHandshakeRequest(request)) done();
        else hook(request, reply, done);
      });
    let current = wrap(adapter.corsHook);
    Object.defineProperty(adapter, 'corsHook', {
      configurable: true,
      enumerable: true,
      get: () => current,
      set: (hook: RouteHook | undefined) => {
        current = wrap(hook);
      },
    });
  }

  readBody(request: PlatformRequest): EventBody {
    const body = request.body;
    if (Buffer.isBuffer(body)) return { form: 'bytes', bytes: body };
    // JSON arrives parsed by Fastify (any JSON value, a string included): use it rather than
    // parse rawBody again.
    if (mediaType(request.headers['content-type']) === 'application/json')
      return { form: 'parsed', value: body };
    if (typeof body === 'string') return { form: 'text', text: body };
    if (body !== undefined) return { form: 'parsed', value: body };
    if (Buffer.isBuffer(request.rawBody)) return { form: 'bytes', bytes: request.rawBody };
    return { form: 'bytes', bytes: EMPTY_BODY };
  }

  send(response: unknown, wire: WireResponse): void {
    (response as FastifyReplyLike).code(wire.status).headers(wire.headers).send(wire.body);
  }
}
