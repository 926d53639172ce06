/**
 * The live view's single HTML document: inline CSS and script, no external resources.
 * Every value from the feed reaches the DOM through `textContent` or an attribute set from script,
 * never through HTML parsing; the Content-Security-Policy (hashes of the inline style and script)
 * stops anything that would slip through anyway.
 */
import { createHash } from 'node:crypto';

/** Path of the server-sent events feed, relative to the page (the page lives at `/`). */
export const LIVE_FEED_PATH = '/_emulator/feed';

/** How many traffic entries the page keeps (the server log keeps its own bound). */
export const PAGE_MAX_ENTRIES = 300;

const STYLE = String.raw`
:root {
  color-scheme: light dark;
  --bg: #f6f7f9; --panel: #ffffff; --text: #1d2330; --muted: #667085; --line: #e3e6eb;
  --accent: #2f6fed; --accent-soft: #e8efff; --ok: #137a3f; --ok-soft: #e3f5ea;
  --warn: #9a5b00; --warn-soft: #fdf1dc; --err: #b42318; --err-soft: #fde7e5;
  --client: #7a3fc4; --client-soft: #f1e9fc;
  --mono: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0f1216; --panel: #171b21; --text: #e4e7ec; --muted: #98a2b3; --line: #2a303a;
    --accent: #6d9bff; --accent-soft: #1c2740; --ok: #5fd08c; --ok-soft: #15291e;
    --warn: #f2b25c; --warn-soft: #2e2414; --err: #ff8a80; --err-soft: #331a18;
    --client: #c39bff; --client-soft: #2a1f3d;
  }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--text);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Ubuntu, sans-serif; }
header { display: flex; align-items: center; gap: 16px; padding: 12px 20px; background: var(--panel);
  border-bottom: 1px solid var(--line); position: sticky; top: 0; z-index: 2; }
header h1 { font-size: 16px; margin: 0; font-weight: 650; letter-spacing: .2px; }
header .endpoint { font-family: var(--mono); color: var(--muted); font-size: 13px; }
.feed-status { margin-left: auto; display: inline-flex; align-items: center; gap: 6px; font-size: 12px; color: var(--muted); }
.feed-status::before { content: ""; width: 8px; height: 8px; border-radius: 50%; background: var(--warn); }
.feed-status.live::before { background: var(--ok); box-shadow: 0 0 0 3px var(--ok-soft); }
main { display: grid; grid-template-columns: 220px minmax(0, 1fr); gap: 16px; padding: 16px 20px; align-items: start; }
@media (max-width: 900px) { main { grid-template-columns: minmax(0, 1fr); } }
section { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; padding: 12px 14px; min-width: 0; }
#hubs-section { grid-row: span 2; }
h2 { font-size: 13px; text-transform: uppercase; letter-spacing: .6px; color: var(--muted); margin: 0 0 10px; font-weight: 600; }
h2 .count { color: var(--text); font-weight: 600; margin-left: 4px; text-transform: none; letter-spacing: 0; }
.empty { color: var(--muted); margin: 6px 0; font-style: italic; }
#hubs { list-style: none; margin: 0; padding: 0; }
#hubs button { width: 100%; display: flex; justify-content: space-between; gap: 8px; padding: 6px 8px; border: 0;
  border-radius: 6px; background: none; color: inherit; font: inherit; cursor: pointer; text-align: left; }
#hubs button:hover { background: var(--bg); }
#hubs button.selected { background: var(--accent-soft); color: var(--accent); }
#hubs .name { overflow-wrap: anywhere; font-family: var(--mono); font-size: 13px; }
#hubs .n { color: var(--muted); font-variant-numeric: tabular-nums; }
table { width: 100%; border-collapse: collapse; }
th { text-align: left; font-size: 12px; color: var(--muted); font-weight: 600; padding: 4px 8px; border-bottom: 1px solid var(--line); }
td { padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; overflow-wrap: anywhere; }
tr:last-child td { border-bottom: 0; }
.mono { font-family: var(--mono); font-size: 12.5px; }
.muted { color: var(--muted); }
.chip { display: inline-block; margin: 0 4px 2px 0; padding: 0 7px; border-radius: 999px; background: var(--accent-soft);
  color: var(--accent); font-size: 12px; font-family: var(--mono); }
.toolbar { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; margin-bottom: 10px; }
.toolbar h2 { margin: 0 8px 0 0; }
.filters { display: inline-flex; border: 1px solid var(--line); border-radius: 7px; overflow: hidden; }
.filters button { border: 0; background: none; color: var(--muted); font: inherit; font-size: 12.5px; padding: 4px 10px; cursor: pointer; }
.filters button + button { border-left: 1px solid var(--line); }
.filters button.selected { background: var(--accent-soft); color: var(--accent); }
.toolbar input { flex: 1; min-width: 160px; max-width: 320px; padding: 5px 9px; border: 1px solid var(--line); border-radius: 7px;
  background: var(--bg); color: inherit; font: inherit; font-size: 13px; }
.toolbar .rate { margin-left: auto; }
.toolbar .clear { border: 1px solid var(--line); background: none; color: var(--muted); border-radius: 7px;
  font: inherit; font-size: 12.5px; padding: 4px 10px; cursor: pointer; }
#traffic { list-style: none; margin: 0; padding: 0; }
.traffic-scroll { height: max(320px, calc(100vh - 190px)); overflow-y: auto; contain: strict; overscroll-behavior: contain; }
#traffic > li { border-bottom: 1px solid var(--line); height: 33px; contain: strict; content-visibility: auto; }
#traffic > li.open { height: auto; contain: none; content-visibility: visible; }
#traffic > li:last-child { border-bottom: 0; }
.summary, .columns { display: grid; grid-template-columns: 88px 74px 46px minmax(84px, 0.8fr) minmax(56px, 0.7fr) minmax(44px, 0.45fr) 46px 46px 78px minmax(0, 2.2fr);
  gap: 8px; align-items: baseline; width: 100%; padding: 6px 4px; border: 0; background: none; color: inherit; font: inherit;
  text-align: left; cursor: pointer; border-radius: 6px; }
.summary:hover { background: var(--bg); }
.columns { padding: 0 4px 4px; font-size: 12px; color: var(--muted); font-weight: 600; border-bottom: 1px solid var(--line); }
.columns .right { text-align: right; }
.summary > span { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.time { color: var(--muted); font-family: var(--mono); font-size: 12px; }
.kind { font-size: 10.5px; text-transform: uppercase; letter-spacing: .3px; font-weight: 650; border-radius: 5px; padding: 1px 6px; text-align: center; }
.kind-upstream { background: var(--accent-soft); color: var(--accent); }
.kind-rest { background: var(--ok-soft); color: var(--ok); }
.kind-connection { background: var(--warn-soft); color: var(--warn); }
.kind-client { background: var(--client-soft); color: var(--client); }
.target { font-family: var(--mono); font-size: 12px; color: var(--accent); }
.reach { font-family: var(--mono); font-size: 12px; color: var(--muted); text-align: right; }
.reach.none { color: var(--warn); }
.preview { font-family: var(--mono); font-size: 12px; }
.preview .detail { color: var(--err); font-family: inherit; }
.preview .detail:not(:first-child) { margin-left: 8px; }
.preview .who { color: var(--muted); }
.toolbar .pause { border: 1px solid var(--line); background: none; color: var(--muted); border-radius: 7px;
  font: inherit; font-size: 12.5px; padding: 4px 10px; cursor: pointer; }
.toolbar .pause[aria-pressed="true"] { background: var(--warn-soft); color: var(--warn); border-color: var(--warn-soft); }
.rate { font-size: 12px; color: var(--muted); font-variant-numeric: tabular-nums; }
.method { font-family: var(--mono); font-size: 12px; color: var(--muted); }
.action { font-weight: 600; }
.status { font-family: var(--mono); font-size: 12.5px; font-weight: 650; }
.status.s2 { color: var(--ok); } .status.s3 { color: var(--accent); } .status.s4 { color: var(--warn); } .status.s5, .status.fail { color: var(--err); }
.duration { font-family: var(--mono); font-size: 12px; color: var(--muted); text-align: right; }
.who { font-family: var(--mono); font-size: 12px; color: var(--muted); }
.details { padding: 4px 8px 14px 16px; }
.details dl { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: 2px 14px; margin: 4px 0 10px; }
.details dt { color: var(--muted); font-size: 12.5px; }
.details dd { margin: 0; font-family: var(--mono); font-size: 12.5px; overflow-wrap: anywhere; }
.details h3 { font-size: 12px; text-transform: uppercase; letter-spacing: .5px; color: var(--muted); margin: 12px 0 4px; }
.details table.headers td { padding: 2px 8px; font-family: var(--mono); font-size: 12px; border-bottom: 1px dashed var(--line); }
.details table.headers td:first-child { color: var(--muted); white-space: nowrap; width: 1%; }
pre.body { margin: 6px 0 0; padding: 8px 10px; background: var(--bg); border: 1px solid var(--line); border-radius: 6px;
  font-family: var(--mono); font-size: 12px; white-space: pre-wrap; overflow-wrap: anywhere; max-height: 360px; overflow: auto; }
footer { color: var(--muted); font-size: 12px; padding: 0 20px 16px; }
`;

const SCRIPT = String.raw`
(function () {
  'use strict';
  var MAX_ENTRIES = ${PAGE_MAX_ENTRIES};
  var FEED = '${LIVE_FEED_PATH.slice(1)}';
  var entries = [];
  var expanded = new Set();
  var kindFilter = 'all';
  var search = '';
  var hubFilter = null;
  var hubsState = [];

  function $(id) { return document.getElementById(id); }
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function pad(n, width) { var s = String(n); while (s.length < width) s = '0' + s; return s; }
  function clock(ms) {
    var d = new Date(ms);
    return pad(d.getHours(), 2) + ':' + pad(d.getMinutes(), 2) + ':' + pad(d.getSeconds(), 2) + '.' + pad(d.getMilliseconds(), 3);
  }
  function ago(ms) {
    var s = Math.max(0, Math.round((Date.now() - ms) / 1000));
    if (s < 60) return s + 's ago';
    var m = Math.floor(s / 60);
    if (m < 60) return m + 'm ' + (s % 60) + 's ago';
    return Math.floor(m / 60) + 'h ' + (m % 60) + 'm ago';
  }
  function sameHub(a, b) { return String(a).toLowerCase() === String(b).toLowerCase(); }

  // ---- feed status ----
  function setStatus(live, text) {
    var node = $('feed-status');
    node.textContent = text;
    node.className = 'feed-status' + (live ? ' live' : '');
  }

  // ---- hubs and connections ----
  function renderHubs() {
    var list = $('hubs');
    list.replaceChildren();
    var all = el('li');
    var allButton = el('button', hubFilter === null ? 'selected' : '');
    allButton.type = 'button';
    allButton.append(el('span', 'name', 'All hubs'));
    var total = 0;
    hubsState.forEach(function (hub) { total += hub.total; });
    allButton.append(el('span', 'n', total));
    allButton.addEventListener('click', function () { hubFilter = null; renderHubs(); renderConnections(); applyFilters(); });
    all.append(allButton);
    list.append(all);
    hubsState.forEach(function (hub) {
      var item = el('li');
      var button = el('button', hubFilter !== null && sameHub(hubFilter, hub.name) ? 'selected' : '');
      button.type = 'button';
      button.setAttribute('data-hub', hub.name);
      button.title = hub.name;
      button.append(el('span', 'name', hub.name), el('span', 'n', hub.total));
      button.addEventListener('click', function () { hubFilter = hub.name; renderHubs(); renderConnections(); applyFilters(); });
      item.append(button);
      list.append(item);
    });
    $('no-hubs').hidden = hubsState.length > 0;
  }

  function renderConnections() {
    var body = $('connections');
    body.replaceChildren();
    var shown = 0;
    var total = 0;
    hubsState.forEach(function (hub) {
      if (hubFilter !== null && !sameHub(hubFilter, hub.name)) return;
      total += hub.total;
      hub.connections.forEach(function (c) {
        shown++;
        var row = el('tr');
        row.setAttribute('data-connection-id', c.connectionId);
        row.append(el('td', 'mono', hub.name), el('td', 'mono', c.connectionId));
        row.append(el('td', c.userId === undefined || c.userId === null ? 'muted' : 'mono', c.userId === undefined || c.userId === null ? 'anonymous' : c.userId));
        var groups = el('td');
        if (c.groups.length === 0) groups.append(el('span', 'muted', 'none'));
        c.groups.forEach(function (g) { groups.append(el('span', 'chip', g)); });
        if (c.moreGroups) groups.append(el('span', 'muted', '+' + c.moreGroups + ' more'));
        row.append(groups);
        var protocol = c.subprotocol ? c.subprotocol : 'none';
        if (c.mqttVersion) protocol = 'MQTT ' + (c.mqttVersion === 5 ? '5.0' : c.mqttVersion === 4 ? '3.1.1' : c.mqttVersion === 3 ? '3.1' : 'v' + c.mqttVersion);
        row.append(el('td', c.subprotocol || c.mqttVersion ? 'mono' : 'muted', protocol));
        var since = el('td', 'since muted');
        if (c.connectedAt) {
          since.setAttribute('data-since', String(c.connectedAt));
          since.textContent = ago(c.connectedAt);
          since.title = new Date(c.connectedAt).toLocaleString();
        }
        row.append(since);
        body.append(row);
      });
    });
    $('connection-count').textContent = shown < total ? shown + ' of ' + total : String(total);
    $('no-connections').hidden = shown > 0;
    $('connections-table').hidden = shown === 0;
  }

  function tickSince() {
    var cells = document.querySelectorAll('[data-since]');
    for (var i = 0; i < cells.length; i++) cells[i].textContent = ago(Number(cells[i].getAttribute('data-since')));
  }

  // ---- traffic ----
  // Records arrive one server-sent event each; they are queued and drawn once per animation frame,
  // so a flood costs a few DOM insertions per frame, never one layout per record.
  var DRAW_EVERY_MS = 250;
  var pending = [];
  var paused = false;
  var drawScheduled = false;
  var arrivals = [];

  function statusClass(record) {
    if (typeof record.status !== 'number') return record.detail && record.kind !== 'connection' ? 'status fail' : 'status';
    return 'status s' + String(record.status).charAt(0);
  }
  function statusText(record) {
    if (typeof record.status === 'number') return record.status;
    if (record.kind === 'connection' || record.kind === 'client') return record.detail ? 'error' : '';
    return record.detail ? 'error' : '…';
  }
  /** The duration as recorded (microseconds when measured so), never rounded for display. */
  function durationText(record) {
    return typeof record.durationMs === 'number' ? String(record.durationMs) + ' ms' : '';
  }
  function who(record) {
    return [record.connectionId, record.userId ? 'user ' + record.userId : ''].filter(Boolean).join(' · ');
  }
  /** Lower-case text the filter looks in: every field shown, and the request and response bodies. */
  function haystack(record) {
    if (record._text === undefined) {
      var parts = [record.kind, record.hub, record.action, record.target, record.method, record.url, record.status,
        record.connectionId, record.userId, record.subprotocol, record.dataType, record.detail, record.preview];
      if (record.request && record.request.body) parts.push(record.request.body);
      if (record.response && record.response.body) parts.push(record.response.body);
      Object.defineProperty(record, '_text', { value: parts.join(' ').toLowerCase() });
    }
    return record._text;
  }
  function matches(record) {
    if (kindFilter !== 'all' && record.kind !== kindFilter) return false;
    if (hubFilter !== null && !sameHub(hubFilter, record.hub)) return false;
    if (!search) return true;
    return haystack(record).indexOf(search) !== -1;
  }

  function prettyBody(body) {
    var trimmed = body.trim();
    if (trimmed.charAt(0) === '{' || trimmed.charAt(0) === '[') {
      try { return JSON.stringify(JSON.parse(trimmed), null, 2); } catch (e) { return body; }
    }
    return body;
  }
  function headersTable(headers) {
    var table = el('table', 'headers');
    var names = Object.keys(headers || {});
    names.forEach(function (name) {
      var row = el('tr');
      row.append(el('td', '', name), el('td', '', headers[name]));
      table.append(row);
    });
    return names.length ? table : el('p', 'empty', 'no headers');
  }
  function part(title, message, withHeaders) {
    var fragment = document.createDocumentFragment();
    fragment.append(el('h3', '', title));
    if (!message) { fragment.append(el('p', 'empty', 'not recorded')); return fragment; }
    if (withHeaders) fragment.append(headersTable(message.headers));
    if (message.body !== undefined && message.body !== null && message.body !== '') {
      fragment.append(el('pre', 'body', prettyBody(message.body)));
    } else {
      fragment.append(el('p', 'empty', 'empty body'));
    }
    return fragment;
  }
  function details(record) {
    var box = el('div', 'details');
    var dl = el('dl');
    function item(name, value) {
      if (value === undefined || value === null || value === '') return;
      dl.append(el('dt', '', name), el('dd', '', value));
    }
    item('Time', new Date(record.time).toISOString());
    item('Hub', record.hub);
    item('Target', record.target);
    item('URL', record.url);
    item('Connection', record.connectionId);
    item('User', record.userId);
    item('Subprotocol', record.subprotocol);
    item('Data type', record.dataType);
    if (typeof record.reach === 'number') item('Reach', record.reach + (record.reach === 1 ? ' connection' : ' connections'));
    item('Duration', durationText(record));
    item('Detail', record.detail);
    box.append(dl);
    if (record.kind === 'client') {
      box.append(part('Frame', record.request, false));
      if (record.response) box.append(part('Answer', record.response, false));
      return box;
    }
    if (record.request || record.kind !== 'connection') box.append(part('Request', record.request, true));
    if (record.response || record.kind !== 'connection') box.append(part('Response', record.response, true));
    return box;
  }

  function entryNode(record) {
    var item = el('li');
    item.setAttribute('data-id', String(record.id));
    item.setAttribute('data-kind', record.kind);
    var summary = el('button', 'summary');
    summary.type = 'button';
    summary.setAttribute('aria-expanded', 'false');
    var reach = el('span', typeof record.reach === 'number' ? (record.reach === 0 ? 'reach none' : 'reach') : 'reach',
      typeof record.reach === 'number' ? '→' + record.reach : '');
    if (typeof record.reach === 'number') reach.title = 'handed to ' + record.reach + (record.reach === 1 ? ' connection' : ' connections');
    var preview = el('span', 'preview');
    if (record.preview) preview.append(el('span', 'body-preview', record.preview));
    if (record.detail) preview.append(el('span', 'detail', record.detail));
    if (!record.preview && !record.detail) preview.append(el('span', 'who', who(record)));
    preview.title = [record.preview, record.detail, who(record)].filter(Boolean).join('\n');
    summary.append(
      el('span', 'time', clock(record.time)),
      el('span', 'kind kind-' + record.kind, record.kind === 'connection' ? 'conn' : record.kind),
      el('span', 'method', record.method || ''),
      el('span', 'action', record.action),
      el('span', 'target', record.target || ''),
      el('span', 'hub mono muted', record.hub),
      el('span', statusClass(record), statusText(record)),
      reach,
      el('span', 'duration', durationText(record)),
      preview,
    );
    item.append(summary);
    if (expanded.has(record.id)) open(item, record);
    item.hidden = !matches(record);
    return item;
  }
  // A closed row is one fixed-height, fully contained line: drawing a flood then lays out only the
  // new rows, never the list (bench/live-view.mjs). An open row grows to its details.
  function open(item, record) {
    item.classList.add('open');
    item.append(details(record));
    item.firstChild.setAttribute('aria-expanded', 'true');
  }
  function toggle(id) {
    var item = document.querySelector('#traffic > li[data-id="' + id + '"]');
    if (!item) return;
    if (expanded.has(id)) {
      expanded.delete(id);
      if (item.lastChild.className === 'details') item.lastChild.remove();
      item.classList.remove('open');
      item.firstChild.setAttribute('aria-expanded', 'false');
      return;
    }
    var record = entries.find(function (r) { return r.id === id; });
    if (!record) return;
    expanded.add(id);
    open(item, record);
  }

  function receive(record) {
    arrivals.push(Date.now());
    pending.push(record);
    // Only the newest MAX_ENTRIES can ever be shown: older queued ones are dropped unseen.
    if (pending.length > MAX_ENTRIES * 2) pending.splice(0, pending.length - MAX_ENTRIES);
    if (paused) { showPaused(); return; }
    scheduleDraw();
  }
  var lastDraw = 0;
  function scheduleDraw() {
    if (drawScheduled) return;
    drawScheduled = true;
    // At most one draw per DRAW_EVERY_MS, on an animation frame: a flood costs four small list
    // updates a second, not one per record. A hidden tab gets no frames: a timer drains it there.
    var wait = Math.max(0, lastDraw + DRAW_EVERY_MS - performance.now());
    setTimeout(function () {
      if (document.hidden) draw(); else requestAnimationFrame(draw);
    }, wait);
  }
  function draw() {
    drawScheduled = false;
    lastDraw = performance.now();
    if (paused || pending.length === 0) return;
    var batch = pending.length > MAX_ENTRIES ? pending.slice(pending.length - MAX_ENTRIES) : pending;
    pending = [];
    var list = $('traffic');
    var fragment = document.createDocumentFragment();
    var fresh = [];
    for (var i = batch.length - 1; i >= 0; i--) {
      fresh.push(batch[i]);
      fragment.append(entryNode(batch[i]));
    }
    list.prepend(fragment);
    entries = fresh.concat(entries);
    while (entries.length > MAX_ENTRIES) {
      var dropped = entries.pop();
      expanded.delete(dropped.id);
      if (list.lastChild) list.lastChild.remove();
    }
    updateTrafficEmpty();
  }
  function resetEntries(records) {
    pending = [];
    entries = [];
    var list = $('traffic');
    list.replaceChildren();
    var start = Math.max(0, records.length - MAX_ENTRIES);
    var fragment = document.createDocumentFragment();
    for (var i = records.length - 1; i >= start; i--) {
      entries.push(records[i]);
      fragment.append(entryNode(records[i]));
    }
    list.append(fragment);
    var keep = new Set(entries.map(function (r) { return r.id; }));
    expanded.forEach(function (id) { if (!keep.has(id)) expanded.delete(id); });
    updateTrafficEmpty();
  }
  function applyFilters() {
    var nodes = $('traffic').children;
    for (var i = 0; i < nodes.length; i++) nodes[i].hidden = !matches(entries[i]);
    updateTrafficEmpty();
  }
  function updateTrafficEmpty() {
    var visible = 0;
    var nodes = $('traffic').children;
    for (var i = 0; i < nodes.length; i++) if (!nodes[i].hidden) visible++;
    $('traffic-count').textContent = String(visible);
    $('no-traffic').hidden = visible > 0;
  }
  function showPaused() {
    var button = $('pause');
    button.setAttribute('aria-pressed', paused ? 'true' : 'false');
    button.textContent = paused ? 'Resume' + (pending.length ? ' (' + pending.length + ' new)' : '') : 'Pause';
  }
  function tickRate() {
    var now = Date.now();
    while (arrivals.length && arrivals[0] < now - 60000) arrivals.shift();
    $('rate').textContent = arrivals.length ? arrivals.length + ' in the last minute' : '';
  }

  // ---- controls ----
  document.querySelectorAll('.filters button').forEach(function (button) {
    button.addEventListener('click', function () {
      kindFilter = button.getAttribute('data-kind');
      document.querySelectorAll('.filters button').forEach(function (b) { b.classList.toggle('selected', b === button); });
      applyFilters();
    });
  });
  $('search').addEventListener('input', function (event) { search = event.target.value.trim().toLowerCase(); applyFilters(); });
  $('clear').addEventListener('click', function () { entries = []; pending = []; expanded.clear(); $('traffic').replaceChildren(); updateTrafficEmpty(); showPaused(); });
  // One listener for every row (rows come and go by the hundred).
  $('traffic').addEventListener('click', function (event) {
    var summary = event.target.closest('.summary');
    if (summary) toggle(Number(summary.parentNode.getAttribute('data-id')));
  });
  $('pause').addEventListener('click', function () {
    paused = !paused;
    showPaused();
    if (!paused) scheduleDraw();
  });

  // ---- feed ----
  $('endpoint').textContent = location.host;
  function connect() {
    var source = new EventSource(FEED);
    source.addEventListener('open', function () { setStatus(true, 'live'); });
    source.addEventListener('error', function () { setStatus(false, source.readyState === 2 ? 'disconnected' : 'reconnecting…'); });
    source.addEventListener('backlog', function (event) { resetEntries(JSON.parse(event.data)); });
    source.addEventListener('traffic', function (event) { receive(JSON.parse(event.data)); });
    source.addEventListener('connections', function (event) {
      hubsState = JSON.parse(event.data).hubs;
      renderHubs();
      renderConnections();
    });
    window.addEventListener('pagehide', function () { source.close(); });
  }
  renderHubs();
  renderConnections();
  updateTrafficEmpty();
  setInterval(function () { tickSince(); tickRate(); }, 1000);
  connect();
})();
`;

const sha256 = (text: string): string =>
  `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

/** The page's Content-Security-Policy: only its own inline style and script, and the feed. */
export const LIVE_VIEW_CSP = [
  "default-src 'none'",
  `script-src ${sha256(SCRIPT)}`,
  `style-src ${sha256(STYLE)}`,
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
<style>${STYLE}</style>
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
<script>${SCRIPT}</script>
</body>
</html>
`;
