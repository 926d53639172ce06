import { Agent } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Server } from 'node:http';
import { WebPubSubModule } from '../../lib/index.js';
import { FaultHandlers } from '../fixtures/fault.handlers.js';
import { HardeningHandlers } from '../fixtures/hardening.handlers.js';
import { CapturingLogger, startApp, PLATFORMS, type TestApp } from '../utils/app.js';
import { CONNECTION_STRING, eventHeaders } from '../utils/events.js';
import { http } from '../utils/http.js';
import { sleep, waitFor } from '../utils/wait.js';

// Jest fails the running test on any unhandled rejection or uncaught exception: every test below
// also proves there was none.

function openConnections(server: Server): Promise<number> {
  return new Promise((resolve, reject) =>
    server.getConnections((error, count) => (error ? reject(error) : resolve(count))),
  );
}

/** A raw request: the headers, then part of the body, and then the client goes away. */
function abortMidBody(url: string, event: string): Promise<void> {
  const { port } = new URL(url);
  const headers = eventHeaders(event, { contentType: 'application/octet-stream' });
  const head =
    `POST /eventhandler HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000\r\n` +
    Object.entries(headers)
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('') +
    '\r\n';
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(Number(port), '127.0.0.1', () => {
      socket.write(head);
      socket.write(Buffer.alloc(1000, 7), () => {
        socket.destroy();
        resolve();
      });
    });
    socket.on('error', reject);
  });
}

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

    it('a handler that rejects after the timeout gets 504, and its late rejection is dropped quietly', async () => {
      const res = await post('late-reject');
      expect(res.status).toBe(504);
      await waitFor(() => handlers.settledLate.includes('late-reject'));
      await sleep(20);
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
    it('1,000 requests aborted mid-body call no handler and leave no socket or listener behind', async () => {
      const server = app.app.getHttpServer() as Server;
      const before = {
        calls: handlers.calls,
        listeners: server.listenerCount('request') + server.listenerCount('connection'),
      };
      for (let batch = 0; batch < 10; batch++) {
        await Promise.all(Array.from({ length: 100 }, () => abortMidBody(app.url, 'fast')));
      }
      await waitFor(async () => (await openConnections(server)) === 0);
      expect(handlers.calls).toBe(before.calls);
      expect(server.listenerCount('request') + server.listenerCount('connection')).toBe(
        before.listeners,
      );
      // and the server still answers
      expect((await post('fast')).text).toBe('fast answer');
    });

    it('100 clients gone before the response: every handler runs, nothing breaks', async () => {
      const server = app.app.getHttpServer() as Server;
      const before = handlers.calls;
      const { port } = new URL(app.url);
      const headers = eventHeaders('slow');
      const raw =
        `POST /eventhandler HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1\r\n` +
        Object.entries(headers)
          .map(([name, value]) => `${name}: ${value}\r\n`)
          .join('') +
        '\r\nx';
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
      await waitFor(() => handlers.calls === before + 100);
      await sleep(60);
      await waitFor(async () => (await openConnections(server)) === 0);
      expect((await post('fast')).status).toBe(200);
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
