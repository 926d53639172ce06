/**
 * De-duplication of retried events on Express and Fastify, with the in-memory store and a given
 * store: a retry answered with the first answer without running the handler again; events with
 * another id or of another connection run as usual; a retry after a 5xx runs the handler again; a
 * retry arriving during the first delivery waits for its answer; non-blocking handlers not run
 * twice either; a refused request never answered from the store; entries kept in the given store
 * with the given TTL. Negative checks wait for a positive sync point, not a fixed sleep.
 */
import {
  WebPubSubModule,
  type StoredResponse,
  type WebPubSubDeduplicationStore,
} from '../../lib/index.js';
import { RetryHandlers } from '../fixtures/retry.handlers.js';
import { startApp, PLATFORMS, type TestApp } from '../utils/app.js';
import { CONNECTION_STRING, eventHeaders, type EventOptions } from '../utils/events.js';
import { http } from '../utils/http.js';
import { waitFor } from '../utils/wait.js';

class RecordingStore implements WebPubSubDeduplicationStore {
  readonly entries = new Map<string, StoredResponse>();
  readonly ttls: number[] = [];
  get(key: string): Promise<StoredResponse | undefined> {
    return Promise.resolve(this.entries.get(key));
  }
  set(key: string, response: StoredResponse, ttlMs: number): Promise<void> {
    this.entries.set(key, JSON.parse(JSON.stringify(response)));
    this.ttls.push(ttlMs);
    return Promise.resolve();
  }
}

describe.each(PLATFORMS)('de-duplication of retried events on %s', platform => {
  for (const [label, deduplication] of [
    ['the in-memory store', true],
    ['a custom store', { store: new RecordingStore(), ttl: 60_000 }],
  ] as const) {
    describe(label, () => {
      let app: TestApp;
      let handlers: RetryHandlers;
      beforeAll(async () => {
        app = await startApp(platform, {
          imports: [
            WebPubSubModule.forRoot({
              hub: 'chat',
              connectionString: CONNECTION_STRING,
              deduplication,
            }),
          ],
          providers: [RetryHandlers],
        });
        handlers = app.app.get(RetryHandlers);
      });
      afterAll(() => app?.close());

      const post = (event: string, id: string, options: EventOptions = {}, body = 'x') =>
        http(`${app.url}/eventhandler`, {
          method: 'POST',
          headers: eventHeaders(event, { ...options, extra: { 'ce-id': id, ...options.extra } }),
          body,
        });

      it('answers a retry with the first answer, without running the handler again', async () => {
        const first = await post('message', 'evt-1');
        const retry = await post('message', 'evt-1');
        expect(first.status).toBe(200);
        expect(retry.status).toBe(200);
        expect(retry.text).toBe(first.text);
        expect(retry.headers['content-type']).toBe(first.headers['content-type']);
        expect(retry.headers['ce-connectionstate']).toBe(first.headers['ce-connectionstate']);
        expect(handlers.runs.get('message:conn-1:evt-1')).toBe(1);
      });

      it('runs events with another id, or of another connection, as usual', async () => {
        expect((await post('message', 'evt-2')).status).toBe(200);
        expect((await post('message', 'evt-2', { connectionId: 'conn-2' })).status).toBe(200);
        expect(handlers.runs.get('message:conn-1:evt-2')).toBe(1);
        expect(handlers.runs.get('message:conn-2:evt-2')).toBe(1);
      });

      it('runs the handler again for a retry after a 5xx', async () => {
        const first = await post('flaky', 'evt-3');
        expect(first.status).toBe(500);
        const retry = await post('flaky', 'evt-3');
        expect(retry.status).toBe(200);
        expect(retry.text).toBe('run 2');
        const again = await post('flaky', 'evt-3');
        expect(again.text).toBe('run 2');
      });

      it('lets a retry that arrives during the first delivery wait for its answer', async () => {
        const [a, b] = await Promise.all([post('slow', 'evt-4'), post('slow', 'evt-4')]);
        expect(a.text).toBe('slow run 1');
        expect(b.text).toBe('slow run 1');
        expect(handlers.runs.get('slow:evt-4')).toBe(1);
      });

      it('does not run non-blocking handlers twice either', async () => {
        expect((await post('connected', 'evt-5', {}, '{}')).status).toBe(204);
        expect((await post('connected', 'evt-5', {}, '{}')).status).toBe(204);
        // Sync point: a later event's handler has run, so a second run of evt-5 would have too.
        expect((await post('connected', 'evt-5-probe', {}, '{}')).status).toBe(204);
        await waitFor(() => handlers.runs.get('connected:conn-1:evt-5-probe') === 1);
        expect(handlers.runs.get('connected:conn-1:evt-5')).toBe(1);
      });

      it('never answers a refused request from the store', async () => {
        expect((await post('message', 'evt-6')).status).toBe(200);
        const forged = await post('message', 'evt-6', { keys: ['forged'] });
        expect(forged.status).toBe(401);
        expect(forged.text).toBe('Invalid ce-signature');
      });

      if (typeof deduplication === 'object') {
        it('keeps entries in the given store with the given TTL', () => {
          const store = deduplication.store as RecordingStore;
          expect(store.entries.size).toBeGreaterThan(0);
          expect(new Set(store.ttls)).toEqual(new Set([60_000]));
          expect([...store.entries.keys()]).toContain(
            'chat\nconn-1\nazure.webpubsub.user.message\nevt-1',
          );
        });
      }
    });
  }
});
