/**
 * How long the emulator's HTTP server waits for a request, and how many stalled requests one
 * client may hold. The service runs on ASP.NET Core, whose Kestrel defaults these are: request
 * headers within 30 s (`RequestHeadersTimeout`), then a body at 240 bytes/s or more once a 5 s
 * grace period is over (`MinRequestBodyDataRate`). Node's own bound on a whole request (300 s)
 * stays. A socket whose request has been incomplete for a while is "stalled"; a client (a remote
 * address) holding `maxStalledRequestsPerClient` of them has its next connections refused with
 * 429 until they are cut. Every answer here is a JSON body naming the limit.
 */
import type { IncomingMessage, Server, ServerOptions, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { BodyDeadline } from '../protocol/body.reader.js';

export interface HttpLimits {
  /** The request line and headers must arrive within this time. Default 30 s. */
  requestHeadersTimeoutMs: number;
  /** A body may arrive slower than `requestBodyMinBytesPerSecond` for this long. Default 5 s. */
  requestBodyGracePeriodMs: number;
  /** After the grace period, the body's average rate must stay at or above this. Default 240. */
  requestBodyMinBytesPerSecond: number;
  /** Incomplete for this long, a request counts as stalled. Default 1 s. */
  requestStalledAfterMs: number;
  /** Stalled requests one client address may hold before its new connections get 429. Default 32. */
  maxStalledRequestsPerClient: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  requestHeadersTimeoutMs: 30_000,
  requestBodyGracePeriodMs: 5_000,
  requestBodyMinBytesPerSecond: 240,
  requestStalledAfterMs: 1_000,
  maxStalledRequestsPerClient: 32,
};

/** Node's bound on a whole request (headers and body), kept as the outer limit. */
const REQUEST_TIMEOUT_MS = 300_000;

/** `createServer` options that enforce the header timeout (checked often enough to be punctual). */
export function serverTimeouts(limits: HttpLimits): ServerOptions {
  const headersTimeout = limits.requestHeadersTimeoutMs;
  return {
    headersTimeout,
    requestTimeout: Math.max(REQUEST_TIMEOUT_MS, headersTimeout),
    connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(headersTimeout / 4))),
  };
}

/** A raw HTTP answer with a JSON body, for a socket no request object speaks for. */
export function rawJsonAnswer(
  status: number,
  statusText: string,
  code: string,
  message: string,
  extraHeaders = '',
): string {
  const body = JSON.stringify({ code, message });
  return (
    `HTTP/1.1 ${status} ${statusText}\r\nConnection: close\r\n${extraHeaders}` +
    `Content-Type: application/json; charset=utf-8\r\nx-ms-error-code: ${code}\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  );
}

/**
 * The answer to a `clientError` (a request Node could not read): 408 when the headers took too
 * long, 431 when they are too large, 400 otherwise; each with a JSON body saying so.
 */
export function clientErrorAnswer(error: NodeJS.ErrnoException, limits: HttpLimits): string {
  switch (error.code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return rawJsonAnswer(
        408,
        'Request Timeout',
        'RequestTimeout',
        `The request did not arrive in time: its headers within ${limits.requestHeadersTimeoutMs} ms, all of it within ${REQUEST_TIMEOUT_MS} ms`,
      );
    case 'HPE_HEADER_OVERFLOW':
      return rawJsonAnswer(
        431,
        'Request Header Fields Too Large',
        'RequestHeaderFieldsTooLarge',
        'The request headers are too large',
      );
    default:
      return rawJsonAnswer(
        400,
        'Bad Request',
        'BadRequest',
        `The request is not valid HTTP/1.1${error.code ? ` (${error.code})` : ''}`,
      );
  }
}

/** The body deadline the limits set, for `readBoundedBody`. */
export function bodyDeadline(limits: HttpLimits): BodyDeadline {
  return {
    gracePeriodMs: limits.requestBodyGracePeriodMs,
    minBytesPerSecond: limits.requestBodyMinBytesPerSecond,
  };
}

/**
 * Counts, per client address, the sockets whose request is incomplete; a connection from a client
 * already holding `maxStalledRequestsPerClient` stalled ones is answered 429 and closed.
 */
export class StalledRequests {
  /** Per address: each socket with an incomplete request, and since when. */
  readonly #byClient = new Map<string, Map<Socket, number>>();
  readonly #refused = new WeakSet<Socket>();
  /** Each socket's address, read while it is open (a closed socket no longer knows it). */
  readonly #addresses = new WeakMap<Socket, string>();

  constructor(
    readonly limits: HttpLimits,
    readonly log: (line: string) => void,
  ) {}

  /** Wires the server: connections, requests and upgrades. Call before other listeners are added. */
  watch(server: Server): void {
    server.on('connection', (socket: Socket) => this.#connection(socket));
    server.prependListener('request', (req: IncomingMessage, res: ServerResponse) =>
      this.#request(req, res),
    );
    server.prependListener('upgrade', (req: IncomingMessage) => this.#settled(req.socket));
  }

  /** Whether the socket was refused (its requests are not to be served). */
  refused(socket: Socket): boolean {
    return this.#refused.has(socket);
  }

  /** How many stalled requests `address` holds now. */
  stalled(address: string): number {
    const sockets = this.#byClient.get(address);
    if (!sockets) return 0;
    const since = Date.now() - this.limits.requestStalledAfterMs;
    let count = 0;
    for (const start of sockets.values()) if (start <= since) count++;
    return count;
  }

  #connection(socket: Socket): void {
    const address = socket.remoteAddress ?? '';
    this.#addresses.set(socket, address);
    const stalled = this.stalled(address);
    if (stalled >= this.limits.maxStalledRequestsPerClient) {
      this.#refused.add(socket);
      socket.on('error', () => socket.destroy());
      const message = `${address} holds ${stalled} stalled requests (at most ${this.limits.maxStalledRequestsPerClient}); finish or close them first`;
      socket.end(
        rawJsonAnswer(429, 'Too Many Requests', 'TooManyRequests', message, 'Retry-After: 1\r\n'),
      );
      const cut = setTimeout(() => socket.destroy(), 1_000);
      socket.once('close', () => clearTimeout(cut));
      this.log(`HTTP connection from ${address} refused with 429: ${message}`);
      return;
    }
    this.#pending(socket);
    socket.once('close', () => this.#settled(socket));
  }

  #request(req: IncomingMessage, res: ServerResponse): void {
    const socket = req.socket;
    if (this.#refused.has(socket)) return;
    // The headers are in; the body may still be coming. A request without one is complete once
    // the parser has read the rest of this chunk.
    this.#pending(socket);
    const done = () => this.#settled(socket);
    setImmediate(() => {
      if (req.complete) done();
    });
    req.once('end', done);
    req.once('close', done);
    // An answer before the body has come does not settle it: the body may still stall.
    res.once('finish', () => {
      if (req.complete) done();
    });
  }

  #pending(socket: Socket): void {
    const address = this.#addresses.get(socket);
    if (address === undefined) return;
    let sockets = this.#byClient.get(address);
    if (!sockets) this.#byClient.set(address, (sockets = new Map()));
    sockets.set(socket, Date.now());
  }

  #settled(socket: Socket): void {
    const address = this.#addresses.get(socket);
    if (address === undefined) return;
    const sockets = this.#byClient.get(address);
    if (!sockets?.delete(socket)) return;
    if (sockets.size === 0) this.#byClient.delete(address);
  }
}
