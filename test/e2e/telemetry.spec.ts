/**
 * OpenTelemetry on Express and Fastify, with the SDK's `InMemorySpanExporter` +
 * `BasicTracerProvider` and `InMemoryMetricExporter` (and an `AsyncLocalStorage` context manager
 * and an HTTP server span made as the HTTP instrumentation makes it): one span per event, same
 * trace and parent = the server span, exact attributes, a handler's own span is its child; connect
 * named `webpubsub sys connect`; a forged signature → outcome `refused`, 401; a throwing handler →
 * `error`, span status ERROR; no access key, signature or body in any span; `webpubsub.events`
 * user/ok = 2, user/error = 1, connect/ok = 1, connected/ok = 1; `webpubsub.refusals` = 1 ×
 * `unauthenticated`/401; `webpubsub.handler.duration` counts user 3, connect 1, connected 1;
 * `telemetry: false` records nothing.
 */
import { Injectable } from '@nestjs/common';
import { trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { Server } from 'node:http';
import {
  OnConnect,
  OnConnected,
  OnUserEvent,
  WebPubSubModule,
  type ConnectRequest,
  type UserEventRequest,
} from '../../lib/index.js';
import { startApp, PLATFORMS, type TestApp } from '../utils/app.js';
import {
  ACCESS_KEY,
  CONNECTION_STRING,
  connectBody,
  eventHeaders,
  postEvent,
} from '../utils/events.js';
import { http } from '../utils/http.js';
import { registerTestTelemetry, type TestTelemetry } from '../utils/otel.js';
import { waitFor } from '../utils/wait.js';

const SECRET_BODY = 'secret-body-never-in-telemetry';

@Injectable()
class TracedHandlers {
  connectedRuns = 0;

  @OnConnect()
  connect(request: ConnectRequest) {
    return { userId: request.claims.sub?.[0] };
  }

  @OnUserEvent('message')
  message(request: UserEventRequest): string {
    // A span the handler starts is a child of the event's span.
    trace.getTracer('app').startSpan('app work').end();
    return `echo ${String(request.data).length}`;
  }

  @OnUserEvent('fail')
  fail(): never {
    throw new Error('handler failed');
  }

  @OnConnected()
  async connected(): Promise<void> {
    await new Promise(resolve => setTimeout(resolve, 10));
    this.connectedRuns++;
  }
}

describe.each(PLATFORMS)('OpenTelemetry on %s', platform => {
  let otel: TestTelemetry;
  let app: TestApp;
  let serverSpans: ReadableSpan[];
  beforeAll(async () => {
    otel = registerTestTelemetry();
    app = await startApp(
      platform,
      {
        imports: [WebPubSubModule.forRoot({ hub: 'chat', connectionString: CONNECTION_STRING })],
        providers: [TracedHandlers],
      },
      {
        before: nestApp => {
          serverSpans = otel.instrumentServer(nestApp.getHttpServer() as Server);
        },
      },
    );
  });
  afterAll(async () => {
    await app?.close();
    await otel?.shutdown();
  });
  beforeEach(() => otel.spans.reset());

  const url = () => `${app.url}/eventhandler`;
  const eventSpans = () =>
    otel.spans.getFinishedSpans().filter(span => span.name.startsWith('webpubsub '));

  it('records one span per event, a child of the HTTP server span, with its attributes', async () => {
    const res = await postEvent(url(), 'message', SECRET_BODY, { userId: 'alice' });
    expect(res.status).toBe(200);
    await waitFor(() => eventSpans().length === 1);
    const [span] = eventSpans();
    const server = serverSpans.at(-1)!;
    expect(span.name).toBe('webpubsub user message');
    expect(span.spanContext().traceId).toBe(server.spanContext().traceId);
    expect(span.parentSpanContext?.spanId).toBe(server.spanContext().spanId);
    expect(span.attributes).toEqual({
      'webpubsub.hub': 'chat',
      'webpubsub.event.type': 'user',
      'webpubsub.event.name': 'message',
      'webpubsub.connection.id': 'conn-1',
      'webpubsub.user.id': 'alice',
      'webpubsub.outcome': 'ok',
      'http.response.status_code': 200,
    });
    const work = otel.spans.getFinishedSpans().find(candidate => candidate.name === 'app work');
    expect(work?.parentSpanContext?.spanId).toBe(span.spanContext().spanId);
  });

  it('names system events and records refusals and failures with their outcome', async () => {
    await postEvent(url(), 'connect', connectBody(), { connectionId: 'c-2' });
    await postEvent(url(), 'message', 'x', { keys: ['forged-key'] });
    await postEvent(url(), 'fail', 'x');
    await waitFor(() => eventSpans().length === 3);
    const byName = new Map(eventSpans().map(span => [span.name, span]));
    expect(byName.get('webpubsub sys connect')?.attributes).toMatchObject({
      'webpubsub.event.type': 'connect',
      'webpubsub.connection.id': 'c-2',
      'webpubsub.outcome': 'ok',
      'http.response.status_code': 200,
    });
    const refused = eventSpans().find(span => span.attributes['webpubsub.outcome'] === 'refused');
    expect(refused?.attributes['http.response.status_code']).toBe(401);
    const failed = byName.get('webpubsub user fail');
    expect(failed?.attributes['webpubsub.outcome']).toBe('error');
    expect(failed?.status.code).toBe(2); // SpanStatusCode.ERROR
  });

  it('never puts keys, signatures, tokens or bodies in spans', async () => {
    const headers = eventHeaders('message', { userId: 'bob' });
    await http(url(), { method: 'POST', headers, body: SECRET_BODY });
    await waitFor(() => eventSpans().length === 1);
    const text = JSON.stringify(eventSpans().map(span => [span.name, span.attributes]));
    for (const secret of [ACCESS_KEY, headers['ce-signature'], SECRET_BODY, 'sha256='])
      expect(text).not.toContain(secret);
  });

  it('counts events by type and outcome, refusals by reason, and times handlers', async () => {
    const handlers = app.app.get(TracedHandlers);
    const before = handlers.connectedRuns;
    await postEvent(url(), 'connected', '{}');
    await waitFor(() => handlers.connectedRuns === before + 1);
    const events = await otel.points('webpubsub.events');
    const count = (type: string, outcome: string) =>
      events.find(
        point =>
          point.attributes['webpubsub.event.type'] === type &&
          point.attributes['webpubsub.outcome'] === outcome,
      )?.value;
    expect(count('user', 'ok')).toBe(2);
    expect(count('user', 'error')).toBe(1);
    expect(count('connect', 'ok')).toBe(1);
    expect(count('connected', 'ok')).toBe(1);
    const refusals = await otel.points('webpubsub.refusals');
    expect(refusals).toHaveLength(1);
    expect(refusals[0].attributes).toEqual({
      'webpubsub.refusal.reason': 'unauthenticated',
      'http.response.status_code': 401,
    });
    expect(refusals[0].value).toBe(1);
    const durations = await otel.points('webpubsub.handler.duration');
    const histogram = (type: string) =>
      durations
        .filter(point => point.attributes['webpubsub.event.type'] === type)
        .reduce((sum, point) => sum + (point.value as { count: number }).count, 0);
    expect(histogram('user')).toBe(3);
    expect(histogram('connect')).toBe(1);
    expect(histogram('connected')).toBe(1);
  });

  it('records nothing with telemetry: false', async () => {
    const quiet = await startApp(platform, {
      imports: [
        WebPubSubModule.forRoot({
          hub: 'chat',
          connectionString: CONNECTION_STRING,
          telemetry: false,
        }),
      ],
      providers: [TracedHandlers],
    });
    try {
      const res = await postEvent(`${quiet.url}/eventhandler`, 'message', 'x');
      expect(res.status).toBe(200);
      const answered = await postEvent(url(), 'message', 'x');
      expect(answered.status).toBe(200);
      // The traced app's span is the sync point: the quiet app's event came first.
      await waitFor(() => eventSpans().length === 1);
      expect(eventSpans()).toHaveLength(1);
    } finally {
      await quiet.close();
    }
  });
});
