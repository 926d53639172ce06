import { Injectable, type OnModuleInit } from '@nestjs/common';
import type * as OpenTelemetry from '@opentelemetry/api';
import type { EventHeaders } from '../protocol/cloud-event.reader.js';
import { WebPubSubConfigService } from '../config/web-pubsub-config.service.js';

type Api = typeof OpenTelemetry;
type Attributes = OpenTelemetry.Attributes;

/** The instrumentation scope of the module's spans and metrics. */
export const TELEMETRY_SCOPE = 'nestjs-web-pubsub';

/** How an event ended, as the `webpubsub.outcome` attribute says it. */
export type EventOutcome = 'ok' | 'rejected' | 'error' | 'refused' | 'replayed';

/** Why a request was refused before any handler ran, by status (`webpubsub.refusal.reason`). */
const REFUSAL_REASONS: Record<number, string> = {
  400: 'invalid_event',
  401: 'unauthenticated',
  403: 'origin_not_allowed',
  404: 'hub_not_served',
  413: 'body_too_large',
  415: 'unsupported_content_type',
};

/**
 * OpenTelemetry for events: a span per event and three metrics, through `@opentelemetry/api`
 * (an optional peer, imported once at start-up). With the API absent, no SDK registered before
 * the app started, or `telemetry: false`, nothing is recorded and the request path only reads
 * {@link enabled}.
 */
@Injectable()
export class WebPubSubTelemetry implements OnModuleInit {
  /** Whether spans and metrics are recorded. Set at module init. */
  enabled = false;
  #api!: Api;
  #tracer!: OpenTelemetry.Tracer;
  #events!: OpenTelemetry.Counter;
  #refusals!: OpenTelemetry.Counter;
  #duration!: OpenTelemetry.Histogram;

  constructor(private readonly config: WebPubSubConfigService) {}

  async onModuleInit(): Promise<void> {
    if (!this.config.telemetry) return;
    let api: Api;
    try {
      api = (await import('@opentelemetry/api')) as Api;
    } catch {
      return;
    }
    if (!hasProvider(api)) return;
    this.#api = api;
    this.#tracer = api.trace.getTracer(TELEMETRY_SCOPE);
    const meter = api.metrics.getMeter(TELEMETRY_SCOPE);
    this.#events = meter.createCounter('webpubsub.events', {
      description: 'Events received, by event type and outcome',
    });
    this.#refusals = meter.createCounter('webpubsub.refusals', {
      description: 'Requests refused before any handler ran, by reason',
    });
    this.#duration = meter.createHistogram('webpubsub.handler.duration', {
      description: 'Duration of event handlers',
      unit: 's',
    });
    this.enabled = true;
  }

  /**
   * The active context (the HTTP server span's), for platforms that read the body before the
   * route runs, where the context the request started in may be lost.
   */
  activeContext(): unknown {
    return this.#api.context.active();
  }

  /** Starts an event's span, a child of `parent` (default: the active context). */
  start(parent?: unknown): EventTrace {
    const span = this.#tracer.startSpan(
      'webpubsub event',
      { kind: this.#api.SpanKind.INTERNAL },
      (parent as OpenTelemetry.Context | undefined) ?? this.#api.context.active(),
    );
    return new EventTrace(this, span, this.#api);
  }

  /** Runs `fn` with the event's span active, so spans the handler starts are its children. */
  within<T>(trace: EventTrace, fn: () => T): T {
    const api = this.#api;
    return api.context.with(api.trace.setSpan(api.context.active(), trace.span), fn);
  }

  /** One handler run: seconds, by event type and outcome. */
  handlerDuration(kind: string, seconds: number, outcome: EventOutcome): void {
    this.#duration.record(seconds, {
      'webpubsub.event.type': kind,
      'webpubsub.outcome': outcome,
    });
  }

  /** @internal */
  count(kind: string | undefined, outcome: EventOutcome, status: number): void {
    this.#events.add(1, {
      'webpubsub.event.type': kind ?? 'unknown',
      'webpubsub.outcome': outcome,
    });
    if (outcome === 'refused') {
      this.#refusals.add(1, {
        'webpubsub.refusal.reason': REFUSAL_REASONS[status] ?? 'other',
        'http.response.status_code': status,
      });
    }
  }
}

/**
 * Whether an OpenTelemetry SDK registered a tracer or meter provider (before the app started, as
 * SDK set-ups do): with the API's no-op providers only, the module keeps its untraced path.
 */
function hasProvider(api: Api): boolean {
  const tracing = api.trace.getTracerProvider() as { getDelegate?: () => unknown };
  const noopTracing = new api.ProxyTracerProvider().getDelegate();
  if ((tracing.getDelegate?.() ?? tracing) !== noopTracing) return true;
  return api.metrics.getMeterProvider().constructor.name !== 'NoopMeterProvider';
}

/** The outcome of an answer the handler (or the store) gave. */
export function outcomeOf(status: number): EventOutcome {
  return status < 400 ? 'ok' : status < 500 ? 'rejected' : 'error';
}

/** One event's span. Attributes never include keys, tokens, signatures, states or bodies. */
export class EventTrace {
  #kind: string | undefined;
  #ended = false;

  constructor(
    private readonly telemetry: WebPubSubTelemetry,
    readonly span: OpenTelemetry.Span,
    private readonly api: Api,
  ) {}

  /** Names the span after the event once its headers are read. */
  event(event: EventHeaders): void {
    this.#kind = event.kind;
    this.span.updateName(`webpubsub ${event.kind === 'user' ? 'user' : 'sys'} ${event.eventName}`);
    const attributes: Attributes = {
      'webpubsub.hub': event.hub,
      'webpubsub.event.type': event.kind,
      'webpubsub.event.name': event.eventName,
      'webpubsub.connection.id': event.connectionId,
    };
    if (event.userId !== undefined) attributes['webpubsub.user.id'] = event.userId;
    this.span.setAttributes(attributes);
  }

  end(status: number, outcome: EventOutcome): void {
    if (this.#ended) return;
    this.#ended = true;
    this.span.setAttributes({
      'webpubsub.outcome': outcome,
      'http.response.status_code': status,
    });
    if (status >= 500) this.span.setStatus({ code: this.api.SpanStatusCode.ERROR });
    this.span.end();
    this.telemetry.count(this.#kind, outcome, status);
  }
}
