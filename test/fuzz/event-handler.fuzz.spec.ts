/**
 * Property-based fuzzing (`fast-check`) of the event handler over real HTTP on Express and Fastify,
 * with two configured resources (A: SERVICE_HOST / ACCESS_KEY, B: OTHER_HOST / OTHER_KEY). `npm
 * test` sends 1,500 requests per platform (FUZZ_RUNS = 1,000 valid events with one field mutated or
 * forged, and 500 of pure noise); `npm run fuzz` sets FUZZ_RUNS=20000 (30,000 per platform).
 * Properties, for every request:
 * - the answer is never 5xx (these handlers never throw) and comes within BOUND_MS (2 s);
 * - every 2xx answer to a POST carries a `ce-signature` entry equal to HMAC-SHA256 of its
 *   `ce-connectionId` under the key of a resource its `WebHook-Request-Origin` names (computed here
 *   with node:crypto, independently of the module's signature code);
 * - every forged signature (the other resource's key, an unknown key, another connection's
 *   signature, one hex digit changed, none), changed connection id and foreign or other-resource
 *   origin is refused with 401 or 403 (a missing `ce-connectionId` with 400, as a missing
 *   CloudEvents attribute);
 * - a handler runs only for a request answered 2xx with a valid signature (checked after a sync
 *   point: a valid non-blocking probe event whose handler ran, so earlier handlers had their turn);
 *   noise runs no handler at all and every answer to it is a 4xx;
 * - the mix of answers to mutated events has floors, so a module that refused or accepted
 *   everything would fail: 2xx ≥ 35 %, 400 ≥ 20 %, 401 ≥ 6 %, 403 ≥ 1.5 %, handler runs ≥ 35 %
 *   (typical run: 2xx 45 %, 400 29 %, 401 10-12 %, 403 3-5 %, 415 10 %, 404 1-2 %).
 *
 * Broken on purpose: with signature checking switched off (`WebPubSubAuthenticator.checkSignature`
 * returning at once) a forged request (another resource's key) was answered 200 on both platforms;
 * with the origin check switched off (`WebPubSubAuthenticator.authenticate` skipping the
 * allow-list) a request without `WebHook-Request-Origin` was answered 401 instead of 403 (with no
 * origin host, no key applies and valid events are refused too).
 */
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { WebPubSubModule } from '../../lib/index.js';
import { HardeningHandlers } from '../fixtures/hardening.handlers.js';
import { startApp, PLATFORMS, type TestApp } from '../utils/app.js';
import { ACCESS_KEY, SERVICE_HOST, connectBody, eventHeaders } from '../utils/events.js';
import { http, type HttpResult } from '../utils/http.js';
import { waitFor } from '../utils/wait.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 1000);
const BOUND_MS = 2000;

const OTHER_HOST = 'other-pubsub.webpubsub.azure.com';
const OTHER_KEY = 'other-resource-key-00112233445566778899';
const KEYS_BY_HOST: Record<string, string> = {
  [SERVICE_HOST]: ACCESS_KEY,
  [OTHER_HOST]: OTHER_KEY,
};
const ID_PLACEHOLDER = '{case-id}';

/** hex(HMAC-SHA256(key, connectionId)), computed here rather than by the module. */
const hmac = (key: string, connectionId: string) =>
  createHmac('sha256', key).update(Buffer.from(connectionId, 'latin1')).digest('hex');

/** A header as the server reads it: Node joins repeated lines with ", ". */
const joined = (value: string | string[] | undefined) =>
  Array.isArray(value) ? value.join(', ') : value;

function headerOf(headers: Record<string, string | string[]>, name: string): string | undefined {
  const key = Object.keys(headers).find(k => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : joined(headers[key]);
}

/**
 * Whether the request's signature is genuine: one `sha256=<hex>` entry equals the HMAC of its
 * connection id under the key of a host its origin names.
 */
function validlySigned(headers: Record<string, string | string[]>): boolean {
  const connectionId = headerOf(headers, 'ce-connectionId');
  const signature = headerOf(headers, 'ce-signature');
  const origin = headerOf(headers, 'WebHook-Request-Origin');
  if (!connectionId || !signature || !origin) return false;
  const hosts = origin
    .split(/[\s,]+/)
    .map(entry =>
      entry
        .toLowerCase()
        .replace(/^https?:\/\//, '')
        .replace(/:\d+$/, ''),
    )
    .filter(host => host in KEYS_BY_HOST);
  const entries = signature
    .split(/[\s,]+/)
    .map(entry => entry.toLowerCase())
    .filter(entry => entry.startsWith('sha256='));
  return hosts.some(host => entries.includes(`sha256=${hmac(KEYS_BY_HOST[host], connectionId)}`));
}

/** Headers of a valid event from resource A, signed here (not with the module's code). */
function signedHeaders(event: string, options: Parameters<typeof eventHeaders>[1] = {}) {
  const headers: Record<string, string | string[]> = eventHeaders(event, { ...options, keys: [] });
  headers['ce-id'] = ID_PLACEHOLDER;
  headers['ce-signature'] = `sha256=${hmac(ACCESS_KEY, 'conn-1')}`;
  return headers;
}

/** Header values Node's client accepts: tab, visible ASCII, space, Latin-1. */
const headerChar = fc
  .oneof(
    { weight: 8, arbitrary: fc.integer({ min: 0x20, max: 0x7e }) },
    { weight: 1, arbitrary: fc.constant(0x09) },
    { weight: 1, arbitrary: fc.integer({ min: 0xa0, max: 0xff }) },
  )
  .map(code => String.fromCharCode(code));
const headerValue = fc.array(headerChar, { maxLength: 80 }).map(chars => chars.join('').trim());

const HEADER_NAMES = [
  'ce-specversion',
  'ce-type',
  'ce-id',
  'ce-hub',
  'ce-connectionId',
  'ce-eventName',
  'ce-signature',
  'ce-userId',
  'ce-connectionState',
  'ce-subprotocol',
  'ce-physicalConnectionId',
  'ce-sessionId',
  'WebHook-Request-Origin',
  'content-type',
  'authorization',
  'mqtt-prop',
];
/** The headers whose every change must be refused as unauthenticated (401/403). */
const GUARDED = ['ce-signature', 'ce-connectionid', 'webhook-request-origin'];
const TYPES = [
  'azure.webpubsub.sys.connect',
  'azure.webpubsub.sys.connected',
  'azure.webpubsub.sys.disconnected',
  'azure.webpubsub.user.message',
  'azure.webpubsub.gp.joined',
  'azure.webpubsub.gp.left',
  'azure.webpubsub.user.',
];
const CONTENT_TYPES = [
  'text/plain',
  'application/json',
  'application/octet-stream',
  'application/xml',
  '',
  'text/plain; charset=latin1',
  'APPLICATION/JSON',
];

type Case = {
  method: string;
  headers: Record<string, string | string[]>;
  body?: Buffer;
  label: string;
  /** The statuses a forged request may get; `undefined` when the case is not a forgery. */
  forged?: readonly number[];
};

/** A valid, signed event of a random kind. */
const validEvent = fc
  .constantFrom('connect', 'connected', 'disconnected', 'text', 'json', 'binary', 'joined')
  .map(kind => {
    switch (kind) {
      case 'connect':
        return { headers: signedHeaders('connect'), body: Buffer.from(connectBody()) };
      case 'connected':
        return { headers: signedHeaders('connected'), body: Buffer.from('{}') };
      case 'disconnected':
        return { headers: signedHeaders('disconnected'), body: Buffer.from('{"reason":"bye"}') };
      case 'text':
        return {
          headers: signedHeaders('message', { contentType: 'text/plain' }),
          body: Buffer.from('hello'),
        };
      case 'json':
        return {
          headers: signedHeaders('message', { contentType: 'application/json' }),
          body: Buffer.from('{"a":[1,2]}'),
        };
      case 'binary':
        return {
          headers: signedHeaders('message', { contentType: 'application/octet-stream' }),
          body: Buffer.from([0, 1, 2, 255]),
        };
      default:
        return {
          headers: signedHeaders('x', {
            contentType: 'application/json',
            extra: { 'ce-type': 'azure.webpubsub.gp.joined' },
          }),
          body: Buffer.from('{"group":"g"}'),
        };
    }
  });

/** Forgeries that look well-formed: each must be refused with 401 (bad signature) or 403 (origin). */
const FORGERIES = [
  'key of the other resource',
  'key nobody configured',
  'signature of another connection',
  'one hex digit changed',
  'connection id changed',
  'origin of the other resource',
  'foreign origin',
  'no signature',
  'no origin',
] as const;

/** One field of a valid event changed. */
const mutation = fc.oneof(
  fc.record({ op: fc.constant('drop' as const), name: fc.constantFrom(...HEADER_NAMES) }),
  fc.record({
    op: fc.constant('set' as const),
    name: fc.constantFrom(...HEADER_NAMES),
    value: headerValue,
  }),
  fc.record({ op: fc.constant('duplicate' as const), name: fc.constantFrom(...HEADER_NAMES) }),
  fc.record({ op: fc.constant('type' as const), value: fc.constantFrom(...TYPES) }),
  fc.record({ op: fc.constant('contentType' as const), value: fc.constantFrom(...CONTENT_TYPES) }),
  fc.record({ op: fc.constant('body' as const), value: fc.uint8Array({ maxLength: 512 }) }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat({ max: 40 }) }),
  fc.record({ op: fc.constant('json' as const), value: fc.jsonValue({ maxDepth: 4 }) }),
  fc.record({
    op: fc.constant('forge' as const),
    kind: fc.constantFrom(...FORGERIES),
    salt: fc.string({ minLength: 1, maxLength: 12 }),
    at: fc.nat({ max: 63 }),
  }),
);

const mutatedEvent = fc.tuple(validEvent, mutation).map(([event, m]): Case => {
  const headers: Record<string, string | string[]> = { ...event.headers };
  let body: Buffer = event.body;
  let forged: readonly number[] | undefined;
  const keyOf = (name: string) =>
    Object.keys(headers).find(key => key.toLowerCase() === name.toLowerCase()) ?? name;
  const original = (name: string) => joined(event.headers[keyOf(name)]);
  switch (m.op) {
    case 'drop':
      delete headers[keyOf(m.name)];
      break;
    case 'set':
      headers[keyOf(m.name)] = m.value;
      break;
    case 'duplicate': {
      const key = keyOf(m.name);
      if (headers[key] !== undefined)
        headers[key] = [headers[key] as string, headers[key] as string];
      break;
    }
    case 'type':
      headers['ce-type'] = m.value;
      break;
    case 'contentType':
      headers['content-type'] = m.value;
      break;
    case 'body':
      body = Buffer.from(m.value);
      break;
    case 'truncate':
      body = body.subarray(0, m.at);
      break;
    case 'json':
      body = Buffer.from(JSON.stringify(m.value) ?? 'null');
      break;
    case 'forge': {
      const signature = keyOf('ce-signature');
      const origin = keyOf('WebHook-Request-Origin');
      forged =
        m.kind.includes('origin') && m.kind !== 'origin of the other resource' ? [403] : [401];
      switch (m.kind) {
        case 'key of the other resource':
          headers[signature] = `sha256=${hmac(OTHER_KEY, 'conn-1')}`;
          break;
        case 'key nobody configured':
          headers[signature] = `sha256=${hmac(`${ACCESS_KEY}${m.salt}`, 'conn-1')}`;
          break;
        case 'signature of another connection':
          headers[signature] = `sha256=${hmac(ACCESS_KEY, `conn-1${m.salt}`)}`;
          break;
        case 'one hex digit changed': {
          const value = headers[signature] as string;
          const at = 'sha256='.length + m.at;
          const digit = value[at] === '0' ? '1' : '0';
          headers[signature] = value.slice(0, at) + digit + value.slice(at + 1);
          break;
        }
        case 'connection id changed':
          headers[keyOf('ce-connectionId')] = `conn-1${m.salt.replace(/[^\x21-\x7e]/g, 'x')}`;
          break;
        case 'origin of the other resource':
          headers[origin] = OTHER_HOST;
          break;
        case 'foreign origin':
          headers[origin] = `${m.salt.replace(/[^a-z0-9]/gi, '') || 'x'}.attacker.example`;
          break;
        case 'no signature':
          delete headers[signature];
          break;
        case 'no origin':
          delete headers[origin];
          break;
      }
      break;
    }
  }
  for (const key of Object.keys(headers)) if (headers[key] === '') delete headers[key];
  // A plain 'drop' or 'set' of a guarded header is a forgery too, unless it left the value as it was.
  if ((m.op === 'drop' || m.op === 'set') && GUARDED.includes(m.name.toLowerCase())) {
    const now = headerOf(headers, m.name);
    if (now !== original(m.name)) {
      forged =
        now === undefined && m.name.toLowerCase() === 'ce-connectionid'
          ? [400] // a missing CloudEvents attribute, refused before the signature is looked at
          : m.name.toLowerCase() === 'webhook-request-origin'
            ? [403]
            : [401];
    }
  }
  return { method: 'POST', headers, body, forged, label: JSON.stringify(m).slice(0, 200) };
});

/** Pure noise: random methods, header sets and bodies. */
const noise = fc
  .record({
    method: fc.constantFrom('POST', 'OPTIONS', 'GET', 'PUT'),
    headers: fc.dictionary(fc.constantFrom(...HEADER_NAMES), headerValue, { maxKeys: 10 }),
    body: fc.option(fc.uint8Array({ maxLength: 256 }), { nil: undefined }),
  })
  .map(({ method, headers, body }): Case => {
    for (const key of Object.keys(headers)) if (headers[key] === '') delete headers[key];
    return {
      method,
      headers,
      body: body && method !== 'GET' ? Buffer.from(body) : undefined,
      label: 'noise',
    };
  });

describe.each(PLATFORMS)('fuzzing the event handler on %s', platform => {
  let app: TestApp;
  let handlers: HardeningHandlers;
  let caseNumber = 0;
  /** The cases of the running test by the ce-id the server read, with their answers. */
  let sent = new Map<string, { status: number; valid: boolean; label: string }[]>();
  let statuses = new Map<number, number>();
  const violations: string[] = [];

  beforeAll(async () => {
    app = await startApp(platform, {
      imports: [
        WebPubSubModule.forRoot({
          hub: 'chat',
          connectionString: Object.entries(KEYS_BY_HOST).map(
            ([host, key]) => `Endpoint=https://${host};AccessKey=${key};Version=1.0;`,
          ),
        }),
      ],
      providers: [HardeningHandlers],
    });
    handlers = app.app.get(HardeningHandlers);
  });
  afterAll(() => app?.close());
  beforeEach(() => {
    sent = new Map();
    statuses = new Map();
    violations.length = 0;
    handlers.eventIds.length = 0;
  });

  async function check(c: Case): Promise<void> {
    const id = `${platform}-${++caseNumber}`;
    const headers = Object.fromEntries(
      Object.entries(c.headers).map(([name, value]) => [
        name,
        Array.isArray(value)
          ? value.map(v => v.replace(ID_PLACEHOLDER, id))
          : value.replace(ID_PLACEHOLDER, id),
      ]),
    );
    const started = Date.now();
    const res: HttpResult = await http(`${app.url}/eventhandler`, {
      method: c.method,
      headers,
      body: c.body,
    });
    const elapsed = Date.now() - started;
    statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    const valid = c.method === 'POST' && validlySigned(headers);
    const readId = headerOf(headers, 'ce-id') ?? '';
    const list = sent.get(readId) ?? [];
    list.push({ status: res.status, valid, label: c.label });
    sent.set(readId, list);
    if (res.status >= 500) throw new Error(`5xx (${res.status} ${res.text}) for ${c.label}`);
    if (elapsed > BOUND_MS) throw new Error(`answer took ${elapsed} ms for ${c.label}`);
    if (c.method === 'POST' && res.status < 300 && !valid)
      throw new Error(`${res.status} for a request without a valid signature: ${c.label}`);
    if (c.forged && !c.forged.includes(res.status))
      throw new Error(`forged request answered ${res.status} ${res.text}: ${c.label}`);
  }

  /** Waits for a valid non-blocking probe's handler, then checks every handler run so far. */
  async function handlersRanOnlyForValidRequests(): Promise<void> {
    const probe = `probe-${platform}-${++caseNumber}`;
    const res = await http(`${app.url}/eventhandler`, {
      method: 'POST',
      headers: { ...signedHeaders('connected'), 'ce-id': probe },
      body: '{}',
    });
    expect(res.status).toBe(204);
    await waitFor(() => handlers.eventIds.includes(probe));
    const ran = handlers.eventIds.filter(eventId => eventId !== probe);
    const runs = new Map<string, number>();
    for (const eventId of ran) runs.set(eventId, (runs.get(eventId) ?? 0) + 1);
    for (const [eventId, count] of runs) {
      const accepted = (sent.get(eventId) ?? []).filter(s => s.status < 300 && s.valid);
      if (count > accepted.length)
        violations.push(
          `${count} handler run(s) for ce-id ${JSON.stringify(eventId)}: ${JSON.stringify(sent.get(eventId))}`,
        );
    }
    expect(violations).toEqual([]);
    return;
  }

  const count = (predicate: (status: number) => boolean) =>
    [...statuses].filter(([status]) => predicate(status)).reduce((sum, [, n]) => sum + n, 0);

  it(`holds for ${RUNS} valid events mutated or forged one field at a time`, async () => {
    await fc.assert(fc.asyncProperty(mutatedEvent, check), { numRuns: RUNS });
    await handlersRanOnlyForValidRequests();
    // The mix (typically 2xx 45 %, 400 29 %, 401 10 %, 403 3-5 %, 415 10 %, 404 1-2 %): a module
    // that accepted or refused everything, or never checked a signature, would miss a floor.
    expect(count(status => status < 300)).toBeGreaterThanOrEqual(Math.floor(RUNS * 0.35));
    expect(count(status => status === 400)).toBeGreaterThanOrEqual(Math.floor(RUNS * 0.2));
    expect(count(status => status === 401)).toBeGreaterThanOrEqual(Math.floor(RUNS * 0.06));
    expect(count(status => status === 403)).toBeGreaterThanOrEqual(Math.floor(RUNS * 0.015));
    expect(handlers.eventIds.length).toBeGreaterThanOrEqual(Math.floor(RUNS * 0.35));
  }, 120_000);

  it(`holds for ${Math.ceil(RUNS / 2)} requests of pure noise`, async () => {
    const runs = Math.ceil(RUNS / 2);
    await fc.assert(fc.asyncProperty(noise, check), { numRuns: runs });
    await handlersRanOnlyForValidRequests();
    // Noise never carries a valid signature: no POST is accepted and no handler runs (but the probe).
    expect(handlers.eventIds).toHaveLength(1);
    expect(count(status => status >= 400 && status < 500)).toBe(runs);
  }, 120_000);

  it('still answers a valid event afterwards', async () => {
    const res = await http(`${app.url}/eventhandler`, {
      method: 'POST',
      headers: { ...signedHeaders('message'), 'ce-id': 'after' },
      body: 'x',
    });
    expect(res.status).toBe(200);
    expect(handlers.eventIds).toEqual(['after']);
  });
});
