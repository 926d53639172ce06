/**
 * The emulator's calls to event handlers, made as the service makes them: the abuse-protection
 * handshake once per URL (`handshake-cache.ts`), then CloudEvents in HTTP binary mode, signed with
 * the access key, each one bounded HTTP exchange (`http-exchange.ts`) to the handler the hub's
 * settings route the event to (`handler-routing.ts`); `connected` and `disconnected` retried.
 */
import { randomUUID } from 'node:crypto';
import { writeCloudEvent, type OutgoingCloudEvent } from '../../protocol/cloud-event.writer.js';
import { ContentType, DATA_TYPE_CONTENT_TYPES, Header } from '../../protocol/headers.js';
import type { MqttDisconnectedProperties } from '../../protocol/cloud-event.reader.js';
import { readMqttUserProperties } from '../../protocol/mqtt.js';
import {
  readConnectResult,
  readStateChange,
  readUserEventResult,
  ResponseFormatError,
} from '../../protocol/response.reader.js';
import type { OutboundMessage } from '../state/hub-operations.js';
import type { HubSettings } from '../emulator-options.js';
import { elapsedMs, mediaBody, type TrafficLog } from '../traffic-log.js';
import { handlerFor, type HandlerTarget } from './handler-routing.js';
import { HandshakeCache } from './handshake-cache.js';
import { flattenIncoming, HttpExchange, type CallResult } from './http-exchange.js';
import type {
  ConnectOutcome,
  ConnectRequestBody,
  EventSubject,
  MqttUserEventAnswer,
  MqttUserEventOptions,
  UserEventOutcome,
} from './upstream-events.js';
import { hubKey } from '../../protocol/names.js';

export type { EventHandlerSettings, HubSettings, SystemEventName } from '../emulator-options.js';
export type { HandlerTarget } from './handler-routing.js';
export type { AnswerHeaders, CallResult } from './http-exchange.js';
export type * from './upstream-events.js';

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

/** Decides which handler gets an event, validates URLs, and makes the calls. */
export class Upstream {
  readonly #settings = new Map<string, HubSettings>();
  readonly #options: UpstreamOptions;
  readonly #exchange = new HttpExchange();
  readonly #handshakes: HandshakeCache;
  readonly #timers = new Set<NodeJS.Timeout>();
  #closed = false;

  constructor(hubs: Readonly<Record<string, HubSettings>>, options: UpstreamOptions) {
    for (const [hub, settings] of Object.entries(hubs)) this.#settings.set(hubKey(hub), settings);
    this.#options = options;
    this.#handshakes = new HandshakeCache(options, this.#exchange);
  }

  /** New hub settings (a reloaded configuration): they route every event from now on. */
  reconfigure(hubs: Readonly<Record<string, HubSettings>>): void {
    this.#settings.clear();
    for (const [hub, settings] of Object.entries(hubs)) this.#settings.set(hubKey(hub), settings);
  }

  settings(hub: string): HubSettings | undefined {
    return this.#settings.get(hubKey(hub));
  }

  /** The first handler that takes `event`: its URL and the URL its handshake goes to (`{event}` = `validate`). */
  handlerFor(hub: string, event: string, system: boolean): HandlerTarget | undefined {
    return handlerFor(this.settings(hub), hub, event, system);
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
    this.#handshakes.setEndpointHost(host);
  }

  /** Aborts every call and retry; later calls fail at once. */
  close(): void {
    this.#closed = true;
    this.#exchange.close();
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }

  /** What every event of `subject` carries. */
  #context(subject: EventSubject, id: number) {
    return {
      hub: hubKey(subject.hub),
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
    const validationProblem = await this.#handshakes.validate(validationUrl);
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
    const result = await this.#exchange.send('POST', url, request.headers, request.body, timeoutMs);
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
}
