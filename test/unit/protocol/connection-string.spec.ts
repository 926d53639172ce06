/**
 * `parseConnectionString` and `endpointHost`: the usual form and its variants (keys in any case and
 * order, `=` inside the key, blank segments, no trailing semicolon, `http` for a local emulator, a
 * `Port` override applied to the endpoint but not the host, the default port dropped,
 * identity-based strings without `AccessKey`, unknown keys ignored); every malformed value refused
 * naming the problem (not a string, not a URL, another scheme, a bad `Port`, an empty key, another
 * `Version`), and never echoing the access key or other segments in an error.
 */
import { endpointHost, parseConnectionString } from '../../../lib/protocol/connection-string.js';

const HOST = 'my-pubsub.webpubsub.azure.com';
const KEY = 'c2VjcmV0LWtleS12YWx1ZQ==';

function errorOf(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(Error);
    return error as Error;
  }
  throw new Error('expected an error');
}

describe('parseConnectionString', () => {
  it('parses the usual form', () => {
    expect(parseConnectionString(`Endpoint=https://${HOST};AccessKey=${KEY};Version=1.0;`)).toEqual(
      {
        endpoint: `https://${HOST}`,
        host: HOST,
        accessKey: KEY,
      },
    );
  });

  it('keeps "=" inside the access key value', () => {
    expect(
      parseConnectionString(`Endpoint=https://${HOST};AccessKey=abc==;Version=1.0`).accessKey,
    ).toBe('abc==');
  });

  it('reads keys case-insensitively and in any order', () => {
    expect(parseConnectionString(`version=1.0;ACCESSKEY=${KEY};endpoint=https://${HOST}`)).toEqual({
      endpoint: `https://${HOST}`,
      host: HOST,
      accessKey: KEY,
    });
  });

  it('accepts a string with or without the trailing semicolon, and blank segments and spaces', () => {
    const expected = { endpoint: `https://${HOST}`, host: HOST, accessKey: KEY };
    expect(parseConnectionString(`Endpoint=https://${HOST};AccessKey=${KEY}`)).toEqual(expected);
    expect(parseConnectionString(`Endpoint=https://${HOST};AccessKey=${KEY};`)).toEqual(expected);
    expect(parseConnectionString(` ; Endpoint = https://${HOST} ;; AccessKey = ${KEY} ; `)).toEqual(
      expected,
    );
  });

  it('lower-cases the host and reduces the endpoint to its origin', () => {
    expect(
      parseConnectionString('Endpoint=HTTPS://My-PubSub.WebPubSub.Azure.COM/some/path'),
    ).toEqual({
      endpoint: `https://${HOST}`,
      host: HOST,
      accessKey: undefined,
    });
  });

  it('accepts http (local emulator)', () => {
    expect(parseConnectionString('Endpoint=http://localhost;AccessKey=k;Version=1.0')).toEqual({
      endpoint: 'http://localhost',
      host: 'localhost',
      accessKey: 'k',
    });
  });

  it('applies a Port override to the endpoint but not to the host', () => {
    expect(
      parseConnectionString('Endpoint=http://localhost;Port=8080;AccessKey=k;Version=1.0;'),
    ).toEqual({
      endpoint: 'http://localhost:8080',
      host: 'localhost',
      accessKey: 'k',
    });
    expect(parseConnectionString(`Endpoint=https://${HOST}:1234;Port=5678`).endpoint).toBe(
      `https://${HOST}:5678`,
    );
  });

  it('drops a Port equal to the default port of the scheme', () => {
    expect(parseConnectionString(`Endpoint=https://${HOST};Port=443`).endpoint).toBe(
      `https://${HOST}`,
    );
  });

  it('keeps a port given inside the Endpoint URL', () => {
    expect(parseConnectionString('Endpoint=http://localhost:8080;AccessKey=k').endpoint).toBe(
      'http://localhost:8080',
    );
  });

  it('accepts a string without AccessKey (identity-based access)', () => {
    const endpoint = parseConnectionString(`Endpoint=https://${HOST};Version=1.0;`);
    expect(endpoint).toEqual({ endpoint: `https://${HOST}`, host: HOST, accessKey: undefined });
    expect(endpoint.accessKey).toBeUndefined();
  });

  it('accepts a string without Version and ignores unknown keys', () => {
    expect(
      parseConnectionString(`Endpoint=https://${HOST};AccessKey=k;ClientId=abc;AuthType=aad`),
    ).toEqual({
      endpoint: `https://${HOST}`,
      host: HOST,
      accessKey: 'k',
    });
  });

  it.each([
    ['an empty string', ''],
    ['a blank string', '   '],
  ])('refuses %s', (_what, value) => {
    expect(errorOf(() => parseConnectionString(value)).message).toBe('connection string is empty');
  });

  it.each([null, undefined, 42])('refuses the non-string %p', value => {
    expect(errorOf(() => parseConnectionString(value as unknown as string)).message).toBe(
      'connection string is empty',
    );
  });

  it.each([
    ['no Endpoint', `AccessKey=${KEY};Version=1.0`],
    ['an empty Endpoint', `Endpoint=;AccessKey=${KEY}`],
    ['only semicolons', ';;;'],
  ])('refuses a string with %s', (_what, value) => {
    expect(errorOf(() => parseConnectionString(value)).message).toBe(
      'connection string has no Endpoint',
    );
  });

  it.each(['not a url', `${HOST}`, 'https://', '//host'])(
    'refuses the Endpoint %p as not a URL',
    endpoint => {
      expect(errorOf(() => parseConnectionString(`Endpoint=${endpoint};AccessKey=k`)).message).toBe(
        'connection string Endpoint is not a URL',
      );
    },
  );

  it.each(['ftp://host.example.com', 'ws://host.example.com', 'file:///etc/passwd'])(
    'refuses the Endpoint scheme of %p',
    endpoint => {
      expect(errorOf(() => parseConnectionString(`Endpoint=${endpoint}`)).message).toBe(
        'connection string Endpoint must use http or https',
      );
    },
  );

  it('never echoes an Endpoint that swallowed the access key (missing ";")', () => {
    for (const value of [
      `Endpoint=https://${HOST} AccessKey=s3cr3t`,
      `Endpoint=https://${HOST},AccessKey=s3cr3t`,
    ]) {
      const message = errorOf(() => parseConnectionString(value)).message;
      expect(message).toMatch(
        /^connection string Endpoint (is not a URL|has an invalid host name)/,
      );
      expect(message).not.toContain('s3cr3t');
    }
  });

  it.each([
    ['a misspelled key', `Endpoint=https://${HOST};AccesKey=s3cr3t;Version=1.0;`],
    ['a key pasted without AccessKey=', `Endpoint=https://${HOST};s3cr3tBase64Key+/=;Version=1.0;`],
  ])('refuses %s without echoing it', (_what, value) => {
    const message = errorOf(() => parseConnectionString(value)).message;
    expect(message).toBe(
      'connection string segment 2 has an unknown key (expected Endpoint, AccessKey, Version, Port)',
    );
    expect(message).not.toContain('s3cr3t');
  });

  it.each(['', 'abc', '-1', '65536', '123456', '80.5', '0x50'])('refuses the Port %p', port => {
    expect(
      errorOf(() => parseConnectionString(`Endpoint=https://${HOST};Port=${port}`)).message,
    ).toBe(`connection string Port "${port}" is not a port number`);
  });

  it('accepts the Port 65535', () => {
    expect(parseConnectionString(`Endpoint=https://${HOST};Port=65535`).endpoint).toBe(
      `https://${HOST}:65535`,
    );
  });

  it.each(['AccessKey=', 'AccessKey=  '])('refuses an empty access key (%p)', segment => {
    expect(
      errorOf(() => parseConnectionString(`Endpoint=https://${HOST};${segment};Version=1.0`))
        .message,
    ).toBe('connection string AccessKey is empty');
  });

  it.each(['2.0', '1', '1.1', ''])('refuses Version %p', version => {
    expect(
      errorOf(() =>
        parseConnectionString(`Endpoint=https://${HOST};AccessKey=k;Version=${version}`),
      ).message,
    ).toBe(`connection string Version "${version}" is not supported (expected 1.0)`);
  });

  describe('a malformed segment', () => {
    const SECRET = 'Sup3rS3cretKeyMaterial';

    it.each([
      ['a bare value', `Endpoint=https://${HOST};${SECRET};Version=1.0`, 2],
      ['a value with an empty key', `Endpoint=https://${HOST};=${SECRET}`, 2],
      ['a mistyped separator in the key', `Endpoint=https://${HOST};AccessKey:${SECRET}`, 2],
      ['a first segment', `${SECRET};Endpoint=https://${HOST}`, 1],
      ['a value after blank segments', `;;Endpoint=https://${HOST};;${SECRET}`, 5],
    ])('is reported by position for %s, never with its text', (_what, value, position) => {
      const error = errorOf(() => parseConnectionString(value));
      expect(error.message).toBe(
        `connection string segment ${position} is not of the form Key=Value`,
      );
      expect(error.message).not.toContain(SECRET);
      expect(error.message).not.toContain(SECRET.slice(0, 6));
      expect(String(error.stack)).not.toContain(SECRET);
    });

    it('does not leak other segments either', () => {
      const error = errorOf(() =>
        parseConnectionString(`Endpoint=https://${HOST};AccessKey=${SECRET};oops`),
      );
      expect(error.message).not.toContain(SECRET);
    });
  });

  it('never echoes the access key in any error about other segments', () => {
    for (const tail of ['Version=2.0', 'Port=abc', 'broken']) {
      const error = errorOf(() =>
        parseConnectionString(`Endpoint=https://${HOST};AccessKey=${KEY};${tail}`),
      );
      expect(error.message).not.toContain(KEY);
    }
    const noEndpoint = errorOf(() => parseConnectionString(`AccessKey=${KEY}`));
    expect(noEndpoint.message).not.toContain(KEY);
  });
});

describe('endpointHost', () => {
  it.each([
    [`https://${HOST}`, HOST],
    [`https://${HOST}/`, HOST],
    [`http://${HOST}`, HOST],
    [`https://${HOST}:443`, HOST],
    [HOST, HOST],
    [`${HOST}:8080`, HOST],
    ['MY-PUBSUB.WebPubSub.Azure.COM', HOST],
    [`HTTPS://MY-PUBSUB.WEBPUBSUB.AZURE.COM`, HOST],
    [`  ${HOST}  `, HOST],
    ['cn-pubsub.webpubsub.azure.cn', 'cn-pubsub.webpubsub.azure.cn'],
    ['localhost', 'localhost'],
  ])('reduces %p to %p', (value, expected) => {
    expect(endpointHost(value)).toBe(expected);
  });

  it.each(['', '   '])('refuses an empty value %p', value => {
    expect(errorOf(() => endpointHost(value)).message).toBe('endpoint is empty');
  });

  it.each([null, undefined, 5])('refuses the non-string %p', value => {
    expect(errorOf(() => endpointHost(value as unknown as string)).message).toBe(
      'endpoint is empty',
    );
  });

  it.each([
    `https://${HOST}/path`,
    `${HOST}/eventhandler`,
    `https://${HOST}?x=1`,
    `https://user@${HOST}`,
    `user:pw@${HOST}`,
  ])('refuses %p as not an origin', value => {
    expect(errorOf(() => endpointHost(value)).message).toBe(
      `endpoint "${value}" must be a URL origin or a host name`,
    );
  });

  it.each(['https://', 'not a host', 'http://exa mple.com', 'host:port'])(
    'refuses %p as neither URL nor host',
    value => {
      expect(errorOf(() => endpointHost(value)).message).toBe(
        `endpoint "${value}" is neither a URL nor a host name`,
      );
    },
  );
});
