import { Injectable, Logger } from '@nestjs/common';
import {
  assertJsonContentType,
  assertUserEventContentType,
  readEventHeaders,
  type EventBody,
  type EventHeaders,
} from '../protocol/cloud-event.reader.js';
import { Header } from '../protocol/headers.js';
import { ProtocolError } from '../protocol/protocol.error.js';
import {
  writeError,
  writeHandshakeResponse,
  type WireResponse,
} from '../protocol/response.writer.js';
import { quote } from '../protocol/text.js';
import { WEB_PUBSUB_LOGGER_CONTEXT } from '../web-pubsub.constants.js';
import { Messages } from '../web-pubsub.messages.js';
import { createDeduplicationStore, Deduplicator } from '../deduplication/deduplicator.js';
import type { HttpPlatform, PlatformRequest } from '../platforms/http-platform.js';
import { WebPubSubConfigService } from '../config/web-pubsub-config.service.js';
import { WebPubSubAuthenticator } from '../auth/web-pubsub.authenticator.js';
import { WebPubSubDispatcher } from './web-pubsub.dispatcher.js';
import { InFlightTracker } from './in-flight.tracker.js';
import {
  WebPubSubTelemetry,
  outcomeOf,
  type EventOutcome,
  type EventTrace,
} from '../telemetry/web-pubsub.telemetry.js';

const INSPECTED = Symbol('webPubSubInspectedEvent');
const TRACE = Symbol('webPubSubEventTrace');
type InspectedRequest = PlatformRequest & { [INSPECTED]?: EventHeaders; [TRACE]?: unknown };

/** Where the synchronous path of {@link WebPubSubEventPipeline.event} handed over. */
interface Continuation {
  /** The event's checks, done or pending; absent: not run yet. */
  readonly inspected?: EventHeaders | Promise<EventHeaders>;
  /** The body, being read. */
  readonly body?: Promise<EventBody>;
  /** The dispatcher's answer, pending: nothing is left but to send it. */
  readonly answered?: Promise<WireResponse>;
  /** Telemetry's span of this event, when telemetry is on. */
  readonly trace?: EventTrace;
}

/**
 * The request pipeline behind the controller (the app's endpoint the service calls its "event
 * handler"): handshake, then for events attributes → origin → token → signature → hub → content type → body → dispatch, every refusal answered with its 4xx and logged.
 * The handler never runs for a request that failed a check.
 */
@Injectable()
export class WebPubSubEventPipeline {
  private readonly logger = new Logger(WEB_PUBSUB_LOGGER_CONTEXT);
  #platform: HttpPlatform | undefined;
  private readonly deduplicator: Deduplicator | undefined;

  constructor(
    private readonly config: WebPubSubConfigService,
    private readonly authenticator: WebPubSubAuthenticator,
    private readonly dispatcher: WebPubSubDispatcher,
    private readonly inFlight: InFlightTracker,
    private readonly telemetry: WebPubSubTelemetry,
  ) {
    const deduplication = config.resolvedOptions().deduplication;
    this.deduplicator =
      deduplication &&
      new Deduplicator(
        createDeduplicationStore(deduplication),
        deduplication.ttl,
        config.handlerTimeout,
        this.logger,
      );
  }

  /**
   * Waits for the events in flight and the non-blocking handlers already started, at most
   * `handlerTimeout` (plus a second) when it is set.
   */
  async drain(): Promise<void> {
    const count = this.inFlight.size;
    if (count === 0) return;
    this.logger.log(Messages.draining(count));
    const limit = this.config.handlerTimeout > 0 ? this.config.handlerTimeout + 1_000 : 0;
    if (!(await this.inFlight.drain(limit)))
      this.logger.warn(Messages.drainTimedOut(this.inFlight.size, limit));
  }

  /** Releases the de-duplication store (after the last event). */
  async close(): Promise<void> {
    await this.deduplicator?.close();
  }

  /** Set once at start-up by the module, from the application's HTTP adapter. */
  attach(platform: HttpPlatform): void {
    this.#platform = platform;
  }

  get platform(): HttpPlatform {
    if (!this.#platform) throw new Error('WebPubSubModule was not set up with an HTTP adapter');
    return this.#platform;
  }

  /** `OPTIONS`/`GET` with `WebHook-Request-Origin`. */
  handshake(request: PlatformRequest, response: unknown): void {
    const origin = request.headers[Header.webhookRequestOrigin];
    const answer = this.config.abuseProtection.answer(
      Array.isArray(origin) ? origin.join(',') : origin,
    );
    if (!answer.allowed) this.reject(request, answer.status, answer.message);
    this.platform.send(response, writeHandshakeResponse(answer));
  }

  /**
   * The checks that need no body: CloudEvents attributes (400), origin (403), token and signature
   * (401), hub (404) and a user event's content type (415). Synchronous unless a check needs I/O.
   * @throws ProtocolError
   */
  inspect(request: PlatformRequest): EventHeaders | Promise<EventHeaders> {
    const event = readEventHeaders(request.headers);
    const authenticated = this.authenticator.authenticate(event, request.headers);
    if (authenticated) return authenticated.then(() => this.route(event));
    return this.route(event);
  }

  private route(event: EventHeaders): EventHeaders {
    if (!this.config.servesHub(event.hub)) {
      throw new ProtocolError(404, `Hub ${quote(event.hub)} is not served by this event handler`);
    }
    if (event.kind === 'user') event.dataType = assertUserEventContentType(event.contentType);
    else assertJsonContentType(event.contentType, event.kind);
    return event;
  }

  /**
   * For platforms that read the body before the route runs (Fastify): inspects the request first,
   * so a refused request is answered before its body is read. `false` when it was refused.
   */
  inspectBeforeBody(request: PlatformRequest, response: unknown): boolean | Promise<boolean> {
    // The HTTP server span is still the active context here: kept for the event's span (started
    // when the route runs, so a request Fastify itself refuses leaves no span open).
    if (this.telemetry.enabled)
      (request as InspectedRequest)[TRACE] = this.telemetry.activeContext();
    const refuse = (error: unknown): false => {
      const wire = this.refusal(request, error);
      this.platform.send(response, wire);
      if (this.telemetry.enabled)
        this.telemetry.start((request as InspectedRequest)[TRACE]).end(wire.status, 'refused');
      return false;
    };
    try {
      const inspected = this.inspect(request);
      if (inspected instanceof Promise) {
        return inspected.then(event => {
          (request as InspectedRequest)[INSPECTED] = event;
          return true;
        }, refuse);
      }
      (request as InspectedRequest)[INSPECTED] = inspected;
      return true;
    } catch (error) {
      return refuse(error);
    }
  }

  /**
   * `POST`: one CloudEvent. Stays synchronous while every step is (Fastify with a synchronous
   * handler answers in the same turn); otherwise continues in {@link answer}, the one flow, which
   * telemetry only observes (a span per event, its outcome and the handler's duration).
   */
  event(request: PlatformRequest, response: unknown): void | Promise<void> {
    const platform = this.platform;
    const inspected = (request as InspectedRequest)[INSPECTED];
    if (this.telemetry.enabled) {
      const trace = this.telemetry.start((request as InspectedRequest)[TRACE]);
      return this.answer(request, response, { inspected, trace });
    }
    try {
      const event = inspected ?? this.inspect(request);
      if (event instanceof Promise || this.deduplicator)
        return this.answer(request, response, { inspected: event });
      const body = platform.readBody(request);
      if (body instanceof Promise)
        return this.answer(request, response, { inspected: event, body });
      const wire = this.dispatcher.dispatch(event, body, request);
      if (wire instanceof Promise) return this.answer(request, response, { answered: wire });
      platform.send(response, wire);
    } catch (error) {
      platform.send(response, this.refusal(request, error));
    }
  }

  /** The request flow from wherever the synchronous path stopped, to the answer sent. */
  private async answer(
    request: PlatformRequest,
    response: unknown,
    from: Continuation,
  ): Promise<void> {
    this.inFlight.begin();
    const trace = from.trace;
    let wire: WireResponse;
    let outcome: EventOutcome = 'refused';
    try {
      if (from.answered) wire = await from.answered;
      else {
        const event = await (from.inspected ?? this.inspect(request));
        trace?.event(event);
        let ran = false;
        const handle = (): Promise<WireResponse> => {
          ran = true;
          return trace
            ? this.telemetry.within(trace, () => this.handle(event, request, from.body, trace))
            : this.handle(event, request, from.body);
        };
        wire = await (this.deduplicator ? this.deduplicator.run(event, handle) : handle());
        outcome = ran ? outcomeOf(wire.status) : 'replayed';
      }
    } catch (error) {
      wire = this.refusal(request, error);
      outcome = 'refused';
    }
    try {
      this.platform.send(response, wire);
    } finally {
      trace?.end(wire.status, outcome);
      this.inFlight.end();
    }
  }

  private async handle(
    event: EventHeaders,
    request: PlatformRequest,
    body: Promise<EventBody> | undefined,
    trace?: EventTrace,
  ): Promise<WireResponse> {
    const data = await (body ?? this.platform.readBody(request));
    if (!trace) return this.dispatcher.dispatch(event, data, request);
    const started = performance.now();
    const wire = await this.dispatcher.dispatch(event, data, request);
    // Non-blocking handlers run after the acknowledgement and are timed by the dispatcher.
    if (event.kind === 'connect' || event.kind === 'user')
      this.telemetry.handlerDuration(
        event.kind,
        (performance.now() - started) / 1000,
        outcomeOf(wire.status),
      );
    return wire;
  }

  private refusal(request: PlatformRequest, error: unknown): WireResponse {
    if (error instanceof ProtocolError) {
      this.reject(request, error.status, error.message);
      // A body over the limit is left unread: close the connection rather than drain it.
      return writeError(
        error.status,
        error.message,
        error.status === 413 ? { connection: 'close' } : undefined,
      );
    }
    this.logger.error(
      `Unexpected failure on ${request.method} ${request.url}`,
      (error as Error)?.stack,
    );
    return writeError(500, 'Internal server error');
  }

  private reject(request: PlatformRequest, status: number, message: string): void {
    this.logger.warn(Messages.rejected(request.method ?? '?', request.url ?? '?', status, message));
  }
}
