/**
 * A protobuf client through the emulator to a Nest app with this module and back, on Express and
 * Fastify: the module accepts the `connect` (the signature checked with the emulator's key), the
 * client's `Any` reaches the `@OnUserEvent('reverse-any')` handler as `dataType: 'protobuf'`, and
 * the handler's `userEventResponse(packAny(...), 'protobuf')` arrives as `protobuf_data` before the
 * ack.
 */
import { ProtobufTypes } from '../../../lib/emulator/clients/protobuf-protocol.js';
import type { RunningEmulator } from '../../../lib/emulator/index.js';
import { ChatHandlers } from '../../fixtures/chat.handlers.js';
import { PLATFORMS, type TestApp } from '../../utils/app.js';
import { waitFor } from '../../utils/wait.js';
import { clientUrl, LogLines, RawClient, startAppUpstream } from '../harness.js';

const { UpstreamMessage, DownstreamMessage, Any } = ProtobufTypes;

describe.each(PLATFORMS)('a protobuf client, the emulator and the module (%s)', platform => {
  let emulator: RunningEmulator;
  let app: TestApp;
  let handlers: ChatHandlers;
  const logs = new LogLines();

  beforeAll(async () => {
    ({ app, emulator, handlers } = await startAppUpstream(platform, ChatHandlers, logs.log));
  });

  afterAll(async () => {
    await emulator?.close();
    await app?.close();
  });

  it('sends an Any to a handler and gets its protobuf answer back', async () => {
    const client = new RawClient(
      `${await clientUrl(emulator.connectionString, 'chat', { userId: 'pb-nest' })}&mode=protobuf`,
      'protobuf.reliable.webpubsub.azure.v1',
    );
    await client.opened;
    const downstream = () =>
      client.frames.map(frame =>
        DownstreamMessage.toObject(DownstreamMessage.decode(frame.data as Buffer), {
          longs: Number,
          bytes: Buffer,
          oneofs: true,
        }),
      );
    const value = Buffer.from([8, 1, 16, 2]);
    client.ws.send(
      UpstreamMessage.encode({
        eventMessage: {
          event: 'reverse-any',
          ackId: 1,
          data: { protobufData: Any.create({ type_url: 'type.googleapis.com/demo.Point', value }) },
        },
      }).finish(),
    );
    await waitFor(() => downstream().some(message => message.message === 'ackMessage'));
    expect(downstream().map(message => message.message)).toEqual([
      'systemMessage',
      'dataMessage',
      'ackMessage',
    ]);
    expect(downstream()[1].dataMessage).toEqual({
      from: 'server',
      sequenceId: 1,
      data: {
        data: 'protobufData',
        protobufData: {
          type_url: 'type.googleapis.com/demo.Point.Reversed',
          value: Buffer.from([2, 16, 1, 8]),
        },
      },
    });
    expect(downstream()[2].ackMessage).toEqual({ ackId: 1, success: true });
    const call = handlers.calls.find(entry => entry.event === 'reverse-any');
    expect(call?.request).toMatchObject({
      dataType: 'protobuf',
      context: { userId: 'pb-nest', subprotocol: 'protobuf.reliable.webpubsub.azure.v1' },
    });
    client.ws.close();
  });
});
