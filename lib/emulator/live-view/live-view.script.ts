/**
 * The live view's script, inline in the page (the page's Content-Security-Policy admits it by its
 * hash): reads the server-sent events feed, keeps the newest entries, draws hubs, connections and
 * traffic. Every value from the feed reaches the DOM through `textContent` or an attribute set from
 * script, never through HTML parsing.
 */

/** Path of the server-sent events feed, relative to the page (the page lives at `/`). */
export const LIVE_FEED_PATH = '/_emulator/feed';

/** How many traffic entries the page keeps (the server log keeps its own bound). */
export const PAGE_MAX_ENTRIES = 300;

export const LIVE_VIEW_SCRIPT = String.raw`
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
