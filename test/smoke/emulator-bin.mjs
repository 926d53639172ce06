// The built `nestjs-web-pubsub-emulator` bin (package.json `bin`), run as npx would: it prints the
// connection string on its first line and exits 0 on SIGTERM; a bad flag exits 2 with a message.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');
const { bin } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const entry = join(root, bin['nestjs-web-pubsub-emulator']);
assert.match(readFileSync(entry, 'utf8'), /^#!\/usr\/bin\/env node\n/, 'the bin starts with a shebang');

function run(args, untilFirstLine) {
  const child = spawn(process.execPath, [entry, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', chunk => {
    stdout += chunk;
    if (untilFirstLine && stdout.includes('\n')) untilFirstLine(child, stdout.split('\n')[0]);
  });
  child.stderr.on('data', chunk => (stderr += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  return new Promise(resolve =>
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    }),
  );
}

let firstLine;
const started = await run(['--port', '0', '--hub', 'chat=http://127.0.0.1:1/eventhandler'], (child, line) => {
  if (firstLine === undefined) {
    firstLine = line;
    child.kill('SIGTERM');
  }
});
assert.match(firstLine ?? '', /^Endpoint=http:\/\/127\.0\.0\.1:\d+;AccessKey=.+;Version=1\.0;$/);
assert.deepEqual([started.code, started.signal], [0, null], `exit 0 on SIGTERM (stderr: ${started.stderr})`);

const bad = await run(['--port', 'eighty']);
assert.equal(bad.code, 2, 'a bad flag exits 2');
assert.match(bad.stderr, /port/i, 'and names the flag');
console.log('bin smoke test: nestjs-web-pubsub-emulator prints its connection string, stops on SIGTERM, refuses a bad flag');
