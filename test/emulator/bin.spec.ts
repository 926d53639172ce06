/**
 * The `nestjs-web-pubsub-emulator` command, spawned with node from an esbuild bundle of the
 * TypeScript source: the connection string alone on its first line; connection and upstream log
 * lines while `@azure/web-pubsub-client` connects to an `@azure/web-pubsub-express` upstream; the
 * live view served; exit 0 on SIGTERM with a client connected, and on SIGINT; `--help` prints the
 * usage and exits 0; 4 bad flags and 3 bad config files exit 2 with a message naming the flag, or
 * the file and the setting; a good config file starts; a taken port exits 1 with the reason.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebPubSubServiceClient } from '@azure/web-pubsub';
import { WebPubSubClient, WebPubSubJsonProtocol } from '@azure/web-pubsub-client';
import { bundleBin, spawnBin, type BinProcess } from '../utils/bin.js';
import { http } from '../utils/http.js';
import { waitFor } from '../utils/wait.js';
import { expressUpstream } from './harness.js';

const CONNECTION_STRING =
  /^Endpoint=(http:\/\/127\.0\.0\.1:(\d+));AccessKey=([^;]+);Version=1\.0;$/;

describe('nestjs-web-pubsub-emulator (bin)', () => {
  let bin: { file: string; remove(): void };
  let dir: string;
  const running: BinProcess[] = [];
  const run = (...args: string[]) => {
    const started = spawnBin(bin.file, args);
    running.push(started);
    return started;
  };

  beforeAll(async () => {
    bin = bundleBin();
    dir = mkdtempSync(join(tmpdir(), 'emulator-bin-'));
  });
  afterAll(async () => {
    for (const started of running) started.child.kill('SIGKILL');
    bin?.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints the connection string on a line of its own, logs connections and upstream calls, serves the live view, and exits 0 on SIGTERM', async () => {
    const received: string[] = [];
    const upstream = await expressUpstream('chat', {
      handleConnect: (_req, res) => res.success({ userId: 'alice' }),
      handleUserEvent: (req, res) => {
        received.push(String(req.data));
        res.success();
      },
    });
    try {
      const emulator = run('--port', '0', '--hub', `chat=${upstream.handlerUrl}`);
      const line = await emulator.line(/^Endpoint=/);
      const [, endpoint, , accessKey] = CONNECTION_STRING.exec(line)!;
      expect(emulator.stdout[0]).toBe(line);
      expect(accessKey).toBe('ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH');

      const page = await http(`${endpoint}/`);
      expect(page.status).toBe(200);
      expect(page.text).toContain('<title>Web PubSub emulator');

      const service = new WebPubSubServiceClient(line, 'chat');
      // The plain JSON protocol without reconnection: the client stops when the emulator goes
      // (a reliable client keeps trying to recover for 30 s, and stop() cannot end that); no
      // keep-alive tasks, whose pending delays would hold the test process for 20 s.
      const client = new WebPubSubClient(
        { getClientAccessUrl: async () => (await service.getClientAccessToken()).url },
        {
          protocol: WebPubSubJsonProtocol(),
          autoReconnect: false,
          keepAliveIntervalInMs: 0,
          keepAliveTimeoutInMs: 0,
        },
      );
      const stopped = new Promise(resolve => client.on('stopped', resolve));
      await client.start();
      await client.sendEvent('hello', 'from the bin spec', 'text');
      await waitFor(() => received.length === 1);
      await emulator.line(/^client chat\/\S+ connected as alice/);
      await emulator.line(/^upstream connect .*→ 200/);
      await emulator.line(/^upstream hello .*→ 200/);

      // Stopping with a client still connected.
      emulator.child.kill('SIGTERM');
      expect(await emulator.exited).toBe(0);
      expect(emulator.stderr).toContain('nestjs-web-pubsub-emulator: SIGTERM, closing');
      await stopped;
    } finally {
      await upstream.close();
    }
  });

  it('exits 0 on SIGINT', async () => {
    const emulator = run('--port', '0', '--access-key', 'my-local-key');
    expect(await emulator.line(/^Endpoint=/)).toMatch(/;AccessKey=my-local-key;/);
    emulator.child.kill('SIGINT');
    expect(await emulator.exited).toBe(0);
  });

  it('prints the usage for --help and exits 0', async () => {
    const help = run('--help');
    expect(await help.exited).toBe(0);
    expect(help.stdout[0]).toBe('Usage: nestjs-web-pubsub-emulator [options]');
    expect(help.stdout.join('\n')).toContain('--hub <name>=<url>');
  });

  it.each([
    [['--prot', '8080'], 'nestjs-web-pubsub-emulator: unknown option --prot'],
    [
      ['--port', 'eighty'],
      'nestjs-web-pubsub-emulator: --port: must be a number from 0 to 65535 (got "eighty")',
    ],
    [
      ['--hub', 'chat=localhost:3000'],
      'nestjs-web-pubsub-emulator: --hub "chat=localhost:3000": "localhost:3000" must be an http or https URL (got localhost)',
    ],
    [
      ['extra'],
      'nestjs-web-pubsub-emulator: unexpected argument "extra" (every option is a --flag)',
    ],
  ])('refuses %j with exit code 2 and a message naming the problem', async (args, message) => {
    const refused = run(...args);
    expect(await refused.exited).toBe(2);
    expect(refused.stderr).toEqual([
      message,
      'Run nestjs-web-pubsub-emulator --help for the options.',
    ]);
    expect(refused.stdout).toEqual([]);
  });

  it('refuses a bad config file with exit code 2, naming the file and the setting', async () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(
      bad,
      JSON.stringify({
        chat: {
          eventHandlers: [
            { urlTemplate: 'http://localhost:3000/x', systemEvents: ['connected', 'message'] },
          ],
        },
      }),
    );
    const notJson = join(dir, 'not.json');
    writeFileSync(notJson, '{ chat: {} }');
    const cases: [string, string][] = [
      [
        bad,
        `--config ${bad}: hubs.chat.eventHandlers[0].systemEvents: "message" is not a system event (allowed: connect, connected, disconnected)`,
      ],
      [notJson, `--config ${notJson}: not valid JSON (`],
      [
        join(dir, 'missing.json'),
        `--config ${join(dir, 'missing.json')}: cannot read the file (no such file)`,
      ],
    ];
    for (const [file, message] of cases) {
      const refused = run('--config', file);
      expect(await refused.exited).toBe(2);
      expect(refused.stderr[0]).toContain(`nestjs-web-pubsub-emulator: ${message}`);
    }
  });

  it('starts with a good config file', async () => {
    const good = join(dir, 'good.json');
    writeFileSync(
      good,
      JSON.stringify({
        Chat: {
          anonymousConnectPolicy: 'allow',
          eventHandlers: [
            {
              urlTemplate: 'http://localhost:3000/{event}',
              userEventPattern: 'message,chat',
              systemEvents: ['connected'],
            },
          ],
        },
      }),
    );
    const emulator = run('--config', good, '--port', '0');
    await emulator.line(/^Endpoint=/);
    await waitFor(() => emulator.stderr.some(line => line.includes('(hubs: Chat)')));
    emulator.child.kill('SIGTERM');
    expect(await emulator.exited).toBe(0);
  });

  it('exits 1 with the reason when the port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>(resolve => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as { port: number };
    try {
      const refused = run('--port', String(port));
      expect(await refused.exited).toBe(1);
      // The flag the user typed, not the option of startEmulator().
      expect(refused.stderr[0]).toBe(
        `nestjs-web-pubsub-emulator: cannot start: emulator port ${port} on 127.0.0.1 is in use (pick another with --port, or --port 0 for a free one)`,
      );
    } finally {
      blocker.close();
    }
  });
});
