// A process of bench/socket-io.mjs: `emulator` (the built emulator on a free port) or `app` (a
// socket.io 4.8 server, bare on its own port, or `--azure <connection string>` behind
// useAzureSocketIO). `join` puts the socket in room `r` and answers once it is in; `echo` answers
// its ack; `fan` sends its argument to room `r`. Tells the parent where it listens, and its CPU
// time when asked.
import { createServer } from 'node:http';
import { createRequire } from 'node:module';

const [role, flag, connectionString] = process.argv.slice(2);
const cpu = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};
process.on('message', message => {
  if (message === 'cpu') process.send({ cpu: cpu() });
  if (message === 'exit') process.exit(0);
});

if (role === 'emulator') {
  const { startEmulator } = await import('../../dist/esm/emulator/index.js');
  // BENCH_SIO_LOG: the emulator's log lines go to this process's stderr (a file; see socket-io.mjs).
  const log = process.env.BENCH_SIO_LOG
    ? line => process.stderr.write(`${Date.now()} ${line}\n`)
    : () => {};
  const emulator = await startEmulator({ port: 0, log });
  process.send({ endpoint: emulator.endpoint, connectionString: emulator.connectionString });
} else {
  const require = createRequire(import.meta.url);
  const { Server } = require('socket.io');
  const http = createServer();
  const io = new Server(http);
  io.on('connection', socket => {
    // Through the service, join() is a REST call: answer once it is done.
    socket.on('join', async ack => {
      await socket.join('r');
      ack();
    });
    socket.on('echo', (payload, ack) => ack(payload));
    socket.on('fan', payload => io.to('r').emit('fan', payload));
  });
  if (flag === '--azure') {
    const { useAzureSocketIO } = require('@azure/web-pubsub-socket.io');
    await new Promise(resolve => http.listen(0, '127.0.0.1', resolve));
    await useAzureSocketIO(io, { hub: 'bench', connectionString });
    process.send({ ready: true });
  } else {
    await new Promise(resolve => http.listen(0, '127.0.0.1', resolve));
    process.send({ endpoint: `http://127.0.0.1:${http.address().port}` });
  }
}
