import fc from 'fast-check';
import { WebPubSubModule } from '../../lib/index.js';
import { HardeningHandlers } from '../fixtures/hardening.handlers.js';
import { startApp, PLATFORMS, type TestApp } from '../utils/app.js';
import { CONNECTION_STRING, connectBody, eventHeaders } from '../utils/events.js';
import { http } from '../utils/http.js';

/**
 * Property-based fuzzing of the event handler over real HTTP. `npm test` runs a bounded number of
 * cases; `npm run fuzz` (FUZZ_RUNS=…) a longer run. Properties, for every request:
 * - the answer is never 5xx (these handlers never throw);
 * - a refused request (4xx) ran no handler;
 * - the answer comes within BOUND_MS, and the app keeps answering.
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 1000);
const BOUND_MS = 2000;

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
};

/** A valid, signed event of a random kind. */
const validEvent = fc
  .constantFrom('connect', 'connected', 'disconnected', 'text', 'json', 'binary', 'joined')
  .map(kind => {
    switch (kind) {
      case 'connect':
        return { headers: eventHeaders('connect'), body: Buffer.from(connectBody()) };
      case 'connected':
        return { headers: eventHeaders('connected'), body: Buffer.from('{}') };
      case 'disconnected':
        return { headers: eventHeaders('disconnected'), body: Buffer.from('{"reason":"bye"}') };
      case 'text':
        return {
          headers: eventHeaders('message', { contentType: 'text/plain' }),
          body: Buffer.from('hello'),
        };
      case 'json':
        return {
          headers: eventHeaders('message', { contentType: 'application/json' }),
          body: Buffer.from('{"a":[1,2]}'),
        };
      case 'binary':
        return {
          headers: eventHeaders('message', { contentType: 'application/octet-stream' }),
          body: Buffer.from([0, 1, 2, 255]),
        };
      default:
        return {
          headers: eventHeaders('x', {
            contentType: 'application/json',
            extra: { 'ce-type': 'azure.webpubsub.gp.joined' },
          }),
          body: Buffer.from('{"group":"g"}'),
        };
    }
  });

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
);

const mutatedEvent = fc.tuple(validEvent, mutation).map(([event, m]): Case => {
  const headers: Record<string, string | string[]> = { ...event.headers };
  let body: Buffer = event.body;
  const keyOf = (name: string) =>
    Object.keys(headers).find(key => key.toLowerCase() === name.toLowerCase()) ?? name;
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
  }
  for (const key of Object.keys(headers)) if (headers[key] === '') delete headers[key];
  return { method: 'POST', headers, body, label: JSON.stringify(m).slice(0, 200) };
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
  let cases = 0;
  const statuses = new Map<number, number>();

  beforeAll(async () => {
    app = await startApp(platform, {
      imports: [WebPubSubModule.forRoot({ hub: 'chat', connectionString: CONNECTION_STRING })],
      providers: [HardeningHandlers],
    });
    handlers = app.app.get(HardeningHandlers);
  });
  afterAll(async () => {
    await app?.close();
    // The figures recorded in test/README.md come from here.
    console.log(
      `fuzz ${platform}: ${cases} cases, statuses ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`,
    );
  });

  async function check(c: Case): Promise<void> {
    cases++;
    const before = handlers.calls;
    const started = Date.now();
    const res = await http(`${app.url}/eventhandler`, {
      method: c.method,
      headers: c.headers,
      body: c.body,
    });
    const elapsed = Date.now() - started;
    statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    // Non-blocking handlers run just after the answer: give them that moment.
    await new Promise(resolve => setImmediate(resolve));
    await new Promise(resolve => setImmediate(resolve));
    if (res.status >= 500) throw new Error(`5xx (${res.status} ${res.text}) for ${c.label}`);
    if (res.status >= 400 && handlers.calls !== before)
      throw new Error(`handler ran for a refused request (${res.status}) ${c.label}`);
    if (elapsed > BOUND_MS) throw new Error(`answer took ${elapsed} ms for ${c.label}`);
  }

  it(`holds for ${RUNS} valid events mutated one field at a time`, async () => {
    await fc.assert(fc.asyncProperty(mutatedEvent, check), { numRuns: RUNS });
  }, 120_000);

  it(`holds for ${Math.ceil(RUNS / 2)} requests of pure noise`, async () => {
    await fc.assert(fc.asyncProperty(noise, check), { numRuns: Math.ceil(RUNS / 2) });
  }, 120_000);

  it('still answers a valid event afterwards', async () => {
    const res = await http(`${app.url}/eventhandler`, {
      method: 'POST',
      headers: eventHeaders('message'),
      body: 'x',
    });
    expect(res.status).toBe(200);
  });
});
