/**
 * The live view over HTTP (a real `TrafficLog` and hub state behind it): one self-contained page
 * with a hash-based Content-Security-Policy and no external resource; every other path left to the
 * emulator, 405 for other methods on its own; the feed streams the backlog, new traffic and
 * connection snapshots, and unsubscribes when the page goes; at most 200 connections per hub and 50
 * groups per connection listed, with exact counts; a page that stops reading is dropped once 1 MiB
 * is pending instead of buffered without bound; `close()` ends every open feed, leaving no
 * listener. The last three were seen failing with the clean-up removed.
 */
import { request, type IncomingMessage } from 'node:http';
import { LIVE_FEED_PATH } from '../../../lib/emulator/live-view/live-view.js';
import { http } from '../../utils/http.js';
import { startLiveViewServer, type LiveViewServer } from '../../utils/live-view-server.js';
import { waitFor } from '../../utils/wait.js';

/** Opens the feed and collects its events as they arrive. */
function openFeed(
  url: string,
): Promise<{ res: IncomingMessage; events: { event: string; data: unknown }[]; close(): void }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${LIVE_FEED_PATH}`, { agent: false }, res => {
      const events: { event: string; data: unknown }[] = [];
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) !== -1) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const name = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (name !== undefined && data !== undefined)
            events.push({ event: name, data: JSON.parse(data) });
        }
      });
      resolve({ res, events, close: () => req.destroy() });
    });
    req.on('error', reject);
    req.end();
  });
}

describe('live view over HTTP', () => {
  let live: LiveViewServer;
  beforeEach(async () => {
    live = await startLiveViewServer({ snapshotIntervalMs: 20 });
  });
  afterEach(() => live.close());

  it('serves one self-contained page with a strict Content-Security-Policy', async () => {
    const res = await http(`${live.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toMatch(/script-src 'sha256-[A-Za-z0-9+/=]+'(;|$)/);
    expect(csp).not.toContain('unsafe-inline');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    // No external resources: nothing is loaded from another URL.
    expect(res.text).not.toMatch(/\b(src|href)=["']?(https?:)?\/\//i);
    expect(res.text).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
    expect((await http(`${live.url}/?tab=traffic`)).status).toBe(200);
    const head = await http(`${live.url}/`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
  });

  it('leaves every other path to the emulator and refuses other methods on its own', async () => {
    for (const path of [
      '/client/hubs/chat',
      '/api/hubs/chat/:send',
      '/index.html',
      '/_emulator/other',
    ]) {
      expect((await http(`${live.url}${path}`)).text).toBe('not the live view\n');
    }
    const post = await http(`${live.url}/`, { method: 'POST', body: 'x' });
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
    expect(post.text).toBe('POST is not allowed on /: the live view answers GET\n');
  });

  it('streams the backlog, new traffic and connection changes, and unsubscribes when the page goes', async () => {
    live.traffic.record({
      kind: 'rest',
      hub: 'chat',
      action: 'sendToAll',
      method: 'POST',
      status: 202,
      durationMs: 1,
    });
    live.hubs.add('chat', {
      connectionId: 'c1',
      userId: 'u1',
      groups: new Set(['g1']),
      subprotocol: 'json.webpubsub.azure.v1',
      connectedAt: 1,
    });
    const feed = await openFeed(live.url);
    expect(feed.res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    await waitFor(() => feed.events.length >= 2);
    expect(feed.events[0]).toEqual({
      event: 'backlog',
      data: [expect.objectContaining({ action: 'sendToAll', status: 202 })],
    });
    expect(feed.events[1]).toEqual({
      event: 'connections',
      data: {
        hubs: [
          {
            name: 'chat',
            total: 1,
            connections: [
              {
                connectionId: 'c1',
                userId: 'u1',
                groups: ['g1'],
                subprotocol: 'json.webpubsub.azure.v1',
                connectedAt: 1,
              },
            ],
          },
        ],
      },
    });
    expect(live.traffic.listenerCount).toBe(1);
    expect(live.view.feedClients).toBe(1);

    live.traffic.record({
      kind: 'upstream',
      hub: 'chat',
      action: 'message',
      method: 'POST',
      status: 200,
    });
    await waitFor(() => feed.events.some(e => e.event === 'traffic'));
    expect(feed.events.find(e => e.event === 'traffic')?.data).toEqual(
      expect.objectContaining({ kind: 'upstream', action: 'message', id: 2 }),
    );

    live.hubs.remove('chat', 'c1');
    await waitFor(() =>
      feed.events.some(
        e =>
          e.event === 'connections' &&
          (e.data as { hubs: { total: number }[] }).hubs[0].total === 0,
      ),
    );
    // Unchanged snapshots are not sent again.
    const count = feed.events.length;
    await waitFor(() => feed.events.length === count, 100);

    feed.close();
    await waitFor(() => live.traffic.listenerCount === 0 && live.view.feedClients === 0);
  });

  it('lists at most 200 connections per hub and 50 groups per connection, with exact counts', async () => {
    const groups = new Set(Array.from({ length: 60 }, (_, i) => `g${i}`));
    for (let i = 0; i < 250; i++)
      live.hubs.add('big', { connectionId: `c${i}`, userId: undefined, groups });
    const feed = await openFeed(live.url);
    await waitFor(() => feed.events.length >= 2);
    const hub = (
      feed.events[1].data as {
        hubs: { total: number; connections: { groups: string[]; moreGroups: number }[] }[];
      }
    ).hubs[0];
    expect(hub.total).toBe(250);
    expect(hub.connections).toHaveLength(200);
    expect(hub.connections[0].groups).toHaveLength(50);
    expect(hub.connections[0].moreGroups).toBe(10);
    feed.close();
  });

  it('drops a page that stops reading instead of buffering without bound', async () => {
    const feed = await openFeed(live.url);
    await waitFor(() => feed.events.length >= 2);
    feed.res.pause();
    const body = 'x'.repeat(60_000);
    // Each record is ~60 KB on the wire; the server gives up once 1 MiB is pending past the socket buffers.
    for (let i = 0; i < 2000 && live.view.feedClients > 0; i++) {
      live.traffic.record({
        kind: 'upstream',
        hub: 'chat',
        action: 'message',
        request: { headers: {}, body },
      });
      await new Promise(resolve => setImmediate(resolve));
    }
    expect(live.view.feedClients).toBe(0);
    expect(live.traffic.listenerCount).toBe(0);
    feed.close();
  });

  it('ends every open feed on close()', async () => {
    const feed = await openFeed(live.url);
    await waitFor(() => live.view.feedClients === 1);
    const ended = new Promise(resolve => feed.res.on('end', resolve));
    live.view.close();
    await ended;
    expect(live.view.feedClients).toBe(0);
    expect(live.traffic.listenerCount).toBe(0);
  });
});
