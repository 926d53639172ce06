/**
 * What a PubSub session needs from a subprotocol's wire format: reading a client's frame into a
 * {@link ClientMessage} and writing each message the service sends. The JSON codec writes text
 * frames, the protobuf codec binary ones; the session never looks inside a frame.
 */
import type { StreamInfo } from '../state/hubs.js';
import type { ClientMessage, ClientPayload } from './client-messages.js';

export type { StreamError, StreamInfo } from '../state/hubs.js';

/** A frame as `ws` sends it: a string goes as a text frame, a Buffer as a binary frame. */
export type Frame = string | Buffer;

/** The service's answers to a stream writer. */
export type StreamControl =
  | { readonly type: 'streamAck'; readonly streamId: string; readonly expectedSequenceId: number }
  | {
      readonly type: 'streamNack';
      readonly streamId: string;
      readonly expectedSequenceId: number;
      readonly name: string;
      readonly message: string;
    }
  | {
      readonly type: 'streamClosed';
      readonly streamId: string;
      readonly error?: { readonly name: string; readonly message: string };
    };

export interface DataExtra {
  readonly group?: string;
  readonly fromUserId?: string;
  /** Reliable subprotocols only. */
  readonly sequenceId?: number;
  readonly stream?: StreamInfo;
}

export type AckErrorName = 'Forbidden' | 'InternalServerError' | 'Duplicate' | 'BadRequest';

export type InvokeResult =
  | { readonly message?: ClientPayload }
  | { readonly error: { readonly name: string; readonly message: string } };

export interface WireCodec {
  /** Reads one frame. @throws MalformedMessage naming the problem (and the close code). */
  read(data: Buffer, isBinary: boolean): ClientMessage;
  connected(userId: string | undefined, connectionId: string, reconnectionToken?: string): Frame;
  disconnected(reason: string): Frame;
  ack(ackId: number, error?: { name: AckErrorName; message: string }): Frame;
  pong(): Frame;
  data(from: 'server' | 'group', message: ClientPayload, extra: DataExtra): Frame;
  invokeResponse(invocationId: string, result: InvokeResult): Frame;
  streamControl(control: StreamControl): Frame;
}
