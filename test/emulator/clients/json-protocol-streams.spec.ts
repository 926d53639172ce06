/**
 * The JSON subprotocols' stream messages as `@azure/web-pubsub-client` 1.1 writes them: a
 * `sendToGroup` with `stream` opens a stream, `streamData` with and without data (keep-alive),
 * `streamEnd` with and without error; eight malformed ones refused with 1007 naming the field; the
 * writers of `streamAck`, `streamNack`, `streamClosed` and of group data carrying `stream`.
 */
import { MalformedMessage } from '../../../lib/emulator/clients/client-messages.js';
import { jsonCodec, readClientMessage } from '../../../lib/emulator/clients/json-protocol.js';

const read = (value: unknown) => readClientMessage(JSON.stringify(value));

function refusal(value: unknown): MalformedMessage {
  try {
    read(value);
  } catch (error) {
    expect(error).toBeInstanceOf(MalformedMessage);
    return error as MalformedMessage;
  }
  throw new Error('read');
}

describe('JSON stream messages', () => {
  it('reads what the client writes', () => {
    expect(
      read({
        type: 'sendToGroup',
        group: 'g',
        noEcho: true,
        stream: { streamId: 's', idleTimeoutMs: 500 },
      }),
    ).toEqual({
      type: 'streamStart',
      group: 'g',
      streamId: 's',
      noEcho: true,
      idleTimeoutMs: 500,
      ackId: undefined,
    });
    expect(
      read({
        type: 'streamData',
        streamId: 's',
        streamSequenceId: 1,
        dataType: 'binary',
        data: 'AQI=',
      }),
    ).toEqual({
      type: 'streamData',
      streamId: 's',
      streamSequenceId: 1,
      payload: { dataType: 'binary', data: Buffer.from([1, 2]) },
    });
    expect(read({ type: 'streamData', streamId: 's' })).toEqual({
      type: 'streamData',
      streamId: 's',
    });
    expect(read({ type: 'streamEnd', streamId: 's' })).toEqual({
      type: 'streamEnd',
      streamId: 's',
      error: undefined,
    });
    expect(
      read({ type: 'streamEnd', streamId: 's', error: { message: 'm', userErrorCode: 'E' } }),
    ).toEqual({ type: 'streamEnd', streamId: 's', error: { message: 'm', userErrorCode: 'E' } });
  });

  it.each([
    [{ type: 'sendToGroup', group: 'g', stream: 's' }, '"stream" must be an object'],
    [{ type: 'sendToGroup', group: 'g', stream: { streamId: '' } }, '"streamId"'],
    [
      { type: 'sendToGroup', group: 'g', stream: { streamId: 's', idleTimeoutMs: -1 } },
      '"idleTimeoutMs"',
    ],
    [
      { type: 'streamData', streamId: 's', streamSequenceId: -1, dataType: 'text', data: 'x' },
      '"streamSequenceId"',
    ],
    [
      { type: 'streamData', streamId: 's', streamSequenceId: 1, dataType: 'text', data: 1 },
      'must be a string',
    ],
    [{ type: 'streamEnd', streamId: 's', error: 'boom' }, '"error" of streamEnd'],
    [{ type: 'streamEnd', streamId: 's', error: { message: 1 } }, '"error.message"'],
    [{ type: 'streamEnd', streamId: 'x'.repeat(129) }, '"streamId"'],
  ])('refuses %j with 1007', (value, problem) => {
    const error = refusal(value);
    expect(error.code).toBe(1007);
    expect(error.message).toContain(problem);
  });

  it('writes the stream answers and group data with its stream info', () => {
    expect(
      JSON.parse(
        jsonCodec.streamControl({
          type: 'streamAck',
          streamId: 's',
          expectedSequenceId: 2,
        }) as string,
      ),
    ).toEqual({ type: 'streamAck', streamId: 's', expectedSequenceId: 2 });
    expect(
      JSON.parse(jsonCodec.streamControl({ type: 'streamClosed', streamId: 's' }) as string),
    ).toEqual({ type: 'streamClosed', streamId: 's' });
    expect(
      JSON.parse(
        jsonCodec.data(
          'group',
          { dataType: 'text', data: Buffer.alloc(0) },
          {
            group: 'g',
            fromUserId: 'u',
            stream: {
              streamId: 's',
              streamSequenceId: 3,
              endOfStream: true,
              error: { name: 'UserError', message: 'm' },
            },
          },
        ) as string,
      ),
    ).toEqual({
      type: 'message',
      from: 'group',
      group: 'g',
      dataType: 'text',
      data: '',
      fromUserId: 'u',
      stream: {
        streamId: 's',
        streamSequenceId: 3,
        endOfStream: true,
        error: { name: 'UserError', message: 'm' },
      },
    });
  });
});
