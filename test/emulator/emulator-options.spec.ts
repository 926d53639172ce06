/**
 * The emulator's options and hub settings are validated before anything starts: every hub setting
 * the service has is accepted, and 25 refusals of hub settings (a handler named by its index) and 8
 * of other options each name the setting and what is wrong; a taken port fails naming the option
 * `port` (the command line names `--port`: bin.spec.ts).
 */
import { createServer } from 'node:net';
import {
  EmulatorOptionsError,
  validateEmulatorOptions,
  validateHubSettings,
} from '../../lib/emulator/emulator-options.js';
import { startEmulator } from '../../lib/emulator/emulator.js';

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(EmulatorOptionsError);
    return (error as Error).message;
  }
  throw new Error('expected an EmulatorOptionsError');
}

const handler = (extra: Record<string, unknown> = {}) => ({
  chat: {
    eventHandlers: [{ urlTemplate: 'http://localhost:3000/eventhandler/{event}', ...extra }],
  },
});

describe('validateHubSettings', () => {
  it('accepts the service settings', () => {
    expect(() =>
      validateHubSettings({
        chat: {
          anonymousConnectPolicy: 'allow',
          eventHandlers: [
            {
              urlTemplate: 'https://example.test/{hub}/api/{event}',
              userEventPattern: '*',
              systemEvents: ['connect', 'connected', 'disconnected'],
            },
            { urlTemplate: 'http://127.0.0.1:8081/', userEventPattern: 'message, chat' },
          ],
        },
        'Other_hub.v1': {},
        second: { anonymousConnectPolicy: 'deny', eventHandlers: [] },
      }),
    ).not.toThrow();
    expect(() => validateHubSettings({})).not.toThrow();
  });

  it.each([
    [[], 'hubs: must be an object of hub settings by hub name (got an array)'],
    [null, 'hubs: must be an object of hub settings by hub name (got null)'],
    [{ '1chat': {} }, 'hubs: "1chat" is not a valid hub name'],
    [{ 'chat room': {} }, 'hubs: "chat room" is not a valid hub name'],
    [{ ['a'.repeat(129)]: {} }, 'is not a valid hub name'],
    [
      { Chat: {}, chat: {} },
      'hubs: "chat" and "Chat" are the same hub (hub names are case-insensitive)',
    ],
    [{ chat: 'x' }, 'hubs.chat: must be an object (got "x")'],
    [
      { chat: { EventHandlers: [] } },
      'hubs.chat: unknown setting "EventHandlers" (this configuration calls it "eventHandlers")',
    ],
    [
      { chat: { foo: 1 } },
      'hubs.chat: unknown setting "foo" (allowed: eventHandlers, anonymousConnectPolicy)',
    ],
    [
      { chat: { anonymousConnectPolicy: 'yes' } },
      'hubs.chat.anonymousConnectPolicy: must be "allow" or "deny" (got "yes")',
    ],
    [{ chat: { eventHandlers: {} } }, 'hubs.chat.eventHandlers: must be an array (got object)'],
    [
      { chat: { eventHandlers: ['http://x'] } },
      'hubs.chat.eventHandlers[0]: must be an object with a urlTemplate',
    ],
    [
      { chat: { eventHandlers: [{}] } },
      'hubs.chat.eventHandlers[0].urlTemplate: must be a non-empty string (got undefined)',
    ],
    [handler({ urlTemplate: 'localhost:3000/x' }), 'must be an http or https URL (got localhost)'],
    [
      handler({ urlTemplate: 'ftp://host/x' }),
      'hubs.chat.eventHandlers[0].urlTemplate: "ftp://host/x" must be an http or https URL (got ftp)',
    ],
    [handler({ urlTemplate: '/eventhandler' }), '"/eventhandler" is not an absolute URL'],
    [
      handler({ urlTemplate: 'http://h/{evnt}' }),
      'unknown placeholder {evnt} in "http://h/{evnt}" (only {hub} and {event})',
    ],
    [
      handler({ EventPattern: '*' }),
      'unknown setting "EventPattern" (this configuration calls it "userEventPattern")',
    ],
    [
      handler({ userEventPattern: '' }),
      'userEventPattern: must not be empty (use "*" for every event)',
    ],
    [handler({ userEventPattern: 'a,,b' }), 'userEventPattern: "a,,b" has an empty event name'],
    [handler({ userEventPattern: 'a,*' }), '"*" must stand alone'],
    [handler({ userEventPattern: 'my event' }), 'event name "my event" contains white space'],
    [
      handler({ userEventPattern: ['*'] }),
      'userEventPattern: must be a string such as "*" or "message,chat" (got an array)',
    ],
    [
      handler({ systemEvents: 'connect' }),
      'systemEvents: must be an array, a subset of connect, connected, disconnected',
    ],
    [
      handler({ systemEvents: ['connect', 'message'] }),
      'hubs.chat.eventHandlers[0].systemEvents: "message" is not a system event',
    ],
  ])('refuses %j', (hubs, expected) => {
    expect(messageOf(() => validateHubSettings(hubs))).toContain(expected);
  });

  it('names the handler by its index', () => {
    const hubs = {
      chat: {
        eventHandlers: [
          { urlTemplate: 'http://ok/' },
          { urlTemplate: 'http://ok/', systemEvents: ['Connect'] },
        ],
      },
    };
    expect(messageOf(() => validateHubSettings(hubs))).toBe(
      'hubs.chat.eventHandlers[1].systemEvents: "Connect" is not a system event (allowed: connect, connected, disconnected)',
    );
  });
});

describe('validateEmulatorOptions', () => {
  it('accepts no options and every documented option', () => {
    expect(() => validateEmulatorOptions(undefined)).not.toThrow();
    expect(() =>
      validateEmulatorOptions({
        port: 0,
        host: '0.0.0.0',
        accessKey: 'k',
        hubs: {},
        log: () => undefined,
      }),
    ).not.toThrow();
  });

  it.each([
    [{ port: -1 }, 'port: must be an integer from 0 to 65535 (got number -1)'],
    [{ port: 70000 }, 'port: must be an integer from 0 to 65535'],
    [{ port: '8080' }, 'port: must be an integer from 0 to 65535 (got "8080")'],
    [{ host: '' }, 'host: must be a non-empty string'],
    [{ accessKey: '' }, 'accessKey: must be a non-empty string'],
    [{ accessKey: 'a;b' }, 'accessKey: must not contain ";"'],
    [{ log: 'console' }, 'log: must be a function'],
    [{ hubs: { '-': {} } }, 'hubs: "-" is not a valid hub name'],
  ])('refuses %j', (options, expected) => {
    expect(messageOf(() => validateEmulatorOptions(options))).toContain(expected);
  });
});

describe('startEmulator on a taken port', () => {
  it('fails naming the option port (the command line names --port: bin.spec.ts)', async () => {
    const blocker = createServer();
    await new Promise<void>(resolve => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as { port: number };
    try {
      const failure = await startEmulator({ port, log: () => {} }).then(
        () => undefined,
        (error: Error) => error,
      );
      expect(failure?.message).toBe(
        `emulator port ${port} on 127.0.0.1 is in use (pick another with port, or port: 0 for a free one)`,
      );
      expect((failure!.cause as NodeJS.ErrnoException).code).toBe('EADDRINUSE');
    } finally {
      blocker.close();
    }
  });
});
