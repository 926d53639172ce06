/**
 * What `npm start` runs: `sample/main.ts` as a real process (TypeScript sources through
 * `test/utils/ts-register.mjs`). On Fastify and on Express it prints exactly one URL to open (the
 * page; the emulator is reached from the page); with a client connected, SIGINT (Fastify) and
 * SIGTERM (Express) stop the app and the emulator, the process exits by itself with code 0 and
 * nothing logged as an error, and both ports refuse connections; with `WebPubSubConnectionString`
 * set no emulator runs, and the URL template, the system events and `awps-tunnel run --hub chat
 * --upstream <app>` are printed, the key is not; without the built page the start fails with exit
 * code 1 and says to run `npm run build:sample`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { jest } from '@jest/globals';
import { connect } from 'node:net';
import { join } from 'node:path';
import { WebPubSubClient, WebPubSubJsonProtocol } from '@azure/web-pubsub-client';
import { buildChatPage, type BuiltPage } from '../utils/chat-sample.js';
import { http } from '../utils/http.js';
import { waitFor } from '../utils/wait.js';

const ROOT = join(import.meta.dirname ?? process.cwd(), '..', '..');
/**
 * How long a start may take: the TypeScript sources are compiled on the fly by the test hooks, which
 * took up to 20 s on a busy 2-core machine.
 */
const START_MS = 45_000;
const URLS = /\b(?:https?|wss?):\/\/[^\s'")]+/g;

interface Started {
  readonly child: ChildProcess;
  /** stdout and stderr as they came. */
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `node sample/main.ts` (through the TypeScript hooks), as `npm start` runs dist-sample/main.js. */
function startMain(env: Record<string, string>): Started {
  const { WebPubSubConnectionString: _unset, ...parent } = process.env;
  const child = spawn(
    process.execPath,
    ['--import', './test/utils/ts-register.mjs', 'sample/main.ts'],
    {
      cwd: ROOT,
      env: { ...parent, NODE_OPTIONS: '', NO_COLOR: '1', PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let text = '';
  child.stdout!.on('data', chunk => (text += chunk));
  child.stderr!.on('data', chunk => (text += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(resolve =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, output: () => text, exited };
}

const refused = (url: string): Promise<boolean> =>
  new Promise(resolve => {
    const { hostname, port } = new URL(url);
    const socket = connect(Number(port), hostname);
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });

describe('the sample entry (npm start)', () => {
  jest.setTimeout(START_MS + 30_000);

  let page: BuiltPage;
  const running: Started[] = [];

  beforeAll(async () => {
    page = await buildChatPage();
  });

  afterAll(() => {
    for (const started of running) started.child.kill('SIGKILL');
    page?.remove();
  });

  async function ready(env: Record<string, string>, until: string): Promise<Started> {
    const started = startMain({ SAMPLE_PUBLIC_DIR: page.dir, ...env });
    running.push(started);
    await waitFor(
      () => started.output().includes(until) || started.child.exitCode !== null,
      START_MS,
    );
    if (!started.output().includes(until))
      throw new Error(`the sample did not start:\n${started.output()}`);
    return started;
  }

  it.each([
    ['fastify', 'SIGINT'],
    ['express', 'SIGTERM'],
  ] as const)(
    'on %s: one URL to open, and %s stops the app and the emulator cleanly',
    async (platform, signal) => {
      const started = await ready({ SAMPLE_PLATFORM: platform }, 'Ctrl-C stops both.');
      const urls = started.output().match(URLS) ?? [];
      expect(urls).toHaveLength(1);
      const url = urls[0]!;
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      expect(started.output()).toContain(platform === 'express' ? 'on Express' : 'on Fastify');

      // A person in the chat while it stops.
      const joined = await http(`${url}join`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'name=ann&room=lobby',
      });
      const authorization = `Bearer ${JSON.parse(joined.text).token}`;
      const { liveView } = JSON.parse((await http(`${url}session`)).text) as { liveView: string };
      expect(liveView).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      expect((await http(liveView)).status).toBe(200);
      const client = new WebPubSubClient(
        {
          getClientAccessUrl: async () =>
            JSON.parse(
              (await http(`${url}negotiate`, { method: 'POST', headers: { authorization } })).text,
            ).url,
        },
        {
          // Not the reliable protocol: no recovery attempts once the emulator is gone.
          protocol: WebPubSubJsonProtocol(),
          autoReconnect: false,
          keepAliveIntervalInMs: 0,
          keepAliveTimeoutInMs: 0,
        },
      );
      const seen: unknown[] = [];
      client.on('group-message', event => seen.push(event.message.data));
      await client.start();
      await waitFor(() => seen.length === 1);

      started.child.kill(signal);
      expect(await started.exited).toEqual({ code: 0, signal: null });
      client.stop();
      expect(started.output()).toContain(`${signal}: stopping the app and the emulator...`);
      expect(started.output()).toContain('Stopped.');
      expect(started.output()).not.toMatch(/\bERROR\b|Unhandled|Error:/);
      expect(await refused(url)).toBe(true);
      expect(await refused(liveView)).toBe(true);
    },
  );

  it('with WebPubSubConnectionString: no emulator, and the event-handler URL template and awps-tunnel command', async () => {
    const started = await ready(
      {
        WebPubSubConnectionString:
          'Endpoint=https://my-pubsub.webpubsub.azure.com;AccessKey=c2FtcGxlLWtleQ==;Version=1.0;',
      },
      'Ctrl-C stops the app.',
    );
    const output = started.output();
    const url = /Open (http:\/\/127\.0\.0\.1:\d+\/)/.exec(output)![1];
    expect(output).toContain(
      'Azure Web PubSub at https://my-pubsub.webpubsub.azure.com (hub "chat")',
    );
    expect(output).toContain('URL template:  tunnel:///eventhandler/{event}');
    expect(output).toContain('System events: connect, connected, disconnected');
    expect(output).toContain(`awps-tunnel run --hub chat --upstream ${url.slice(0, -1)}`);
    expect(output).not.toContain('c2FtcGxlLWtleQ'); // the key is never printed
    expect(JSON.parse((await http(`${url}session`)).text)).toEqual({ user: null, liveView: null });
    started.child.kill('SIGINT');
    expect(await started.exited).toEqual({ code: 0, signal: null });
    expect(started.output()).toContain('SIGINT: stopping the app...');
  });

  it('without the built page: a start-up error saying what to run, exit code 1, nothing left running', async () => {
    const started = startMain({ SAMPLE_PUBLIC_DIR: join(page.dir, 'absent') });
    running.push(started);
    expect(await started.exited).toEqual({ code: 1, signal: null });
    expect(started.output()).toContain('The chat sample could not start');
    expect(started.output()).toContain('run "npm run build:sample" first');
  });
});
