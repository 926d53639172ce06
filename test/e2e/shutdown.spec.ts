/**
 * Graceful shutdown on Express and Fastify: 200 slow blocking (500 ms) and 200 slow non-blocking
 * (1.5 s) events in flight, then `app.close()`: all 200 blocking answered 200 with their own body,
 * all 200 non-blocking acknowledged 204, 400 of 400 handlers finished when `close()` returns, no
 * unhandled rejection. Without the drain, 105–145 of the 200 non-blocking handlers had finished.
 */
import { Injectable } from '@nestjs/common';
import {
  OnConnected,
  OnUserEvent,
  WebPubSubModule,
  type UserEventRequest,
} from '../../lib/index.js';
import { startApp, PLATFORMS, type TestApp } from '../utils/app.js';
import { CONNECTION_STRING, postEvent } from '../utils/events.js';
import type { HttpResult } from '../utils/http.js';
import { sleep, waitFor } from '../utils/wait.js';

const IN_FLIGHT = 200;
const HANDLER_MS = 500;
/** Non-blocking handlers outlive the blocking ones, so the HTTP server closing is not enough. */
const NON_BLOCKING_MS = 3 * HANDLER_MS;

/** Slow handlers that count how many started and how many ran to the end. */
@Injectable()
class SlowHandlers {
  started = { blocking: 0, nonBlocking: 0 };
  finished = { blocking: 0, nonBlocking: 0 };

  @OnUserEvent('slow')
  async slow(request: UserEventRequest): Promise<string> {
    this.started.blocking++;
    await sleep(HANDLER_MS);
    this.finished.blocking++;
    return `done ${request.context.connectionId}`;
  }

  @OnConnected()
  async connected(): Promise<void> {
    this.started.nonBlocking++;
    await sleep(NON_BLOCKING_MS);
    this.finished.nonBlocking++;
  }
}

describe.each(PLATFORMS)('graceful shutdown on %s', platform => {
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown) => rejections.push(reason);
  let app: TestApp;
  beforeAll(async () => {
    process.on('unhandledRejection', onRejection);
    app = await startApp(
      platform,
      {
        imports: [
          WebPubSubModule.forRoot({
            hub: 'chat',
            connectionString: CONNECTION_STRING,
            handlerTimeout: 10_000,
          }),
        ],
        providers: [SlowHandlers],
      },
      { before: nestApp => void nestApp.enableShutdownHooks() },
    );
  });
  afterAll(() => process.off('unhandledRejection', onRejection));

  it(`lets ${IN_FLIGHT} slow events in flight and the handlers already started finish`, async () => {
    const handlers = app.app.get(SlowHandlers);
    const url = `${app.url}/eventhandler`;
    const blocking: Promise<HttpResult>[] = [];
    const nonBlocking: Promise<HttpResult>[] = [];
    for (let i = 0; i < IN_FLIGHT; i++) {
      blocking.push(postEvent(url, 'slow', 'x', { connectionId: `b-${i}` }));
      nonBlocking.push(postEvent(url, 'connected', '{}', { connectionId: `n-${i}` }));
    }
    // Every handler is running: the blocking events wait for theirs, the non-blocking ones
    // were acknowledged and their handlers run after.
    await waitFor(
      () => handlers.started.blocking === IN_FLIGHT && handlers.started.nonBlocking === IN_FLIGHT,
      20_000,
    );
    expect(handlers.finished.blocking).toBeLessThan(IN_FLIGHT);
    expect(handlers.finished.nonBlocking).toBeLessThan(IN_FLIGHT);

    await app.close();

    // close() returned only after every handler ran to its end.
    expect(handlers.finished).toEqual({ blocking: IN_FLIGHT, nonBlocking: IN_FLIGHT });
    const answers = await Promise.all(blocking);
    for (const [i, answer] of answers.entries()) {
      expect(answer.status).toBe(200);
      expect(answer.text).toBe(`done b-${i}`);
    }
    for (const answer of await Promise.all(nonBlocking)) expect(answer.status).toBe(204);
    expect(rejections).toEqual([]);
  }, 60_000);
});
