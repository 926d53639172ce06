import { AsyncLocalStorage } from 'node:async_hooks';
import type { Server } from 'node:http';
import {
  context,
  metrics,
  ROOT_CONTEXT,
  SpanKind,
  trace,
  type Context,
  type ContextManager,
  type Span,
} from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type DataPoint,
} from '@opentelemetry/sdk-metrics';

/** The context manager of `@opentelemetry/context-async-hooks`, in a few lines. */
class AsyncLocalStorageContextManager implements ContextManager {
  readonly #storage = new AsyncLocalStorage<Context>();
  active(): Context {
    return this.#storage.getStore() ?? ROOT_CONTEXT;
  }
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    ctx: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    return this.#storage.run(ctx, () => fn.call(thisArg, ...args));
  }
  bind<T>(ctx: Context, target: T): T {
    if (typeof target !== 'function') return target;
    return ((...args: unknown[]) => this.with(ctx, target as never, undefined, ...args)) as T;
  }
  enable(): this {
    return this;
  }
  disable(): this {
    this.#storage.disable();
    return this;
  }
}

/** An OpenTelemetry SDK with in-memory exporters, registered globally (as an app's tracing.ts does). */
export interface TestTelemetry {
  readonly spans: InMemorySpanExporter;
  /** The data points of metric `name` (cumulative), after a flush. */
  points(name: string): Promise<DataPoint<unknown>[]>;
  /**
   * Wraps the server's request handling in an HTTP server span, as the Node HTTP instrumentation
   * does; returns the server spans by request path.
   */
  instrumentServer(server: Server): ReadableSpan[];
  shutdown(): Promise<void>;
}

export function registerTestTelemetry(): TestTelemetry {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager());
  const spans = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(spans)],
  });
  trace.setGlobalTracerProvider(tracerProvider);
  const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({
    exporter: metricExporter,
    exportIntervalMillis: 3_600_000,
  });
  const meterProvider = new MeterProvider({ readers: [reader] });
  metrics.setGlobalMeterProvider(meterProvider);
  const serverTracer = trace.getTracer('test-http-server');
  return {
    spans,
    async points(name) {
      await reader.forceFlush();
      const exported = metricExporter.getMetrics().at(-1);
      const metric = exported?.scopeMetrics
        .flatMap(scope => scope.metrics)
        .find(candidate => candidate.descriptor.name === name);
      return (metric?.dataPoints ?? []) as DataPoint<unknown>[];
    },
    instrumentServer(server) {
      const serverSpans: ReadableSpan[] = [];
      const emit = server.emit.bind(server);
      server.emit = ((event: string, ...args: unknown[]) => {
        if (event !== 'request') return emit(event, ...args);
        const [req, res] = args as [{ method: string; url: string }, NodeJS.EventEmitter];
        const span: Span = serverTracer.startSpan(`${req.method} ${req.url}`, {
          kind: SpanKind.SERVER,
        });
        serverSpans.push(span as unknown as ReadableSpan);
        res.once('finish', () => span.end());
        return context.with(trace.setSpan(ROOT_CONTEXT, span), () => emit(event, ...args));
      }) as typeof server.emit;
      return serverSpans;
    },
    async shutdown() {
      await tracerProvider.shutdown();
      await meterProvider.shutdown();
      trace.disable();
      metrics.disable();
      context.disable();
    },
  };
}
