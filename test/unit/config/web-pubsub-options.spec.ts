/**
 * `resolveWebPubSubOptions`, the options read into the module's configuration: defaults
 * (`maxBodySize` 1 MiB, undefined fields as absent); valid options (one hub or a list with their
 * case kept, several connection strings with their keys collected in order, none from an
 * identity-based one, the allowed hosts of connection strings and `allowedEndpoints` merged in
 * lower case and each once, the given options left unmodified); invalid options, every field at
 * fault reported at once, each naming the option and the problem (unknown keys named, a bad
 * connection string by its position in a list), never a malformed segment or an access key in the
 * message; `null` values.
 */
import { WebPubSubOptionsError } from '../../../lib/errors/web-pubsub-options.error.js';
import type { WebPubSubModuleOptions } from '../../../lib/interfaces/web-pubsub-module-options.interface.js';
import { resolveWebPubSubOptions } from '../../../lib/config/web-pubsub-options.js';
import { DEFAULT_MAX_BODY_SIZE } from '../../../lib/web-pubsub.constants.js';

const HOST = 'my-pubsub.webpubsub.azure.com';
const HOST_2 = 'second.webpubsub.azure.com';
const KEY = 'primary-key-0123456789';
const KEY_2 = 'second-key-9876543210';
const CONNECTION_STRING = `Endpoint=https://${HOST};AccessKey=${KEY};Version=1.0;`;
const CONNECTION_STRING_2 = `Endpoint=https://${HOST_2};AccessKey=${KEY_2};Version=1.0;`;

/** Resolves options that must be refused and returns the error. */
function refuse(options: unknown): WebPubSubOptionsError {
  try {
    resolveWebPubSubOptions(options as WebPubSubModuleOptions);
  } catch (error) {
    expect(error).toBeInstanceOf(WebPubSubOptionsError);
    return error as WebPubSubOptionsError;
  }
  throw new Error('expected a WebPubSubOptionsError');
}

describe('resolveWebPubSubOptions', () => {
  describe('defaults', () => {
    it.each([
      ['undefined', undefined],
      ['null', null],
      ['{}', {}],
    ])('resolves %s to serve every hub with no endpoint, allowing any origin', (_what, options) => {
      expect(resolveWebPubSubOptions(options as WebPubSubModuleOptions | undefined)).toEqual({
        hubs: undefined,
        endpoints: [],
        allowedHosts: [],
        accessKeys: [],
        keysByHost: new Map(),
        accessKeyProvider: undefined,
        accessKeyCacheTtl: 60_000,
        managedIdentity: undefined,
        maxBodySize: 1_048_576,
        handlerTimeout: 30_000,
        telemetry: true,
      });
    });

    it('defaults maxBodySize to 1 MiB', () => {
      expect(DEFAULT_MAX_BODY_SIZE).toBe(1_048_576);
      expect(resolveWebPubSubOptions({ hub: 'chat' }).maxBodySize).toBe(1_048_576);
    });

    it('treats explicitly undefined fields as absent', () => {
      expect(
        resolveWebPubSubOptions({
          hub: undefined,
          connectionString: undefined,
          allowedEndpoints: undefined,
          maxBodySize: undefined,
        }),
      ).toEqual({
        hubs: undefined,
        endpoints: [],
        allowedHosts: [],
        accessKeys: [],
        keysByHost: new Map(),
        accessKeyProvider: undefined,
        accessKeyCacheTtl: 60_000,
        managedIdentity: undefined,
        maxBodySize: 1_048_576,
        handlerTimeout: 30_000,
        telemetry: true,
      });
    });
  });

  describe('valid options', () => {
    it('resolves a full set of options', () => {
      expect(
        resolveWebPubSubOptions({
          hub: 'chat',
          connectionString: CONNECTION_STRING,
          allowedEndpoints: [`https://${HOST_2}`],
          maxBodySize: 2048,
        }),
      ).toEqual({
        hubs: ['chat'],
        endpoints: [{ endpoint: `https://${HOST}`, host: HOST, accessKey: KEY }],
        allowedHosts: [HOST, HOST_2],
        accessKeys: [KEY],
        keysByHost: new Map([[HOST, [KEY]]]),
        accessKeyProvider: undefined,
        accessKeyCacheTtl: 60_000,
        managedIdentity: undefined,
        maxBodySize: 2048,
        handlerTimeout: 30_000,
        telemetry: true,
      });
    });

    it('accepts one hub or a list, keeping the configured case', () => {
      expect(resolveWebPubSubOptions({ hub: 'Chat' }).hubs).toEqual(['Chat']);
      expect(resolveWebPubSubOptions({ hub: ['chat', 'Notifications_2', 'a'] }).hubs).toEqual([
        'chat',
        'Notifications_2',
        'a',
      ]);
    });

    it('accepts maxBodySize 1', () => {
      expect(resolveWebPubSubOptions({ maxBodySize: 1 }).maxBodySize).toBe(1);
    });

    it('resolves several connection strings, collecting their access keys in order', () => {
      const resolved = resolveWebPubSubOptions({
        connectionString: [CONNECTION_STRING, CONNECTION_STRING_2],
      });
      expect(resolved.endpoints.map(endpoint => endpoint.host)).toEqual([HOST, HOST_2]);
      expect(resolved.accessKeys).toEqual([KEY, KEY_2]);
      expect(resolved.allowedHosts).toEqual([HOST, HOST_2]);
    });

    it('collects no key from an identity-based connection string', () => {
      const resolved = resolveWebPubSubOptions({
        connectionString: [`Endpoint=https://${HOST};Version=1.0`, CONNECTION_STRING_2],
      });
      expect(resolved.accessKeys).toEqual([KEY_2]);
      expect(resolved.endpoints[0].accessKey).toBeUndefined();
      expect(resolved.allowedHosts).toEqual([HOST, HOST_2]);
    });

    it('merges the allowed hosts of connection strings and allowedEndpoints, lower case and each once', () => {
      const resolved = resolveWebPubSubOptions({
        connectionString: [
          CONNECTION_STRING,
          `Endpoint=https://${HOST.toUpperCase()};AccessKey=${KEY_2}`,
        ],
        allowedEndpoints: [
          HOST,
          `https://${HOST_2.toUpperCase()}:443`,
          'third.webpubsub.azure.cn',
          HOST_2,
        ],
      });
      expect(resolved.allowedHosts).toEqual([HOST, HOST_2, 'third.webpubsub.azure.cn']);
      expect(resolved.accessKeys).toEqual([KEY, KEY_2]);
    });

    it('allows the hosts of allowedEndpoints alone (no connection string, no signature keys)', () => {
      const resolved = resolveWebPubSubOptions({ allowedEndpoints: [HOST] });
      expect(resolved.allowedHosts).toEqual([HOST]);
      expect(resolved.accessKeys).toEqual([]);
      expect(resolved.endpoints).toEqual([]);
    });

    it('does not modify the options it is given', () => {
      const options = {
        hub: ['chat'],
        connectionString: [CONNECTION_STRING],
        allowedEndpoints: [HOST_2],
      };
      const copy = structuredClone(options);
      resolveWebPubSubOptions(options);
      expect(options).toEqual(copy);
    });
  });

  describe('invalid options', () => {
    it.each([
      ['a string', 'chat'],
      ['a number', 1],
      ['an array', [{ hub: 'chat' }]],
    ])('refuses %s instead of an object', (_what, options) => {
      const error = refuse(options);
      expect(error.problems).toEqual(['options must be an object']);
      expect(error.message).toBe('Invalid WebPubSubModule options: options must be an object');
    });

    it('refuses an unknown key, naming it', () => {
      const error = refuse({ hub: 'chat', hubName: 'chat' });
      expect(error.problems).toEqual(['unknown option "hubName"']);
      expect(error.message).toContain('hubName');
    });

    it('names every unknown key', () => {
      const error = refuse({ path: '/x', connectionstring: CONNECTION_STRING });
      expect(error.problems).toEqual(
        expect.arrayContaining(['unknown option "path"', 'unknown option "connectionstring"']),
      );
      expect(error.problems).toHaveLength(2);
    });

    it.each([
      ['an empty hub', { hub: '' }, 'hub must not be empty'],
      ['an empty hub list', { hub: [] }, 'hub must not be an empty list'],
      [
        'a hub of 129 characters',
        { hub: 'a'.repeat(129) },
        `hub "${'a'.repeat(129)}" is not a valid hub name (a letter, then up to 127 letters, digits or _ \` , . [ ])`,
      ],
      [
        'a hub with a dash',
        { hub: 'my-hub' },
        'hub "my-hub" is not a valid hub name (a letter, then up to 127 letters, digits or _ ` , . [ ])',
      ],
      [
        'a hub starting with a digit',
        { hub: '1chat' },
        'hub "1chat" is not a valid hub name (a letter, then up to 127 letters, digits or _ ` , . [ ])',
      ],
      [
        'a hub with a space',
        { hub: 'chat room' },
        'hub "chat room" is not a valid hub name (a letter, then up to 127 letters, digits or _ ` , . [ ])',
      ],
      [
        'a hub starting with an underscore',
        { hub: '_chat' },
        'hub "_chat" is not a valid hub name (a letter, then up to 127 letters, digits or _ ` , . [ ])',
      ],
      [
        'a bad hub in a list',
        { hub: ['chat', 'bad-name'] },
        'hub [1] "bad-name" is not a valid hub name (a letter, then up to 127 letters, digits or _ ` , . [ ])',
      ],
      ['an empty hub in a list', { hub: ['chat', ''] }, 'hub [1] must not be empty'],
      ['a non-string hub in a list', { hub: ['chat', 7] }, 'hub [1] must be a string'],
      ['a number hub', { hub: 7 }, 'hub must be a string'],
    ])('refuses %s', (_what, options, problem) => {
      expect(refuse(options).problems).toEqual([problem]);
    });

    it('names the connectionString option and the problem', () => {
      const error = refuse({ connectionString: `Endpoint=ftp://${HOST};AccessKey=${KEY}` });
      expect(error.problems).toEqual(['connectionString Endpoint must use http or https']);
    });

    it.each([
      ['empty', '', 'is empty'],
      ['without Endpoint', `AccessKey=${KEY}`, 'has no Endpoint'],
      [
        'with a bad port',
        `Endpoint=https://${HOST};Port=99999`,
        'Port "99999" is not a port number',
      ],
      ['with an empty access key', `Endpoint=https://${HOST};AccessKey=`, 'AccessKey is empty'],
      [
        'with Version 2.0',
        `Endpoint=https://${HOST};Version=2.0`,
        'Version "2.0" is not supported (expected 1.0)',
      ],
    ])(
      'refuses a connection string %s, naming the option once',
      (_what, connectionString, problem) => {
        expect(refuse({ connectionString }).problems).toEqual([`connectionString ${problem}`]);
      },
    );

    it('names the position of a bad connection string in a list', () => {
      expect(
        refuse({ connectionString: [CONNECTION_STRING, 'Endpoint=not-a-url'] }).problems,
      ).toEqual(['connectionString [1] Endpoint is not a URL']);
    });

    it('refuses a non-string connection string and an empty list', () => {
      expect(refuse({ connectionString: 42 }).problems).toEqual([
        'connectionString must be a string',
      ]);
      expect(refuse({ connectionString: [] }).problems).toEqual([
        'connectionString must not be an empty list',
      ]);
    });

    it('never puts a malformed segment (possibly a key) in the message', () => {
      const secret = 'ThisIsTheSecretAccessKeyValue';
      const error = refuse({ connectionString: `Endpoint=https://${HOST};${secret};Version=1.0` });
      expect(error.problems).toEqual(['connectionString segment 2 is not of the form Key=Value']);
      expect(error.message).not.toContain(secret);
      expect(error.message).not.toContain('ThisIsTheSecret');
    });

    it('never puts the access key of a refused connection string in the message', () => {
      for (const tail of ['Version=2.0', 'Port=x', 'junk']) {
        expect(
          refuse({ connectionString: `Endpoint=https://${HOST};AccessKey=${KEY};${tail}` }).message,
        ).not.toContain(KEY);
      }
    });

    it('refuses allowedEndpoints that is not an array', () => {
      const error = refuse({ allowedEndpoints: HOST });
      expect(error.problems).toHaveLength(1);
      expect(error.problems[0]).toContain('allowedEndpoints must be an array');
    });

    it.each([
      ['an empty list', [], 'allowedEndpoints must not be an empty list'],
      [
        'a URL with a path',
        [`https://${HOST}/eventhandler`],
        `allowedEndpoints [0] "https://${HOST}/eventhandler" must be a URL origin or a host name`,
      ],
      ['an empty entry', [HOST, ''], 'allowedEndpoints [1] is empty'],
      ['a non-string entry', [HOST, 3], 'allowedEndpoints [1] must be a string'],
      [
        'an unparsable entry',
        ['not a host'],
        'allowedEndpoints [0] "not a host" is neither a URL nor a host name',
      ],
    ])('refuses allowedEndpoints with %s', (_what, allowedEndpoints, problem) => {
      expect(refuse({ allowedEndpoints }).problems).toEqual([problem]);
    });

    it.each([
      ['0', 0, ['maxBodySize must not be less than 1']],
      ['-5', -5, ['maxBodySize must not be less than 1']],
      ['1.5', 1.5, ['maxBodySize must be an integer number']],
    ])('refuses maxBodySize %s', (_what, maxBodySize, problems) => {
      expect(refuse({ maxBodySize }).problems).toEqual(problems);
    });

    it.each([
      ['NaN', NaN],
      ['Infinity', Infinity],
      ['-1.5', -1.5],
    ])('refuses maxBodySize %s as not an integer', (_what, maxBodySize) => {
      const error = refuse({ maxBodySize });
      expect(error.problems).toHaveLength(1);
      expect(error.problems[0]).toContain('maxBodySize must be an integer number');
    });

    it("refuses maxBodySize '10' (a string)", () => {
      const error = refuse({ maxBodySize: '10' });
      expect(error.problems.join('; ')).toContain('maxBodySize must be an integer number');
      expect(error.problems.every(problem => problem.startsWith('maxBodySize'))).toBe(true);
    });

    it('reports every field at fault at once', () => {
      const error = refuse({ hub: '', connectionString: 'x', maxBodySize: 0, nope: true });
      const message = error.message;
      for (const field of ['hub', 'connectionString', 'maxBodySize', '"nope"'])
        expect(message).toContain(field);
      expect(error.problems.length).toBeGreaterThanOrEqual(4);
      expect(message.startsWith('Invalid WebPubSubModule options: ')).toBe(true);
    });
  });
});

describe('resolveWebPubSubOptions with null values', () => {
  it('treats a null hub and a null connection string as absent', () => {
    const resolved = resolveWebPubSubOptions({ hub: null, connectionString: null } as never);
    expect(resolved.hubs).toBeUndefined();
    expect(resolved.endpoints).toEqual([]);
    expect(resolved.accessKeys).toEqual([]);
  });
});

describe('resolveWebPubSubOptions: key provider and managed identity', () => {
  const host = 'my-pubsub.webpubsub.azure.com';
  const jwks = { keys: [] };

  it('maps each connection string host to its keys, keyless hosts to []', () => {
    const resolved = resolveWebPubSubOptions({
      connectionString: [
        `Endpoint=https://${host};AccessKey=k1;Version=1.0;`,
        `Endpoint=https://${host};AccessKey=k2;Version=1.0;`,
        'Endpoint=https://other.webpubsub.azure.com;Version=1.0;',
      ],
    });
    expect(resolved.keysByHost).toEqual(
      new Map([
        [host, ['k1', 'k2']],
        ['other.webpubsub.azure.com', []],
      ]),
    );
  });

  it('accepts a provider function with declared hosts and a cache TTL', () => {
    const provider = () => 'k';
    const resolved = resolveWebPubSubOptions({
      allowedEndpoints: [host],
      accessKeyProvider: provider,
      accessKeyCacheTtl: 0,
    });
    expect(resolved.accessKeyProvider).toBe(provider);
    expect(resolved.accessKeyCacheTtl).toBe(0);
  });

  it('refuses a provider without any declared host', () => {
    expect(() => resolveWebPubSubOptions({ accessKeyProvider: () => 'k' })).toThrow(
      /accessKeyProvider needs the service hosts/,
    );
  });

  it.each([
    [{ accessKeyProvider: 'k' }, 'accessKeyProvider must be a function'],
    [{ accessKeyCacheTtl: -1 }, 'accessKeyCacheTtl must not be less than 0'],
    [
      { managedIdentity: { jwks: 'not a url', issuer: 'i', audience: 'a' } },
      'managedIdentity jwks must be a URL or a key set',
    ],
    [
      { managedIdentity: { jwks: 'ftp://x/keys', issuer: 'i', audience: 'a' } },
      'managedIdentity jwks URL must use https (or http)',
    ],
    [
      { managedIdentity: { jwks, issuer: '', audience: 'a' } },
      'managedIdentity issuer must be a non-empty string or list of strings',
    ],
    [
      { managedIdentity: { jwks, issuer: 'i', audience: [] } },
      'managedIdentity audience must be a non-empty string or list of strings',
    ],
    [
      { managedIdentity: { jwks, issuer: 'i', audience: 'a', clockTolerance: -5 } },
      'managedIdentity clockTolerance must be a number of seconds >= 0',
    ],
    [
      { managedIdentity: { jwks, issuer: 'i', audience: 'a', tenant: 'x' } },
      'managedIdentity has an unknown option "tenant"',
    ],
  ])('refuses %p', (options, message) => {
    expect(() => resolveWebPubSubOptions(options as WebPubSubModuleOptions)).toThrow(message);
  });

  it('accepts managed identity with a JWKS URL or a key set', () => {
    for (const value of ['https://login.microsoftonline.com/t/discovery/v2.0/keys', jwks]) {
      const managedIdentity = { jwks: value, issuer: ['i1', 'i2'], audience: 'api://app' };
      expect(resolveWebPubSubOptions({ managedIdentity }).managedIdentity).toBe(managedIdentity);
    }
  });
});
