// npm run bench:live-view: is the emulator's live view smooth under 10,000 traffic records a
// minute? The emulator (from dist/) runs in this process, the traffic comes from another
// (bench/lib/live-view-load.mjs), and the page is open in headless Chromium (playwright-core).
// The page is measured twice in one run, side by side: idle (the floor) and during the flood.
// Measured in the page: the interval between animation frames (frame time) and the input delay
// of real key presses (Playwright presses Shift every 250 ms: delay = handler start − the
// event's timeStamp; to next frame = the next animation frame after it). Writes its section of
// bench/RESULTS.md (between markers).
//
// Environment (all optional):
//   BENCH_LV_PER_MINUTE=10000  BENCH_LV_SECONDS=60 (flood)  BENCH_LV_IDLE_SECONDS=15 (floor)
//   BENCH_LV_OUT=path (default bench/RESULTS.md for a default run, bench/.runs/LIVE-VIEW-partial.md otherwise)
import { fork } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { positiveIntegerEnv } from './lib/common.mjs';
import { libraryState } from './lib/git.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PER_MINUTE = positiveIntegerEnv('BENCH_LV_PER_MINUTE', 10_000);
const SECONDS = positiveIntegerEnv('BENCH_LV_SECONDS', 60);
const IDLE_SECONDS = positiveIntegerEnv('BENCH_LV_IDLE_SECONDS', 15);
const customised = Object.keys(process.env).some(
  name => name.startsWith('BENCH_LV_') && name !== 'BENCH_LV_OUT',
);
const outFile =
  process.env.BENCH_LV_OUT ??
  `${ROOT}${customised ? 'bench/.runs/LIVE-VIEW-partial.md' : 'bench/RESULTS.md'}`;
const START = '<!-- live-view-bench:start -->';
const END = '<!-- live-view-bench:end -->';
const HUB = 'bench';
const LOAD_AT_START = os.loadavg();
const log = (...args) => console.error(...args);

const CHROMIUM = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser']
  .filter(Boolean)
  .find(path => existsSync(path));
if (!CHROMIUM) {
  console.error('No Chromium found (CHROMIUM_PATH, /usr/bin/chromium, /usr/bin/chromium-browser).');
  process.exit(1);
}
if (!existsSync(`${ROOT}dist/esm/emulator/index.js`)) {
  console.error('dist/esm/emulator/index.js is missing: run `npm run build` first.');
  process.exit(1);
}
const { startEmulator } = await import(`${ROOT}dist/esm/emulator/index.js`);

/** Installed in the page: frame intervals and key-press delays, reset per phase. */
const PROBE = `
  window.__probe = { frames: [], delays: [], toFrame: [] };
  (function loop(last) {
    requestAnimationFrame(now => { window.__probe.frames.push(now - last); loop(now); });
  })(performance.now());
  document.addEventListener('keydown', event => {
    const start = performance.now();
    window.__probe.delays.push(start - event.timeStamp);
    requestAnimationFrame(now => window.__probe.toFrame.push(now - event.timeStamp));
  });
`;

function quantile(values, q) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

function summary(probe) {
  const frames = probe.frames.slice(1);
  const seconds = frames.reduce((a, b) => a + b, 0) / 1000;
  return {
    frames: frames.length,
    fps: frames.length / seconds,
    frameP50: quantile(frames, 0.5),
    frameP95: quantile(frames, 0.95),
    frameP99: quantile(frames, 0.99),
    frameMax: Math.max(...frames),
    longFrames: frames.filter(ms => ms > 50).length,
    keys: probe.delays.length,
    delayP50: quantile(probe.delays, 0.5),
    delayP95: quantile(probe.delays, 0.95),
    delayMax: Math.max(...probe.delays),
    toFrameP50: quantile(probe.toFrame, 0.5),
    toFrameP95: quantile(probe.toFrame, 0.95),
    toFrameMax: Math.max(...probe.toFrame),
  };
}

/** The renderer's CPU time (Chromium's ProcessTime) and its style and layout time, in ms. */
async function rendererTimes(cdp) {
  const { metrics } = await cdp.send('Performance.getMetrics');
  const get = name => (metrics.find(metric => metric.name === name)?.value ?? NaN) * 1000;
  return {
    cpu: get('ProcessTime'),
    styleLayout: get('LayoutDuration') + get('RecalcStyleDuration'),
    script: get('ScriptDuration'),
  };
}

async function phase(page, seconds, during) {
  await page.evaluate(PROBE);
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  const before = await rendererTimes(cdp);
  const wallStart = performance.now();
  const presses = setInterval(() => page.keyboard.press('Shift').catch(() => undefined), 250);
  const [result] = await Promise.all([
    during ?? new Promise(resolve => setTimeout(resolve, seconds * 1000)),
    new Promise(resolve => setTimeout(resolve, seconds * 1000)),
  ]);
  clearInterval(presses);
  await new Promise(resolve => setTimeout(resolve, 300));
  const after = await rendererTimes(cdp);
  const wallSeconds = (performance.now() - wallStart) / 1000;
  await cdp.detach();
  const probe = summary(await page.evaluate('window.__probe'));
  probe.cpuPerSecond = (after.cpu - before.cpu) / wallSeconds;
  probe.styleLayoutPerSecond = (after.styleLayout - before.styleLayout) / wallSeconds;
  probe.scriptPerSecond = (after.script - before.script) / wallSeconds;
  return { probe, result };
}

const emulator = await startEmulator({ port: 0, log: () => undefined, hubs: { [HUB]: {} } });
let recorded = { client: 0, rest: 0, other: 0 };
emulator.traffic.subscribe(record => {
  if (record.kind === 'client') recorded.client++;
  else if (record.kind === 'rest') recorded.rest++;
  else recorded.other++;
});
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
});
try {
  const page = await (
    await browser.newContext({ viewport: { width: 1280, height: 800 } })
  ).newPage();
  await page.goto(`${emulator.endpoint}/`);
  await page.waitForSelector('#feed-status.live');
  await page.focus('#search');

  log(`idle (floor): ${IDLE_SECONDS} s`);
  const idle = await phase(page, IDLE_SECONDS);
  recorded = { client: 0, rest: 0, other: 0 };
  // The same flood twice: first with the page paused (it still receives and parses every record,
  // and the machine carries the load process and the emulator: the floor under load), then live.
  const flood = async () => {
    const load = fork(fileURLToPath(new URL('./lib/live-view-load.mjs', import.meta.url)), [], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const done = new Promise(resolve => load.once('message', resolve));
    load.send({
      connectionString: emulator.connectionString,
      hub: HUB,
      perMinute: PER_MINUTE,
      seconds: SECONDS,
    });
    return phase(page, SECONDS, done);
  };
  log(`flood with the page paused: ${PER_MINUTE} records/min for ${SECONDS} s`);
  await page.click('#pause');
  const pausedFlood = await flood();
  await page.click('#pause');
  await page.click('#clear');
  recorded = { client: 0, rest: 0, other: 0 };
  log(`flood, page live: ${PER_MINUTE} records/min for ${SECONDS} s`);
  const liveFlood = await flood();
  await page.focus('#search');
  const shown = await page.locator('#traffic > li').count();
  const newest = await page.locator('#traffic > li .body-preview').first().textContent();
  const rate = await page.locator('#rate').textContent();
  const report = render(
    idle.probe,
    pausedFlood.probe,
    liveFlood.probe,
    liveFlood.result,
    { ...recorded },
    shown,
    newest,
    rate,
  );
  console.log(report);
  writeSection(report);
} finally {
  await browser.close();
  await emulator.close();
}

function ms(value) {
  return Number.isFinite(value) ? `${value.toFixed(1)} ms` : '–';
}
function ratio(a, b) {
  return Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}×` : '';
}

function render(idle, paused, flood, load, recordedDuring, shown, newest, rate) {
  const total = recordedDuring.client + recordedDuring.rest + recordedDuring.other;
  const row = (name, pick, format, withRatio = true) => [
    name,
    format(pick(idle)),
    format(pick(paused)),
    name.startsWith('**') ? `**${format(pick(flood))}**` : format(pick(flood)),
    withRatio ? ratio(pick(flood), pick(paused)) : '',
  ];
  const count = value => String(value);
  const rows = [
    row('Frames drawn', p => p.frames, count, false),
    row(
      'Frames per second',
      p => p.fps,
      v => v.toFixed(1),
    ),
    row('Frame time p50', p => p.frameP50, ms),
    row('Frame time p95', p => p.frameP95, ms),
    row('**Frame time p99**', p => p.frameP99, ms),
    row('Frame time max', p => p.frameMax, ms),
    row('Frames over 50 ms', p => p.longFrames, count, false),
    row('Key presses measured', p => p.keys, count, false),
    row('Input delay p50', p => p.delayP50, ms),
    row('**Input delay p95**', p => p.delayP95, ms),
    row('Input delay max', p => p.delayMax, ms),
    row('Key press to next frame p50', p => p.toFrameP50, ms),
    row('Key press to next frame p95', p => p.toFrameP95, ms),
    row('Key press to next frame max', p => p.toFrameMax, ms),
    row('**Renderer CPU time per second**', p => p.cpuPerSecond, ms),
    row('Style and layout per second', p => p.styleLayoutPerSecond, ms),
    row('Script per second', p => p.scriptPerSecond, ms),
  ];
  return [
    START,
    '## Live view under a flood (`npm run bench:live-view`)',
    '',
    `- Date: ${new Date().toISOString()}`,
    `- Library: ${libraryState(ROOT)}`,
    `- Node: ${process.version}, ${os.platform()} ${os.release()} ${os.arch()}; CPU: ${os.cpus().length} × ${os.cpus()[0]?.model.split(' ').slice(0, 2).join(' ')}; load average at start ${LOAD_AT_START.map(n => n.toFixed(2)).join(' / ')}, at end ${os
      .loadavg()
      .map(n => n.toFixed(2))
      .join(' / ')}`,
    `- Browser: headless Chromium (${CHROMIUM}) through playwright-core, viewport 1280×800, the live view of \`startEmulator()\` from \`dist/\` (this process).`,
    `- Load: a separate process (\`bench/lib/live-view-load.mjs\`) sent ${load.sent.client.toLocaleString('en')} client \`sendToGroup\` frames (a \`ws\` client, JSON subprotocol) and ${load.sent.rest.toLocaleString('en')} REST group sends (\`WebPubSubServiceClient\`) in ${SECONDS} s, paced at ${PER_MINUTE.toLocaleString('en')} a minute; the emulator recorded ${total.toLocaleString('en')} traffic records meanwhile (${recordedDuring.client.toLocaleString('en')} client, ${recordedDuring.rest.toLocaleString('en')} REST, ${recordedDuring.other} other)${load.errors.length ? `; load errors: ${load.errors.join('; ')}` : ''}. The page showed ${shown} entries at the end (its bound), the newest \`${newest}\`, and said "${rate}".`,
    `- Floors, in the same run and the same page: idle for ${IDLE_SECONDS} s, then the same flood for ${SECONDS} s with the page paused (it still receives and parses every record, and the machine carries the load process and the emulator; only the drawing is held back), then the flood with the page live. Playwright pressed Shift every 250 ms in every phase (input delay = handler start − the event's \`timeStamp\`).`,
    '',
    `| Measure | idle page | flood, page paused (floor) | flood, page live: ${PER_MINUTE.toLocaleString('en')} records/min | live / paused |`,
    '|---|--:|--:|--:|--:|',
    ...rows.map(row => `| ${row.join(' | ')} |`),
    '',
    "Frame and input times are wall-clock times, stretched by every other process on the 2 cores (see the load averages): a renderer task that needs a few milliseconds of CPU can wait tens of milliseconds for a core. The renderer's CPU time per second (Chromium's `ProcessTime`, from `Performance.getMetrics`) is the figure the machine's load does not inflate; the paused page in the same run is its floor.",
    '',
    END,
  ].join('\n');
}

function writeSection(section) {
  mkdirSync(dirname(outFile), { recursive: true });
  const text = existsSync(outFile) ? readFileSync(outFile, 'utf8') : '# Benchmark results\n';
  const start = text.indexOf(START);
  const end = text.indexOf(END);
  const next =
    start !== -1 && end !== -1
      ? text.slice(0, start) + section + text.slice(end + END.length)
      : `${text.trimEnd()}\n\n${section}\n`;
  writeFileSync(outFile, next);
  log(`written to ${outFile}`);
}
