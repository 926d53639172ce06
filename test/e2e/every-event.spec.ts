/**
 * Every event and every hub on Express and Fastify: a user event with a handler of its own goes to
 * it, every other one to `@OnUserEvent()`, per hub the own handler first, then the hub's catch-all;
 * `@OnGroupJoined()` and `@OnGroupLeft()` get the group and answer at once; a group presence event
 * without a group is refused (400) and calls nobody; events for one hub never reach the other hub's
 * handlers; `ce-source` and `ce-awpsversion` are read into the context, and events do without them;
 * two catch-all user event handlers are refused at start-up. Negative checks wait for a positive
 * sync point, not a fixed sleep.
 */
import { Injectable } from '@nestjs/common';
import { DuplicateWebPubSubHandlerError, OnUserEvent, WebPubSubModule } from '../../lib/index.js';
import { EveryEventHandlers } from '../fixtures/every-event.handlers.js';
import { startApp, PLATFORMS, type TestApp } from '../utils/app.js';
import { CONNECTION_STRING, postEvent, type EventOptions } from '../utils/events.js';
import { waitFor } from '../utils/wait.js';

describe.each(PLATFORMS)('every event and every hub on %s', platform => {
  let app: TestApp;
  let handlers: EveryEventHandlers;

  beforeAll(async () => {
    app = await startApp(platform, {
      imports: [
        WebPubSubModule.forRoot({
          hub: ['chat', 'notifications'],
          connectionString: CONNECTION_STRING,
        }),
      ],
      providers: [EveryEventHandlers],
    });
    handlers = app.app.get(EveryEventHandlers);
  });
  afterAll(() => app?.close());

  const post = (event: string, body: string, options: EventOptions = {}) =>
    postEvent(`${app.url}/eventhandler`, event, body, options);

  it('gives a user event with a handler of its own to that handler', async () => {
    expect((await post('message', 'hi')).text).toBe('own handler: hi');
  });

  it('gives every other user event to @OnUserEvent()', async () => {
    const res = await post('typing', '{"on":true}', { contentType: 'application/json' });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toEqual({ catchAll: 'typing', hub: 'chat', data: { on: true } });
  });

  it('prefers, per hub, the own handler, then the hub’s catch-all', async () => {
    expect((await post('message', 'n', { hub: 'notifications' })).text).toBe(
      'notifications own handler: n',
    );
    expect((await post('typing', 'n', { hub: 'notifications' })).text).toBe(
      'notifications catch-all: typing',
    );
  });

  it('calls @OnGroupJoined() and @OnGroupLeft() with the group, answering at once', async () => {
    const joined = await post('x', JSON.stringify({ group: 'lobby' }), {
      connectionId: 'g-1',
      contentType: 'application/json',
      extra: { 'ce-type': 'azure.webpubsub.gp.joined', 'ce-eventName': 'joined' },
    });
    expect(joined.status).toBe(204);
    const left = await post('x', JSON.stringify({ group: 'lobby' }), {
      connectionId: 'g-1',
      contentType: 'application/json',
      extra: { 'ce-type': 'azure.webpubsub.gp.left', 'ce-eventName': 'left' },
    });
    expect(left.status).toBe(204);
    await waitFor(() => handlers.seen.includes('left lobby g-1 chat'));
    expect(handlers.seen).toContain('joined lobby g-1 chat');
  });

  it('refuses a group presence event without a group (400) and calls nobody', async () => {
    const before = handlers.seen.length;
    const res = await post('x', '{}', {
      contentType: 'application/json',
      extra: { 'ce-type': 'azure.webpubsub.gp.joined', 'ce-eventName': 'joined' },
    });
    expect(res.status).toBe(400);
    expect(res.text).toBe('The joined event body must name the group: {"group":"<name>"}');
    // Sync point: a valid event sent afterwards has reached its handler.
    await post('connected', '{}', { connectionId: 'after-400' });
    await waitFor(() => handlers.seen.some(line => line.startsWith('any connected after-400')));
    expect(handlers.seen.filter(line => !line.includes('after-400'))).toHaveLength(before);
  });

  it('never lets events for one hub reach the other hub’s handlers', async () => {
    expect((await post('connected', '{}', { hub: 'chat', connectionId: 'hub-c' })).status).toBe(
      204,
    );
    expect(
      (await post('connected', '{}', { hub: 'NOTIFICATIONS', connectionId: 'hub-n' })).status,
    ).toBe(204);
    // group left is restricted to chat: a notifications event must not reach it
    const left = await post('x', JSON.stringify({ group: 'g' }), {
      hub: 'notifications',
      connectionId: 'hub-n',
      contentType: 'application/json',
      extra: { 'ce-type': 'azure.webpubsub.gp.left', 'ce-eventName': 'left' },
    });
    expect(left.status).toBe(204);
    // Sync point: an event sent after all of them has reached its handler.
    await post('connected', '{}', { hub: 'chat', connectionId: 'sync-hub' });
    await waitFor(() => handlers.seen.some(line => line.startsWith('chat connected sync-hub')));
    const lines = handlers.seen.filter(line => line.includes('hub-'));
    expect(lines).toEqual(
      expect.arrayContaining([
        'chat connected hub-c chat',
        'notifications connected hub-n NOTIFICATIONS',
        expect.stringMatching(/^any connected hub-c /),
        expect.stringMatching(/^any connected hub-n /),
      ]),
    );
    expect(lines).toHaveLength(4);
  });

  it('reads ce-source and ce-awpsversion into the context, and does without them', async () => {
    await post('connected', '{}', { connectionId: 'src-1' });
    await post('connected', '{}', { connectionId: 'src-2', omit: ['ce-source', 'ce-awpsversion'] });
    await waitFor(() => handlers.seen.some(line => line.startsWith('any connected src-2')));
    expect(handlers.seen).toContain('any connected src-1 source=/hubs/chat/client/src-1 awps=1.0');
    expect(handlers.seen).toContain('any connected src-2 source=undefined awps=undefined');
  });
});

@Injectable()
class TwoCatchAlls {
  @OnUserEvent()
  one(): void {}

  @OnUserEvent('*')
  two(): void {}
}

it('refuses two catch-all user event handlers at start-up', async () => {
  await expect(
    startApp('express', { imports: [WebPubSubModule.forRoot({})], providers: [TwoCatchAlls] }),
  ).rejects.toThrow(DuplicateWebPubSubHandlerError);
});
