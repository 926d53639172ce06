// Load generation with autocannon (programmatic), every response checked.
import autocannon from 'autocannon';
import { connectionPool, HUB, SCENARIOS } from './common.mjs';

/** A growable list of latencies (ms, full precision: autocannon's own histogram keeps whole ms). */
class Samples {
  #values = new Float64Array(1 << 16);
  #length = 0;

  push(value) {
    if (this.#length === this.#values.length) {
      const grown = new Float64Array(this.#values.length * 2);
      grown.set(this.#values);
      this.#values = grown;
    }
    this.#values[this.#length++] = value;
  }

  /** Percentiles (0–100) of the samples, nearest-rank. */
  percentiles(...ps) {
    const sorted = this.#values.slice(0, this.#length).sort();
    return ps.map(p =>
      sorted.length === 0
        ? NaN
        : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)],
    );
  }
}

/**
 * One autocannon run of `scenario` (a name of SCENARIOS, or a list of names: each connection
 * cycles through them) against `url`.
 * Returns throughput, latency percentiles and every kind of wrong answer:
 * `wrongStatus` (a status the scenario does not accept), `mismatches` (wrong body),
 * `missingHeader` (the handshake without WebHook-Allowed-Origin), `errors` (connection errors
 * and timeouts).
 */
export function runLoad({ url, scenario, duration, connections = 50, latencies = true }) {
  const names = Array.isArray(scenario) ? scenario : [scenario];
  const specs = names.map(name => {
    const spec = SCENARIOS[name];
    if (!spec)
      throw new Error(`Unknown scenario "${name}" (known: ${Object.keys(SCENARIOS).join(', ')})`);
    return spec;
  });
  const single = specs.length === 1 ? specs[0] : undefined;
  let missingHeader = 0;
  let wrongStatusMixed = 0;
  let wrongBodyMixed = 0;
  const statusCounts = {};

  const requests = specs.map(spec => {
    const { method, path, headers, body } = spec.request;
    const request = { method, path, headers };
    if (body !== undefined) request.body = body;
    if (spec.connections) {
      // A connection id (and its signature) per request; autocannon rebuilds the request.
      const pool = connectionPool(spec.connections);
      request.setupRequest = built => {
        const [connectionId, signature] = pool.next();
        built.headers['ce-connectionId'] = connectionId;
        built.headers['ce-signature'] = signature;
        built.headers['ce-source'] = `/hubs/${HUB}/client/${connectionId}`;
        return built;
      };
    }
    // Per-request checks cost the load generator a little (headers are converted to an object),
    // so they are only used where a header must be checked or requests are mixed.
    if (!single || spec.expect.header) {
      request.onResponse = (status, responseBody, _context, responseHeaders) => {
        if (spec.expect.header && !hasHeader(responseHeaders, spec.expect.header)) missingHeader++;
        if (!single) {
          if (!spec.expect.status.includes(status)) wrongStatusMixed++;
          else if (responseBody !== spec.expect.body) wrongBodyMixed++;
        }
      };
    }
    return request;
  });

  const options = { url, connections, duration, requests };
  if (single) {
    const expected = single.expect.body;
    options.verifyBody = responseBody => responseBody === expected;
  }

  const samples = latencies ? new Samples() : undefined;
  return new Promise((resolve, reject) => {
    const instance = autocannon(options, (error, result) => {
      if (error) return reject(error);
      const accepted = new Set(specs.flatMap(spec => spec.expect.status));
      let wrongStatus = 0;
      for (const [code, { count }] of Object.entries(result.statusCodeStats ?? {})) {
        statusCounts[code] = count;
        if (single && !accepted.has(Number(code))) wrongStatus += count;
      }
      if (!single) wrongStatus = wrongStatusMixed;
      const [p50, p99] = samples ? samples.percentiles(50, 99) : [NaN, NaN];
      const total = result.requests.total;
      resolve({
        requests: total,
        duration: result.duration,
        rps: total / result.duration,
        p50,
        p99,
        statusCounts,
        non2xx: result.non2xx,
        wrongStatus,
        mismatches: single ? result.mismatches : wrongBodyMixed,
        missingHeader,
        errors: result.errors,
        timeouts: result.timeouts,
      });
    });
    if (samples)
      instance.on('response', (_client, _status, _bytes, responseTime) =>
        samples.push(responseTime),
      );
  });
}

/**
 * How many answers of a run were wrong, plus connection errors. One wrong answer can fail several
 * checks (a 401 also has the wrong body), so the largest of the check counts is taken: a lower
 * bound that is zero exactly when every answer was right.
 */
export function failuresOf(run) {
  return Math.max(run.wrongStatus, run.mismatches, run.missingHeader) + run.errors;
}

function hasHeader(headers, name) {
  for (const key in headers) if (key.toLowerCase() === name) return true;
  return false;
}

/**
 * One request of `scenario` with full checks (status, content type, body, header), for the
 * pre-flight. `override` changes request headers (e.g. a forged signature).
 * Returns a list of problems (empty when the answer is right).
 */
export async function probe(url, scenarioName, override = {}, expectStatus) {
  const spec = SCENARIOS[scenarioName];
  const { method, path, headers, body } = spec.request;
  const response = await fetch(url + path, { method, headers: { ...headers, ...override }, body });
  const bytes = Buffer.from(await response.arrayBuffer());
  const problems = [];
  if (expectStatus !== undefined) {
    if (response.status !== expectStatus)
      problems.push(`status ${response.status}, expected ${expectStatus}`);
    return problems;
  }
  const expect = spec.expect;
  if (!expect.status.includes(response.status))
    problems.push(`status ${response.status}, expected ${expect.status.join('/')}`);
  if (bytes.toString('utf8') !== expect.body)
    problems.push(
      `body of ${bytes.length} bytes differs from the expected ${Buffer.byteLength(expect.body)} bytes`,
    );
  if (
    expect.contentType &&
    !(response.headers.get('content-type') ?? '').startsWith(expect.contentType)
  ) {
    problems.push(
      `content-type ${JSON.stringify(response.headers.get('content-type'))}, expected ${expect.contentType}`,
    );
  }
  if (expect.header && !response.headers.has(expect.header))
    problems.push(`no ${expect.header} header`);
  return problems;
}
