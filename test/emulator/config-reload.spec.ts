/**
 * The hub settings file is watched while the emulator runs (`startEmulator({ configFile })` and the
 * bin's `--config`), with clients connected the whole time (two `@azure/web-pubsub-client` clients
 * and a raw client): a valid edit (written in place, or saved by rename as editors do) routes the
 * events that follow to the new handler without dropping a client, and the handler given in code,
 * merged on top, still gets its event; an edit that cannot be used (not JSON, a bad `urlTemplate`,
 * the file deleted) keeps the last good settings and logs one refusal naming the problem; a file
 * saved by rename is taken, and its `anonymousConnectPolicy` lets an anonymous client in. The bin
 * with `--config` and `--hub`: an edit reroutes a raw client's frames, `--hub` keeps its system
 * events, an invalid edit is logged, SIGTERM exits 0. `startEmulator({ configFile })` refuses an
 * empty path, a missing file and a bad setting with an `EmulatorOptionsError` naming the file and
 * the setting.
 *
 * Broken on purpose once: with the emulator never applying the reloaded settings, the four reload
 * tests failed (events kept reaching the first handler).
 */
import { mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebPubSubClient, WebPubSubJsonProtocol } from '@azure/web-pubsub-client';
import {
  EmulatorOptionsError,
  startEmulator,
  type RunningEmulator,
} from '../../lib/emulator/index.js';
import { bundleBin, spawnBin, type BinProcess } from '../utils/bin.js';
import { waitFor } from '../utils/wait.js';
import {
  SDK_TEST_OPTIONS,
  clientUrl,
  FAST_TIMINGS,
  LogLines,
  RawClient,
  recordingUpstream,
} from './harness.js';

type Upstream = Awaited<ReturnType<typeof recordingUpstream>>;

/** The user events the file's handler takes (the first matching handler takes an event). */
const FILE_EVENTS = 'message,before,after,still,renamed';

/** A hub file routing the user events of `chat` to `upstream`. */
const hubFile = (upstream: Upstream, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    chat: {
      eventHandlers: [{ urlTemplate: `${upstream.url}/{event}`, userEventPattern: FILE_EVENTS }],
      ...extra,
    },
  });

const eventNames = (upstream: Upstream) =>
  upstream.events().map(request => request.headers['ce-eventname']);

describe('the configuration file, edited under a running emulator', () => {
  let dir: string;
  let first: Upstream;
  let second: Upstream;
  let fromCode: Upstream;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'emulator-config-'));
    [first, second, fromCode] = await Promise.all([
      recordingUpstream(),
      recordingUpstream(),
      recordingUpstream(),
    ]);
  });
  afterAll(async () => {
    await Promise.all([first.close(), second.close(), fromCode.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  describe('startEmulator({ configFile })', () => {
    let emulator: RunningEmulator;
    const logs = new LogLines();
    const file = () => join(dir, 'hubs.json');
    const clients: WebPubSubClient[] = [];
    let raw: RawClient;

    beforeAll(async () => {
      writeFileSync(file(), hubFile(first));
      emulator = await startEmulator({
        port: 0,
        log: logs.log,
        timings: FAST_TIMINGS,
        configFile: file(),
        hubs: {
          Chat: {
            eventHandlers: [
              { urlTemplate: `${fromCode.url}/{event}`, userEventPattern: 'fromcode' },
            ],
          },
        },
      });
      for (let i = 0; i < 2; i++) {
        const client = new WebPubSubClient(await clientUrl(emulator.connectionString, 'chat'), {
          ...SDK_TEST_OPTIONS,
          protocol: WebPubSubJsonProtocol(),
        });
        clients.push(client);
        await client.start();
      }
      raw = new RawClient(await clientUrl(emulator.connectionString, 'chat'));
      await raw.opened;
    });
    afterAll(async () => {
      for (const client of clients) client.stop();
      await emulator.close();
    });

    const reloads = () => logs.matching(/^config .* reloaded/).length;
    const refusals = () => logs.matching(/^config not reloaded/);

    it('routes the events after a valid edit to the new handler, and no client is dropped', async () => {
      await clients[0].sendEvent('before', 'x', 'text');
      raw.ws.send('raw before');
      await waitFor(() => eventNames(first).length === 2);
      writeFileSync(file(), hubFile(second));
      await waitFor(() => reloads() === 1);
      expect(logs.matching(/^config .* reloaded/)).toEqual([
        `config ${file()} reloaded (hubs: chat)`,
      ]);
      await clients[0].sendEvent('after', 'x', 'text');
      await clients[1].sendEvent('after', 'y', 'text');
      raw.ws.send('raw after');
      await waitFor(() => eventNames(second).length === 3);
      expect(eventNames(first)).toEqual(['before', 'message']);
      expect(eventNames(second).sort()).toEqual(['after', 'after', 'message']);
      // The handler given in code stays on top of the file's.
      await clients[1].sendEvent('fromcode', 'z', 'text');
      await waitFor(() => eventNames(fromCode).length === 1);
      expect(raw.closed).toBeUndefined();
      expect([...emulator.hubs.listConnections('chat')]).toHaveLength(3);
    });

    it('keeps the last good configuration after an invalid edit, logging why once', async () => {
      const before = refusals().length;
      writeFileSync(file(), '{ "chat": ');
      await waitFor(() => refusals().length === before + 1);
      expect(refusals().at(-1)).toMatch(
        /^config not reloaded, keeping the last good configuration: .*hubs\.json: not valid JSON/,
      );
      writeFileSync(
        file(),
        JSON.stringify({
          chat: { eventHandlers: [{ urlTemplate: 'ftp://nope', systemEvents: ['message'] }] },
        }),
      );
      await waitFor(() => refusals().length === before + 2);
      expect(refusals().at(-1)).toContain(
        'hubs.chat.eventHandlers[0].urlTemplate: "ftp://nope" must be an http or https URL',
      );
      unlinkSync(file());
      await waitFor(() => refusals().length === before + 3);
      expect(refusals().at(-1)).toContain('hubs.json: cannot read the file (no such file)');
      const events = eventNames(second).length;
      await clients[0].sendEvent('still', 'x', 'text');
      await waitFor(() => eventNames(second).length === events + 1);
      expect(eventNames(second).at(-1)).toBe('still');
      expect(refusals()).toHaveLength(before + 3);
    });

    it('takes a file saved by rename, as editors save it', async () => {
      const reloaded = reloads();
      const temporary = join(dir, 'hubs.json.tmp');
      writeFileSync(temporary, hubFile(first, { anonymousConnectPolicy: 'allow' }));
      renameSync(temporary, file());
      await waitFor(() => reloads() === reloaded + 1);
      await clients[0].sendEvent('renamed', 'x', 'text');
      await waitFor(() => eventNames(first).includes('renamed'));
      expect([...emulator.hubs.listConnections('chat')]).toHaveLength(3);
      expect(raw.closed).toBeUndefined();
      // anonymousConnectPolicy applies to the next connection.
      const anonymous = new RawClient(
        `${emulator.endpoint.replace('http', 'ws')}/client/hubs/chat`,
      );
      await anonymous.opened;
      anonymous.ws.close();
    });
  });

  it('refuses to start on a config file it cannot use, naming the file and the problem', async () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ chat: { eventHandlers: [{ urlTemplate: 'x' }] } }));
    for (const [configFile, message] of [
      ['', 'configFile: must be a file path (got "")'],
      [
        join(dir, 'missing.json'),
        `${join(dir, 'missing.json')}: cannot read the file (no such file)`,
      ],
      [bad, `${bad}: hubs.chat.eventHandlers[0].urlTemplate: "x" is not an absolute URL`],
    ]) {
      await expect(startEmulator({ port: 0, log: () => undefined, configFile })).rejects.toThrow(
        new EmulatorOptionsError(message),
      );
    }
  });

  describe('nestjs-web-pubsub-emulator --config', () => {
    let bin: { file: string; remove(): void };
    let running: BinProcess | undefined;
    beforeAll(() => {
      bin = bundleBin();
    });
    afterAll(() => {
      running?.child.kill('SIGKILL');
      bin.remove();
    });

    it('reloads the file it was started with, keeps its --hub handlers and the connected clients', async () => {
      const file = join(dir, 'bin-hubs.json');
      writeFileSync(file, hubFile(first));
      const started = spawnBin(bin.file, [
        '--port',
        '0',
        '--config',
        file,
        '--hub',
        `chat=${fromCode.url}/flag/{event}`,
      ]);
      running = started;
      const connectionString = await started.line(/^Endpoint=/);
      const raw = new RawClient(await clientUrl(connectionString, 'chat'));
      await raw.opened;
      const firstCount = eventNames(first).length;
      // The --hub handler takes the system events the file's handler does not.
      await waitFor(() => fromCode.requests.some(r => r.url === '/flag/connected'));
      raw.ws.send('one');
      await waitFor(() => eventNames(first).length === firstCount + 1);
      writeFileSync(file, hubFile(second));
      await started.line(/^config .*bin-hubs\.json reloaded \(hubs: chat\)$/);
      const secondCount = eventNames(second).length;
      raw.ws.send('two');
      await waitFor(() => eventNames(second).length === secondCount + 1);
      expect(eventNames(first).length).toBe(firstCount + 1);
      writeFileSync(file, 'not json');
      await started.line(
        /^config not reloaded, keeping the last good configuration: .*not valid JSON/,
      );
      raw.ws.send('three');
      await waitFor(() => eventNames(second).length === secondCount + 2);
      expect(raw.closed).toBeUndefined();
      raw.ws.close();
      started.child.kill('SIGTERM');
      expect(await started.exited).toBe(0);
      // The --hub handler still takes the system events after both edits.
      expect(fromCode.requests.filter(r => r.url.startsWith('/flag/')).length).toBeGreaterThan(0);
    });
  });
});
