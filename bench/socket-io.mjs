// npm run bench:socket-io: Socket.IO through the emulator's Web PubSub for Socket.IO mode (the
// emulator in one process, a socket.io server behind useAzureSocketIO in another) side by side with
// the same socket.io server bare (the floor), in one run, the load (socket.io-client over
// WebSocket) in this process. Per setup: BENCH_SIO_ROUND_TRIPS sequential emitWithAck round trips
// (p50/p99), then BENCH_SIO_CLIENTS clients in one room and BENCH_SIO_FANOUT_ROUNDS messages to the
// room (time until every client has it: p50/p99), and the CPU each process spent on the fan-out.
// Prints a markdown section (write it to bench/RESULTS.md by hand, or BENCH_SIO_OUT=path).
// BENCH_SIO_LOG=<dir>: each server process's output, the emulator's log lines (and, with
// DEBUG=wps-sio-ext:*, the SDK's) go to a file per process in <dir>, and a fan-out round that
// times out names the clients that missed it.
// BENCH_SIO_PROF=<dir>: each server process writes a CPU profile there (analyse one with
// `BENCH_PROFILE_FILE=<file> node bench/profile.mjs`); with BENCH_SIO_CLIENTS=1 it is the round
// trips'.
//
// Every client asks the server to put it in the room and waits for the answer before the fan-out
// starts: through Web PubSub for Socket.IO `socket.join()` is a REST call through the tunnel that
// completes after the client's `connect` event (socket.io sends CONNECT first), so a client that
// only waited for `connect` could miss the first round (and the run would wait forever).
import { fork } from 'node:child_process';
import { existsSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { io } from 'socket.io-client';
import { positiveIntegerEnv } from './lib/common.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ROUND_TRIPS = positiveIntegerEnv('BENCH_SIO_ROUND_TRIPS', 2_000);
const CLIENTS = positiveIntegerEnv('BENCH_SIO_CLIENTS', 1_000);
const FANOUT_ROUNDS = positiveIntegerEnv('BENCH_SIO_FANOUT_ROUNDS', 50);
const SERVER = fileURLToPath(new URL('./servers/socket-io.mjs', import.meta.url));
const LOAD_AT_START = os.loadavg();
const LOG_DIR = process.env.BENCH_SIO_LOG;
const PROF_DIR = process.env.BENCH_SIO_PROF;
if (LOG_DIR) mkdirSync(LOG_DIR, { recursive: true });

if (!existsSync(`${ROOT}dist/esm/emulator/index.js`)) {
  console.error('dist/ is missing: run `npm run build` first (npm run bench:socket-io does).');
  process.exit(1);
}

function start(args) {
  const name = `${args[0]}${args[1] ?? ''}`;
  const out = LOG_DIR ? openSync(`${LOG_DIR}/${name}.log`, 'w') : 'inherit';
  const execArgv = PROF_DIR
    ? ['--cpu-prof', `--cpu-prof-dir=${PROF_DIR}`, `--cpu-prof-name=${name}.cpuprofile`]
    : [];
  const child = fork(SERVER, args, { execArgv, stdio: ['ignore', out, out, 'ipc'] });
  // A failed run (a round that timed out) must not leave its servers behind.
  process.once('exit', () => child.kill());
  const first = new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', code => reject(new Error(`${args[0]} exited with ${code}`)));
  });
  const cpu = () =>
    new Promise(resolve => {
      child.once('message', message => resolve(message.cpu));
      child.send('cpu');
    });
  return { child, first, cpu, stop: () => child.send('exit') };
}

const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};
const ms = value => value.toFixed(2);
const log = (...args) => console.error(...args);

/** A client in room `r`: connected, and the server has said that the join is done. */
async function connect(endpoint, path) {
  const socket = io(endpoint, {
    path,
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
  });
  await new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', reject);
  });
  await socket.timeout(30_000).emitWithAck('join');
  return socket;
}

async function measure(endpoint, path, processes) {
  const one = await connect(endpoint, path);
  for (let i = 0; i < 100; i++) await one.timeout(10_000).emitWithAck('echo', 'warm');
  const trips = [];
  const tripCpuBefore = await Promise.all(processes.map(p => p.cpu()));
  for (let i = 0; i < ROUND_TRIPS; i++) {
    const started = performance.now();
    await one.timeout(10_000).emitWithAck('echo', { i, text: 'hello' });
    trips.push(performance.now() - started);
  }
  const tripCpuAfter = await Promise.all(processes.map(p => p.cpu()));
  log(`round trips done: p50 ${ms(percentile(trips, 50))} ms`);
  const clients = [one];
  for (let i = 1; i < CLIENTS; i += 50) {
    const batch = Math.min(50, CLIENTS - i);
    clients.push(
      ...(await Promise.all(Array.from({ length: batch }, () => connect(endpoint, path)))),
    );
  }
  let round;
  for (const socket of clients) {
    socket.on('fan', id => {
      if (!round || id !== round.id) return;
      round.got.add(socket);
      if (++round.received === CLIENTS) round.done();
    });
  }
  log(`${clients.length} clients connected`);
  const fanout = async id =>
    new Promise((resolve, reject) => {
      const started = performance.now();
      const timer = setTimeout(() => {
        const missed = clients.filter(socket => !round.got.has(socket));
        const named = missed.map(s => `${s.io.engine.id} (socket ${s.id})`).join(', ');
        reject(
          new Error(`fan-out ${id}: ${round.received} of ${CLIENTS} after 60 s; missed: ${named}`),
        );
      }, 60_000);
      round = {
        id,
        received: 0,
        got: new Set(),
        done: () => {
          clearTimeout(timer);
          resolve(performance.now() - started);
        },
      };
      one.emit('fan', id);
    });
  for (let i = 0; i < 5; i++) await fanout(-1 - i);
  const cpuBefore = await Promise.all(processes.map(p => p.cpu()));
  const rounds = [];
  for (let i = 0; i < FANOUT_ROUNDS; i++) rounds.push(await fanout(i));
  const cpuAfter = await Promise.all(processes.map(p => p.cpu()));
  for (const socket of clients) socket.disconnect();
  return {
    tripP50: percentile(trips, 50),
    tripP99: percentile(trips, 99),
    fanP50: percentile(rounds, 50),
    fanP99: percentile(rounds, 99),
    cpuPerTrip: tripCpuAfter.map((after, i) => (after - tripCpuBefore[i]) / ROUND_TRIPS),
    cpuPerRound: cpuAfter.map((after, i) => (after - cpuBefore[i]) / FANOUT_ROUNDS),
  };
}

const bare = start(['app', '--bare']);
const { endpoint: bareEndpoint } = await bare.first;
const bareResult = await measure(bareEndpoint, '/socket.io', [bare]);
bare.stop();

const emulator = start(['emulator']);
const { endpoint, connectionString } = await emulator.first;
const app = start(['app', '--azure', connectionString]);
await app.first;
const viaEmulator = await measure(endpoint, '/clients/socketio/hubs/bench', [emulator, app]);
app.stop();
emulator.stop();

const section = `## Socket.IO: the emulator's Web PubSub for Socket.IO mode vs a bare socket.io server

- Date: ${new Date().toISOString()}; command \`npm run bench:socket-io\`; Node ${process.version}; ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}; load average at start ${LOAD_AT_START.map(v => v.toFixed(2)).join(' / ')} (the machine is shared and busy: compare the ratios of this one run, not the absolute figures)
- Load: socket.io-client 4.8 over WebSocket in the runner process; ${ROUND_TRIPS} sequential \`emitWithAck\` round trips of one client; then ${CLIENTS} clients in one room and ${FANOUT_ROUNDS} messages a client sends the server, which sends each to the room (\`io.to('r').emit\`), timed until all ${CLIENTS} clients have it
- Setups: socket.io 4.8 bare on its own port; the same server behind \`useAzureSocketIO\` (\`@azure/web-pubsub-socket.io\` 1.2.1) in one process, the emulator (dist/) in another

| | bare socket.io | through the emulator | ratio |
|---|--:|--:|--:|
| round trip p50 (ms) | ${ms(bareResult.tripP50)} | ${ms(viaEmulator.tripP50)} | ${(viaEmulator.tripP50 / bareResult.tripP50).toFixed(1)}× |
| round trip p99 (ms) | ${ms(bareResult.tripP99)} | ${ms(viaEmulator.tripP99)} | ${(viaEmulator.tripP99 / bareResult.tripP99).toFixed(1)}× |
| ${CLIENTS}-client room fan-out p50 (ms) | ${ms(bareResult.fanP50)} | ${ms(viaEmulator.fanP50)} | ${(viaEmulator.fanP50 / bareResult.fanP50).toFixed(1)}× |
| ${CLIENTS}-client room fan-out p99 (ms) | ${ms(bareResult.fanP99)} | ${ms(viaEmulator.fanP99)} | ${(viaEmulator.fanP99 / bareResult.fanP99).toFixed(1)}× |
| CPU per round trip (ms) | server ${ms(bareResult.cpuPerTrip[0])} | emulator ${ms(viaEmulator.cpuPerTrip[0])}, app ${ms(viaEmulator.cpuPerTrip[1])} | |
| CPU per fan-out round (ms) | server ${ms(bareResult.cpuPerRound[0])} | emulator ${ms(viaEmulator.cpuPerRound[0])}, app ${ms(viaEmulator.cpuPerRound[1])} | |
`;
console.log(section);
if (process.env.BENCH_SIO_OUT) writeFileSync(process.env.BENCH_SIO_OUT, section);
process.exit(0);
