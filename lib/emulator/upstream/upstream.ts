/**
 * The emulator's calls to event handlers, made as the service makes them: the abuse-protection
 * handshake once per URL, then CloudEvents in HTTP binary mode, signed with the access key.
 */
import { randomUUID } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import {
  writeCloudEvent,
  writeHandshakeRequest,
  type OutgoingCloudEvent,
} from '../../protocol/cloud-event.writer.js';
import { BodyReadError, readBoundedBody } from '../../protocol/body.reader.js';
import { ContentType, DATA_TYPE_CONTENT_TYPES, Header } from '../../protocol/headers.js';
import type { MqttDisconnectedProperties } from '../../protocol/cloud-event.reader.js';
import { readMqttUserProperties, type MqttUserProperty } from '../../protocol/mqtt.js';
import {
  handshakeAllows,
  readConnectResult,
  readHandshakeResult,
  readStateChange,
  readUserEventResult,
  ResponseFormatError,
  type MqttConnectRefusal,
  type WireAnswer,
} from '../../protocol/response.reader.js';
import type { OutboundMessage } from '../state/hub-operations.js';
import type { HubSettings } from '../emulator-options.js';
import { elapsedMs, mediaBody, type TrafficLog } from '../traffic-log.js';

export type { EventHandlerSettings, HubSettings, SystemEventName } from '../emulator-options.js';

/** What an event says about its connection. */
export interface EventSubject {
  readonly hub: string;
  readonly connectionId: string;
  readonly userId: string | undefined;
  readonly subprotocol: string | undefined;
  /** Read for `ce-connectionState`, updated from blocking responses. */
  state: string | undefined;
  /** `ce-id` of the next event (the connect event is 0). */
  nextEventId: number;
  /** MQTT clients: `ce-physicalConnectionId` (the network connection) and `ce-sessionId` (not on `connect`). */
  physicalConnectionId?: string;
  sessionId?: string;
}

export interface UpstreamTimings {
  /** How long a blocking event (connect, user events) may take. Default 100 s (the official emulator's). */
  blockingTimeoutMs: number;
  /** How long a non-blocking event attempt may take. Default 100 s. */
  nonBlockingTimeoutMs: number;
  /** Delays before the retries of a non-blocking event after a 408/5xx, a timeout or a network error. Default 1, 3, 5 s. */
  retryDelaysMs: readonly number[];
  /** How long a failed abuse-protection handshake is remembered before the URL is checked again. Default 60 s. */
  validationRetryMs: number;
}

export const DEFAULT_UPSTREAM_TIMINGS: UpstreamTimings = {
  blockingTimeoutMs: 100_000,
  nonBlockingTimeoutMs: 100_000,
  retryDelaysMs: [1_000, 3_000, 5_000],
  validationRetryMs: 60_000,
};

export interface UpstreamOptions {
  readonly accessKey: string;
  /** The host the emulator's events come from (`WebHook-Request-Origin`). */
  readonly origin: string;
  readonly traffic: TrafficLog;
  readonly log: (line: string) => void;
  readonly timings: UpstreamTimings;
}

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

export type ConnectOutcome =
  | { readonly accepted: true; readonly response?: ConnectResponseFields }
  | {
      readonly accepted: false;
      readonly status: number;
      readonly reason: string;
      readonly body?: Buffer;
      /** An MQTT refusal body (`{"mqtt":{"code",...}}`), when the handler sent one. */
      readonly mqtt?: MqttConnectRefusal;
    };

export interface ConnectResponseFields {
  userId?: string;
  groups?: string[];
  roles?: string[];
  subprotocol?: string;
  /** MQTT clients: user properties for the CONNACK. */
  mqttUserProperties?: readonly MqttUserProperty[];
}

/** MQTT clients: what a user event carries besides its payload, and the raw answer it gets. */
export interface MqttUserEventOptions {
  /** Sent as the `Content-Type` (the MQTT 5 content type; absent: `application/octet-stream`). */
  readonly contentType?: string;
  /** Sent as `mqtt-<name>` headers (checked by the caller: header-safe names and values). */
  readonly userProperties?: readonly MqttUserProperty[];
}

/** The answer to an MQTT client's user event, as it is published back to the client. */
export interface MqttUserEventAnswer {
  /** 2xx: published to `.../succeeded`, otherwise to `.../failed`. */
  readonly succeeded: boolean;
  /** The handler's status; absent when there was no answer (no handler, network error, timeout). */
  readonly status?: number;
  readonly contentType?: string;
  readonly body: Buffer;
  readonly userProperties: readonly MqttUserProperty[];
  /** Why it failed, when it did. */
  readonly reason?: string;
}

export type UserEventOutcome =
  | { readonly ok: true; readonly message?: OutboundMessage }
  | { readonly ok: false; readonly reason: string; readonly noHandler?: boolean };

export interface ConnectRequestBody {
  claims: Record<string, string[]>;
  query: Record<string, string[]>;
  headers: Record<string, string[]>;
  subprotocols: string[];
  clientCertificates: { thumbprint: string; content?: string }[];
  /** MQTT clients: the CONNECT packet's part of the body. */
  mqtt?: {
    protocolVersion: number;
    username?: string;
    passwordBytes?: Uint8Array;
    userProperties?: readonly MqttUserProperty[];
  };
}

export interface HandlerTarget {
  readonly url: string;
  readonly validationUrl: string;
}

const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

interface Validation {
  readonly result: Promise<string | undefined>;
  readonly settledAt: () => number | undefined;
}

/** Decides which handler gets an event, validates URLs, and makes the calls. */
export class Upstream {
  readonly #settings = new Map<string, HubSettings>();
  readonly #options: UpstreamOptions;
  readonly #validations = new Map<string, Validation>();
  readonly #loggedValidationFailures = new Map<string, string>();
  readonly #httpAgent = new HttpAgent({ keepAlive: true });
  readonly #httpsAgent = new HttpsAgent({ keepAlive: true });
  readonly #inFlight = new Set<AbortController>();
  readonly #timers = new Set<NodeJS.Timeout>();
  #endpointHost: string | undefined;
  #closed = false;

  constructor(hubs: Readonly<Record<string, HubSettings>>, options: UpstreamOptions) {
    for (const [hub, settings] of Object.entries(hubs))
      this.#settings.set(hub.toLowerCase(), settings);
    this.#options = options;
  }

  /** New hub settings (a reloaded configuration): they route every event from now on. */
  reconfigure(hubs: Readonly<Record<string, HubSettings>>): void {
    this.#settings.clear();
    for (const [hub, settings] of Object.entries(hubs))
      this.#settings.set(hub.toLowerCase(), settings);
  }

  settings(hub: string): HubSettings | undefined {
    return this.#settings.get(hub.toLowerCase());
  }

  /** The first handler that takes `event`: its URL and the URL its handshake goes to (`{event}` = `validate`). */
  handlerFor(hub: string, event: string, system: boolean): HandlerTarget | undefined {
    for (const handler of this.settings(hub)?.eventHandlers ?? []) {
      const matches = system
        ? (handler.systemEvents ?? []).some(name => name.toLowerCase() === event)
        : userEventMatches(handler.userEventPattern, event);
      if (matches) {
        return {
          url: expandTemplate(handler.urlTemplate, hub, event),
          validationUrl: expandTemplate(handler.urlTemplate, hub, 'validate'),
        };
      }
    }
    return undefined;
  }

  /** Blocking `connect`: accepted (with what the handler said) or the status to refuse the handshake with. */
  async connect(subject: EventSubject, body: ConnectRequestBody): Promise<ConnectOutcome> {
    const target = this.handlerFor(subject.hub, 'connect', true);
    if (!target) return { accepted: true };
    const result = await this.#call(subject, target, 'connect', true, undefined, id => ({
      kind: 'connect',
      ...this.#context(subject, id),
      claims: body.claims,
      query: body.query,
      clientHeaders: body.headers,
      subprotocols: body.subprotocols,
      clientCertificates: body.clientCertificates,
      mqtt: body.mqtt,
    }));
    if (!result.ok) {
      const status = result.status !== undefined && result.status >= 400 ? result.status : 500;
      const refusal =
        result.status !== undefined && result.status >= 400 && result.headers && result.body
          ? readConnectResult({ status: result.status, headers: result.headers, body: result.body })
          : undefined;
      const mqtt = refusal && !refusal.accepted ? refusal.mqtt : undefined;
      return { accepted: false, status, reason: result.reason, body: result.body, mqtt };
    }
    try {
      const answer = readConnectResult(result);
      if (!answer.accepted)
        return { accepted: false, status: answer.status, reason: answer.message };
      return {
        accepted: true,
        response: {
          userId: answer.userId,
          groups: answer.groups && [...answer.groups],
          roles: answer.roles && [...answer.roles],
          subprotocol: answer.subprotocol,
          mqttUserProperties: answer.mqttUserProperties,
        },
      };
    } catch (error) {
      if (!(error instanceof ResponseFormatError)) throw error;
      return { accepted: false, status: 500, reason: error.message };
    }
  }

  /** Blocking user event; the reply becomes a message for the client. */
  async userEvent(
    subject: EventSubject,
    event: string,
    payload: OutboundMessage,
  ): Promise<UserEventOutcome> {
    const target = this.handlerFor(subject.hub, event, false);
    if (!target)
      return {
        ok: false,
        reason: `no event handler takes the user event "${event}"`,
        noHandler: true,
      };
    const result = await this.#call(subject, target, event, true, undefined, id => ({
      kind: 'user',
      ...this.#context(subject, id),
      eventName: event,
      // The bytes travel as they came; the content type says what they are.
      dataType: 'binary',
      data: payload.data,
      contentType: DATA_TYPE_CONTENT_TYPES[payload.dataType],
    }));
    if (!result.ok) return { ok: false, reason: result.reason };
    try {
      const answer = readUserEventResult(result);
      if (!answer.ok || answer.dataType === undefined) return { ok: true };
      const data =
        answer.dataType === 'binary'
          ? answer.data
          : answer.dataType === 'text'
            ? Buffer.from(answer.data, 'utf8')
            : result.body;
      return { ok: true, message: { dataType: answer.dataType, data } };
    } catch (error) {
      if (!(error instanceof ResponseFormatError)) throw error;
      return { ok: false, reason: error.message };
    }
  }

  /**
   * An MQTT client's user event (a PUBLISH to `$webpubsub/server/events/{event}`): the payload as
   * it came, its content type and user properties; the answer comes back raw, to be published.
   */
  async mqttUserEvent(
    subject: EventSubject,
    event: string,
    payload: Buffer,
    options: MqttUserEventOptions,
  ): Promise<MqttUserEventAnswer> {
    const target = this.handlerFor(subject.hub, event, false);
    if (!target) {
      const reason = `no event handler takes the user event "${event}"`;
      return {
        succeeded: false,
        contentType: ContentType.text,
        body: Buffer.from(reason, 'utf8'),
        userProperties: [],
        reason,
      };
    }
    const result = await this.#call(subject, target, event, true, undefined, id => ({
      kind: 'user',
      ...this.#context(subject, id),
      eventName: event,
      dataType: 'binary',
      data: payload,
      contentType: options.contentType ?? ContentType.binary,
      mqttUserProperties: options.userProperties,
    }));
    const headers = result.headers;
    const contentType = headers?.['content-type']?.[0];
    const userProperties = headers ? readMqttUserProperties(headers) : [];
    if (result.ok) {
      return {
        succeeded: true,
        status: result.status,
        contentType,
        body: result.body,
        userProperties,
      };
    }
    // A handler's own error body travels as it is; otherwise the reason, as text.
    const ownBody = result.body !== undefined && result.body.length > 0;
    return {
      succeeded: false,
      status: result.status,
      contentType: ownBody ? contentType : ContentType.text,
      body: ownBody ? (result.body as Buffer) : Buffer.from(result.reason, 'utf8'),
      userProperties,
      reason: result.reason,
    };
  }

  /** Non-blocking `connected` / `disconnected`: fired, retried, never awaited by the caller. */
  notify(
    subject: EventSubject,
    event: 'connected' | 'disconnected',
    reason?: string,
    mqtt?: MqttDisconnectedProperties,
  ): void {
    const target = this.handlerFor(subject.hub, event, true);
    if (!target || this.#closed) return;
    const eventId = subject.nextEventId++;
    const write = (id: number): OutgoingCloudEvent =>
      event === 'connected'
        ? { kind: 'connected', ...this.#context(subject, id) }
        : { kind: 'disconnected', ...this.#context(subject, id), reason: reason ?? '', mqtt };
    const attempt = async (index: number): Promise<void> => {
      const result = await this.#call(
        subject,
        target,
        event,
        false,
        { eventId, attempt: index },
        write,
      );
      if (result.ok || this.#closed) return;
      const retryable =
        result.status === undefined || result.status === 408 || result.status >= 500;
      const delay = this.#options.timings.retryDelaysMs[index];
      if (!retryable || delay === undefined) return;
      await new Promise<void>(resolve => {
        const timer = setTimeout(() => {
          this.#timers.delete(timer);
          resolve();
        }, delay);
        this.#timers.add(timer);
      });
      if (!this.#closed) await attempt(index + 1);
    };
    void attempt(0);
  }

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
    const origin = this.#options.origin;
    const host = this.#endpointHost;
    return host === undefined || host === origin.toLowerCase() ? [origin] : [origin, host];
  }

  /** Aborts every call and retry; later calls fail at once. */
  close(): void {
    this.#closed = true;
    for (const controller of this.#inFlight) controller.abort();
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    this.#httpAgent.destroy();
    this.#httpsAgent.destroy();
  }

  /** What every event of `subject` carries. */
  #context(subject: EventSubject, id: number) {
    return {
      hub: subject.hub.toLowerCase(),
      connectionId: subject.connectionId,
      userId: subject.userId,
      id: String(id),
      origin: this.#options.origin,
      subprotocol: subject.subprotocol,
      connectionState: subject.state === '' ? undefined : subject.state,
      accessKeys: [this.#options.accessKey],
      headers: { 'x-ms-client-request-id': randomUUID() },
      physicalConnectionId: subject.physicalConnectionId,
      sessionId: subject.sessionId,
    };
  }

  async #call(
    subject: EventSubject,
    target: HandlerTarget,
    event: string,
    blocking: boolean,
    retry: { eventId: number; attempt: number } | undefined,
    write: (id: number) => OutgoingCloudEvent,
  ): Promise<CallResult> {
    if (this.#closed) return { ok: false, reason: 'the emulator is closing' };
    const { url, validationUrl } = target;
    const validationProblem = await this.#validate(validationUrl);
    if (validationProblem) {
      return {
        ok: false,
        reason: `the event handler ${validationUrl} failed validation: ${validationProblem}`,
      };
    }
    const request = writeCloudEvent(write(retry?.eventId ?? subject.nextEventId++));
    const timeoutMs = blocking
      ? this.#options.timings.blockingTimeoutMs
      : this.#options.timings.nonBlockingTimeoutMs;
    const started = Date.now();
    const startedAt = performance.now();
    const result = await this.#send('POST', url, request.headers, request.body, timeoutMs);
    const durationMs = elapsedMs(startedAt);
    const attemptNote = retry?.attempt ? ` (retry ${retry.attempt})` : '';
    let outcome: CallResult = result;
    if (result.ok && (result.status < 200 || result.status >= 300)) {
      outcome = {
        ok: false,
        status: result.status,
        reason: `the event handler answered ${result.status}`,
        body: result.body,
        headers: result.headers,
      };
    }
    if (result.ok && outcome.ok && blocking) {
      try {
        const change = readStateChange(result);
        if (change.changed) subject.state = change.header;
      } catch (error) {
        if (!(error instanceof ResponseFormatError)) throw error;
        outcome = { ok: false, status: result.status, reason: error.message };
      }
    }
    const contentType = request.headers[Header.contentType] ?? request.headers['content-type'];
    this.#options.traffic.record({
      kind: 'upstream',
      time: started,
      hub: subject.hub,
      action: event,
      method: 'POST',
      url,
      status: result.ok ? result.status : undefined,
      durationMs,
      connectionId: subject.connectionId,
      userId: subject.userId,
      subprotocol: subject.subprotocol,
      detail: outcome.ok ? undefined : outcome.reason + attemptNote,
      request: { headers: { ...request.headers }, body: mediaBody(request.body, contentType) },
      response: result.ok
        ? {
            headers: flattenIncoming(result.headers),
            body: mediaBody(result.body, result.headers['content-type']),
          }
        : undefined,
    });
    this.#options.log(
      `upstream ${event} ${url} ${subject.hub}/${subject.connectionId} → ` +
        (result.ok ? `${result.status}` : `failed: ${result.reason}`) +
        ` in ${durationMs} ms${attemptNote}`,
    );
    return outcome;
  }

  /** The abuse-protection handshake, once per URL: `undefined` when it passed, else why not. */
  #validate(url: string): Promise<string | undefined> {
    const known = this.#validations.get(url);
    if (known) {
      const settledAt = known.settledAt();
      const stale =
        settledAt !== undefined &&
        Date.now() - settledAt >= this.#options.timings.validationRetryMs;
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
        this.#options.log(
          `upstream validation of ${url} failed: ${problem}; no events are sent to it`,
        );
      }
      return problem;
    });
    this.#validations.set(url, { result, settledAt: () => (failed ? settled : undefined) });
    return result;
  }

  async #handshake(url: string): Promise<string | undefined> {
    const { headers } = writeHandshakeRequest(this.#options.origin);
    const timeout = this.#options.timings.blockingTimeoutMs;
    let answer = await this.#send('OPTIONS', url, headers, undefined, timeout);
    let method = 'OPTIONS';
    if (answer.ok && answer.status === 404) {
      method = 'GET';
      answer = await this.#send('GET', url, headers, undefined, timeout);
    }
    this.#options.traffic.record({
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

  /** One HTTP exchange; never throws. */
  #send(
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

/** `*`, a comma list, or one name (names compared case-insensitively, as the service does). */
export function userEventMatches(pattern: string | undefined, event: string): boolean {
  if (pattern === undefined || pattern.trim() === '') return false;
  const names = pattern.split(',').map(name => name.trim().toLowerCase());
  return names.includes('*') || names.includes(event.toLowerCase());
}

export function expandTemplate(template: string, hub: string, event: string): string {
  return template
    .replaceAll('{hub}', encodeURIComponent(hub.toLowerCase()))
    .replaceAll('{event}', encodeURIComponent(event));
}

function flattenIncoming(headers: AnswerHeaders): Record<string, string> {
  // Keyed by the handler's header names: no prototype.
  const out: Record<string, string> = Object.create(null);
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) out[name] = value.join(', ');
  }
  return out;
}
