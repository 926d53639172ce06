/**
 * The live view's single HTML document: its markup, with the style (`live-view.style.ts`) and the
 * script (`live-view.script.ts`) inline, no external resources.
 * Every value from the feed reaches the DOM through `textContent` or an attribute set from script,
 * never through HTML parsing; the Content-Security-Policy (hashes of the inline style and script)
 * stops anything that would slip through anyway.
 */
import { createHash } from 'node:crypto';
import { LIVE_VIEW_SCRIPT, PAGE_MAX_ENTRIES } from './live-view.script.js';
import { LIVE_VIEW_STYLE } from './live-view.style.js';

export { LIVE_FEED_PATH, PAGE_MAX_ENTRIES } from './live-view.script.js';

const sha256 = (text: string): string =>
  `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

/** The page's Content-Security-Policy: only its own inline style and script, and the feed. */
export const LIVE_VIEW_CSP = [
  "default-src 'none'",
  `script-src ${sha256(LIVE_VIEW_SCRIPT)}`,
  `style-src ${sha256(LIVE_VIEW_STYLE)}`,
  "connect-src 'self'",
  'img-src data:',
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const LIVE_VIEW_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Web PubSub emulator · live view</title>
<link rel="icon" href="data:,">
<style>${LIVE_VIEW_STYLE}</style>
</head>
<body>
<header>
  <h1>Web PubSub emulator</h1>
  <span class="endpoint" id="endpoint"></span>
  <span class="feed-status" id="feed-status" role="status">connecting…</span>
</header>
<main>
  <section id="hubs-section" aria-labelledby="hubs-title">
    <h2 id="hubs-title">Hubs</h2>
    <ul id="hubs"></ul>
    <p class="empty" id="no-hubs">No hubs yet.</p>
  </section>
  <section id="connections-section" aria-labelledby="connections-title">
    <h2 id="connections-title">Connections<span class="count" id="connection-count">0</span></h2>
    <table id="connections-table" hidden>
      <thead><tr><th>Hub</th><th>Connection</th><th>User</th><th>Groups</th><th>Subprotocol</th><th>Since</th></tr></thead>
      <tbody id="connections"></tbody>
    </table>
    <p class="empty" id="no-connections">No connections.</p>
  </section>
  <section id="traffic-section" aria-labelledby="traffic-title">
    <div class="toolbar">
      <h2 id="traffic-title">Traffic<span class="count" id="traffic-count">0</span></h2>
      <div class="filters" role="group" aria-label="Kind">
        <button type="button" class="selected" data-kind="all">All</button>
        <button type="button" data-kind="client">Client</button>
        <button type="button" data-kind="upstream">Upstream</button>
        <button type="button" data-kind="rest">REST</button>
        <button type="button" data-kind="connection">Connections</button>
      </div>
      <input id="search" type="search" placeholder="Filter: body text, group, event, operation, connection, user, status" aria-label="Filter">
      <span class="rate" id="rate"></span>
      <button type="button" class="pause" id="pause" aria-pressed="false">Pause</button>
      <button type="button" class="clear" id="clear">Clear</button>
    </div>
    <div class="columns" aria-hidden="true"><span>Time</span><span>Kind</span><span>Method</span><span>Frame / operation</span><span>Target</span><span>Hub</span><span>Status</span><span class="right">Reach</span><span class="right">Duration</span><span>Body · detail</span></div>
    <div class="traffic-scroll" id="traffic-scroll"><ul id="traffic"></ul>
    <p class="empty" id="no-traffic">No traffic yet. Client frames, upstream calls, REST calls and connections appear here, newest first, with their body and how many connections a send reached; click one for its headers and body.</p></div>
  </section>
</main>
<footer>The newest ${PAGE_MAX_ENTRIES} entries are kept. Access tokens are never recorded.</footer>
<script>${LIVE_VIEW_SCRIPT}</script>
</body>
</html>
`;
