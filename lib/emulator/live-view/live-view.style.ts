/**
 * The live view's styles, inline in the page (the page's Content-Security-Policy admits them by
 * their hash): light and dark colours, the hubs, connections and traffic panels.
 */
export const LIVE_VIEW_STYLE = String.raw`
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
