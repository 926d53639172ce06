/**
 * One writer's group streams without sockets: open acknowledged with `expectedSequenceId: 1`;
 * fragments delivered in order with their stream info and acknowledged with the next id; a replay
 * acknowledged again and not delivered twice; a gap answered `streamNack`; a keep-alive keeping an
 * idle stream open; end (with and without the writer's error) giving members the end marker and
 * the writer `streamClosed`; idle timeout, unknown stream, missing permission, too many streams and
 * a writer gone each answered, so nothing waits.
 */
import type { ClientPayload } from '../../../lib/emulator/clients/client-messages.js';
import {
  GroupStreams,
  StreamErrorName,
  type StreamHost,
} from '../../../lib/emulator/clients/group-streams.js';
import type { StreamControl, StreamInfo } from '../../../lib/emulator/clients/wire-codec.js';

class RecordingHost implements StreamHost {
  readonly published: { group: string; noEcho: boolean; text: string; stream: StreamInfo }[] = [];
  readonly controls: StreamControl[] = [];
  allowed = true;
  canSend(): boolean {
    return this.allowed;
  }
  publish(group: string, noEcho: boolean, payload: ClientPayload, stream: StreamInfo): void {
    this.published.push({ group, noEcho, text: payload.data.toString('utf8'), stream });
  }
  control(control: StreamControl): void {
    this.controls.push(control);
  }
}

const text = (value: string): ClientPayload => ({ dataType: 'text', data: Buffer.from(value) });

function setup(limits?: ConstructorParameters<typeof GroupStreams>[1]) {
  const host = new RecordingHost();
  return { host, streams: new GroupStreams(host, limits) };
}

const start = (streamId: string, extra: { idleTimeoutMs?: number; noEcho?: boolean } = {}) => ({
  type: 'streamStart' as const,
  group: 'g',
  streamId,
  noEcho: extra.noEcho ?? false,
  idleTimeoutMs: extra.idleTimeoutMs,
});

const data = (streamId: string, streamSequenceId: number, value: string) => ({
  type: 'streamData' as const,
  streamId,
  streamSequenceId,
  payload: text(value),
});

describe('group streams', () => {
  it('acknowledges the open, delivers fragments in order and ends with the end marker', () => {
    const { host, streams } = setup();
    streams.open(start('s', { noEcho: true }));
    streams.data(data('s', 1, 'a'));
    streams.data(data('s', 2, 'b'));
    streams.end({ type: 'streamEnd', streamId: 's' });
    expect(host.controls).toEqual([
      { type: 'streamAck', streamId: 's', expectedSequenceId: 1 },
      { type: 'streamAck', streamId: 's', expectedSequenceId: 2 },
      { type: 'streamAck', streamId: 's', expectedSequenceId: 3 },
      { type: 'streamClosed', streamId: 's' },
    ]);
    expect(host.published).toEqual([
      {
        group: 'g',
        noEcho: true,
        text: 'a',
        stream: { streamId: 's', streamSequenceId: 1, endOfStream: false },
      },
      {
        group: 'g',
        noEcho: true,
        text: 'b',
        stream: { streamId: 's', streamSequenceId: 2, endOfStream: false },
      },
      {
        group: 'g',
        noEcho: true,
        text: '',
        stream: { streamId: 's', streamSequenceId: 3, endOfStream: true, error: undefined },
      },
    ]);
    expect(streams.size).toBe(0);
  });

  it('acknowledges a replayed fragment without delivering it twice, and nacks a gap', () => {
    const { host, streams } = setup();
    streams.open(start('s'));
    streams.data(data('s', 1, 'a'));
    streams.data(data('s', 1, 'a'));
    streams.data(data('s', 3, 'c'));
    expect(host.published.map(entry => entry.text)).toEqual(['a']);
    expect(host.controls.slice(1)).toEqual([
      { type: 'streamAck', streamId: 's', expectedSequenceId: 2 },
      { type: 'streamAck', streamId: 's', expectedSequenceId: 2 },
      {
        type: 'streamNack',
        streamId: 's',
        expectedSequenceId: 2,
        name: StreamErrorName.outOfOrder,
        message: 'streamSequenceId 3 skips ahead; 2 was expected',
      },
    ]);
    // Opening it again says where it stands.
    streams.open(start('s'));
    expect(host.controls.at(-1)).toEqual({
      type: 'streamAck',
      streamId: 's',
      expectedSequenceId: 2,
    });
  });

  it("passes the writer's error to the members as UserError", () => {
    const { host, streams } = setup();
    streams.open(start('s'));
    streams.end({
      type: 'streamEnd',
      streamId: 's',
      error: { message: 'bad', userErrorCode: 'E1' },
    });
    expect(host.published.at(-1)?.stream).toEqual({
      streamId: 's',
      streamSequenceId: 1,
      endOfStream: true,
      error: { name: 'UserError', message: 'bad', userErrorCode: 'E1' },
    });
    expect(host.controls.at(-1)).toEqual({ type: 'streamClosed', streamId: 's' });
  });

  it('closes an idle stream for members and writer; a keep-alive keeps it open', async () => {
    const { host, streams } = setup();
    streams.open(start('idle', { idleTimeoutMs: 60 }));
    streams.open(start('kept', { idleTimeoutMs: 60 }));
    for (let i = 0; i < 4; i++) {
      await new Promise(resolve => setTimeout(resolve, 30));
      streams.data({ type: 'streamData', streamId: 'kept' });
    }
    expect(streams.size).toBe(1);
    const error = { name: 'IdleTimeout', message: 'No data or keep-alive for 60 ms' };
    expect(host.controls).toContainEqual({ type: 'streamClosed', streamId: 'idle', error });
    expect(host.published).toEqual([
      {
        group: 'g',
        noEcho: false,
        text: '',
        stream: { streamId: 'idle', streamSequenceId: 1, endOfStream: true, error },
      },
    ]);
    streams.closeAll();
  });

  it('answers data, keep-alives and ends of an unknown stream with streamClosed StreamNotFound', () => {
    const { host, streams } = setup();
    streams.data(data('x', 1, 'a'));
    streams.data({ type: 'streamData', streamId: 'x' });
    streams.end({ type: 'streamEnd', streamId: 'x' });
    expect(host.controls).toHaveLength(3);
    for (const control of host.controls) {
      expect(control).toMatchObject({
        type: 'streamClosed',
        streamId: 'x',
        error: { name: 'StreamNotFound' },
      });
    }
    expect(host.published).toEqual([]);
  });

  it('refuses an open without the send permission and beyond the stream limit', () => {
    const { host, streams } = setup({
      maxStreamsPerConnection: 1,
      defaultIdleTimeoutMs: 1000,
      maxIdleTimeoutMs: 1000,
    });
    host.allowed = false;
    streams.open(start('a'));
    host.allowed = true;
    streams.open(start('b'));
    streams.open(start('c'));
    expect(host.controls).toEqual([
      {
        type: 'streamClosed',
        streamId: 'a',
        error: {
          name: 'Forbidden',
          message:
            'The connection has no permission to send to group "g" (role webpubsub.sendToGroup.g needed)',
        },
      },
      { type: 'streamAck', streamId: 'b', expectedSequenceId: 1 },
      {
        type: 'streamClosed',
        streamId: 'c',
        error: { name: 'TooManyStreams', message: 'The connection already has 1 open streams' },
      },
    ]);
    streams.closeAll();
  });

  it('ends every open stream for the members when the writer is gone', () => {
    const { host, streams } = setup();
    streams.open(start('a'));
    streams.open(start('b'));
    streams.data(data('b', 1, 'x'));
    streams.closeAll();
    expect(streams.size).toBe(0);
    expect(host.published.filter(entry => entry.stream.endOfStream)).toEqual([
      {
        group: 'g',
        noEcho: false,
        text: '',
        stream: {
          streamId: 'a',
          streamSequenceId: 1,
          endOfStream: true,
          error: { name: 'PublisherDisconnected', message: "the writer's connection ended" },
        },
      },
      {
        group: 'g',
        noEcho: false,
        text: '',
        stream: {
          streamId: 'b',
          streamSequenceId: 2,
          endOfStream: true,
          error: { name: 'PublisherDisconnected', message: "the writer's connection ended" },
        },
      },
    ]);
  });
});
