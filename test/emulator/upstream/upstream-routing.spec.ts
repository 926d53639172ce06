/**
 * Which event handler gets which event: `userEventPattern` `*`, a list and one name
 * (case-insensitive), absent or empty none; `{hub}` (lower case) and `{event}` URL-encoded in
 * `urlTemplate`; handlers tried in order, the first matching one wins; the handshake URL has
 * `{event}` = `validate`. End to end: two handlers with `systemEvents` subsets get exactly
 * `connected` + `chat` and `whisper` + `disconnected`, no `connect` event (the client accepted as
 * is), an unrouted event is acked `InternalServerError`, one handshake per handler URL.
 */
import { startEmulator } from '../../../lib/emulator/index.js';
import { TrafficLog } from '../../../lib/emulator/traffic-log.js';
import {
  expandTemplate,
  userEventMatches,
} from '../../../lib/emulator/upstream/handler-routing.js';
import { DEFAULT_UPSTREAM_TIMINGS, Upstream } from '../../../lib/emulator/upstream/upstream.js';
import { waitFor } from '../../utils/wait.js';
import { clientUrl, FAST_TIMINGS, RawClient, recordingUpstream } from '../harness.js';

describe('upstream routing', () => {
  it('userEventPattern: "*" takes every event, a list its names, one name only itself; absent or empty none', () => {
    expect(userEventMatches('*', 'anything')).toBe(true);
    expect(userEventMatches('chat, typing', 'typing')).toBe(true);
    expect(userEventMatches('chat,typing', 'chat')).toBe(true);
    expect(userEventMatches('chat,typing', 'message')).toBe(false);
    expect(userEventMatches('chat', 'chat')).toBe(true);
    expect(userEventMatches('chat', 'chatter')).toBe(false);
    expect(userEventMatches('chat', 'CHAT')).toBe(true);
    expect(userEventMatches(undefined, 'chat')).toBe(false);
    expect(userEventMatches('', 'chat')).toBe(false);
  });

  it('fills {hub} (lower case, as ce-hub) and {event}, URL-encoded', () => {
    expect(expandTemplate('http://h/{hub}/api/{event}?e={event}', 'Chat', 'my event')).toBe(
      'http://h/chat/api/my%20event?e=my%20event',
    );
    expect(expandTemplate('http://h/fixed', 'chat', 'connect')).toBe('http://h/fixed');
  });

  it('takes the first handler whose systemEvents or userEventPattern matches; the handshake URL has {event} = validate', () => {
    const upstream = new Upstream(
      {
        Chat: {
          eventHandlers: [
            { urlTemplate: 'http://a/{hub}/{event}', userEventPattern: 'chat', systemEvents: [] },
            {
              urlTemplate: 'http://b/{event}',
              userEventPattern: '*',
              systemEvents: ['connected'],
            },
            { urlTemplate: 'http://c/{event}', systemEvents: ['connect', 'connected'] },
          ],
        },
      },
      {
        accessKey: 'key',
        origin: 'localhost',
        traffic: new TrafficLog(),
        log: () => undefined,
        timings: DEFAULT_UPSTREAM_TIMINGS,
      },
    );
    try {
      expect(upstream.handlerFor('chat', 'chat', false)).toEqual({
        url: 'http://a/chat/chat',
        validationUrl: 'http://a/chat/validate',
      });
      expect(upstream.handlerFor('CHAT', 'other', false)?.url).toBe('http://b/other');
      expect(upstream.handlerFor('chat', 'connected', true)?.url).toBe('http://b/connected');
      expect(upstream.handlerFor('chat', 'connect', true)?.url).toBe('http://c/connect');
      expect(upstream.handlerFor('chat', 'disconnected', true)).toBeUndefined();
      // A user event named like a system event is still a user event.
      expect(upstream.handlerFor('chat', 'connect', false)?.url).toBe('http://b/connect');
      expect(upstream.handlerFor('unlisted', 'connect', true)).toBeUndefined();
    } finally {
      upstream.close();
    }
  });

  it('end to end: only the subscribed system events are sent; no connect handler means the client is accepted as is', async () => {
    const recorder = await recordingUpstream(request =>
      request.headers['ce-eventname'] === 'connected' ||
      request.headers['ce-eventname'] === 'disconnected'
        ? { status: 204 }
        : { status: 200, headers: { 'content-type': 'text/plain' }, body: `${request.url}` },
    );
    const emulator = await startEmulator({
      port: 0,
      log: () => undefined,
      timings: FAST_TIMINGS,
      hubs: {
        Partial: {
          eventHandlers: [
            {
              urlTemplate: `${recorder.url}/a/{hub}/{event}`,
              userEventPattern: 'chat',
              systemEvents: ['connected'],
            },
            {
              urlTemplate: `${recorder.url}/b/{event}`,
              userEventPattern: 'shout,whisper',
              systemEvents: ['disconnected'],
            },
          ],
        },
      },
    });
    try {
      const raw = new RawClient(
        await clientUrl(emulator.connectionString, 'partial', { userId: 'p' }),
        'json.webpubsub.azure.v1',
      );
      await raw.opened;
      await waitFor(() => raw.messages().length === 1);
      let ackId = 0;
      for (const event of ['chat', 'whisper', 'unrouted']) {
        raw.send({ type: 'event', event, ackId: ++ackId, dataType: 'text', data: 'x' });
      }
      await waitFor(() => raw.messages().filter(m => m.type === 'ack').length === 3);
      raw.ws.close(1000);
      await waitFor(() => recorder.events('disconnected').length === 1);
      // `connected` is not awaited, so it may reach the recorder after `chat`: compare as sets.
      expect(
        recorder
          .events()
          .map(e => `${e.headers['ce-eventname']} ${e.url}`)
          .sort(),
      ).toEqual([
        'chat /a/partial/chat',
        'connected /a/partial/connected',
        'disconnected /b/disconnected',
        'whisper /b/whisper',
      ]);
      expect(
        raw
          .messages()
          .filter(m => m.type === 'message')
          .map(m => m.data),
      ).toEqual(['/a/partial/chat', '/b/whisper']);
      expect(raw.messages().find(m => m.ackId === 3)).toMatchObject({
        success: false,
        error: { name: 'InternalServerError', message: expect.stringContaining('"unrouted"') },
      });
      // Two handler URLs, one handshake each.
      expect(
        recorder.requests
          .filter(r => r.method === 'OPTIONS')
          .map(r => r.url)
          .sort(),
      ).toEqual(['/a/partial/validate', '/b/validate']);
    } finally {
      await emulator.close();
      await recorder.close();
    }
  });
});
