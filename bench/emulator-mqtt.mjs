// node bench/emulator-mqtt.mjs (after npm run build): fan-out through the emulator to 1,000 MQTT
// subscribers of one topic (MQTT 5, QoS 1) beside 1,000 JSON clients
// (json.webpubsub.azure.v1) in one group, in the same run. The emulator runs in its own process,
// the load (subscribers and the publisher) in another. A round publishes one message with its send
// time; the round ends when every subscriber has it; latency = arrival − send time, per subscriber.
// Writes its own section of bench/RESULTS.md (between markers).
//
// Environment (all optional):
//   BENCH_MQTT_SUBSCRIBERS=1000  BENCH_MQTT_ROUNDS=200  BENCH_MQTT_RUNS=3 (runs per protocol, alternating)
//   BENCH_MQTT_OUT=path (default bench/RESULTS.md for a default run, bench/.runs/EMULATOR-MQTT-partial.md otherwise)
import { fork } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ACCESS_KEY, positiveIntegerEnv } from './lib/common.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const HUB = 'bench';
const TOPIC = 'fanout';
const SUBSCRIBERS = positiveIntegerEnv('BENCH_MQTT_SUBSCRIBERS', 1_000);
const ROUNDS = positiveIntegerEnv('BENCH_MQTT_ROUNDS', 200);
const RUNS = positiveIntegerEnv('BENCH_MQTT_RUNS', 3);
const START = '<!-- emulator-mqtt-bench:start -->';
const END = '<!-- emulator-mqtt-bench:end -->';
const now = () => performance.timeOrigin + performance.now();
const log = (...args) => console.error(...args);

// ---- the emulator process ----
async function emulatorProcess() {
  const { startEmulator } = await import(`${ROOT}dist/esm/emulator/index.js`);
  const emulator = await startEmulator({ port: 0, accessKey: ACCESS_KEY, log: () => undefined });
  process.send({ port: emulator.port });
  process.on('message', async message => {
    if (message === 'memory') process.send({ rss: process.memoryUsage().rss });
    if (message === 'stop') {
      await emulator.close();
      process.exit(0);
    }
  });
}

// ---- the load process ----
async function loadProcess() {
  const { default: mqtt } = await import('mqtt');
  const { default: WebSocket } = await import('ws');
  const { default: mqttPacket } = await import('mqtt-packet');
  const { WebPubSubServiceClient } = await import('@azure/web-pubsub');
  let endpoint;
  let service;
  let clients = [];
  const arrivals = [];
  let expected = 0;
  let roundDone;
  const arrived = sent => {
    arrivals.push(now() - sent);
    if (arrivals.length === expected) roundDone?.();
  };
  const token = async clientProtocol =>
    (
      await service.getClientAccessToken({
        clientProtocol,
        roles: ['webpubsub.joinLeaveGroup', 'webpubsub.sendToGroup'],
      })
    ).url;
  const inBatches = async (count, open) => {
    for (let i = 0; i < count; i += 50) {
      await Promise.all(Array.from({ length: Math.min(50, count - i) }, (_, j) => open(i + j)));
    }
  };

  // Subscribers are bare `ws` sockets speaking MQTT 5 through mqtt-packet (CONNECT, SUBSCRIBE
  // QoS 1, a PUBACK per message), as light on the load side as the JSON clients below.
  async function openMqtt(count) {
    const url = await token('mqtt');
    const opened = [];
    await inBatches(count, async index => {
      const ws = new WebSocket(url, 'mqtt');
      const parser = mqttPacket.parser({ protocolVersion: 5 });
      const send = packet => ws.send(mqttPacket.generate(packet, { protocolVersion: 5 }));
      await new Promise((resolve, reject) => {
        ws.once('error', reject);
        parser.on('packet', packet => {
          if (packet.cmd === 'connack')
            send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: TOPIC, qos: 1 }] });
          else if (packet.cmd === 'suback') resolve();
          else if (packet.cmd === 'publish') {
            arrived(Number(packet.payload.toString('utf8')));
            send({ cmd: 'puback', messageId: packet.messageId, reasonCode: 0 });
          }
        });
        ws.on('message', data => parser.parse(data));
        ws.once('open', () =>
          send({
            cmd: 'connect',
            protocolVersion: 5,
            clientId: `sub${index}`,
            clean: true,
            keepalive: 60,
          }),
        );
      });
      opened.push(ws);
    });
    const publisher = await mqtt.connectAsync(url, {
      protocolVersion: 5,
      clientId: 'publisher',
      reconnectPeriod: 0,
    });
    return {
      publish: () =>
        publisher.publish(TOPIC, String(now()), {
          qos: 1,
          properties: { contentType: 'text/plain' },
        }),
      close: async () => {
        for (const ws of opened) ws.terminate();
        await publisher.endAsync(true);
      },
    };
  }

  async function openJson(count) {
    const url = await token('default');
    const open = () =>
      new Promise((resolve, reject) => {
        const ws = new WebSocket(url, 'json.webpubsub.azure.v1');
        ws.once('error', reject);
        ws.once('open', () => resolve(ws));
      });
    const opened = [];
    await inBatches(count, async () => {
      const ws = await open();
      await new Promise(resolve => {
        ws.on('message', data => {
          const message = JSON.parse(data.toString('utf8'));
          if (message.type === 'ack') resolve();
          else if (message.type === 'message') arrived(Number(message.data));
        });
        ws.send(JSON.stringify({ type: 'joinGroup', group: TOPIC, ackId: 1 }));
      });
      opened.push(ws);
    });
    const publisher = await open();
    return {
      publish: () =>
        publisher.send(
          JSON.stringify({
            type: 'sendToGroup',
            group: TOPIC,
            dataType: 'text',
            data: String(now()),
            noEcho: true,
          }),
        ),
      close: async () => {
        for (const ws of [...opened, publisher]) ws.terminate();
      },
    };
  }

  process.on('message', async message => {
    try {
      if (message.type === 'init') {
        endpoint = `http://127.0.0.1:${message.port}`;
        service = new WebPubSubServiceClient(
          `Endpoint=${endpoint};AccessKey=${ACCESS_KEY};Version=1.0;`,
          HUB,
        );
        process.send({ id: message.id });
      } else if (message.type === 'open') {
        const started = now();
        clients = await (message.protocol === 'mqtt' ? openMqtt : openJson)(message.count);
        clients.count = message.count;
        process.send({ id: message.id, ms: now() - started });
      } else if (message.type === 'fanout') {
        arrivals.length = 0;
        const samples = [];
        for (let round = 0; round < message.rounds; round++) {
          expected = clients.count;
          arrivals.length = 0;
          const done = new Promise((resolve, reject) => {
            roundDone = resolve;
            setTimeout(
              () =>
                reject(new Error(`round ${round}: ${arrivals.length}/${expected} arrived in 10 s`)),
              10_000,
            ).unref();
          });
          clients.publish();
          await done;
          samples.push(...arrivals);
        }
        samples.sort((a, b) => a - b);
        const at = q => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))];
        process.send({
          id: message.id,
          deliveries: samples.length,
          p50: at(0.5),
          p99: at(0.99),
          max: samples.at(-1),
        });
      } else if (message.type === 'close') {
        await clients.close();
        process.send({ id: message.id });
      }
    } catch (error) {
      process.send({ id: message.id, failure: error.message });
    }
  });
}

// ---- the runner ----
function child(role) {
  const process_ = fork(fileURLToPath(import.meta.url), [role], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let nextId = 0;
  const pending = new Map();
  process_.on('message', message => {
    const entry = pending.get(message.id);
    if (!entry) return;
    pending.delete(message.id);
    if (message.failure) entry.reject(new Error(message.failure));
    else entry.resolve(message);
  });
  return {
    process: process_,
    call: (type, args = {}) =>
      new Promise((resolve, reject) => {
        const id = ++nextId;
        pending.set(id, { resolve, reject });
        process_.send({ type, id, ...args });
      }),
  };
}

async function measure(protocol) {
  const emulator = child('--emulator');
  const { port } = await new Promise(resolve => emulator.process.once('message', resolve));
  const load = child('--load');
  try {
    await load.call('init', { port });
    // Warm-up: a small group, a few rounds, discarded.
    await load.call('open', { protocol, count: 50 });
    await load.call('fanout', { rounds: 20 });
    await load.call('close');
    log(`[${protocol}] opening ${SUBSCRIBERS} subscribers`);
    const opened = await load.call('open', { protocol, count: SUBSCRIBERS });
    log(`[${protocol}] open in ${(opened.ms / 1000).toFixed(1)} s; ${ROUNDS} rounds`);
    const result = await load.call('fanout', { rounds: ROUNDS });
    log(`[${protocol}] p50 ${result.p50.toFixed(2)} ms, p99 ${result.p99.toFixed(2)} ms`);
    await load.call('close');
    return { protocol, openMs: opened.ms, ...result };
  } finally {
    load.process.kill('SIGTERM');
    emulator.process.send('stop');
  }
}

async function runner() {
  if (!existsSync(`${ROOT}dist/esm/emulator/index.js`)) {
    console.error('dist/esm/emulator/index.js is missing: run `npm run build` first.');
    process.exit(1);
  }
  const loadAtStart = os.loadavg();
  const runs = { mqtt: [], json: [] };
  for (let run = 0; run < RUNS; run++) {
    const order = run % 2 === 0 ? ['mqtt', 'json'] : ['json', 'mqtt'];
    for (const protocol of order) runs[protocol].push(await measure(protocol));
  }
  const median = values => {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)];
  };
  const ms = value => value.toFixed(2);
  const row = (label, list) =>
    `| ${label} | ${SUBSCRIBERS.toLocaleString('en-US')} | ${(list[0].deliveries * list.length).toLocaleString('en-US')} | ${ms(median(list.map(r => r.p50)))} | ${ms(median(list.map(r => r.p99)))} | ${list.map(r => ms(r.p99)).join(' / ')} | ${ms(Math.max(...list.map(r => r.max)))} | ${(median(list.map(r => r.openMs)) / 1000).toFixed(1)} s |`;
  const ratio = median(runs.mqtt.map(r => r.p99)) / median(runs.json.map(r => r.p99));
  const busy = loadAtStart[0] > os.cpus().length * 0.75;
  const section = [
    START,
    '## Emulator: MQTT fan-out',
    '',
    `- Date: ${new Date().toISOString()}`,
    '- Command: `npm run build && node bench/emulator-mqtt.mjs`',
    `- Node: ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model.split(' ').slice(0, 2).join(' ')}; load average at start ${loadAtStart.map(v => v.toFixed(2)).join(' / ')}${busy ? ' (**busy machine**: other processes compete for the CPU; read the figures as an upper bound)' : ''}`,
    `- Method: the emulator (dist/) in one process, the load in another. ${SUBSCRIBERS.toLocaleString('en-US')} subscribers of one topic (MQTT 5 over bare \`ws\` with mqtt-packet, QoS 1 subscription with a PUBACK per message; the publisher is MQTT.js, QoS 1, content type text/plain) or of one group (\`json.webpubsub.azure.v1\` over \`ws\`); one publisher sends ${ROUNDS} messages, one at a time (the next when every subscriber has the previous). Latency = arrival − send time, per delivery. ${RUNS} runs per protocol in alternating order, a fresh emulator each; medians over the runs.`,
    '',
    '| Clients | subscribers | deliveries | p50 ms | p99 ms (median) | p99 per run | max ms | open time |',
    '|---|--:|--:|--:|--:|---|--:|--:|',
    row('MQTT 5 (QoS 1)', runs.mqtt),
    row('JSON (`json.webpubsub.azure.v1`)', runs.json),
    '',
    `MQTT p99 is ${ratio.toFixed(2)}× the JSON clients' p99 in the same run.`,
    END,
  ].join('\n');
  const customised = Object.keys(process.env).some(
    name => name.startsWith('BENCH_MQTT_') && name !== 'BENCH_MQTT_OUT',
  );
  const outFile =
    process.env.BENCH_MQTT_OUT ??
    `${ROOT}${customised ? 'bench/.runs/EMULATOR-MQTT-partial.md' : 'bench/RESULTS.md'}`;
  mkdirSync(dirname(outFile), { recursive: true });
  const previous = existsSync(outFile) ? readFileSync(outFile, 'utf8') : '';
  const start = previous.indexOf(START);
  const end = previous.indexOf(END);
  const next =
    start !== -1 && end > start
      ? previous.slice(0, start) + section + previous.slice(end + END.length)
      : `${previous.trimEnd()}${previous ? '\n\n' : ''}${section}\n`;
  writeFileSync(outFile, next);
  console.log(section);
  log(`written to ${relative(ROOT, outFile)}`);
}

const role = process.argv[2];
if (role === '--emulator') await emulatorProcess();
else if (role === '--load') await loadProcess();
else await runner();
