/**
 * The REST calls a Socket.IO server makes through its tunnel are refused in the service's error
 * form, the same one the JSON-side REST API writes (`lib/emulator/rest/rest-errors.ts`): the
 * status in the tunnel's HttpResponse frame, the headers (`Content-Type`, `x-ms-error-code`,
 * `api-supported-versions`) in its Headers, and a `{"code","message","target","details","inner"}`
 * body, or problem+json for a filter the service's model validation refuses. Each refusal below is
 * sent on a raw tunnel (frames the SDK would never send), and ends its call: one final frame,
 * never a stack trace, never a call left open. Existence checks (HEAD) answer 404 with the
 * service's `Warning.*` code and no body; a failure inside the emulator answers 500 with its
 * message only.
 */
import { startEmulator, type RunningEmulator } from '../../../lib/emulator/index.js';
import { SERVICE_API_VERSIONS } from '../../../lib/emulator/rest/rest-errors.js';
import {
  encodeTunnelFrame,
  TunnelMessageType,
  type TunnelFrame,
} from '../../../lib/emulator/socket-io/tunnel-frame.js';
import { rawTunnel, tunnelCall, type RawTunnel } from '../../utils/socket-io-tunnel.js';

const HUB = 'rawhub';
const API = `https://host/api/hubs/${HUB}`;
const INVALID_GROUP =
  'Invalid group name. Valid group name should be in between 1 and 1024 characters long.';

interface Answer {
  status: number;
  headers: Record<string, string>;
  text: string;
  final: boolean;
}

function answerOf(frame: TunnelFrame): Answer {
  const lists = (frame.fields.Headers ?? {}) as Record<string, string[]>;
  return {
    status: frame.fields.StatusCode as number,
    headers: Object.fromEntries(Object.entries(lists).map(([n, v]) => [n.toLowerCase(), v[0]])),
    text: Buffer.from(frame.content ?? []).toString('utf8'),
    final: frame.fields.NotCompleted === false,
  };
}

/** The detail form: `ErrorDetail` JSON with the service's headers. */
function expectDetail(answer: Answer, status: number, code: string, message: string | RegExp) {
  expect(answer.status).toBe(status);
  expect(answer.final).toBe(true);
  expect(answer.headers).toEqual({
    'content-type': 'application/json; charset=utf-8',
    'x-ms-error-code': code,
    'api-supported-versions': SERVICE_API_VERSIONS,
  });
  const body = JSON.parse(answer.text);
  expect(body).toEqual({
    code,
    message: expect.any(String),
    target: expect.any(String),
    details: null,
    inner: null,
  });
  if (typeof message === 'string') expect(body.message).toBe(message);
  else expect(body.message).toMatch(message);
  expect(answer.text).not.toMatch(/\n\s+at /);
}

/** The validation form (problem+json) for a refused parameter named `target`. */
function expectValidation(answer: Answer, target: string, message: string | RegExp) {
  expect(answer.status).toBe(400);
  expect(answer.final).toBe(true);
  expect(answer.headers['content-type']).toBe('application/problem+json; charset=utf-8');
  expect(answer.headers['x-ms-error-code']).toBe('Error.BadRequest');
  const body = JSON.parse(answer.text);
  expect(body).toMatchObject({
    code: 'Error.BadRequest',
    target,
    title: 'One or more validation errors occurred.',
    status: 400,
  });
  if (typeof message === 'string') expect(body.message).toBe(message);
  else expect(body.message).toMatch(message);
  expect(body.errors).toEqual({ [target]: [body.message] });
}

describe('Socket.IO tunnel: REST errors in the service’s form', () => {
  let emulator: RunningEmulator;
  let tunnel: RawTunnel;
  let ackId = 0;

  const call = async (
    method: string,
    url: string,
    body?: string,
    contentType: string | null = 'text/plain',
  ) => answerOf(await tunnelCall(tunnel, ++ackId, method, url, body, contentType));

  beforeAll(async () => {
    emulator = await startEmulator({ port: 0, log: () => undefined });
    tunnel = await rawTunnel(emulator, HUB);
  });

  afterAll(async () => {
    tunnel.ws.close();
    await emulator.close();
  });

  it('404 Error.NotFound for a path that is no operation, under the hub or outside /api/hubs', async () => {
    expectDetail(
      await call('POST', `${API}/:frobnicate`, '42'),
      404,
      'Error.NotFound',
      `No REST operation at POST "/api/hubs/${HUB}/:frobnicate"`,
    );
    expectDetail(
      await call('GET', 'https://host/api/health'),
      404,
      'Error.NotFound',
      'No REST operation at GET "/api/health"',
    );
    // An operation of the JSON REST API that the tunnel does not carry.
    expectDetail(
      await call('POST', `${API}/users/alice/:send`, '42'),
      404,
      'Error.NotFound',
      /^No REST operation at POST/,
    );
  });

  it('403 Error.Forbidden for a call about another hub', async () => {
    expectDetail(
      await call('POST', 'https://host/api/hubs/else/:send', '42'),
      403,
      'Error.Forbidden',
      `This Socket.IO tunnel serves hub "${HUB}", not "else"`,
    );
  });

  it('400 in the validation form for a filter that does not parse, as a query parameter and in a groups body', async () => {
    expectValidation(
      await call('POST', `${API}/:send?filter=${encodeURIComponent("'a' in")}`, '42["x"]'),
      'filter',
      /^Invalid syntax for ''a' in': .*\(Parameter 'filter'\)$/,
    );
    expectValidation(
      await call(
        'POST',
        `${API}/:addToGroups`,
        JSON.stringify({ groups: ['g'], filter: 'userId eq' }),
        'application/json',
      ),
      'Filter',
      /^Invalid syntax for 'userId eq': .*\(Parameter 'filter'\)$/,
    );
    expectValidation(
      await call('POST', `${API}/:invoke?filter=${encodeURIComponent('nonsense(')}`, '42["x"]'),
      'filter',
      /^Invalid syntax for 'nonsense\('/,
    );
  });

  it('400 with the service’s wording for a group name out of bounds, in a path or a groups body', async () => {
    expectDetail(
      await call('POST', `${API}/groups/${'g'.repeat(1025)}/:send`, '42'),
      400,
      'Error.BadRequest',
      INVALID_GROUP,
    );
    expectDetail(
      await call(
        'POST',
        `${API}/:removeFromGroups`,
        JSON.stringify({ groups: [''] }),
        'application/json',
      ),
      400,
      'Error.BadRequest',
      INVALID_GROUP,
    );
    const head = await call('HEAD', `${API}/groups/%20`);
    expect(head.status).toBe(400);
    expect(head.headers['x-ms-error-code']).toBe('Error.BadRequest');
    expect(head.text).toBe('');
  });

  it('400 for a groups body that is not JSON, not an object, or has no list of groups', async () => {
    expectDetail(
      await call('POST', `${API}/:addToGroups`, '{"groups":', 'application/json'),
      400,
      'Error.BadRequest',
      /^The body is not valid JSON/,
    );
    expectDetail(
      await call('POST', `${API}/:addToGroups`, '[]', 'application/json'),
      400,
      'Error.BadRequest',
      'The body must be a JSON object {"groups": [...], "filter": "..."}',
    );
    expectValidation(
      await call('POST', `${API}/:addToGroups`, '{"groups":"g"}', 'application/json'),
      'Groups',
      '"groups" must be an array of group names',
    );
    expectValidation(
      await call('POST', `${API}/:addToGroups`, '{"groups":["g"],"filter":1}', 'application/json'),
      'Filter',
      '"filter" must be a string',
    );
  });

  it('415 Error.UnsupportedMediaType for a send that is not text/plain and a groups body that is not JSON', async () => {
    expectDetail(
      await call('POST', `${API}/:send`, '{}', 'application/json'),
      415,
      'Error.UnsupportedMediaType',
      'A send through the Socket.IO tunnel carries an Engine.IO payload as text/plain, got "application/json"',
    );
    expectDetail(
      await call('POST', `${API}/connections/c1/:send`, '42', null),
      415,
      'Error.UnsupportedMediaType',
      /got no Content-Type$/,
    );
    expectDetail(
      await call('POST', `${API}/:addToGroups`, '{"groups":["g"]}', 'text/plain'),
      415,
      'Error.UnsupportedMediaType',
      'Content-Type must be application/json, got "text/plain"',
    );
  });

  it('400 for a broadcast with acks whose body is not one Socket.IO EVENT, and an empty 200 stream for one to nobody', async () => {
    expectDetail(
      await call('POST', `${API}/:invoke`, '40'),
      400,
      'Error.BadRequest',
      'A broadcast with acks carries an EVENT packet',
    );
    expectDetail(
      await call('POST', `${API}/:invoke`, 'x-not-a-packet'),
      400,
      'Error.BadRequest',
      /^The body is not one Socket.IO packet in an Engine.IO payload/,
    );
    const none = await call('POST', `${API}/:invoke`, '42["ping"]');
    expect(none.status).toBe(200);
    expect(none.headers['content-type']).toBe('application/x-ndjson');
    await new Promise(resolve => setTimeout(resolve, 50));
    const frames = tunnel.frames.filter(f => f.fields.AckId === ackId);
    expect(frames.at(-1)?.fields.NotCompleted).toBe(false);
  });

  it('404 Error.Connection.NotExisted for adding an unknown connection to a group', async () => {
    expectDetail(
      await call('PUT', `${API}/groups/g/connections/nobody`),
      404,
      'Error.Connection.NotExisted',
      'Connection `nobody` is not found.',
    );
  });

  it('404 with Warning codes and no body for the existence checks (HEAD)', async () => {
    const connection = await call('HEAD', `${API}/connections/nobody`);
    expect(connection.status).toBe(404);
    expect(connection.headers['x-ms-error-code']).toBe('Warning.Connection.NotExisted');
    expect(connection.text).toBe('');
    expect(connection.final).toBe(true);
    const group = await call('HEAD', `${API}/groups/empty`);
    expect(group.status).toBe(404);
    expect(group.headers['x-ms-error-code']).toBe('Warning.Group.NotExisted');
    expect(group.text).toBe('');
  });

  it('400 for a request the tunnel cannot route: no method or Url, a relative Url, bad percent-encoding', async () => {
    const id = ++ackId;
    tunnel.ws.send(
      encodeTunnelFrame({
        type: TunnelMessageType.HttpRequest,
        fields: { AckId: id, LocalRouting: true, ChannelName: '', Headers: {} },
      }),
    );
    let frame: TunnelFrame | undefined;
    for (let i = 0; i < 100 && !frame; i++) {
      await new Promise(resolve => setTimeout(resolve, 20));
      frame = tunnel.frames.find(f => f.fields.AckId === id);
    }
    expectDetail(
      answerOf(frame as TunnelFrame),
      400,
      'Error.BadRequest',
      'The tunnel request needs HttpMethod and Url',
    );
    expectDetail(
      await call('POST', `/api/hubs/${HUB}/:send`, '42'),
      400,
      'Error.BadRequest',
      `The tunnel request's Url "/api/hubs/${HUB}/:send" is not an absolute URL`,
    );
    expectDetail(
      await call('POST', `${API}/groups/%E0%A4%A/:send`, '42'),
      400,
      'Error.BadRequest',
      'Path segment "%E0%A4%A" is not valid percent-encoding',
    );
  });

  it('500 Error.InternalServerError with the message only when the emulator itself fails', async () => {
    const hubs = emulator.hubs as { addConnectionsToGroups: (...args: unknown[]) => unknown };
    const original = hubs.addConnectionsToGroups;
    hubs.addConnectionsToGroups = () => {
      throw new Error('the group store broke');
    };
    try {
      expectDetail(
        await call('POST', `${API}/:addToGroups`, '{"groups":["g"]}', 'application/json'),
        500,
        'Error.InternalServerError',
        'The emulator failed: the group store broke',
      );
    } finally {
      hubs.addConnectionsToGroups = original;
    }
    // The tunnel goes on serving.
    expect((await call('POST', `${API}/:send`, '42["after"]')).status).toBe(202);
  });

  it('records each refusal in the traffic log with its status and the error body', async () => {
    const records: { url?: string; status?: number; detail?: string; response?: unknown }[] = [];
    const unsubscribe = emulator.traffic.subscribe(record => records.push(record as never));
    try {
      await call('POST', 'https://host/api/hubs/else/:send', '42');
    } finally {
      unsubscribe();
    }
    const record = records.find(r => r.url === 'tunnel:/api/hubs/else/:send');
    expect(record).toMatchObject({
      status: 403,
      detail: `This Socket.IO tunnel serves hub "${HUB}", not "else"`,
      response: { body: expect.stringContaining('"code":"Error.Forbidden"') },
    });
  });
});
