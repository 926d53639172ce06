/**
 * One bounded HTTP exchange with an event handler: a request over keep-alive agents, a deadline,
 * an answer of at most 16 MB; it never throws, and every failure says why (refused, reset, host
 * not found, no answer in time, too large, cut off). `close()` aborts whatever is in flight.
 */
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { BodyReadError, readBoundedBody } from '../../protocol/body.reader.js';

const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

/**
 * An answer's headers, one value per header line (`IncomingMessage.headersDistinct`): a header sent
 * on several lines (`WebHook-Allowed-Origin` from `@azure/web-pubsub-express`, `ce-connectionState`,
 * `mqtt-<name>`) is several values, never Node's comma-joined string.
 */
export type AnswerHeaders = Readonly<Record<string, readonly string[] | undefined>>;

/** A handler's answer, or why there was none. */
export type CallResult =
  | {
      readonly ok: true;
      readonly status: number;
      readonly headers: AnswerHeaders;
      readonly body: Buffer;
    }
  | {
      readonly ok: false;
      readonly status?: number;
      readonly reason: string;
      readonly body?: Buffer;
      readonly headers?: AnswerHeaders;
    };

/** The HTTP client of the upstream calls: its agents, and the exchanges in flight. */
export class HttpExchange {
  readonly #httpAgent = new HttpAgent({ keepAlive: true });
  readonly #httpsAgent = new HttpsAgent({ keepAlive: true });
  readonly #inFlight = new Set<AbortController>();
  #closed = false;

  /** One HTTP exchange; never throws. */
  send(
    method: string,
    url: string,
    headers: Record<string, string>,
    body: Buffer | undefined,
    timeoutMs: number,
  ): Promise<CallResult> {
    if (this.#closed) return Promise.resolve({ ok: false, reason: 'the emulator is closing' });
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return Promise.resolve({ ok: false, reason: `${url} is not a URL` });
    }
    const secure = target.protocol === 'https:';
    if (!secure && target.protocol !== 'http:') {
      return Promise.resolve({ ok: false, reason: `${url} is neither http nor https` });
    }
    const controller = new AbortController();
    this.#inFlight.add(controller);
    return new Promise<CallResult>(resolve => {
      let done = false;
      const finish = (result: CallResult) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.#inFlight.delete(controller);
        resolve(result);
      };
      const timer = setTimeout(() => {
        finish({ ok: false, reason: `no answer within ${timeoutMs} ms` });
        controller.abort();
      }, timeoutMs);
      const outgoing = (secure ? httpsRequest : httpRequest)(
        target,
        {
          method,
          headers: body ? { ...headers, 'content-length': String(body.length) } : headers,
          agent: secure ? this.#httpsAgent : this.#httpAgent,
          signal: controller.signal,
        },
        response => {
          readBoundedBody(response, { limit: MAX_RESPONSE_BYTES }).then(
            body =>
              finish({
                ok: true,
                status: response.statusCode ?? 0,
                headers: response.headersDistinct,
                body,
              }),
            (error: unknown) => {
              const tooLarge = error instanceof BodyReadError && error.problem === 'too-large';
              finish({
                ok: false,
                status: response.statusCode,
                reason: tooLarge
                  ? 'the answer is larger than 16 MB'
                  : 'the connection closed in the middle of the answer',
              });
              if (tooLarge) response.destroy();
            },
          );
        },
      );
      outgoing.on('error', (error: NodeJS.ErrnoException) => {
        if (controller.signal.aborted && this.#closed) {
          finish({ ok: false, reason: 'the emulator is closing' });
        } else {
          finish({ ok: false, reason: networkReason(error) });
        }
      });
      outgoing.end(body);
    });
  }

  /** Aborts every exchange in flight; later ones fail at once. */
  close(): void {
    this.#closed = true;
    for (const controller of this.#inFlight) controller.abort();
    this.#httpAgent.destroy();
    this.#httpsAgent.destroy();
  }
}

function networkReason(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'ECONNREFUSED':
      return 'connection refused (is the event handler running?)';
    case 'ECONNRESET':
      return 'the connection was reset';
    case 'ENOTFOUND':
      return 'host not found';
    default:
      return error.code ? `network error ${error.code}` : `network error: ${error.message}`;
  }
}

/** An answer's headers as the traffic log shows them: one line per header, values comma-joined. */
export function flattenIncoming(headers: AnswerHeaders): Record<string, string> {
  // Keyed by the handler's header names: no prototype.
  const out: Record<string, string> = Object.create(null);
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) out[name] = value.join(', ');
  }
  return out;
}
