/**
 * Protobuf clients (`protobuf.webpubsub.azure.v1`, `protobuf.reliable.webpubsub.azure.v1`) built
 * from the service's `.proto` with protobufjs, on the running emulator: `connected` (with a
 * reconnection token for the reliable one), join with ack, ping/pong, group state answered
 * `BadRequest`; a mixed group where a protobuf client's text, binary, JSON and `Any` data reach a
 * reliable protobuf member (sequence ids 1..n, data kinds kept), a JSON member (`dataType:
 * "protobuf"`, base64 of the serialized `Any`), an MQTT 5 member (`application/x-protobuf`) and a
 * raw member (binary frame), and a JSON client's `protobuf` data reaches protobuf members as
 * `protobuf_data`; an event goes upstream as `application/x-protobuf` with the `Any`'s bytes and
 * its protobuf answer comes back as `protobuf_data` before the ack; a reliable protobuf client
 * acks, drops, recovers and gets the unacked replayed after `connected`; a text frame closes with
 * 1003, garbage with 1007.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { WebPubSubServiceClient } from '@azure/web-pubsub';
import { startEmulator, type RunningEmulator } from '../../../lib/emulator/index.js';
import { ProtobufTypes } from '../../../lib/emulator/clients/protobuf-protocol.js';
import { packAny } from '../../../lib/protocol/protobuf-any.js';
import { waitFor } from '../../utils/wait.js';
import {
  clientUrl,
  FAST_TIMINGS,
  LogLines,
  RawClient,
  recordingUpstream,
  type UpstreamRequest,
} from '../harness.js';

const { UpstreamMessage, DownstreamMessage, Any } = ProtobufTypes;
const PROTOBUF = 'protobuf.webpubsub.azure.v1';
const PROTOBUF_RELIABLE = 'protobuf.reliable.webpubsub.azure.v1';
const JSON_V1 = 'json.webpubsub.azure.v1';
const ROLES = ['webpubsub.joinLeaveGroup', 'webpubsub.sendToGroup'];
const TYPE_URL = 'type.googleapis.com/demo.Point';

type Downstream = Record<string, any>;

/** A protobuf client: UpstreamMessage out, DownstreamMessage in, over raw `ws`. */
class ProtobufClient extends RawClient {
  downstream(): Downstream[] {
    return this.frames
      .filter(frame => frame.binary)
      .map(frame =>
        DownstreamMessage.toObject(DownstreamMessage.decode(frame.data as Buffer), {
          longs: Number,
          bytes: Buffer,
          oneofs: true,
        }),
      );
  }

  of(kind: string): Downstream[] {
    return this.downstream()
      .filter(message => message.message === kind)
      .map(message => message[kind]);
  }

  sendProtobuf(message: Record<string, unknown>): void {
    this.ws.send(UpstreamMessage.encode(message).finish());
  }
}

const anyData = { protobufData: Any.create({ type_url: TYPE_URL, value: Buffer.from([8, 1]) }) };
const anyBytes = packAny(TYPE_URL, Buffer.from([8, 1]));

describe('protobuf clients', () => {
  let emulator: RunningEmulator;
  let upstream: Awaited<ReturnType<typeof recordingUpstream>>;
  const logs = new LogLines();

  beforeAll(async () => {
    upstream = await recordingUpstream((request: UpstreamRequest) => {
      if (request.headers['ce-eventname'] === 'echo-any') {
        return {
          status: 200,
          headers: { 'content-type': 'application/x-protobuf' },
          body: packAny(`${TYPE_URL}.Echo`, Buffer.from(request.body).reverse()),
        };
      }
      return { status: 204 };
    });
    emulator = await startEmulator({
      port: 0,
      log: logs.log,
      timings: FAST_TIMINGS,
      hubs: {
        chat: {
          eventHandlers: [{ urlTemplate: `${upstream.url}/{event}`, userEventPattern: '*' }],
        },
      },
    });
  });

  afterAll(async () => {
    await emulator.close();
    await upstream.close();
  });

  async function protobufClient(
    userId: string,
    protocol = PROTOBUF,
    roles = ROLES,
  ): Promise<ProtobufClient & { url: string; connectionId: string }> {
    const url = await clientUrl(emulator.connectionString, 'chat', { userId, roles });
    const client = new ProtobufClient(url, protocol);
    await client.opened;
    await waitFor(() => client.of('systemMessage').length === 1);
    const { connectedMessage } = client.of('systemMessage')[0];
    return Object.assign(client, { url, connectionId: connectedMessage.connectionId as string });
  }

  async function join(client: ProtobufClient, group: string, ackId: number): Promise<void> {
    client.sendProtobuf({ joinGroupMessage: { group, ackId } });
    await waitFor(() => client.of('ackMessage').some(ack => ack.ackId === ackId));
  }

  it('greets both subprotocols with connected (a reconnection token for the reliable one), acks a join, answers ping', async () => {
    const plain = await protobufClient('pb-plain');
    const reliable = await protobufClient('pb-reliable', PROTOBUF_RELIABLE);
    expect(plain.ws.protocol).toBe(PROTOBUF);
    expect(reliable.ws.protocol).toBe(PROTOBUF_RELIABLE);
    expect(plain.of('systemMessage')[0].connectedMessage).toEqual({
      connectionId: plain.connectionId,
      userId: 'pb-plain',
    });
    expect(reliable.of('systemMessage')[0].connectedMessage).toEqual({
      connectionId: reliable.connectionId,
      userId: 'pb-reliable',
      reconnectionToken: expect.any(String),
    });
    await join(plain, 'lobby', 1);
    expect(plain.of('ackMessage')).toEqual([{ ackId: 1, success: true }]);
    plain.sendProtobuf({ pingMessage: {} });
    await waitFor(() => plain.of('pongMessage').length === 1);
    // An unknown group-state message is answered, not left waiting.
    plain.sendProtobuf({ subscribeGroupStateMessage: { group: 'lobby', ackId: 2 } });
    await waitFor(() => plain.of('ackMessage').length === 2);
    expect(plain.of('ackMessage')[1]).toMatchObject({
      ackId: 2,
      error: { name: 'BadRequest', message: expect.stringContaining('subscribeGroupState') },
    });
    plain.ws.close();
    reliable.ws.close();
  });

  it('mixed group: text, binary, JSON and Any reach protobuf, JSON, MQTT and raw members each in their form', async () => {
    const sender = await protobufClient('sender');
    const member = await protobufClient('member', PROTOBUF_RELIABLE);
    await join(member, 'mixed', 1);
    const json = new RawClient(
      await clientUrl(emulator.connectionString, 'chat', {
        userId: 'json',
        groups: ['mixed'],
        roles: ROLES,
      }),
      JSON_V1,
    );
    const raw = new RawClient(
      await clientUrl(emulator.connectionString, 'chat', { userId: 'raw', groups: ['mixed'] }),
    );
    await Promise.all([json.opened, raw.opened]);
    const service = new WebPubSubServiceClient(emulator.connectionString, 'chat');
    const mqttUrl = (
      await service.getClientAccessToken({ clientProtocol: 'mqtt', roles: ROLES, userId: 'dev' })
    ).url;
    const device: MqttClient = await mqtt.connectAsync(mqttUrl, {
      protocolVersion: 5,
      reconnectPeriod: 0,
      clientId: 'mixeddevice',
    });
    const onDevice: { payload: Buffer; contentType?: string }[] = [];
    device.on('message', (_topic, payload, packet) =>
      onDevice.push({ payload, contentType: packet.properties?.contentType }),
    );
    await device.subscribeAsync('mixed', { qos: 0 });
    try {
      const data = [
        { textData: 'hello' },
        { binaryData: Buffer.from([1, 2, 3]) },
        { jsonData: '{"x":1}' },
        anyData,
      ];
      data.forEach((entry, index) =>
        sender.sendProtobuf({
          sendToGroupMessage: { group: 'mixed', ackId: 10 + index, data: entry },
        }),
      );
      await waitFor(() => member.of('dataMessage').length === 4);
      await waitFor(() => json.messages().filter(m => m.type === 'message').length === 4);
      await waitFor(() => raw.frames.length === 4 && onDevice.length === 4);
      expect(sender.of('ackMessage').map(ack => ack.ackId)).toEqual([10, 11, 12, 13]);

      expect(member.of('dataMessage')).toEqual([
        {
          from: 'group',
          group: 'mixed',
          sequenceId: 1,
          data: { data: 'textData', textData: 'hello' },
        },
        {
          from: 'group',
          group: 'mixed',
          sequenceId: 2,
          data: { data: 'binaryData', binaryData: Buffer.from([1, 2, 3]) },
        },
        {
          from: 'group',
          group: 'mixed',
          sequenceId: 3,
          data: { data: 'jsonData', jsonData: '{"x":1}' },
        },
        {
          from: 'group',
          group: 'mixed',
          sequenceId: 4,
          data: {
            data: 'protobufData',
            protobufData: { type_url: TYPE_URL, value: Buffer.from([8, 1]) },
          },
        },
      ]);
      expect(
        json
          .messages()
          .filter(m => m.type === 'message')
          .map(m => [m.dataType, m.data, m.fromUserId]),
      ).toEqual([
        ['text', 'hello', 'sender'],
        ['binary', 'AQID', 'sender'],
        ['json', { x: 1 }, 'sender'],
        ['protobuf', anyBytes.toString('base64'), 'sender'],
      ]);
      expect(onDevice.map(m => [m.contentType, m.payload])).toEqual([
        ['text/plain', Buffer.from('hello')],
        ['application/octet-stream', Buffer.from([1, 2, 3])],
        ['application/json', Buffer.from('{"x":1}')],
        ['application/x-protobuf', anyBytes],
      ]);
      expect(raw.frames).toEqual([
        { data: 'hello', binary: false },
        { data: Buffer.from([1, 2, 3]), binary: true },
        { data: '{"x":1}', binary: false },
        { data: anyBytes, binary: true },
      ]);

      // The other way: a JSON client's protobuf data is an Any for protobuf members.
      json.send({
        type: 'sendToGroup',
        group: 'mixed',
        dataType: 'protobuf',
        data: anyBytes.toString('base64'),
      });
      await waitFor(() => member.of('dataMessage').length === 5);
      expect(member.of('dataMessage')[4]).toMatchObject({
        sequenceId: 5,
        data: { protobufData: { type_url: TYPE_URL, value: Buffer.from([8, 1]) } },
      });
    } finally {
      await device.endAsync();
      for (const client of [sender, member, json, raw]) client.ws.close();
    }
  });

  it('sends an Any event upstream as application/x-protobuf and delivers the protobuf answer before the ack', async () => {
    const client = await protobufClient('eventer');
    client.sendProtobuf({ eventMessage: { event: 'echo-any', ackId: 7, data: anyData } });
    await waitFor(() => client.of('ackMessage').length === 1);
    const event = upstream.events('echo-any').at(-1)!;
    expect(event.headers['content-type']).toBe('application/x-protobuf');
    expect(event.headers['ce-subprotocol']).toBe(PROTOBUF);
    expect(event.body).toEqual(anyBytes);
    const kinds = client.downstream().map(message => message.message);
    expect(kinds.slice(1)).toEqual(['dataMessage', 'ackMessage']);
    expect(client.of('dataMessage')[0]).toEqual({
      from: 'server',
      data: {
        data: 'protobufData',
        protobufData: { type_url: `${TYPE_URL}.Echo`, value: Buffer.from(anyBytes).reverse() },
      },
    });
    expect(client.of('ackMessage')[0]).toEqual({ ackId: 7, success: true });
    client.ws.close();
  });

  it('reliable: sequence ids, sequenceAck, and a recovery that says connected again and replays the unacked', async () => {
    const client = await protobufClient('keeper', PROTOBUF_RELIABLE);
    const { reconnectionToken } = client.of('systemMessage')[0].connectedMessage;
    const send = (text: string) =>
      emulator.hubs.sendToConnection('chat', client.connectionId, {
        dataType: 'text',
        data: Buffer.from(text),
      });
    send('one');
    send('two');
    await waitFor(() => client.of('dataMessage').length === 2);
    client.sendProtobuf({ sequenceAckMessage: { sequenceId: 1 } });
    client.sendProtobuf({ pingMessage: {} });
    await waitFor(() => client.of('pongMessage').length === 1);
    client.ws.terminate();
    await waitFor(() => logs.matching(new RegExp(`${client.connectionId} dropped`)).length === 1);
    send('three');
    const back = new ProtobufClient(
      `${client.url}&awps_connection_id=${encodeURIComponent(client.connectionId)}&awps_reconnection_token=${encodeURIComponent(reconnectionToken)}`,
      PROTOBUF_RELIABLE,
    );
    await back.opened;
    await waitFor(() => back.downstream().length === 3);
    expect(back.downstream().map(m => m.message)).toEqual([
      'systemMessage',
      'dataMessage',
      'dataMessage',
    ]);
    expect(back.of('systemMessage')[0].connectedMessage).toMatchObject({
      connectionId: client.connectionId,
      reconnectionToken,
    });
    expect(back.of('dataMessage').map(m => [m.sequenceId, m.data.textData])).toEqual([
      [2, 'two'],
      [3, 'three'],
    ]);
    back.ws.close();
  });

  it.each([
    ['a text frame', 'not protobuf', 1003, 'binary frames'],
    [
      'bytes that are no UpstreamMessage',
      Buffer.from([0xff, 0xff, 0xff]),
      1007,
      'not an UpstreamMessage',
    ],
  ])('closes the socket for %s (%p), naming the problem', async (_label, frame, code, reason) => {
    const client = await protobufClient('clumsy');
    client.ws.send(frame);
    expect(await client.done).toEqual({ code, reason: expect.stringContaining(reason) });
    const disconnected = client.of('systemMessage').at(-1)?.disconnectedMessage;
    expect(disconnected?.reason).toContain(reason);
  });
});
