/**
 * Dispatch on Express and Fastify: hubs kept apart (a hub-restricted handler answers only its hub);
 * handlers hosted by controllers, with stacked decorators; an aliased provider registered once,
 * factory-built providers found; a non-blocking event acknowledged at once while its slow handlers
 * run, fanned out to every handler; a non-blocking handler that throws or rejects is logged and
 * nothing goes unhandled. Logging: one line per registered handler at start-up with the WebPubSub
 * context, one debug line per event, a warning with the reason for each rejected request, a
 * crashing handler logged with its stack, which never reaches the response, no signature warning
 * when keys are configured. Negative checks wait for a positive sync point, not a fixed sleep.
 */
import { Injectable } from '@nestjs/common';
import { OnUserEvent, WebPubSubModule, type UserEventRequest } from '../../lib/index.js';
import { ChatHandlers } from '../fixtures/chat.handlers.js';
import {
  ControllerHostedHandlers,
  EveryHubHandler,
  NotificationsOnlyHandler,
  TroublesomeListeners,
} from '../fixtures/handler-variants.js';
import { CapturingLogger, startApp, PLATFORMS, type TestApp } from '../utils/app.js';
import {
  CONNECTION_STRING,
  connectBody,
  eventHeaders,
  postEvent,
  type EventOptions,
} from '../utils/events.js';
import { http } from '../utils/http.js';
import { waitFor } from '../utils/wait.js';

/** A provider registered twice: once as a class and once as an alias of it. */
@Injectable()
class AliasedHandler {
  @OnUserEvent('aliased')
  aliased(request: UserEventRequest): string {
    return `aliased ${request.data}`;
  }
}

/** A provider built by a factory (`useValue` of an instance of a decorated class). */
class FactoryBuiltHandler {
  @OnUserEvent('factory')
  factory(): string {
    return 'from factory';
  }
}

describe.each(PLATFORMS)('dispatch on %s', platform => {
  let app: TestApp;
  const logger = new CapturingLogger();

  beforeAll(async () => {
    app = await startApp(
      platform,
      {
        imports: [
          WebPubSubModule.forRoot({
            hub: ['chat', 'notifications'],
            connectionString: CONNECTION_STRING,
          }),
        ],
        controllers: [ControllerHostedHandlers],
        providers: [
          NotificationsOnlyHandler,
          EveryHubHandler,
          TroublesomeListeners,
          AliasedHandler,
          { provide: 'ALIAS', useExisting: AliasedHandler },
          { provide: 'FACTORY', useFactory: () => new FactoryBuiltHandler() },
          { provide: 'NULL_PROTOTYPE', useFactory: () => Object.create(null) },
        ],
      },
      { logger },
    );
  });
  afterAll(() => app?.close());

  const post = (event: string, body: string, options: EventOptions = {}) =>
    postEvent(`${app.url}/eventhandler`, event, body, options);

  it('keeps the hubs apart: a hub-restricted handler answers only its hub', async () => {
    const notifications = await post('message', 'n1', { hub: 'notifications' });
    expect(notifications.text).toBe('notifications got n1');
    const chat = await post('message', 'c1', { hub: 'chat' });
    expect(chat.text).toBe('chat got c1');
    const connectChat = await post('connect', connectBody(), { hub: 'chat' });
    expect(connectChat.status).toBe(204); // no connect handler for chat
    const connectNotifications = await post('connect', connectBody(), {
      hub: 'Notifications',
      connectionId: 'c9',
    });
    expect(JSON.parse(connectNotifications.text)).toEqual({ userId: 'notify-c9' });
  });

  it('finds handlers hosted by controllers, with stacked decorators', async () => {
    expect((await post('ping', 'x')).text).toBe('controller: ping');
    expect((await post('pong', 'x')).text).toBe('controller: pong');
  });

  it('registers an aliased provider once and finds factory-built providers', async () => {
    expect((await post('aliased', 'once')).text).toBe('aliased once');
    expect((await post('factory', 'x')).text).toBe('from factory');
    expect(
      logger.messages('log').filter(line => line.includes('AliasedHandler.aliased')),
    ).toHaveLength(1);
  });

  it('acknowledges a non-blocking event at once while its slow handlers run, and fans out to every handler', async () => {
    const listeners = app.app.get(TroublesomeListeners);
    const controller = app.app.get(ControllerHostedHandlers);
    const res = await post('connected', '{}', { connectionId: 'slowpoke' });
    expect(res.status).toBe(204);
    expect(listeners.seen).not.toContain('slow connected slowpoke');
    await waitFor(() => controller.seen.includes('controller connected slowpoke'));
    listeners.release();
    await waitFor(() => listeners.seen.includes('slow connected slowpoke'));
  });

  // Jest (circus) fails the running test on any unhandled rejection or uncaught exception, so
  // this test also proves that a failing non-blocking handler leaves none behind.
  it('logs a non-blocking handler that throws or rejects, and nothing goes unhandled', async () => {
    const listeners = app.app.get(TroublesomeListeners);
    const res = await post('disconnected', JSON.stringify({ reason: 'bye' }));
    expect(res.status).toBe(204);
    await waitFor(() =>
      logger.messages('error').some(line => line.includes('TroublesomeListeners.rejects failed')),
    );
    expect(listeners.seen).toContain('disconnected bye');
    const errors = logger.messages('error').join('\n');
    expect(errors).toContain('Handler TroublesomeListeners.throws failed');
    expect(errors).toContain('listener exploded');
    // Sync point before the test ends (an unhandled rejection would fail it): a later event's
    // handler has run, so the failures above were fully handled by then.
    const controller = app.app.get(ControllerHostedHandlers);
    expect((await post('connected', '{}', { connectionId: 'after-failures' })).status).toBe(204);
    await waitFor(() => controller.seen.includes('controller connected after-failures'));
  });
});

describe.each(PLATFORMS)('logging on %s', platform => {
  let app: TestApp;
  const logger = new CapturingLogger();

  beforeAll(async () => {
    app = await startApp(
      platform,
      {
        imports: [WebPubSubModule.forRoot({ hub: 'chat', connectionString: CONNECTION_STRING })],
        providers: [ChatHandlers],
      },
      { logger },
    );
  });
  afterAll(() => app?.close());

  it('logs one line per registered handler at start-up, with the WebPubSub context', () => {
    const registered = logger.lines.filter(
      line => line.level === 'log' && line.message.startsWith('Registered'),
    );
    expect(registered.map(line => line.message)).toContain(
      'Registered connect handler ChatHandlers.connect',
    );
    expect(registered.map(line => line.message)).toContain(
      'Registered user event "message" handler ChatHandlers.message',
    );
    expect(registered.every(line => line.context === 'WebPubSub')).toBe(true);
  });

  it('logs one debug line per event', async () => {
    const res = await http(`${app.url}/eventhandler`, {
      method: 'POST',
      headers: eventHeaders('message', { connectionId: 'dbg-1' }),
      body: 'x',
    });
    expect(res.status).toBe(200);
    const lines = logger.lines.filter(
      line => line.level === 'debug' && line.message.includes('dbg-1'),
    );
    expect(lines.map(line => line.message)).toEqual([
      'user event "message" hub=chat connection=dbg-1',
    ]);
    expect(lines[0].context).toBe('WebPubSub');
  });

  it('logs a warning with the reason for each rejected request', async () => {
    const res = await http(`${app.url}/eventhandler`, {
      method: 'POST',
      headers: eventHeaders('message', { keys: ['forged'] }),
      body: 'x',
    });
    expect(res.status).toBe(401);
    expect(logger.messages('warn')).toContain(
      'Rejected POST /eventhandler: 401 Invalid ce-signature',
    );
  });

  it('logs a crashing handler with its stack, which never reaches the response', async () => {
    const res = await http(`${app.url}/eventhandler`, {
      method: 'POST',
      headers: eventHeaders('crash'),
      body: 'x',
    });
    expect(res.status).toBe(500);
    expect(res.text).toBe('Internal server error');
    const error = logger.lines.find(
      line => line.level === 'error' && line.message.includes('ChatHandlers.crash'),
    );
    expect(error?.message).toContain('database password is hunter2');
    expect(error?.message).toMatch(/at ChatHandlers\.crash/);
  });

  it('does not warn about signatures when keys are configured', () => {
    expect(logger.messages('warn').some(line => line.includes('ce-signature is NOT checked'))).toBe(
      false,
    );
  });
});
