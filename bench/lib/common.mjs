// Shared by the benchmark servers and the load generator: the service identity, the signed
// requests of every scenario and what a correct answer to each looks like.
import { createHmac, timingSafeEqual } from 'node:crypto';

/** A positive integer from the environment variable `name`, or `fallback` when it is unset. */
export function positiveIntegerEnv(name, fallback) {
  const value = process.env[name];
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed <= 0)
    throw new Error(`${name} must be a positive integer (got "${value}")`);
  return parsed;
}

export const HUB = 'chat';
export const PATH = '/eventhandler';
export const ACCESS_KEY = 'bench-access-key-0123456789abcdef0123456789';
export const SERVICE_HOST = 'my-pubsub.webpubsub.azure.com';
export const CONNECTION_STRING = `Endpoint=https://${SERVICE_HOST};AccessKey=${ACCESS_KEY};Version=1.0;`;
export const CONNECTION_ID = 'bench-conn-0001';
export const USER_ID = 'alice';

export const JSON_TYPE = 'application/json; charset=utf-8';
export const TEXT_TYPE = 'text/plain; charset=utf-8';
export const BINARY_TYPE = 'application/octet-stream';

const SIGNATURE_PREFIX = 'sha256=';

/** `sha256=<hex>` of the connection id under the access key, as the service signs it. */
export function sign(connectionId, key = ACCESS_KEY) {
  return SIGNATURE_PREFIX + createHmac('sha256', key).update(connectionId).digest('hex');
}

/**
 * The check a hand-written handler does: HMAC the connection id with node:crypto and compare it,
 * in constant time, with each `sha256=<hex>` entry of `ce-signature`.
 */
export function verifySignature(connectionId, header, key = ACCESS_KEY) {
  if (typeof connectionId !== 'string' || typeof header !== 'string' || header === '') return false;
  const expected = createHmac('sha256', key).update(connectionId).digest();
  let matched = false;
  for (const entry of header.split(',')) {
    const value = entry.trim();
    if (value.length !== SIGNATURE_PREFIX.length + 64 || !value.startsWith(SIGNATURE_PREFIX))
      continue;
    const candidate = Buffer.from(value.slice(SIGNATURE_PREFIX.length), 'hex');
    if (candidate.length === expected.length && timingSafeEqual(candidate, expected))
      matched = true;
  }
  return matched;
}

/** Headers of one event as the service sends it (mixed case on the wire, as the service does). */
export function eventHeaders(type, eventName, contentType) {
  return {
    'ce-specversion': '1.0',
    'ce-type': type,
    'ce-source': `/hubs/${HUB}/client/${CONNECTION_ID}`,
    'ce-id': '1',
    'ce-time': '2026-11-28T00:00:00Z',
    'ce-awpsversion': '1.0',
    'ce-hub': HUB,
    'ce-connectionId': CONNECTION_ID,
    'ce-userId': USER_ID,
    'ce-eventName': eventName,
    'ce-signature': sign(CONNECTION_ID),
    'WebHook-Request-Origin': SERVICE_HOST,
    'content-type': contentType,
  };
}

/**
 * Connection ids of the load: a `connect` event comes from a new connection, so each carries an
 * id not seen for 100,000 requests (`cold`); other events come from established connections,
 * 1,000 of them (`warm`). A constant id would flatter any per-connection caching of signature
 * work. Ids and their signatures are computed once, when a pool is first used.
 */
const POOL_SIZES = { cold: 100_000, warm: 1_000 };
const pools = new Map();

/** `{ next(): [connectionId, signature] }`, rotating through the pool. */
export function connectionPool(kind) {
  let pool = pools.get(kind);
  if (pool === undefined) {
    const size = POOL_SIZES[kind];
    if (size === undefined) throw new Error(`Unknown connection pool "${kind}"`);
    const entries = Array.from({ length: size });
    for (let i = 0; i < size; i++) {
      const id = `${kind}-${i.toString(36).padStart(16, '0')}`;
      entries[i] = [id, sign(id)];
    }
    let at = 0;
    pool = {
      size,
      next() {
        const entry = entries[at];
        at = at + 1 === size ? 0 : at + 1;
        return entry;
      },
    };
    pools.set(kind, pool);
  }
  return pool;
}

/** 100 bytes of text. */
export const TEXT_100 = 'Hello from a WebSocket client! '.repeat(4).slice(0, 100);

/**
 * 16 KiB of pseudo-random bytes below 0x80: autocannon decodes response bodies as UTF-8 text to
 * compare them, which is exact for these bytes (and lossy for arbitrary ones).
 */
export const BINARY_16K = (() => {
  const bytes = Buffer.alloc(16 * 1024);
  let seed = 0x2545f491;
  for (let i = 0; i < bytes.length; i++) {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    bytes[i] = seed & 0x7f;
  }
  return bytes;
})();

export const CONNECT_BODY = JSON.stringify({
  claims: { sub: [USER_ID] },
  query: { access_token: ['token'] },
  headers: { host: ['example'] },
  subprotocols: ['json.webpubsub.azure.v1'],
  clientCertificates: [],
});

/**
 * The benchmark scenarios: the request, the connection ids it is sent with under load (see
 * {@link connectionPool}; the request itself carries CONNECTION_ID), and the answer every
 * server must give.
 * `status` lists the accepted statuses, `body` the exact body (string), `contentType` the media
 * type the `content-type` header must start with, `header` a header that must be present.
 */
export const SCENARIOS = {
  connect: {
    title: 'connect (JSON → 200 JSON)',
    connections: 'cold',
    request: {
      method: 'POST',
      path: PATH,
      headers: eventHeaders('azure.webpubsub.sys.connect', 'connect', JSON_TYPE),
      body: CONNECT_BODY,
    },
    expect: {
      status: [200],
      body: JSON.stringify({ userId: USER_ID }),
      contentType: 'application/json',
    },
  },
  text: {
    title: 'message text 100 B (echo → 200 text/plain)',
    connections: 'warm',
    request: {
      method: 'POST',
      path: PATH,
      headers: eventHeaders('azure.webpubsub.user.message', 'message', TEXT_TYPE),
      body: TEXT_100,
    },
    expect: { status: [200], body: TEXT_100, contentType: 'text/plain' },
  },
  binary: {
    title: 'message binary 16 KiB (echo → 200 octet-stream)',
    connections: 'warm',
    request: {
      method: 'POST',
      path: PATH,
      headers: eventHeaders('azure.webpubsub.user.message', 'message', BINARY_TYPE),
      body: BINARY_16K,
    },
    expect: {
      status: [200],
      body: BINARY_16K.toString('utf8'),
      contentType: 'application/octet-stream',
    },
  },
  connected: {
    title: 'connected (→ 2xx)',
    connections: 'warm',
    request: {
      method: 'POST',
      path: PATH,
      headers: eventHeaders('azure.webpubsub.sys.connected', 'connected', JSON_TYPE),
      body: '{}',
    },
    // The module and the floors answer 204; the peer answers 200 with an empty body.
    expect: { status: [200, 204], body: '' },
  },
  options: {
    title: 'OPTIONS handshake (→ 200 + WebHook-Allowed-Origin)',
    request: {
      method: 'OPTIONS',
      path: PATH,
      // ce-awpsversion: the peer only answers handshakes that carry it (the service sends it).
      headers: { 'WebHook-Request-Origin': SERVICE_HOST, 'ce-awpsversion': '1.0' },
    },
    expect: { status: [200], body: '', header: 'webhook-allowed-origin' },
  },
  // Not in the default benchmark; part of the soak mix.
  disconnected: {
    title: 'disconnected (→ 2xx)',
    connections: 'warm',
    request: {
      method: 'POST',
      path: PATH,
      headers: eventHeaders('azure.webpubsub.sys.disconnected', 'disconnected', JSON_TYPE),
      body: JSON.stringify({ reason: 'bench' }),
    },
    expect: { status: [200, 204], body: '' },
  },
};

/** The scenarios `npm run bench` measures by default. */
export const BENCH_SCENARIOS = ['connect', 'text', 'binary', 'connected', 'options'];

/** Reads a whole request stream. */
export function readBody(stream) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    stream.on('data', chunk => {
      chunks.push(chunk);
      size += chunk.length;
    });
    stream.on('end', () => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size)));
    stream.on('error', reject);
  });
}

/**
 * The answer of a hand-written handler (the floors and the node:http limit) to one event, given
 * its headers and body (raw bytes, a string, or an already-parsed JSON value).
 * Returns `{ status, contentType?, body? }`.
 */
export function handWrittenAnswer(headers, body) {
  const connectionId = headers['ce-connectionid'];
  if (!verifySignature(connectionId, headers['ce-signature'])) {
    return { status: 401, contentType: TEXT_TYPE, body: 'Invalid ce-signature' };
  }
  const type = headers['ce-type'];
  if (type === 'azure.webpubsub.sys.connect') {
    const payload = parseJson(body);
    const userId = payload?.claims?.sub?.[0];
    return { status: 200, contentType: JSON_TYPE, body: JSON.stringify({ userId }) };
  }
  if (type === 'azure.webpubsub.sys.connected' || type === 'azure.webpubsub.sys.disconnected') {
    parseJson(body);
    return { status: 204 };
  }
  if (typeof type === 'string' && type.startsWith('azure.webpubsub.user.')) {
    const contentType = headers['content-type'] ?? '';
    if (contentType.startsWith('text/plain')) {
      return {
        status: 200,
        contentType: TEXT_TYPE,
        body: typeof body === 'string' ? body : body.toString('utf8'),
      };
    }
    if (contentType.startsWith('application/octet-stream')) {
      return { status: 200, contentType: BINARY_TYPE, body };
    }
    return { status: 415, contentType: TEXT_TYPE, body: 'Unsupported Content-Type' };
  }
  return { status: 400, contentType: TEXT_TYPE, body: 'Unsupported ce-type' };
}

/** The abuse-protection answer of a hand-written handler. */
export function handWrittenHandshake(headers) {
  const origin = headers['webhook-request-origin'];
  if (origin !== SERVICE_HOST)
    return { status: 400, contentType: TEXT_TYPE, body: 'Origin not allowed' };
  return { status: 200, headers: { 'WebHook-Allowed-Origin': SERVICE_HOST } };
}

function parseJson(body) {
  if (Buffer.isBuffer(body)) return JSON.parse(body.toString('utf8'));
  if (typeof body === 'string') return JSON.parse(body);
  return body; // already parsed by the framework
}
