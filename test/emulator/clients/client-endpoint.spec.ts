/**
 * The emulator's client endpoint against raw `ws` clients and a recording upstream:
 * - before the upgrade, each refusal with its status and reason: no token, expired, other key,
 *   other hub, no `exp`, garbage (401); invalid hub (400); other path (404); upstream 403/503
 *   passed on;
 * - accepted: the token as `Authorization: Bearer`, `/client/?hub=`, any scheme and the `Host` of a
 *   port mapping in the audience; anonymous clients where the hub's policy allows them;
 *   `access_token` and `Authorization` stripped from `connect`;
 * - upstream CloudEvents read by `lib/protocol`'s reader and verified with the access key (not with
 *   another); the connect answer's user, groups, roles, state and subprotocol (one the client
 *   offered) applied;
 * - simple clients: text/binary frames ↔ `message` events and replies of the same kind, in order;
 *   1011 on a failing or missing handler;
 * - JSON clients: pong, `Duplicate` for a repeated ackId, `invokeResponse`, text frames only (1003
 *   for a binary frame), 1007 for a malformed message, 1009 over 1 MB;
 * - REST sends reach simple and JSON clients with the data type of their content type; a REST close
 *   sends a `disconnected` message, code 1000 and one `disconnected` event upstream;
 * - reliable recovery: an unknown id is accepted then closed with 1008; a wrong reconnection token
 *   gets 1008; once the window is over, one `disconnected` event with the reason.
 */
import { SignJWT } from 'jose';
import { readEventHeaders, SignatureVerifier } from '../../../lib/protocol/index.js';
import {
  EMULATOR_ACCESS_KEY,
  startEmulator,
  type RunningEmulator,
} from '../../../lib/emulator/index.js';
import { waitFor } from '../../utils/wait.js';
import {
  clientUrl,
  FAST_TIMINGS,
  LogLines,
  RawClient,
  recordingUpstream,
  type UpstreamRequest,
} from '../harness.js';

const JSON_V1 = 'json.webpubsub.azure.v1';
const RELIABLE = 'json.reliable.webpubsub.azure.v1';

async function token(
  claims: Record<string, unknown>,
  options: { key?: string; audience?: string; expiresIn?: string | number | null } = {},
): Promise<string> {
  let jwt = new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setIssuedAt();
  if (options.audience !== undefined) jwt = jwt.setAudience(options.audience);
  if (options.expiresIn !== null) jwt = jwt.setExpirationTime(options.expiresIn ?? '1h');
  return jwt.sign(new TextEncoder().encode(options.key ?? EMULATOR_ACCESS_KEY));
}

describe('the emulator client endpoint', () => {
  let emulator: RunningEmulator;
  let upstream: Awaited<ReturnType<typeof recordingUpstream>>;
  const logs = new LogLines();
  let ws: string;
  const opened: RawClient[] = [];

  function client(
    url: string,
    protocols?: string | string[],
    headers?: Record<string, string>,
  ): RawClient {
    const raw = new RawClient(url, protocols, headers);
    opened.push(raw);
    return raw;
  }

  beforeAll(async () => {
    upstream = await recordingUpstream((request: UpstreamRequest) => {
      const event = request.headers['ce-eventname'];
      if (event === 'connect') {
        const query = JSON.parse(request.body.toString('utf8')).query as Record<string, string[]>;
        if (query.reject) return { status: Number(query.reject[0]), body: 'go away' };
        if (query.pick)
          return {
            status: 200,
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ subprotocol: query.pick[0] }),
          };
        if (query.as) {
          return {
            status: 200,
            headers: { 'content-type': 'application/json', 'ce-connectionstate': 'c3RhdGU=' },
            body: JSON.stringify({
              userId: query.as[0],
              groups: ['g1'],
              roles: ['webpubsub.sendToGroup.g1'],
            }),
          };
        }
        return { status: 204 };
      }
      if (event === 'message') {
        const text = request.body.toString('utf8');
        if (text === 'fail') return { status: 500 };
        if (text === 'nothing') return { status: 204 };
        if (request.headers['content-type'] === 'application/octet-stream') {
          return {
            status: 200,
            headers: { 'content-type': 'application/octet-stream' },
            body: Buffer.concat([request.body, Buffer.from([0xff])]),
          };
        }
        return { status: 200, headers: { 'content-type': 'text/plain' }, body: `re: ${text}` };
      }
      return { status: 200, headers: { 'content-type': 'application/json' }, body: '"ok"' };
    });
    emulator = await startEmulator({
      port: 0,
      log: logs.log,
      timings: FAST_TIMINGS,
      hubs: {
        chat: {
          eventHandlers: [
            {
              urlTemplate: `${upstream.url}/{hub}/{event}`,
              userEventPattern: 'message,ping',
              systemEvents: ['connect', 'connected', 'disconnected'],
            },
          ],
        },
        open: { anonymousConnectPolicy: 'allow' },
      },
    });
    ws = emulator.endpoint.replace('http', 'ws');
  });

  afterEach(() => {
    for (const raw of opened.splice(0)) raw.ws.terminate();
  });

  afterAll(async () => {
    await emulator?.close();
    await upstream?.close();
  });

  describe('refuses before the upgrade, saying why', () => {
    const cases: [string, () => Promise<string>, number, RegExp][] = [
      [
        'no token',
        async () => `${ws}/client/hubs/chat`,
        401,
        /no access token \(access_token query parameter or Authorization: Bearer\)/,
      ],
      [
        'an expired token',
        async () =>
          `${ws}/client/hubs/chat?access_token=${await token({}, { audience: `${emulator.endpoint}/client/hubs/chat`, expiresIn: Math.floor(Date.now() / 1000) - 600 })}`,
        401,
        /expired \d+ s ago/,
      ],
      [
        'a token signed with another key',
        async () =>
          `${ws}/client/hubs/chat?access_token=${await token({}, { key: 'other', audience: `${emulator.endpoint}/client/hubs/chat` })}`,
        401,
        /signature does not match/,
      ],
      [
        'a token for another hub',
        async () =>
          `${ws}/client/hubs/chat?access_token=${await token({}, { audience: `${emulator.endpoint}/client/hubs/other` })}`,
        401,
        /another audience: expected 127\.0\.0\.1:\d+\/client\/hubs\/chat \(any scheme\)/,
      ],
      [
        'a token without exp',
        async () =>
          `${ws}/client/hubs/chat?access_token=${await token({}, { audience: `${emulator.endpoint}/client/hubs/chat`, expiresIn: null })}`,
        401,
        /no exp claim/,
      ],
      [
        'garbage',
        async () => `${ws}/client/hubs/chat?access_token=abc`,
        401,
        /not a well-formed JWT/,
      ],
      [
        'an invalid hub name',
        async () => `${ws}/client/hubs/9chat`,
        400,
        /"9chat" is not a valid hub name/,
      ],
      ['another path', async () => `${ws}/elsewhere`, 404, /.*/],
      [
        'a connect the upstream refuses (403)',
        async () => `${await clientUrl(emulator.connectionString, 'chat')}&reject=403`,
        403,
        /go away/,
      ],
      [
        'a connect the upstream fails (503)',
        async () => `${await clientUrl(emulator.connectionString, 'chat')}&reject=503`,
        503,
        /go away/,
      ],
    ];
    it.each(cases)('%s', async (_name, url, status, body) => {
      const raw = client(await url());
      await expect(raw.opened).rejects.toMatchObject({ status, body: expect.stringMatching(body) });
    });
  });

  it('accepts the token in Authorization: Bearer, /client/?hub=, any scheme in the audience, the Host of a port mapping', async () => {
    const aud = `wss://public.example:8443/client/hubs/chat`;
    const bearer = client(`${ws}/client/?hub=CHAT`, undefined, {
      authorization: `Bearer ${await token({ sub: 'bearer' }, { audience: aud })}`,
      host: 'public.example:8443',
    });
    await bearer.opened;
    const connect = upstream.events('connect').at(-1) as UpstreamRequest;
    const body = JSON.parse(connect.body.toString('utf8'));
    expect(body.claims.sub).toEqual(['bearer']);
    expect(body.headers.authorization ?? body.headers.Authorization).toBeUndefined();
    expect(body.query.access_token).toBeUndefined();
    expect(connect.headers['ce-hub']).toBe('chat');
  });

  it('lets anonymous clients into a hub whose policy allows them', async () => {
    const raw = client(`${ws}/client/hubs/open`, JSON_V1);
    await raw.opened;
    await waitFor(() => raw.messages().length === 1);
    expect(raw.messages()[0]).toEqual({
      type: 'system',
      event: 'connected',
      userId: null,
      connectionId: expect.any(String),
    });
  });

  it('sends CloudEvents the module reads, signed with the access key, with state from the connect answer', async () => {
    const url = `${await clientUrl(emulator.connectionString, 'chat', { userId: 'token-user', groups: ['from-token'] })}&as=answer-user`;
    const raw = client(url, [RELIABLE, JSON_V1]);
    await raw.opened;
    expect(raw.ws.protocol).toBe(RELIABLE);
    await waitFor(() => raw.messages().length === 1);
    const { connectionId, userId, reconnectionToken } = raw.messages()[0];
    expect(userId).toBe('answer-user');
    expect(typeof reconnectionToken).toBe('string');
    await waitFor(() =>
      upstream.events('connected').some(event => event.headers['ce-connectionid'] === connectionId),
    );
    const connected = upstream
      .events('connected')
      .find(event => event.headers['ce-connectionid'] === connectionId) as UpstreamRequest;
    const headers = readEventHeaders(connected.headers);
    expect(headers).toMatchObject({
      kind: 'connected',
      hub: 'chat',
      connectionId,
      userId: 'answer-user',
      subprotocol: RELIABLE,
      connectionState: 'c3RhdGU=',
      origin: '127.0.0.1',
      awpsVersion: '1.0',
      source: `/hubs/chat/client/${connectionId}`,
      id: '1',
    });
    expect(connected.url).toBe('/chat/connected');
    expect(
      new SignatureVerifier([EMULATOR_ACCESS_KEY]).verify(connectionId, headers.signature),
    ).toBe(true);
    expect(new SignatureVerifier(['another key']).verify(connectionId, headers.signature)).toBe(
      false,
    );
    // Groups and roles from the connect answer apply.
    expect(emulator.hubs.groupExists('chat', 'g1')).toBe(true);
    expect(emulator.hubs.groupExists('chat', 'from-token')).toBe(true);
    raw.send({
      type: 'sendToGroup',
      group: 'g1',
      ackId: 1,
      dataType: 'text',
      data: 'hi',
      noEcho: false,
    });
    raw.send({
      type: 'sendToGroup',
      group: 'g2',
      ackId: 2,
      dataType: 'text',
      data: 'hi',
      noEcho: false,
    });
    await waitFor(() => raw.messages().filter(m => m.type === 'ack').length === 2);
    expect(raw.messages().filter(m => m.type !== 'system')).toEqual([
      {
        type: 'message',
        from: 'group',
        group: 'g1',
        dataType: 'text',
        data: 'hi',
        fromUserId: 'answer-user',
        sequenceId: 1,
      },
      { type: 'ack', ackId: 1, success: true },
      {
        type: 'ack',
        ackId: 2,
        success: false,
        error: { name: 'Forbidden', message: expect.stringContaining('g2') },
      },
    ]);
  });

  it('echoes the subprotocol a connect handler picks among those offered', async () => {
    const raw = client(`${await clientUrl(emulator.connectionString, 'chat')}&pick=mine`, [
      'theirs',
      'mine',
    ]);
    await raw.opened;
    expect(raw.ws.protocol).toBe('mine');
  });

  describe('simple clients (no subprotocol)', () => {
    it('turn every frame into a message event and get the reply as a frame of the same kind', async () => {
      const raw = client(await clientUrl(emulator.connectionString, 'chat', { userId: 'simple' }));
      await raw.opened;
      raw.ws.send('hello');
      raw.ws.send(Buffer.from([1, 2]));
      raw.ws.send('nothing');
      raw.ws.send('after');
      await waitFor(() => raw.frames.length === 3);
      expect(raw.frames).toEqual([
        { data: 're: hello', binary: false },
        { data: Buffer.from([1, 2, 0xff]), binary: true },
        { data: 're: after', binary: false },
      ]);
      const contentTypes = upstream
        .events('message')
        .slice(-4)
        .map(event => event.headers['content-type']);
      expect(contentTypes).toEqual([
        'text/plain; charset=utf-8',
        'application/octet-stream',
        'text/plain; charset=utf-8',
        'text/plain; charset=utf-8',
      ]);
    });

    it('are closed with 1011 when the upstream fails', async () => {
      const raw = client(await clientUrl(emulator.connectionString, 'chat'));
      await raw.opened;
      raw.ws.send('fail');
      expect(await raw.done).toEqual({ code: 1011, reason: expect.stringContaining('500') });
    });

    it('are closed with 1011 when no handler takes message events', async () => {
      const raw = client(await clientUrl(emulator.connectionString, 'open'));
      await raw.opened;
      raw.ws.send('anyone?');
      expect(await raw.done).toEqual({
        code: 1011,
        reason: expect.stringContaining('no event handler'),
      });
    });
  });

  describe('JSON clients', () => {
    async function jsonClient(): Promise<RawClient> {
      const raw = client(
        await clientUrl(emulator.connectionString, 'chat', { roles: ['webpubsub.joinLeaveGroup'] }),
        JSON_V1,
      );
      await raw.opened;
      await waitFor(() => raw.messages().length === 1);
      return raw;
    }

    it('answer ping with pong, a repeated ackId with Duplicate, invoke with invokeResponse', async () => {
      const raw = await jsonClient();
      raw.send({ type: 'ping' });
      raw.send({ type: 'joinGroup', group: 'x', ackId: 5 });
      raw.send({ type: 'joinGroup', group: 'x', ackId: 5 });
      raw.send({
        type: 'invoke',
        invocationId: '1',
        target: 'event',
        event: 'ping',
        dataType: 'text',
        data: 'q',
      });
      raw.send({
        type: 'invoke',
        invocationId: '2',
        target: 'event',
        event: 'unhandled',
        dataType: 'text',
        data: 'q',
      });
      await waitFor(() => raw.messages().length === 6);
      expect(raw.messages().slice(1)).toEqual([
        { type: 'pong' },
        { type: 'ack', ackId: 5, success: true },
        {
          type: 'ack',
          ackId: 5,
          success: false,
          error: { name: 'Duplicate', message: 'Message with ack-id: 5 has been processed' },
        },
        { type: 'invokeResponse', invocationId: '1', success: true, dataType: 'json', data: 'ok' },
        {
          type: 'invokeResponse',
          invocationId: '2',
          success: false,
          error: {
            name: 'InternalServerError',
            message: expect.stringContaining('no event handler'),
          },
        },
      ]);
      expect(raw.frames.every(frame => !frame.binary)).toBe(true);
    });

    it('are closed with 1003 for a binary frame and 1007 for a malformed message', async () => {
      const binary = await jsonClient();
      binary.ws.send(Buffer.from('{}'));
      expect(await binary.done).toEqual({
        code: 1003,
        reason: expect.stringContaining('text frames'),
      });
      const malformed = await jsonClient();
      malformed.send('{"type":"joinGroup"}');
      expect(await malformed.done).toEqual({
        code: 1007,
        reason: expect.stringContaining('group'),
      });
      expect(malformed.messages().at(-1)).toEqual({
        type: 'system',
        event: 'disconnected',
        message: expect.stringContaining('malformed'),
      });
    });

    it('are closed with 1009 for a frame over 1 MB', async () => {
      const raw = await jsonClient();
      raw.send({
        type: 'event',
        event: 'message',
        dataType: 'text',
        data: 'x'.repeat(1024 * 1024 + 1),
      });
      expect((await raw.done).code).toBe(1009);
    });
  });

  describe('messages from the service side (REST sends, closes)', () => {
    it('reach simple and JSON clients with the data type of their content type', async () => {
      const simple = client(await clientUrl(emulator.connectionString, 'chat', { userId: 'both' }));
      const json = client(
        await clientUrl(emulator.connectionString, 'chat', { userId: 'both' }),
        JSON_V1,
      );
      await Promise.all([simple.opened, json.opened]);
      await waitFor(() => json.messages().length === 1);
      const send = (dataType: 'text' | 'json' | 'binary', data: Buffer) =>
        emulator.hubs.sendToUser('chat', 'both', { dataType, data });
      send('text', Buffer.from('plain'));
      send('json', Buffer.from('"Hello"'));
      send('binary', Buffer.from([0, 1, 2]));
      await waitFor(() => simple.frames.length === 3 && json.messages().length === 4);
      expect(simple.frames).toEqual([
        { data: 'plain', binary: false },
        { data: '"Hello"', binary: false },
        { data: Buffer.from([0, 1, 2]), binary: true },
      ]);
      expect(json.messages().slice(1)).toEqual([
        { type: 'message', from: 'server', dataType: 'text', data: 'plain' },
        { type: 'message', from: 'server', dataType: 'json', data: 'Hello' },
        { type: 'message', from: 'server', dataType: 'binary', data: 'AAEC' },
      ]);
    });

    it('close a connection with a disconnected message, code 1000 and one disconnected event upstream', async () => {
      const json = client(await clientUrl(emulator.connectionString, 'chat'), JSON_V1);
      await json.opened;
      await waitFor(() => json.messages().length === 1);
      const { connectionId } = json.messages()[0];
      emulator.hubs.closeConnection('chat', connectionId, 'bye now');
      expect(await json.done).toEqual({ code: 1000, reason: 'bye now' });
      expect(json.messages().at(-1)).toEqual({
        type: 'system',
        event: 'disconnected',
        message: 'bye now',
      });
      await waitFor(() =>
        upstream.events('disconnected').some(e => e.headers['ce-connectionid'] === connectionId),
      );
      const events = upstream
        .events('disconnected')
        .filter(e => e.headers['ce-connectionid'] === connectionId);
      expect(events.map(e => JSON.parse(e.body.toString('utf8')))).toEqual([{ reason: 'bye now' }]);
    });
  });

  describe('reliable recovery', () => {
    it('accepts then closes with 1008 a recovery it cannot honour', async () => {
      const url = `${await clientUrl(emulator.connectionString, 'chat')}&awps_connection_id=unknown&awps_reconnection_token=x`;
      const raw = client(url, RELIABLE);
      await raw.opened;
      expect(raw.ws.protocol).toBe(RELIABLE);
      expect(await raw.done).toEqual({
        code: 1008,
        reason: expect.stringContaining('cannot be recovered'),
      });
    });

    it('refuses a wrong reconnection token, then ends the connection after the window with one disconnected event', async () => {
      const url = await clientUrl(emulator.connectionString, 'chat');
      const first = client(url, RELIABLE);
      await first.opened;
      await waitFor(() => first.messages().length === 1);
      const { connectionId } = first.messages()[0];
      first.ws.terminate();
      await waitFor(() => logs.matching(new RegExp(`${connectionId} dropped`)).length === 1);
      const wrong = client(
        `${url}&awps_connection_id=${connectionId}&awps_reconnection_token=wrong`,
        RELIABLE,
      );
      expect(await wrong.done).toEqual({ code: 1008, reason: expect.stringContaining('token') });
      expect(emulator.hubs.connectionExists('chat', connectionId)).toBe(true);
      await waitFor(
        () =>
          upstream
            .events('disconnected')
            .some(event => event.headers['ce-connectionid'] === connectionId),
        5000,
      );
      const disconnected = upstream
        .events('disconnected')
        .filter(event => event.headers['ce-connectionid'] === connectionId);
      expect(disconnected).toHaveLength(1);
      expect(JSON.parse(disconnected[0].body.toString('utf8'))).toEqual({
        reason: expect.stringContaining('recovery window'),
      });
      expect(emulator.hubs.connectionExists('chat', connectionId)).toBe(false);
    });
  });
});
