/**
 * Faults on Express and Fastify (leaks tracked per request with `test/utils/leaks.ts`, log lines
 * asserted, no fixed sleep):
 * - faulty handlers: a sync throw and a rejection → 500 `Internal server error`; never settling →
 *   504 after `handlerTimeout`, one error log line; rejecting after the timeout → 504, one timeout
 *   log line, the late rejection not logged; a non-blocking handler that never settles is logged
 *   after `handlerTimeout`;
 * - 1,000 clients aborted mid-body, each after the server has its headers: no handler call; the
 *   `data`/`end`/`error`/`close` listener counts on all 1,000 requests are 0; no
 *   `process.getActiveResourcesInfo()` type grows by more than 2; after a GC fewer than 10 of the
 *   requests are still reachable (0 measured); the server still answers;
 * - 100 clients gone before the response: all 100 handlers ran, all 100 responses closed, no log
 *   line but debug, the next request gets 200;
 * - 10,000 concurrent events with distinct states (256 sockets): every response carried exactly its
 *   own request's state and body.
 *
 * Broken on purpose: `body.reader.ts` not removing its `data` listener failed the abort test on
 * Express (1,000 listeners left; Fastify, which reads bodies itself, rightly passes); a 60 s timer
 * per request, a global array keeping each request and an `error` listener per request (in
 * `WebPubSubEventPipeline.inspect`) each failed it on both platforms (Timeout +1,000; 1,000
 * requests reachable after GC; 1,000 `error` listeners).
 */
import { Agent } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Server } from 'node:http';
import { WebPubSubModule } from '../../lib/index.js';
import { FaultHandlers } from '../fixtures/fault.handlers.js';
import { HardeningHandlers } from '../fixtures/hardening.handlers.js';
import { CapturingLogger, startApp, PLATFORMS, type TestApp } from '../utils/app.js';
import { CONNECTION_STRING, eventHeaders } from '../utils/events.js';
import { http } from '../utils/http.js';
import { activeResources, RequestTracker } from '../utils/leaks.js';
import { waitFor } from '../utils/wait.js';

// Jest fails the running test on any unhandled rejection or uncaught exception: every test below
// also proves there was none.

function openConnections(server: Server): Promise<number> {
  return new Promise((resolve, reject) =>
    server.getConnections((error, count) => (error ? reject(error) : resolve(count))),
  );
}

/**
 * A raw request: the headers, then part of the body, and then, once the server has the request
 * (`arrived`), the client goes away.
 */
function abortMidBody(
  url: string,
  event: string,
  id: string,
  arrived: (id: string) => Promise<void>,
): Promise<void> {
  const { port } = new URL(url);
  const headers = {
    ...eventHeaders(event, { contentType: 'application/octet-stream' }),
    'ce-id': id,
  };
  const head =
    `POST /eventhandler HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000\r\n` +
    Object.entries(headers)
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('') +
    '\r\n';
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(Number(port), '127.0.0.1', () => {
      const arrival = arrived(id);
      socket.write(head);
      socket.write(Buffer.alloc(1000, 7), () =>
        arrival.then(() => {
          socket.destroy();
          resolve();
        }),
      );
    });
    socket.on('error', reject);
  });
}

/** Active resources of one type that may come and go on their own (e.g. Node's own timers). */
const RESOURCE_SLACK = 2;

describe.each(PLATFORMS)('faults on %s', platform => {
  let app: TestApp;
  let handlers: FaultHandlers;
  const logger = new CapturingLogger();

  beforeAll(async () => {
    app = await startApp(
      platform,
      {
        imports: [
          WebPubSubModule.forRoot({
            hub: 'chat',
            connectionString: CONNECTION_STRING,
            handlerTimeout: 100,
          }),
        ],
        providers: [FaultHandlers],
      },
      { logger },
    );
    handlers = app.app.get(FaultHandlers);
  });
  afterAll(() => app?.close());

  const post = (event: string, body = 'x') =>
    http(`${app.url}/eventhandler`, { method: 'POST', headers: eventHeaders(event), body });

  describe('handlers that fail', () => {
    it.each([
      ['throws synchronously', 'sync-throw'],
      ['rejects', 'reject'],
    ])('a handler that %s gets 500 with a generic message', async (_label, event) => {
      const res = await post(event);
      expect(res.status).toBe(500);
      expect(res.text).toBe('Internal server error');
    });

    it('a handler that never settles gets 504 after handlerTimeout, and is logged', async () => {
      const started = Date.now();
      const res = await post('never');
      const elapsed = Date.now() - started;
      expect(res.status).toBe(504);
      expect(res.text).toBe('The event handler did not answer within 100 ms');
      expect(elapsed).toBeGreaterThanOrEqual(95);
      expect(elapsed).toBeLessThan(1000);
      expect(logger.messages('error')).toContain(
        'Handler FaultHandlers.never did not finish within 100 ms (handlerTimeout)',
      );
    });

    it('a handler that rejects after the timeout gets 504 and is logged once, its late rejection dropped quietly', async () => {
      const res = await post('late-reject');
      expect(res.status).toBe(504);
      expect(res.text).toBe('The event handler did not answer within 100 ms');
      expect(
        logger
          .messages('error')
          .filter(
            line =>
              line ===
              'Handler FaultHandlers.lateReject did not finish within 100 ms (handlerTimeout)',
          ),
      ).toHaveLength(1);
      await waitFor(() => handlers.settledLate.includes('late-reject'));
      // Sync point: a later failure is logged, so the earlier late rejection was handled by then.
      expect((await post('reject')).status).toBe(500);
      await waitFor(() => logger.messages('error').some(line => line.includes('async failure')));
      expect(
        logger.messages('error').filter(line => line.includes('rejected after the timeout')),
      ).toEqual([]);
    });

    it('a non-blocking handler that never settles is logged after handlerTimeout', async () => {
      const res = await post('connected', '{}');
      expect(res.status).toBe(204);
      await waitFor(() =>
        logger
          .messages('error')
          .includes('Handler FaultHandlers.hangs did not finish within 100 ms (handlerTimeout)'),
      );
    });
  });

  describe('clients that go away', () => {
    it('1,000 requests aborted mid-body call no handler and leave no listener, timer or request behind', async () => {
      const server = app.app.getHttpServer() as Server;
      const before = {
        calls: handlers.calls,
        listeners: server.listenerCount('request') + server.listenerCount('connection'),
        resources: activeResources(),
      };
      const tracker = new RequestTracker(server);
      try {
        for (let batch = 0; batch < 10; batch++) {
          await Promise.all(
            Array.from({ length: 100 }, (_, i) =>
              abortMidBody(app.url, 'fast', `abort-${batch}-${i}`, id => tracker.arrival(id)),
            ),
          );
        }
        await waitFor(async () => (await openConnections(server)) === 0);
        expect(tracker.seen).toBe(1000);
        // Every listener the request path attached to a request was removed again …
        await waitFor(() =>
          Object.values(tracker.listenerCounts()).every(count => count === 0),
        ).catch(() => undefined);
        expect(tracker.listenerCounts()).toEqual({ data: 0, end: 0, error: 0, close: 0 });
        // … no timer, socket or handle per request is left …
        const grown = () =>
          Object.entries(activeResources())
            .filter(([type, count]) => count > (before.resources[type] ?? 0) + RESOURCE_SLACK)
            .map(([type, count]) => `${type}: ${before.resources[type] ?? 0} → ${count}`);
        await waitFor(() => grown().length === 0).catch(() => undefined);
        expect(grown()).toEqual([]);
        // … and nothing else holds on to the requests.
        expect(await tracker.aliveAfterGc()).toBeLessThan(10);
      } finally {
        tracker.stop();
      }
      expect(handlers.calls).toBe(before.calls);
      expect(server.listenerCount('request') + server.listenerCount('connection')).toBe(
        before.listeners,
      );
      // and the server still answers
      expect((await post('fast')).text).toBe('fast answer');
    });

    it('100 clients gone before the response: every handler runs, every response closes, nothing is logged', async () => {
      const server = app.app.getHttpServer() as Server;
      const tracker = new RequestTracker(server);
      const before = { calls: handlers.calls, errors: logger.lines.length };
      const { port } = new URL(app.url);
      const headers = eventHeaders('slow');
      const raw =
        `POST /eventhandler HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1\r\n` +
        Object.entries(headers)
          .map(([name, value]) => `${name}: ${value}\r\n`)
          .join('') +
        '\r\nx';
      try {
        await Promise.all(
          Array.from(
            { length: 100 },
            () =>
              new Promise<void>((resolve, reject) => {
                const socket = connect(Number(port), '127.0.0.1', () =>
                  socket.end(raw, () => {
                    socket.destroy();
                    resolve();
                  }),
                );
                socket.on('error', reject);
              }),
          ),
        );
        await waitFor(() => handlers.calls === before.calls + 100);
        // Every answer was written (or dropped with its socket) before anything is asserted.
        await waitFor(() => tracker.seen === 100 && tracker.responsesClosed === 100);
        await waitFor(async () => (await openConnections(server)) === 0);
      } finally {
        tracker.stop();
      }
      expect(logger.lines.slice(before.errors).filter(line => line.level !== 'debug')).toEqual([]);
      expect(handlers.calls).toBe(before.calls + 100);
      const res = await post('fast');
      expect(res.status).toBe(200);
      expect(res.text).toBe('fast answer');
    });
  });
});

describe.each(PLATFORMS)('10,000 concurrent events on %s', platform => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp(platform, {
      imports: [WebPubSubModule.forRoot({ hub: 'chat', connectionString: CONNECTION_STRING })],
      providers: [HardeningHandlers],
    });
  });
  afterAll(() => app?.close());

  it('answer each event with exactly its own state', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 256 });
    const { request } = await import('node:http');
    const send = (i: number) =>
      new Promise<{ i: number; status: number; body: string; state?: string }>(
        (resolve, reject) => {
          const body = Buffer.from(`event-${i}`);
          const req = request(
            `${app.url}/eventhandler`,
            {
              method: 'POST',
              agent,
              headers: {
                ...eventHeaders('state', {
                  connectionId: `conn-${i}`,
                  state: Buffer.from(JSON.stringify({ id: `old-${i}` })).toString('base64'),
                }),
                'content-length': body.length,
              },
            },
            res => {
              const chunks: Buffer[] = [];
              res.on('data', chunk => chunks.push(chunk));
              res.on('end', () =>
                resolve({
                  i,
                  status: res.statusCode ?? 0,
                  body: Buffer.concat(chunks).toString(),
                  state: res.headers['ce-connectionstate'] as string,
                }),
              );
            },
          );
          req.on('error', reject);
          req.end(body);
        },
      );
    try {
      const results = await Promise.all(Array.from({ length: 10_000 }, (_, i) => send(i)));
      const wrong = results.filter(
        ({ i, status, body, state }) =>
          status !== 200 ||
          body !== `event-${i}` ||
          JSON.parse(Buffer.from(state ?? '', 'base64').toString()).id !== `event-${i}`,
      );
      expect(wrong).toEqual([]);
      expect(results).toHaveLength(10_000);
    } finally {
      agent.destroy();
    }
  }, 60_000);
});
