/**
 * The one bounded read of an HTTP body, for every side that reads one (the module's Express
 * platform, the emulator's REST API, its Engine.IO long-polling POSTs): at most `limit` bytes,
 * refused at once from `Content-Length` or as soon as the bytes arriving pass it; optionally no
 * slower than a minimum rate once a grace period is over. It imports no Nest, so both sides use it.
 * Every refusal is a `BodyReadError` naming the problem, with the status to answer: 413 too large,
 * 408 too slow, 400 aborted or unreadable. After a refusal the rest of the body is read and thrown
 * away (nothing kept), so the caller's answer can still be read by the client; no listener of the
 * reader stays on the stream.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { ProtocolError } from './protocol.error.js';

const EMPTY = Buffer.alloc(0);

/** A body slower than this is refused (the service's Kestrel rule: a minimum data rate). */
export interface BodyDeadline {
  /** The body may arrive slower than `minBytesPerSecond` for this long. */
  readonly gracePeriodMs: number;
  /** After the grace period, the body's average rate must stay at or above this. */
  readonly minBytesPerSecond: number;
}

export interface BodyReadOptions {
  /** The most bytes the body may have; exactly `limit` is read, one more is refused (413). */
  readonly limit: number;
  /** The option that sets `limit`, named in the 413's message (`maxBodySize`). */
  readonly limitName?: string;
  /** Without it, the body may take as long as the server lets it. */
  readonly deadline?: BodyDeadline;
}

/** What went wrong with a body: more than the limit, slower than the deadline, cut off, unreadable. */
export type BodyProblem = 'too-large' | 'too-slow' | 'aborted' | 'unreadable';

const STATUS: Readonly<Record<BodyProblem, number>> = {
  'too-large': 413,
  'too-slow': 408,
  aborted: 400,
  unreadable: 400,
};

/** A body refused by `readBoundedBody`: the problem, the status to answer, a message naming it. */
export class BodyReadError extends ProtocolError {
  constructor(
    readonly problem: BodyProblem,
    message: string,
  ) {
    super(STATUS[problem], message);
    this.name = 'BodyReadError';
  }
}

/** The stream a body is read from: a request a server received (or an answer it fetched). */
export type BodyStream = Readable & {
  readonly headers: IncomingHttpHeaders;
  readonly complete?: boolean;
};

/** Reads the whole body of `stream`, refusing it with a `BodyReadError` as the options say. */
export function readBoundedBody(stream: BodyStream, options: BodyReadOptions): Promise<Buffer> {
  const { limit, deadline } = options;
  const declared = stream.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) {
    return Promise.reject(tooLarge(options));
  }
  return new Promise<Buffer>((resolve, reject) => {
    let chunks: Buffer[] | undefined;
    let first: Buffer | undefined;
    let size = 0;
    const started = Date.now();
    let timer: NodeJS.Timeout | undefined;
    const cleanup = (): void => {
      if (timer) clearTimeout(timer);
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
      stream.off('close', onClose);
    };
    const refuse = (error: BodyReadError): void => {
      cleanup();
      chunks = first = undefined;
      // The rest is read and dropped, so that the refusal can be answered and read.
      if (!stream.destroyed) stream.resume();
      reject(error);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        refuse(tooLarge(options));
        return;
      }
      if (first === undefined) first = chunk;
      else (chunks ??= [first]).push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(chunks ? Buffer.concat(chunks, size) : (first ?? EMPTY));
    };
    const onError = (): void => {
      cleanup();
      reject(new BodyReadError('unreadable', 'The request body could not be read'));
    };
    const onClose = (): void => {
      // A complete body still ends: 'end' settles it.
      if (stream.complete) return;
      cleanup();
      reject(new BodyReadError('aborted', 'The request was aborted before its body was complete'));
    };
    if (deadline) {
      const check = (): void => {
        const elapsedMs = Date.now() - started;
        if (size < (deadline.minBytesPerSecond * elapsedMs) / 1000) {
          timer = undefined;
          refuse(
            new BodyReadError(
              'too-slow',
              `The body did not arrive in time: ${size}${declared ? ` of ${declared}` : ''} bytes in ${elapsedMs} ms ` +
                `(at least ${deadline.minBytesPerSecond} bytes/s once ${deadline.gracePeriodMs} ms have passed)`,
            ),
          );
          return;
        }
        timer = setTimeout(check, Math.min(1_000, deadline.gracePeriodMs));
      };
      timer = setTimeout(check, deadline.gracePeriodMs);
    }
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', onError);
    stream.on('close', onClose);
  });
}

function tooLarge({ limit, limitName }: BodyReadOptions): BodyReadError {
  return new BodyReadError(
    'too-large',
    `Request body exceeds the ${limit}-byte limit${limitName ? ` (${limitName})` : ''}`,
  );
}

export { EMPTY as EMPTY_BODY };
