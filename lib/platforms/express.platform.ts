import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EventBody } from '../protocol/cloud-event.reader.js';
import { EVENT_TYPE_PREFIX, Header } from '../protocol/headers.js';
import type { WireResponse } from '../protocol/response.writer.js';
import { EMPTY_BODY, readBoundedBody } from './body.reader.js';
import { deliveredBody, type HttpPlatform, type PlatformRequest } from './http-platform.js';

/** Names of the body-parser middlewares (Nest's defaults and `app.useBodyParser()`'s). */
const BODY_PARSERS = new Set(['jsonParser', 'urlencodedParser', 'textParser', 'rawParser']);
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

  /** Express runs no parser on Web PubSub events, so the route itself inspects before reading. */
  install(): void {
    const stack = (this.app.router ?? this.app._router)?.stack;
    if (!Array.isArray(stack)) return;
    for (const layer of stack) {
      const handle = layer?.handle;
      if (typeof handle === 'function' && BODY_PARSERS.has(handle.name) && !handle[BYPASSED]) {
        layer.handle = this.bypass(handle);
      }
    }
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
      return readBoundedBody(stream, this.maxBodySize).then(bytes => ({ form: 'bytes', bytes }));
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
