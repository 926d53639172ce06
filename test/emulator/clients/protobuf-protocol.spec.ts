/**
 * The protobuf subprotocols' codec against the service's schema: every `UpstreamMessage` kind read
 * (join, leave, send, event, sequenceAck, ping, invoke, cancel, stream start/data/keep-alive/end,
 * group state as unsupported), the four data kinds (the `Any` of Learn's example gives Learn's
 * bytes and base64), each refusal named with its close code (text frame 1003; garbage, 200,000
 * nested group tags, no message, no data, bad or too deep JSON, ids beyond 2^53, bad names 1007),
 * and every `DownstreamMessage` the service writes read back with the same schema.
 */
import { MalformedMessage } from '../../../lib/emulator/clients/client-messages.js';
import {
  ProtobufTypes,
  protobufCodec,
  readProtobufMessage,
} from '../../../lib/emulator/clients/protobuf-protocol.js';

const { UpstreamMessage, DownstreamMessage, Any } = ProtobufTypes;

function upstream(message: Record<string, unknown>): Buffer {
  return Buffer.from(UpstreamMessage.encode(message).finish());
}

function downstream(frame: string | Buffer): Record<string, unknown> {
  expect(Buffer.isBuffer(frame)).toBe(true);
  return DownstreamMessage.toObject(DownstreamMessage.decode(frame as Buffer), {
    longs: Number,
    bytes: Buffer,
    oneofs: true,
  });
}

/** Learn's example: `Any.pack(TestMessage { value = 1 })`. */
const LEARN_ANY_HEX =
  '0a2f747970652e676f6f676c65617069732e636f6d2f617a7572652e77656270756273756' +
  '22e546573744d657373616765120208 01'.replace(/ /g, '');
const learnAny = { type_url: 'type.googleapis.com/azure.webpubsub.TestMessage', value: [8, 1] };

function malformed(frame: Buffer, isBinary = true): MalformedMessage {
  try {
    protobufCodec.read(frame, isBinary);
  } catch (error) {
    expect(error).toBeInstanceOf(MalformedMessage);
    return error as MalformedMessage;
  }
  throw new Error('the frame was read');
}

describe('protobuf codec: reading', () => {
  it('reads joins, leaves, acks ids, sequence acks, pings and cancellations', () => {
    expect(readProtobufMessage(upstream({ joinGroupMessage: { group: 'g', ackId: 3 } }))).toEqual({
      type: 'joinGroup',
      group: 'g',
      ackId: 3,
    });
    expect(readProtobufMessage(upstream({ leaveGroupMessage: { group: 'g' } }))).toEqual({
      type: 'leaveGroup',
      group: 'g',
      ackId: undefined,
    });
    expect(readProtobufMessage(upstream({ sequenceAckMessage: { sequenceId: 42 } }))).toEqual({
      type: 'sequenceAck',
      sequenceId: 42,
    });
    expect(readProtobufMessage(upstream({ pingMessage: {} }))).toEqual({ type: 'ping' });
    expect(
      readProtobufMessage(upstream({ cancelInvocationMessage: { invocationId: 'i1' } })),
    ).toEqual({ type: 'cancelInvocation', invocationId: 'i1' });
  });

  it('reads the four data kinds; an Any is kept as its serialized bytes (Learn example)', () => {
    const send = (data: Record<string, unknown>) =>
      readProtobufMessage(
        upstream({ sendToGroupMessage: { group: 'g', ackId: 1, noEcho: true, data } }),
      );
    expect(send({ textData: 'hi' })).toEqual({
      type: 'sendToGroup',
      group: 'g',
      ackId: 1,
      noEcho: true,
      payload: { dataType: 'text', data: Buffer.from('hi') },
    });
    expect(send({ binaryData: Buffer.from([1, 2, 3]) })).toMatchObject({
      payload: { dataType: 'binary', data: Buffer.from([1, 2, 3]) },
    });
    expect(send({ jsonData: '{"a":1}' })).toMatchObject({
      payload: { dataType: 'json', data: Buffer.from('{"a":1}') },
    });
    const protobufMessage = send({ protobufData: Any.fromObject(learnAny) });
    expect(protobufMessage).toMatchObject({ payload: { dataType: 'protobuf' } });
    const bytes = (protobufMessage as { payload: { data: Buffer } }).payload.data;
    expect(bytes.toString('hex')).toBe(LEARN_ANY_HEX);
    // What JSON members get, as Learn prints it.
    expect(bytes.toString('base64')).toBe(
      'Ci90eXBlLmdvb2dsZWFwaXMuY29tL2F6dXJlLndlYnB1YnN1Yi5UZXN0TWVzc2FnZRICCAE=',
    );
  });

  it('reads events and invocations', () => {
    expect(
      readProtobufMessage(
        upstream({ eventMessage: { event: 'chat', ackId: 9, data: { textData: 'x' } } }),
      ),
    ).toEqual({
      type: 'event',
      event: 'chat',
      ackId: 9,
      payload: { dataType: 'text', data: Buffer.from('x') },
    });
    expect(
      readProtobufMessage(upstream({ invokeEventMessage: { event: 'e', invocationId: '1' } })),
    ).toEqual({ type: 'invoke', event: 'e', invocationId: '1', payload: undefined });
  });

  it('reads stream start, data, keep-alive and end (with and without error)', () => {
    expect(
      readProtobufMessage(
        upstream({
          sendToGroupMessage: { group: 'g', stream: { streamId: 's1', idleTimeoutMs: 500 } },
        }),
      ),
    ).toEqual({
      type: 'streamStart',
      group: 'g',
      streamId: 's1',
      noEcho: false,
      idleTimeoutMs: 500,
      ackId: undefined,
    });
    expect(
      readProtobufMessage(
        upstream({
          streamDataMessage: { streamId: 's1', streamSequenceId: 1, data: { textData: 'a' } },
        }),
      ),
    ).toEqual({
      type: 'streamData',
      streamId: 's1',
      streamSequenceId: 1,
      payload: { dataType: 'text', data: Buffer.from('a') },
    });
    expect(readProtobufMessage(upstream({ streamDataMessage: { streamId: 's1' } }))).toEqual({
      type: 'streamData',
      streamId: 's1',
    });
    expect(readProtobufMessage(upstream({ streamEndMessage: { streamId: 's1' } }))).toEqual({
      type: 'streamEnd',
      streamId: 's1',
      error: undefined,
    });
    expect(
      readProtobufMessage(
        upstream({
          streamEndMessage: { streamId: 's1', error: { message: 'boom', userErrorCode: 'E1' } },
        }),
      ),
    ).toEqual({
      type: 'streamEnd',
      streamId: 's1',
      error: { message: 'boom', userErrorCode: 'E1' },
    });
  });

  it('answers group state messages as unsupported, keeping their ackId', () => {
    expect(
      readProtobufMessage(upstream({ subscribeGroupStateMessage: { group: 'g', ackId: 4 } })),
    ).toEqual({ type: 'unsupported', name: 'subscribeGroupState', ackId: 4 });
  });

  it('refuses what it cannot read, naming the problem and the close code', () => {
    expect(malformed(upstream({ pingMessage: {} }), false)).toMatchObject({
      code: 1003,
      message: expect.stringContaining('binary frames'),
    });
    expect(malformed(Buffer.from([0xff, 0xff, 0xff]))).toMatchObject({
      code: 1007,
      message: expect.stringContaining('not an UpstreamMessage'),
    });
    expect(malformed(Buffer.alloc(0)).message).toContain('holds no message');
    expect(malformed(upstream({ sendToGroupMessage: { group: 'g' } })).message).toContain(
      'has no data',
    );
    expect(
      malformed(upstream({ eventMessage: { event: 'e', data: { jsonData: '{oops' } } })).message,
    ).toContain('json_data is not JSON');
    expect(
      malformed(
        upstream({
          eventMessage: { event: 'e', data: { jsonData: '['.repeat(100) + ']'.repeat(100) } },
        }),
      ).message,
    ).toContain('json_data is refused');
    expect(
      malformed(upstream({ joinGroupMessage: { group: 'g', ackId: '18446744073709551615' } }))
        .message,
    ).toContain('2^53');
    expect(malformed(upstream({ joinGroupMessage: { group: '' } })).message).toContain('group');
    expect(
      malformed(upstream({ eventMessage: { event: 'a b', data: { textData: '' } } })).message,
    ).toContain('not valid');
    expect(malformed(upstream({ streamDataMessage: { streamId: '' } })).message).toContain(
      'streamId',
    );
    // 200 000 nested group-start tags of an unknown field: refused, not a stack overflow.
    expect(malformed(Buffer.alloc(200_000, 0x63)).code).toBe(1007);
  });
});

describe('protobuf codec: writing', () => {
  it('writes connected (with and without a reconnection token), disconnected, acks and pong', () => {
    expect(downstream(protobufCodec.connected('u1', 'c1', 'tok'))).toEqual({
      message: 'systemMessage',
      systemMessage: {
        message: 'connectedMessage',
        connectedMessage: { connectionId: 'c1', userId: 'u1', reconnectionToken: 'tok' },
      },
    });
    expect(downstream(protobufCodec.connected(undefined, 'c1'))).toMatchObject({
      systemMessage: { connectedMessage: { connectionId: 'c1' } },
    });
    expect(downstream(protobufCodec.disconnected('bye'))).toMatchObject({
      systemMessage: { disconnectedMessage: { reason: 'bye' } },
    });
    expect(downstream(protobufCodec.ack(7))).toMatchObject({
      ackMessage: { ackId: 7, success: true },
    });
    // proto3 leaves defaults (false, empty strings) off the wire.
    const refused = downstream(protobufCodec.ack(8, { name: 'Forbidden', message: 'no role' }));
    expect(refused).toMatchObject({
      ackMessage: { ackId: 8, error: { name: 'Forbidden', message: 'no role' } },
    });
    expect((refused.ackMessage as { success?: boolean }).success ?? false).toBe(false);
    expect(downstream(protobufCodec.pong())).toEqual({ message: 'pongMessage', pongMessage: {} });
  });

  it('writes data of each kind with group, sequence id and stream info', () => {
    const any = Buffer.from(Any.encode(Any.fromObject(learnAny)).finish());
    expect(
      downstream(
        protobufCodec.data(
          'group',
          { dataType: 'protobuf', data: any },
          {
            group: 'g',
            sequenceId: 5,
            stream: {
              streamId: 's',
              streamSequenceId: 2,
              endOfStream: true,
              error: { name: 'UserError', message: 'm', userErrorCode: 'E' },
            },
          },
        ),
      ),
    ).toEqual({
      message: 'dataMessage',
      dataMessage: {
        from: 'group',
        group: 'g',
        sequenceId: 5,
        data: {
          data: 'protobufData',
          protobufData: { type_url: learnAny.type_url, value: Buffer.from([8, 1]) },
        },
        stream: {
          streamId: 's',
          streamSequenceId: 2,
          endOfStream: true,
          error: { name: 'UserError', message: 'm', userErrorCode: 'E' },
        },
      },
    });
    const kinds: [string, Buffer, Record<string, unknown>][] = [
      ['text', Buffer.from('hi'), { data: 'textData', textData: 'hi' }],
      ['json', Buffer.from('[1]'), { data: 'jsonData', jsonData: '[1]' }],
      ['binary', Buffer.from([1, 2]), { data: 'binaryData', binaryData: Buffer.from([1, 2]) }],
      // Bytes a JSON client sent as protobuf that are no Any: passed on as binary.
      ['protobuf', Buffer.from([0xff]), { data: 'binaryData', binaryData: Buffer.from([0xff]) }],
    ];
    for (const [dataType, data, expected] of kinds) {
      const frame = downstream(
        protobufCodec.data('server', { dataType: dataType as 'text', data }, {}),
      );
      expect(frame).toMatchObject({ dataMessage: { from: 'server', data: expected } });
      expect((frame.dataMessage as Record<string, unknown>).group).toBeUndefined();
    }
  });

  it('writes invoke responses and the three stream answers', () => {
    expect(
      downstream(
        protobufCodec.invokeResponse('1', {
          message: { dataType: 'text', data: Buffer.from('r') },
        }),
      ),
    ).toMatchObject({
      invokeResponseMessage: { invocationId: '1', success: true, data: { textData: 'r' } },
    });
    expect(
      downstream(protobufCodec.invokeResponse('2', { error: { name: 'X', message: 'y' } })),
    ).toMatchObject({
      invokeResponseMessage: { invocationId: '2', error: { name: 'X', message: 'y' } },
    });
    expect(
      downstream(
        protobufCodec.streamControl({ type: 'streamAck', streamId: 's', expectedSequenceId: 3 }),
      ),
    ).toEqual({
      message: 'streamAckMessage',
      streamAckMessage: { streamId: 's', expectedSequenceId: 3 },
    });
    expect(
      downstream(
        protobufCodec.streamControl({
          type: 'streamNack',
          streamId: 's',
          expectedSequenceId: 2,
          name: 'ProtocolViolation',
          message: 'gap',
        }),
      ),
    ).toMatchObject({
      streamNackMessage: { streamId: 's', expectedSequenceId: 2, name: 'ProtocolViolation' },
    });
    expect(
      downstream(
        protobufCodec.streamControl({
          type: 'streamClosed',
          streamId: 's',
          error: { name: 'IdleTimeout', message: 'm' },
        }),
      ),
    ).toMatchObject({
      streamClosedMessage: { streamId: 's', error: { name: 'IdleTimeout', message: 'm' } },
    });
  });
});
