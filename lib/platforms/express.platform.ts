import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EventBody } from '../protocol/cloud-event.reader.js';
import { EVENT_TYPE_PREFIX, Header } from '../protocol/headers.js';
import type { WireResponse } from '../protocol/response.writer.js';
import { EMPTY_BODY, readBoundedBody } from '../protocol/body.reader.js';
import {
  deliveredBody,
  isHandshakeRequest,
  type HttpPlatform,
  type PlatformRequest,
} from './http-platform.js';

/** Names of the body-parser middlewares (Nest's defaults and `app.useBodyParser()`'s). */
const BODY_PARSERS = new Set(['jsonParser', 'urlencodedParser', 'textParser', 'rawParser']);
/** The name of the middleware of the `cors` package (`app.enableCors()`, the `cors` option). */
const CORS_MIDDLEWARE = 'corsMiddleware';
const BYPASSED = Symbol('webPubSubBypass');

type Middleware = ((req: IncomingMessage, res: ServerResponse, next: () => void) => void) & {
  [BYPASSED]?: true;
};
interface ExpressLayer {
  handle?: Middleware;
}
interface ExpressApp {
  router?: { stack?: ExpressLayer[] };
  _router?: { stack?: ExpressLayer[] };
}

/**
 * Express: body parsers are told to leave Web PubSub events alone, so the module reads each
 * event's bytes itself (byte-exact, bounded by `maxBodySize`, whatever the parsers' limits).
 */
export class ExpressPlatform implements HttpPlatform {
  readonly name = 'express';

  constructor(
    private readonly app: ExpressApp,
    private readonly path: string,
    private readonly maxBodySize: number,
  ) {}

  /**
   * Express runs no parser on Web PubSub events, so the route itself inspects before reading.
   * The CORS middleware (registered before the module's routes) lets the abuse-protection
   * handshake through to the module's route, which answers it.
   */
  install(): void {
    const stack = (this.app.router ?? this.app._router)?.stack;
    if (!Array.isArray(stack)) return;
    for (const layer of stack) {
      const handle = layer?.handle;
      if (typeof handle !== 'function' || handle[BYPASSED]) continue;
      if (BODY_PARSERS.has(handle.name)) layer.handle = this.bypass(handle);
      else if (handle.name === CORS_MIDDLEWARE) layer.handle = this.bypassCors(handle);
    }
  }

  /** Wraps the CORS middleware so it skips the handshake on the module's routes. */
  private bypassCors(cors: Middleware): Middleware {
    const path = this.path;
    const wrapped = {
      [cors.name](req: IncomingMessage, res: ServerResponse, next: () => void) {
        if (isHandshakeRequest(req) && isModulePath(req.url, path)) next();
        else cors(req, res, next);
      },
    }[cors.name] as Middleware;
    wrapped[BYPASSED] = true;
    return wrapped;
  }

  /** Wraps a parser (keeping its name, which Nest looks for) so it skips Web PubSub events. */
  private bypass(parser: Middleware): Middleware {
    const path = this.path;
    const wrapped = {
      [parser.name](req: IncomingMessage, res: ServerResponse, next: () => void) {
        const type = req.headers[Header.type];
        if (
          typeof type === 'string' &&
          type.startsWith(EVENT_TYPE_PREFIX) &&
          req.url?.includes(path)
        ) {
          next();
          return;
        }
        parser(req, res, next);
      },
    }[parser.name] as Middleware;
    wrapped[BYPASSED] = true;
    return wrapped;
  }

  readBody(request: PlatformRequest): EventBody | Promise<EventBody> {
    const delivered = deliveredBody(request);
    if (delivered) return delivered;
    const stream = request as unknown as IncomingMessage;
    if (!stream.readableEnded) {
      return readBoundedBody(stream, { limit: this.maxBodySize, limitName: 'maxBodySize' }).then(
        bytes => ({ form: 'bytes', bytes }),
      );
    }
    if (request.body !== undefined) return { form: 'parsed', value: request.body };
    return { form: 'bytes', bytes: EMPTY_BODY };
  }

  send(response: unknown, wire: WireResponse): void {
    const res = response as ServerResponse;
    res.statusCode = wire.status;
    const headers = wire.headers;
    for (const name in headers) res.setHeader(name, headers[name]);
    res.end(wire.body);
  }
}

/**
 * Whether `url` is the module's route: its path ends with `path` or `path/<event>` (whatever
 * global prefix or RouterModule path comes before).
 */
export function isModulePath(url: string | undefined, path: string): boolean {
  if (url === undefined) return false;
  const query = url.indexOf('?');
  let pathname = query === -1 ? url : url.slice(0, query);
  if (pathname.length > 1 && pathname.endsWith('/')) pathname = pathname.slice(0, -1);
  if (pathname.endsWith(path)) return true;
  const slash = pathname.lastIndexOf('/');
  return slash > 0 && pathname.slice(0, slash).endsWith(path);
}
