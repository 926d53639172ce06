/**
 * The abuse-protection handshake, once per validation URL: `OPTIONS` (then `GET` when the handler
 * answers 404) with `WebHook-Request-Origin`; the URL passes when `WebHook-Allowed-Origin` allows
 * `*`, the emulator's host, or its `host:port`. A pass is kept; a failure is logged once and
 * checked again after `validationRetryMs`.
 */
import { writeHandshakeRequest } from '../../protocol/cloud-event.writer.js';
import {
  handshakeAllows,
  readHandshakeResult,
  type WireAnswer,
} from '../../protocol/response.reader.js';
import type { TrafficLog } from '../traffic-log.js';
import { flattenIncoming, type HttpExchange } from './http-exchange.js';

export interface HandshakeCacheOptions {
  /** The host the emulator's events come from (`WebHook-Request-Origin`). */
  readonly origin: string;
  readonly traffic: TrafficLog;
  readonly log: (line: string) => void;
  readonly timings: {
    /** How long the handshake may take. */
    readonly blockingTimeoutMs: number;
    /** How long a failed handshake is remembered before the URL is checked again. */
    readonly validationRetryMs: number;
  };
}

interface Validation {
  readonly result: Promise<string | undefined>;
  readonly settledAt: () => number | undefined;
}

export class HandshakeCache {
  readonly #validations = new Map<string, Validation>();
  readonly #loggedValidationFailures = new Map<string, string>();
  #endpointHost: string | undefined;

  constructor(
    readonly options: HandshakeCacheOptions,
    readonly exchange: HttpExchange,
  ) {}

  /**
   * The emulator's own `host:port` once it listens. A handshake answer may name it instead of the
   * bare host the events carry: `@azure/web-pubsub-express` with `allowedEndpoints: [endpoint]`
   * answers with `new URL(endpoint).host`, which keeps a port that is not the scheme's default.
   */
  setEndpointHost(host: string): void {
    this.#endpointHost = host.toLowerCase();
  }

  /** The names a `WebHook-Allowed-Origin` value may use for this emulator (besides `*`). */
  #originNames(): string[] {
    const origin = this.options.origin;
    const host = this.#endpointHost;
    return host === undefined || host === origin.toLowerCase() ? [origin] : [origin, host];
  }

  /** The abuse-protection handshake, once per URL: `undefined` when it passed, else why not. */
  validate(url: string): Promise<string | undefined> {
    const known = this.#validations.get(url);
    if (known) {
      const settledAt = known.settledAt();
      const stale =
        settledAt !== undefined && Date.now() - settledAt >= this.options.timings.validationRetryMs;
      if (!stale) return known.result;
    }
    let settled: number | undefined;
    let failed = false;
    const result = this.#handshake(url).then(problem => {
      failed = problem !== undefined;
      settled = Date.now();
      if (problem === undefined) {
        this.#loggedValidationFailures.delete(url);
      } else if (this.#loggedValidationFailures.get(url) !== problem) {
        this.#loggedValidationFailures.set(url, problem);
        this.options.log(
          `upstream validation of ${url} failed: ${problem}; no events are sent to it`,
        );
      }
      return problem;
    });
    this.#validations.set(url, { result, settledAt: () => (failed ? settled : undefined) });
    return result;
  }

  async #handshake(url: string): Promise<string | undefined> {
    const { headers } = writeHandshakeRequest(this.options.origin);
    const timeout = this.options.timings.blockingTimeoutMs;
    let answer = await this.exchange.send('OPTIONS', url, headers, undefined, timeout);
    let method = 'OPTIONS';
    if (answer.ok && answer.status === 404) {
      method = 'GET';
      answer = await this.exchange.send('GET', url, headers, undefined, timeout);
    }
    this.options.traffic.record({
      kind: 'upstream',
      hub: '',
      action: 'validate',
      method,
      url,
      status: answer.ok ? answer.status : undefined,
      detail: answer.ok ? undefined : answer.reason,
      request: { headers: { ...headers } },
      response: answer.ok ? { headers: flattenIncoming(answer.headers) } : undefined,
    });
    if (!answer.ok) return answer.reason;
    const result = readHandshakeResult(answer as WireAnswer);
    if (!result.allowed)
      return `the handshake answered ${result.status}: ${result.message.slice(0, 200)}`;
    const names = this.#originNames();
    if (!names.some(name => handshakeAllows(result, name))) {
      return (
        `WebHook-Allowed-Origin ${result.allowedOrigins.map(value => JSON.stringify(value)).join(', ')} ` +
        `allows neither * nor ${names.join(' nor ')}`
      );
    }
    return undefined;
  }
}
