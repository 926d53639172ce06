/**
 * `parseEmulatorArgs`, the command line read into emulator options: every flag, `--config` hubs
 * with the `--hub` handlers added (hub names matched case-insensitively), and 19 refusals (14 of
 * flags, 5 of config files), each a `UsageError` naming the flag or the file and the problem.
 */
import { parseEmulatorArgs, UsageError } from '../../lib/bin/emulator-args.js';

const ALL = {
  urlTemplate: 'http://localhost:3000/eventhandler',
  userEventPattern: '*',
  systemEvents: ['connect', 'connected', 'disconnected'],
};

function usageError(argv: string[], files: Record<string, string> = {}): string {
  try {
    parseEmulatorArgs(argv, path => {
      if (path in files) return files[path];
      throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
    });
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error('expected a UsageError');
}

describe('parseEmulatorArgs', () => {
  it('reads every flag', () => {
    expect(
      parseEmulatorArgs([
        '--port',
        '0',
        '--host',
        '0.0.0.0',
        '--access-key',
        'k3y',
        '--hub',
        'chat=http://localhost:3000/eventhandler',
      ]),
    ).toEqual({
      help: false,
      port: 0,
      host: '0.0.0.0',
      accessKey: 'k3y',
      hubs: { chat: { eventHandlers: [ALL] } },
      configFile: undefined,
      hubFlags: { chat: { eventHandlers: [ALL] } },
    });
    expect(parseEmulatorArgs([])).toEqual({
      help: false,
      port: undefined,
      host: undefined,
      accessKey: undefined,
      hubs: {},
      configFile: undefined,
      hubFlags: {},
    });
    expect(parseEmulatorArgs(['--help']).help).toBe(true);
    expect(parseEmulatorArgs(['-h', '--port', 'nonsense']).help).toBe(true);
  });

  it('adds --hub handlers to the --config hubs, matching hub names case-insensitively', () => {
    const config = {
      Chat: {
        anonymousConnectPolicy: 'allow',
        eventHandlers: [{ urlTemplate: 'http://a/{event}', systemEvents: ['connect'] }],
      },
    };
    const args = parseEmulatorArgs(
      [
        '--config',
        'hubs.json',
        '--hub',
        'chat=http://localhost:3000/eventhandler',
        '--hub',
        'other=https://b/{hub}/{event}',
      ],
      () => JSON.stringify(config),
    );
    expect(args.hubs).toEqual({
      Chat: { anonymousConnectPolicy: 'allow', eventHandlers: [config.Chat.eventHandlers[0], ALL] },
      other: { eventHandlers: [{ ...ALL, urlTemplate: 'https://b/{hub}/{event}' }] },
    });
  });

  it.each([
    [['--prot', '8080'], 'unknown option --prot'],
    [['8080'], 'unexpected argument "8080" (every option is a --flag)'],
    [['--port'], '--port needs a value'],
    [['--port', 'http'], '--port: must be a number from 0 to 65535 (got "http")'],
    [['--port', '65536'], '--port: must be a number from 0 to 65535 (got "65536")'],
    [['--port', '-1'], '--port needs a value'],
    [['--host', ''], '--host: must be a non-empty string'],
    [['--access-key', 'a;b'], '--access-key: must not contain ";" or white space'],
    [['--hub', 'chat'], '--hub "chat": expected <name>=<urlTemplate>'],
    [['--hub', '=http://x'], '--hub "=http://x": expected <name>=<urlTemplate>'],
    [['--hub', 'chat='], '--hub "chat=": expected <name>=<urlTemplate>'],
    [['--hub', '1chat=http://x'], '--hub "1chat=http://x": "1chat" is not a valid hub name'],
    [
      ['--hub', 'chat=localhost:3000'],
      '--hub "chat=localhost:3000": "localhost:3000" must be an http or https URL',
    ],
    [
      ['--hub', 'chat=ftp://x/'],
      '--hub "chat=ftp://x/": "ftp://x/" must be an http or https URL (got ftp)',
    ],
  ])('refuses %j', (argv, expected) => {
    expect(usageError(argv)).toContain(expected);
  });

  it.each([
    [{}, '--config missing.json: cannot read the file (no such file)'],
    [{ 'missing.json': '{"chat": ' }, '--config missing.json: not valid JSON ('],
    [
      { 'missing.json': '[]' },
      '--config missing.json: hubs: must be an object of hub settings by hub name (got an array)',
    ],
    [
      {
        'missing.json':
          '{"chat":{"eventHandlers":[{"urlTemplate":"http://x","systemEvents":["message"]}]}}',
      },
      '--config missing.json: hubs.chat.eventHandlers[0].systemEvents: "message" is not a system event',
    ],
    [
      {
        'missing.json':
          '{"chat":{"eventHandlers":[{"urlTemplate":"http://x","userEventPattern":"a, ,b"}]}}',
      },
      '--config missing.json: hubs.chat.eventHandlers[0].userEventPattern: "a, ,b" has an empty event name',
    ],
  ])('refuses the config file %j', (files, expected) => {
    expect(usageError(['--config', 'missing.json'], files)).toContain(expected);
  });
});
