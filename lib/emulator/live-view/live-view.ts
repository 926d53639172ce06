/**
 * The emulator's live view: `GET /` serves the page, `GET /_emulator/feed` its server-sent events.
 * `createLiveView()` returns a request handler the emulator's HTTP server calls first; it answers
 * `true` when it handled the request and `false` for every other path.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HubOperations } from '../state/hub-operations.js';
import type { TrafficLog } from '../traffic-log.js';
import { LiveFeed } from './live-feed.js';
import { LIVE_FEED_PATH, LIVE_VIEW_CSP, LIVE_VIEW_PAGE } from './live-view.page.js';

export { LIVE_FEED_PATH } from './live-view.page.js';

export interface LiveViewOptions {
  readonly hubs: HubOperations;
  readonly traffic: TrafficLog;
  /** How often connections are polled while a page is open. Default 1000 ms. */
  readonly snapshotIntervalMs?: number;
}

export interface LiveViewHandler {
  (req: IncomingMessage, res: ServerResponse): boolean;
  /** Pages currently subscribed to the feed. */
  readonly feedClients: number;
  /** Ends every open feed (call it when the emulator closes). */
  close(): void;
}

const PAGE = Buffer.from(LIVE_VIEW_PAGE, 'utf8');

const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'content-length': String(PAGE.length),
  'content-security-policy': LIVE_VIEW_CSP,
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

export function createLiveView(options: LiveViewOptions): LiveViewHandler {
  const feed = new LiveFeed(options);

  const handler = (req: IncomingMessage, res: ServerResponse): boolean => {
    const url = req.url ?? '/';
    const query = url.indexOf('?');
    const path = query === -1 ? url : url.slice(0, query);
    if (path !== '/' && path !== LIVE_FEED_PATH) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' });
      res.end(`${req.method} is not allowed on ${path}: the live view answers GET\n`);
      return true;
    }
    if (path === '/') {
      res.writeHead(200, PAGE_HEADERS);
      res.end(req.method === 'HEAD' ? undefined : PAGE);
      return true;
    }
    if (req.method === 'HEAD') {
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
      });
      res.end();
      return true;
    }
    feed.open(req, res);
    return true;
  };

  return Object.defineProperties(handler, {
    feedClients: { get: () => feed.clients, enumerable: true },
    close: { value: () => feed.close(), enumerable: true },
  }) as LiveViewHandler;
}
