/**
 * The traps of the service's client side and upstream calls that the other emulator specs leave out
 * (docs/emulator-reference.md §1–§4), each against a raw `ws` client and a recording upstream:
 * - `new WebPubSubServiceClient(emulator.connectionString, hub)` gives a working client URL
 *   unchanged; its `sendToAll` over `http://` is refused by the SDK (`allowInsecureConnection`),
 *   with the flag a `sendToUser` arrives;
 * - `anonymousConnectPolicy: 'deny'` → 401 without a token, `'allow'` (hub `ANON` matching `Anon`)
 *   connects with `userId: null` yet a bad token is still 401; an unconfigured hub accepts a token
 *   holder (no upstream call, an `InternalServerError` ack for an event); hub names outside the
 *   pattern in `/client/?hub=` or the path (`1abc`, 129 characters, a space) → 400, no hub → 400;
 * - `connect` gets the query without `access_token` (`room=a&room=b` kept in order), the headers
 *   without `Authorization`, custom claims as string lists (`tenant`, `levels: ['1','2']`); a token
 *   expired 60 s ago connects (5 min skew);
 * - subprotocols: a connect handler's pick the client did not offer → 500 naming it; two unknown
 *   names and no pick → 400; protobuf-only offers accepted with the protobuf subprotocol (reliable
 *   preferred) and a binary `connected` frame; protobuf beside JSON → JSON chosen;
 * - a simple client's empty `200` reply sends no frame; an `application/json` reply `"quoted"`
 *   arrives as that text frame, quotes kept; `noEcho: true` keeps the message from its sender only;
 *   a client `sendToGroup` never goes upstream;
 * - a `Forbidden` ackId reused after a REST grant runs and succeeds; reused again → `Duplicate`,
 *   not executed; `Forbidden` without ackId: no ack, no delivery; a 1024-character group joins,
 *   1025 → 1007;
 * - `invoke` of a handler answering octet-stream → `invokeResponse` `dataType: binary`, `data:
 *   AQID`; of a handler answering 500 → `success: false`, `InternalServerError` `the event handler
 *   answered 500` (its body not passed on);
 * - a stream open → `streamAck` (expected 1) and its ack; data for an unknown stream →
 *   `streamClosed` `StreamNotFound`; `subscribeGroupState` → `BadRequest`; `cancelInvocation`
 *   ignored, socket open;
 * - reliable: ids 1, 2 then, after a drop and a recovery, `connected` again (same id and token),
 *   the unacked 2 replayed and 3, 4 continuing; no upstream event for the recovery; groups, roles
 *   and state survive it; a recovery with the token while the old socket is still open takes over
 *   (old socket 1006), a wrong token leaves it alone (1008);
 * - `ce-connectionState`: absent keeps, empty clears, a failing answer's is ignored; every `ce-*`
 *   header of a user event, `WebHook-Request-Origin`, one `OPTIONS` handshake for all events of the
 *   file.
 *
 * Broken on purpose: without the protobuf check, the takeover, the `access_token` redaction or the
 * success-only `Duplicate` rule, the matching test fails.
 */
import { WebPubSubServiceClient } from '@azure/web-pubsub';
import { SignJWT } from 'jose';
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
const HUB = 'traps';

describe('emulator traps (reference §1–§4)', () => {
  let emulator: RunningEmulator;
  let upstream: Awaited<ReturnType<typeof recordingUpstream>>;
  const logs = new LogLines();
  const opened: RawClient[] = [];

  beforeAll(async () => {
    upstream = await recordingUpstream((request: UpstreamRequest) => {
      const event = request.headers['ce-eventname'];
      const text = request.body.toString('utf8');
      if (event === 'connect') {
        const query = JSON.parse(text).query as Record<string, string[]>;
        if (query.pick) {
          return {
            status: 200,
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ subprotocol: query.pick[0] }),
          };
        }
        return { status: 204 };
      }
      if (event === 'setstate') return { status: 204, headers: { 'ce-connectionstate': 'c2V0' } };
      if (event === 'clearstate') return { status: 204, headers: { 'ce-connectionstate': '' } };
      if (event === 'failstate')
        return { status: 500, headers: { 'ce-connectionstate': 'ZmFpbA==' } };
      if (event === 'boom') return { status: 500, body: 'handler stack trace' };
      if (event === 'answer')
        return {
          status: 200,
          headers: { 'content-type': 'application/octet-stream' },
          body: Buffer.from([1, 2, 3]),
        };
      if (event === 'message' && text === 'json')
        return { status: 200, headers: { 'content-type': 'application/json' }, body: '"quoted"' };
      if (event === 'message' && text === 'empty200')
        return { status: 200, headers: { 'content-type': 'text/plain' } };
      if (event === 'message')
        return { status: 200, headers: { 'content-type': 'text/plain' }, body: `re: ${text}` };
      return { status: 204 };
    });
    emulator = await startEmulator({
      port: 0,
      log: logs.log,
      timings: FAST_TIMINGS,
      hubs: {
        denied: { anonymousConnectPolicy: 'deny' },
        Anon: { anonymousConnectPolicy: 'allow' },
        [HUB]: {
          eventHandlers: [
            {
              urlTemplate: `${upstream.url}/{event}`,
              userEventPattern: '*',
              systemEvents: ['connect', 'connected', 'disconnected'],
            },
          ],
        },
      },
    });
  });

  afterEach(() => {
    for (const raw of opened.splice(0)) raw.ws.terminate();
  });

  afterAll(async () => {
    await emulator?.close();
    await upstream?.close();
  });

  function client(url: string, protocols?: string | string[]): RawClient {
    const raw = new RawClient(url, protocols);
    opened.push(raw);
    return raw;
  }

  async function jsonClient(
    options: { userId?: string; roles?: string[] } = {},
    protocol = JSON_V1,
  ): Promise<{ raw: RawClient; connectionId: string; url: string }> {
    const url = await clientUrl(emulator.connectionString, HUB, options);
    const raw = client(url, protocol);
    await raw.opened;
    await waitFor(() => raw.messages().length === 1);
    const connectionId = raw.messages()[0].connectionId as string;
    // The non-blocking connected event has reached the upstream: later counts are stable.
    await waitFor(() =>
      upstream.events('connected').some(e => e.headers['ce-connectionid'] === connectionId),
    );
    return { raw, connectionId, url };
  }

  const acks = (raw: RawClient) => raw.messages().filter(message => message.type === 'ack');
  const eventsOf = (connectionId: string) =>
    upstream.requests.filter(request => request.headers['ce-connectionid'] === connectionId);

  async function signed(claims: Record<string, unknown>, expiresAt?: number): Promise<string> {
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuedAt()
      .setAudience(`${emulator.endpoint}/client/hubs/${HUB}`)
      .setExpirationTime(expiresAt ?? '1h')
      .sign(new TextEncoder().encode(EMULATOR_ACCESS_KEY));
  }

  describe('tokens and the connect event', () => {
    it('passes the query without access_token, the headers without Authorization, and custom claims', async () => {
      const token = await signed({
        sub: 'ann',
        role: 'webpubsub.sendToGroup',
        'webpubsub.group': ['g'],
        tenant: 'contoso',
        levels: [1, 2],
      });
      const raw = client(
        `${emulator.endpoint.replace('http', 'ws')}/client/hubs/${HUB}?room=a&access_token=${token}&room=b`,
      );
      await raw.opened;
      const connect = upstream.events('connect').at(-1) as UpstreamRequest;
      const body = JSON.parse(connect.body.toString('utf8'));
      expect(body.query).toEqual({ room: ['a', 'b'] });
      expect(Object.keys(body.headers).map(name => name.toLowerCase())).not.toContain(
        'authorization',
      );
      expect(body.claims).toMatchObject({
        sub: ['ann'],
        role: ['webpubsub.sendToGroup'],
        'webpubsub.group': ['g'],
        tenant: ['contoso'],
        levels: ['1', '2'],
      });
      expect(connect.headers['ce-userid']).toBe('ann');
      expect(emulator.hubs.groupExists(HUB, 'g')).toBe(true);
    });

    it('tolerates 5 minutes of clock skew on exp (a token expired 60 s ago still connects)', async () => {
      const raw = client(
        `${emulator.endpoint.replace('http', 'ws')}/client/hubs/${HUB}?access_token=${await signed({}, Math.floor(Date.now() / 1000) - 60)}`,
      );
      await expect(raw.opened).resolves.toBeUndefined();
    });
  });

  it('the connection string works unchanged with WebPubSubServiceClient for tokens; its REST calls over http:// need allowInsecureConnection', async () => {
    const plain = new WebPubSubServiceClient(emulator.connectionString, HUB);
    const { url } = await plain.getClientAccessToken({ userId: 'sdk' });
    expect(
      url.startsWith(`${emulator.endpoint.replace('http', 'ws')}/client/hubs/${HUB}?access_token=`),
    ).toBe(true);
    const raw = client(url, JSON_V1);
    await raw.opened;
    await waitFor(() => raw.messages().length === 1);
    await expect(plain.sendToAll('x', { contentType: 'text/plain' })).rejects.toThrow(
      /allowInsecureConnection/,
    );
    const insecure = new WebPubSubServiceClient(emulator.connectionString, HUB, {
      allowInsecureConnection: true,
    });
    await insecure.sendToUser('sdk', 'over http', { contentType: 'text/plain' });
    await waitFor(() => raw.messages().length === 2);
    expect(raw.messages()[1]).toEqual({
      type: 'message',
      from: 'server',
      dataType: 'text',
      data: 'over http',
    });
  });

  describe('hubs and anonymous clients', () => {
    const ws = () => emulator.endpoint.replace('http', 'ws');

    it("anonymousConnectPolicy 'deny' refuses a client without a token (401); 'allow' (any hub case) accepts it but still checks a token it is given", async () => {
      await expect(client(`${ws()}/client/hubs/denied`, JSON_V1).opened).rejects.toMatchObject({
        status: 401,
        body: expect.stringContaining('no access token'),
      });
      const anonymous = client(`${ws()}/client/?hub=ANON`, JSON_V1);
      await anonymous.opened;
      await waitFor(() => anonymous.messages().length === 1);
      expect(anonymous.messages()[0]).toMatchObject({ event: 'connected', userId: null });
      await expect(
        client(`${ws()}/client/hubs/anon?access_token=not.a.jwt`, JSON_V1).opened,
      ).rejects.toMatchObject({ status: 401, body: expect.stringContaining('JWT') });
    });

    it('a hub that is not configured accepts clients with a token, with no event handler', async () => {
      const raw = client(
        await clientUrl(emulator.connectionString, 'Unlisted', { userId: 'u' }),
        JSON_V1,
      );
      await raw.opened;
      await waitFor(() => raw.messages().length === 1);
      raw.send({ type: 'event', event: 'hello', ackId: 1, dataType: 'text', data: 'x' });
      await waitFor(() => acks(raw).length === 1);
      expect(acks(raw)[0]).toMatchObject({
        success: false,
        error: {
          name: 'InternalServerError',
          message: expect.stringContaining('no event handler'),
        },
      });
      expect(emulator.hubs.userExists('unlisted', 'u')).toBe(true);
      expect(upstream.requests.filter(r => r.headers['ce-hub'] === 'unlisted')).toEqual([]);
    });

    it('refuses a hub name outside the service pattern in either URL form (400)', async () => {
      for (const path of [
        '/client/?hub=1abc',
        `/client/hubs/${'a'.repeat(129)}`,
        '/client/?hub=a%20b',
      ]) {
        await expect(client(`${ws()}${path}`).opened).rejects.toMatchObject({
          status: 400,
          body: expect.stringContaining('is not a valid hub name'),
        });
      }
      await expect(client(`${ws()}/client/`).opened).rejects.toMatchObject({
        status: 400,
        body: expect.stringContaining('no hub'),
      });
    });
  });

  describe('subprotocol negotiation', () => {
    it("refuses a connect handler's pick the client did not offer (500, naming it)", async () => {
      const raw = client(`${await clientUrl(emulator.connectionString, HUB)}&pick=other`, [
        'mine',
        'yours',
      ]);
      await expect(raw.opened).rejects.toMatchObject({
        status: 500,
        body: expect.stringContaining(
          'chose the subprotocol "other", which the client did not offer',
        ),
      });
    });

    it('refuses several unknown subprotocols when no connect handler picks one (400)', async () => {
      const raw = client(await clientUrl(emulator.connectionString, HUB), ['mine', 'yours']);
      await expect(raw.opened).rejects.toMatchObject({
        status: 400,
        body: expect.stringContaining('a connect handler must choose one'),
      });
    });

    it('accepts protobuf-only clients with the protobuf subprotocol (reliable preferred); beside JSON, JSON is chosen', async () => {
      const url = `${await clientUrl(emulator.connectionString, HUB)}&marker=protobuf-only`;
      for (const [offered, chosen] of [
        ['protobuf.webpubsub.azure.v1', 'protobuf.webpubsub.azure.v1'],
        [
          ['protobuf.webpubsub.azure.v1', 'protobuf.reliable.webpubsub.azure.v1'],
          'protobuf.reliable.webpubsub.azure.v1',
        ],
      ] as const) {
        const raw = client(url, offered as string | string[]);
        await raw.opened;
        expect(raw.ws.protocol).toBe(chosen);
        // The first frame is a binary DownstreamMessage (connected), not JSON text.
        await waitFor(() => raw.frames.length === 1);
        expect(raw.frames[0].binary).toBe(true);
        raw.ws.close();
      }
      expect(
        upstream.events('connect').filter(e => e.body.toString('utf8').includes('protobuf-only')),
      ).toHaveLength(2);
      const both = client(url, ['protobuf.webpubsub.azure.v1', JSON_V1]);
      await both.opened;
      expect(both.ws.protocol).toBe(JSON_V1);
    });
  });

  it('simple client: an empty 200 reply sends no frame; a JSON reply is a text frame, quotes kept', async () => {
    const raw = client(await clientUrl(emulator.connectionString, HUB));
    await raw.opened;
    raw.ws.send('empty200');
    raw.ws.send('json');
    raw.ws.send('after');
    await waitFor(() => raw.frames.length === 2);
    expect(raw.frames).toEqual([
      { data: '"quoted"', binary: false },
      { data: 're: after', binary: false },
    ]);
  });

  describe('JSON clients', () => {
    it('noEcho: true keeps a group message from its sender; the other members get it', async () => {
      const roles = ['webpubsub.joinLeaveGroup', 'webpubsub.sendToGroup'];
      const sender = await jsonClient({ userId: 's', roles });
      const member = await jsonClient({ userId: 'm', roles });
      for (const { raw } of [sender, member])
        raw.send({ type: 'joinGroup', group: 'echo', ackId: 1 });
      await waitFor(() => acks(sender.raw).length === 1 && acks(member.raw).length === 1);
      const send = (ackId: number, noEcho: boolean) =>
        sender.raw.send({
          type: 'sendToGroup',
          group: 'echo',
          ackId,
          noEcho,
          dataType: 'text',
          data: `noEcho=${noEcho}`,
        });
      send(2, true);
      send(3, false);
      await waitFor(() => acks(sender.raw).length === 3);
      await waitFor(() => member.raw.messages().filter(m => m.type === 'message').length === 2);
      const data = (raw: RawClient) =>
        raw
          .messages()
          .filter(m => m.type === 'message')
          .map(m => m.data);
      expect(data(member.raw)).toEqual(['noEcho=true', 'noEcho=false']);
      expect(data(sender.raw)).toEqual(['noEcho=false']);
      // A client's sendToGroup never goes upstream.
      expect(eventsOf(sender.connectionId).map(e => e.headers['ce-eventname'])).toEqual([
        'connect',
        'connected',
      ]);
    });

    it('Duplicate only for an ackId that succeeded: a refused ackId runs again when reused', async () => {
      const { raw, connectionId } = await jsonClient({ userId: 'dup' });
      raw.send({ type: 'joinGroup', group: 'later', ackId: 7 });
      await waitFor(() => acks(raw).length === 1);
      expect(acks(raw)[0]).toMatchObject({
        ackId: 7,
        success: false,
        error: { name: 'Forbidden' },
      });
      emulator.hubs.grantPermission(HUB, connectionId, 'joinLeaveGroup', 'later');
      raw.send({ type: 'joinGroup', group: 'later', ackId: 7 });
      raw.send({ type: 'leaveGroup', group: 'later', ackId: 7 });
      await waitFor(() => acks(raw).length === 3);
      expect(acks(raw).slice(1)).toEqual([
        { type: 'ack', ackId: 7, success: true },
        {
          type: 'ack',
          ackId: 7,
          success: false,
          error: { name: 'Duplicate', message: 'Message with ack-id: 7 has been processed' },
        },
      ]);
      // The duplicate leaveGroup was not executed.
      expect(emulator.hubs.groupExists(HUB, 'later')).toBe(true);
    });

    it('Forbidden without an ackId is silent and does nothing', async () => {
      const member = await jsonClient({
        userId: 'member',
        roles: ['webpubsub.joinLeaveGroup.quiet'],
      });
      member.raw.send({ type: 'joinGroup', group: 'quiet', ackId: 1 });
      await waitFor(() => acks(member.raw).length === 1);
      const { raw } = await jsonClient({ userId: 'nobody' });
      raw.send({ type: 'joinGroup', group: 'quiet' });
      raw.send({ type: 'sendToGroup', group: 'quiet', noEcho: false, dataType: 'text', data: 'x' });
      // Messages run in order: this ack comes after both were handled.
      raw.send({ type: 'leaveGroup', group: 'quiet', ackId: 9 });
      await waitFor(() => acks(raw).length === 1);
      expect(raw.messages().slice(1)).toEqual([
        {
          type: 'ack',
          ackId: 9,
          success: false,
          error: { name: 'Forbidden', message: expect.stringContaining('quiet') },
        },
      ]);
      expect(member.raw.messages().filter(m => m.type === 'message')).toEqual([]);
      expect(raw.closed).toBeUndefined();
    });

    it('a group name over 1024 characters closes the socket with 1007 naming the rule; 1024 passes', async () => {
      const { raw } = await jsonClient({ roles: ['webpubsub.joinLeaveGroup'] });
      raw.send({ type: 'joinGroup', group: 'g'.repeat(1024), ackId: 1 });
      await waitFor(() => acks(raw).length === 1);
      expect(acks(raw)[0]).toEqual({ type: 'ack', ackId: 1, success: true });
      raw.send({ type: 'joinGroup', group: 'g'.repeat(1025), ackId: 2 });
      expect(await raw.done).toEqual({
        code: 1007,
        reason: expect.stringContaining('longer than 1024 characters'),
      });
    });

    it('answers invoke with invokeResponse: the reply with its data type, or InternalServerError for a failing handler (no body leaked)', async () => {
      const { raw } = await jsonClient();
      raw.send({
        type: 'invoke',
        invocationId: 'a',
        target: 'event',
        event: 'answer',
        dataType: 'text',
        data: 'q',
      });
      raw.send({ type: 'invoke', invocationId: 'b', target: 'event', event: 'boom' });
      await waitFor(() => raw.messages().length === 3);
      expect(raw.messages().slice(1)).toEqual([
        {
          type: 'invokeResponse',
          invocationId: 'a',
          success: true,
          dataType: 'binary',
          data: 'AQID',
        },
        {
          type: 'invokeResponse',
          invocationId: 'b',
          success: false,
          error: { name: 'InternalServerError', message: 'the event handler answered 500' },
        },
      ]);
      expect(raw.closed).toBeUndefined();
    });

    it('answers every stream message (open, unknown stream) and group-state messages (BadRequest), ignores cancelInvocation, and stays open', async () => {
      const { raw } = await jsonClient({ roles: ['webpubsub.sendToGroup'] });
      raw.send({ type: 'sendToGroup', group: 'g', ackId: 1, stream: { streamId: 's1' } });
      raw.send({
        type: 'streamData',
        streamId: 'nope',
        streamSequenceId: 1,
        dataType: 'text',
        data: 'x',
      });
      raw.send({ type: 'subscribeGroupState', group: 'g', ackId: 2 });
      raw.send({ type: 'cancelInvocation', invocationId: '1' });
      raw.send({ type: 'event', event: 'after', ackId: 3, dataType: 'text', data: 'x' });
      await waitFor(() => acks(raw).length === 3);
      expect(raw.messages().slice(1)).toEqual([
        { type: 'streamAck', streamId: 's1', expectedSequenceId: 1 },
        { type: 'ack', ackId: 1, success: true },
        {
          type: 'streamClosed',
          streamId: 'nope',
          error: { name: 'StreamNotFound', message: expect.stringContaining('is not open') },
        },
        {
          type: 'ack',
          ackId: 2,
          success: false,
          error: { name: 'BadRequest', message: expect.stringContaining('subscribeGroupState') },
        },
        { type: 'ack', ackId: 3, success: true },
      ]);
      expect(raw.closed).toBeUndefined();
    });
  });

  it('reliable: sequence ids start at 1 and continue across a recovery, which replays the unacked in order and fires no event', async () => {
    const { raw, connectionId, url } = await jsonClient({ userId: 'rel' }, RELIABLE);
    const { reconnectionToken } = raw.messages()[0];
    const send = (text: string) =>
      emulator.hubs.sendToConnection(HUB, connectionId, {
        dataType: 'text',
        data: Buffer.from(text),
      });
    send('one');
    send('two');
    await waitFor(() => raw.messages().length === 3);
    raw.send({ type: 'sequenceAck', sequenceId: 1 });
    raw.send({ type: 'ping' });
    await waitFor(() => raw.messages().some(m => m.type === 'pong'));
    raw.ws.terminate();
    await waitFor(() => logs.matching(new RegExp(`${connectionId} dropped`)).length === 1);
    send('three');
    const eventsBefore = eventsOf(connectionId).length;
    const back = client(
      `${url}&awps_connection_id=${connectionId}&awps_reconnection_token=${reconnectionToken}`,
      RELIABLE,
    );
    await back.opened;
    await waitFor(() => back.messages().length === 3);
    send('four');
    await waitFor(() => back.messages().length === 4);
    const data = (client: RawClient) =>
      client.messages().map(m => (m.type === 'message' ? [m.sequenceId, m.data] : m.type));
    expect(data(raw)).toEqual(['system', [1, 'one'], [2, 'two'], 'pong']);
    // `connected` again (same id and token) before the replay: the client resumes its streams on it.
    expect(data(back)).toEqual(['system', [2, 'two'], [3, 'three'], [4, 'four']]);
    expect(back.messages()[0]).toMatchObject({
      event: 'connected',
      connectionId,
      reconnectionToken,
    });
    expect(eventsOf(connectionId).length).toBe(eventsBefore);
    expect(eventsOf(connectionId).map(e => e.headers['ce-eventname'])).toEqual([
      'connect',
      'connected',
    ]);
  });

  it('reliable: groups, roles and connection state survive a dropped socket', async () => {
    const { raw, connectionId, url } = await jsonClient(
      { userId: 'keeper', roles: ['webpubsub.sendToGroup.kept'] },
      RELIABLE,
    );
    const { reconnectionToken } = raw.messages()[0];
    emulator.hubs.addConnectionToGroup(HUB, 'kept', connectionId);
    raw.send({ type: 'event', event: 'setstate', ackId: 1, dataType: 'text', data: 'x' });
    await waitFor(() => acks(raw).length === 1);
    raw.ws.terminate();
    await waitFor(() => logs.matching(new RegExp(`${connectionId} dropped`)).length === 1);
    const back = client(
      `${url}&awps_connection_id=${connectionId}&awps_reconnection_token=${reconnectionToken}`,
      RELIABLE,
    );
    await back.opened;
    back.send({
      type: 'sendToGroup',
      group: 'kept',
      ackId: 2,
      noEcho: false,
      dataType: 'text',
      data: 'still in',
    });
    back.send({ type: 'event', event: 'probe', ackId: 3, dataType: 'text', data: 'x' });
    await waitFor(() => acks(back).length === 2);
    expect(back.messages()).toEqual([
      expect.objectContaining({ type: 'system', event: 'connected', connectionId }),
      expect.objectContaining({
        type: 'message',
        from: 'group',
        group: 'kept',
        data: 'still in',
        sequenceId: 1,
      }),
      { type: 'ack', ackId: 2, success: true },
      { type: 'ack', ackId: 3, success: true },
    ]);
    const probe = eventsOf(connectionId).find(e => e.headers['ce-eventname'] === 'probe');
    expect(probe?.headers['ce-connectionstate']).toBe('c2V0');
  });

  it('reliable: a recovery holding the token takes over a socket whose drop the emulator has not seen yet', async () => {
    const { raw, connectionId, url } = await jsonClient({ userId: 'half-open' }, RELIABLE);
    const { reconnectionToken } = raw.messages()[0];
    const send = (text: string) =>
      emulator.hubs.sendToConnection(HUB, connectionId, {
        dataType: 'text',
        data: Buffer.from(text),
      });
    send('one');
    await waitFor(() => raw.messages().length === 2);
    const recovery = `${url}&awps_connection_id=${connectionId}&awps_reconnection_token=`;
    // A wrong token does not disturb the open socket.
    const impostor = client(`${recovery}wrong`, RELIABLE);
    expect(await impostor.done).toEqual({
      code: 1008,
      reason: expect.stringContaining('token does not match'),
    });
    expect(raw.closed).toBeUndefined();
    const back = client(`${recovery}${reconnectionToken}`, RELIABLE);
    await back.opened;
    // The old socket is cut without a close frame; the new one gets the unacked message.
    expect((await raw.done).code).toBe(1006);
    send('two');
    await waitFor(() => back.messages().length === 3);
    expect(back.messages().map(m => [m.sequenceId, m.data])).toEqual([
      [undefined, undefined],
      [1, 'one'],
      [2, 'two'],
    ]);
    expect(logs.matching(new RegExp(`${connectionId} recovered`))).toHaveLength(1);
    expect(emulator.hubs.connectionExists(HUB, connectionId)).toBe(true);
    expect(eventsOf(connectionId).map(e => e.headers['ce-eventname'])).toEqual([
      'connect',
      'connected',
    ]);
  });

  describe('upstream', () => {
    it('carries ce-connectionState as the last successful answer set it: an absent header keeps it, an empty one clears it, a failing answer does not count', async () => {
      const { raw, connectionId } = await jsonClient();
      let ackId = 0;
      const fire = async (event: string) => {
        raw.send({ type: 'event', event, ackId: ++ackId, dataType: 'text', data: 'x' });
        await waitFor(() => acks(raw).length === ackId);
      };
      for (const event of [
        'before',
        'setstate',
        'kept',
        'failstate',
        'afterfail',
        'clearstate',
        'cleared',
      ])
        await fire(event);
      const state = (event: string) =>
        eventsOf(connectionId).find(e => e.headers['ce-eventname'] === event)?.headers[
          'ce-connectionstate'
        ];
      expect(state('before')).toBeUndefined();
      expect(state('kept')).toBe('c2V0');
      // A failing answer's header is not taken.
      expect(state('afterfail')).toBe('c2V0');
      expect(state('clearstate')).toBe('c2V0');
      expect(state('cleared')).toBeUndefined();
    });

    it('sends every header the service sends, and validates each handler URL once', async () => {
      const { raw, connectionId } = await jsonClient({ userId: 'hdr' });
      raw.send({ type: 'event', event: 'look', ackId: 1, dataType: 'json', data: { a: 1 } });
      await waitFor(() => acks(raw).length === 1);
      const event = eventsOf(connectionId).find(
        e => e.headers['ce-eventname'] === 'look',
      ) as UpstreamRequest;
      expect(event.headers).toMatchObject({
        'ce-specversion': '1.0',
        'ce-type': 'azure.webpubsub.user.look',
        'ce-source': `/hubs/${HUB}/client/${connectionId}`,
        'ce-id': expect.stringMatching(/^\d+$/),
        'ce-time': expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/),
        'ce-awpsversion': '1.0',
        'ce-hub': HUB,
        'ce-connectionid': connectionId,
        'ce-userid': 'hdr',
        'ce-eventname': 'look',
        'ce-subprotocol': JSON_V1,
        'ce-signature': expect.stringMatching(/^sha256=[0-9a-f]{64}$/),
        'webhook-request-origin': '127.0.0.1',
        'content-type': expect.stringMatching(/^application\/json/),
      });
      expect(Math.abs(Date.parse(event.headers['ce-time'] as string) - Date.now())).toBeLessThan(
        60_000,
      );
      expect(JSON.parse(event.body.toString('utf8'))).toEqual({ a: 1 });
      // Every event of this file went to one handler URL: one abuse-protection handshake.
      const handshakes = upstream.requests.filter(request => request.method === 'OPTIONS');
      expect(handshakes).toHaveLength(1);
      expect(handshakes[0].url).toBe('/validate');
      expect(handshakes[0].headers['webhook-request-origin']).toBe('127.0.0.1');
      expect(new Set(upstream.events().map(e => e.headers['ce-eventname'])).size).toBeGreaterThan(
        3,
      );
    });
  });
});
