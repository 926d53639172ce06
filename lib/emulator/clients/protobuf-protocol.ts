/**
 * The `protobuf.webpubsub.azure.v1` and `protobuf.reliable.webpubsub.azure.v1` subprotocols:
 * `UpstreamMessage` frames read into client messages, `DownstreamMessage` frames written, with
 * `protobufjs` and the service's schema (`webpubsub-v1.proto.ts`). Binary frames only.
 *
 * Data mapping (Learn, reference-protobuf-webpubsub-subprotocol): `text_data` is text,
 * `binary_data` binary, `json_data` JSON text, and `protobuf_data` (a `google.protobuf.Any`) is
 * carried as the serialized `Any`: JSON clients get it base64 with `dataType: "protobuf"`, raw
 * clients as a binary frame, the upstream as `application/x-protobuf`.
 */
import protobuf from 'protobufjs';
import { jsonDepthProblem } from '../../protocol/json-depth.js';
import {
  MalformedMessage,
  checkEventName,
  checkGroup,
  checkIdleTimeout,
  checkInvocationId,
  checkStreamId,
  type ClientMessage,
  type ClientPayload,
} from './client-messages.js';
import { WEBPUBSUB_V1_PROTO } from './webpubsub-v1.proto.js';
import type {
  AckErrorName,
  DataExtra,
  InvokeResult,
  StreamControl,
  WireCodec,
} from './wire-codec.js';

export const PROTOBUF_SUBPROTOCOL = 'protobuf.webpubsub.azure.v1';
export const PROTOBUF_RELIABLE_SUBPROTOCOL = 'protobuf.reliable.webpubsub.azure.v1';

const root = new protobuf.Root();
root.addJSON(protobuf.common.get('google/protobuf/any.proto')!.nested!);
protobuf.parse(WEBPUBSUB_V1_PROTO, root, { keepCase: false });
root.resolveAll();

/** The schema's message types, for clients built in tests and tools. */
export const ProtobufTypes = {
  UpstreamMessage: root.lookupType('azure.webpubsub.UpstreamMessage'),
  DownstreamMessage: root.lookupType('azure.webpubsub.DownstreamMessage'),
  MessageData: root.lookupType('azure.webpubsub.MessageData'),
  Any: root.lookupType('google.protobuf.Any'),
} as const;

const { UpstreamMessage, DownstreamMessage, Any } = ProtobufTypes;

/** A decoded message: protobufjs gives fields by camel-cased name, 64-bit ints as `Long`. */
type Decoded = Record<string, unknown>;

/** uint64 values as protobufjs decodes them. */
interface LongLike {
  toString(): string;
}

function has(message: Decoded, field: string): boolean {
  return Object.prototype.hasOwnProperty.call(message, field);
}

/** A uint64 as a safe integer. @throws MalformedMessage beyond 2^53 - 1. */
function safeInteger(value: unknown, name: string): number {
  const number = typeof value === 'number' ? value : Number((value as LongLike).toString());
  if (!Number.isSafeInteger(number) || number < 0) {
    throw new MalformedMessage(`"${name}" is beyond the integers the emulator keeps (2^53 - 1)`);
  }
  return number;
}

function optionalId(message: Decoded, field: string, name: string): number | undefined {
  return has(message, field) ? safeInteger(message[field], name) : undefined;
}

/** `MessageData` → payload. @throws MalformedMessage when it holds none or bad JSON. */
function readData(data: unknown, what: string): ClientPayload {
  if (data === null || data === undefined) throw new MalformedMessage(`${what} has no data`);
  const message = data as Decoded;
  switch (message.data) {
    case 'textData':
      return { dataType: 'text', data: Buffer.from(message.textData as string, 'utf8') };
    case 'binaryData':
      return { dataType: 'binary', data: Buffer.from(message.binaryData as Uint8Array) };
    case 'jsonData': {
      const text = message.jsonData as string;
      // JSON members get it parsed and written again: refused as deep as a JSON client's frame.
      const tooDeep = jsonDepthProblem(text);
      if (tooDeep) throw new MalformedMessage(`${what}: json_data is refused: ${tooDeep}`);
      try {
        JSON.parse(text);
      } catch {
        throw new MalformedMessage(`${what}: json_data is not JSON`);
      }
      return { dataType: 'json', data: Buffer.from(text, 'utf8') };
    }
    case 'protobufData':
      return {
        dataType: 'protobuf',
        data: Buffer.from(Any.encode(message.protobufData as protobuf.Message).finish()),
      };
    default:
      throw new MalformedMessage(`${what} has no data`);
  }
}

/**
 * Reads one frame of a protobuf client.
 * @throws MalformedMessage naming the problem: 1003 for a text frame, 1007 for anything unreadable.
 */
export function readProtobufMessage(frame: Uint8Array): ClientMessage {
  let decoded: Decoded;
  try {
    decoded = UpstreamMessage.decode(frame) as unknown as Decoded;
  } catch (error) {
    const reason = error instanceof Error ? error.message : 'unreadable';
    throw new MalformedMessage(`the frame is not an UpstreamMessage (${reason.slice(0, 80)})`);
  }
  const kind = decoded.message as string | undefined;
  if (kind === undefined) throw new MalformedMessage('the UpstreamMessage holds no message');
  const body = decoded[kind] as Decoded;
  switch (kind) {
    case 'joinGroupMessage':
    case 'leaveGroupMessage':
      return {
        type: kind === 'joinGroupMessage' ? 'joinGroup' : 'leaveGroup',
        group: checkGroup(body.group),
        ackId: optionalId(body, 'ackId', 'ack_id'),
      };
    case 'sendToGroupMessage': {
      const group = checkGroup(body.group);
      const ackId = optionalId(body, 'ackId', 'ack_id');
      const noEcho = body.noEcho === true;
      const stream = body.stream as Decoded | null | undefined;
      if (stream) {
        return {
          type: 'streamStart',
          group,
          streamId: checkStreamId(stream.streamId),
          noEcho,
          idleTimeoutMs: has(stream, 'idleTimeoutMs')
            ? checkIdleTimeout(stream.idleTimeoutMs)
            : undefined,
          ackId,
        };
      }
      return {
        type: 'sendToGroup',
        group,
        ackId,
        noEcho,
        payload: readData(body.data, 'send_to_group_message'),
      };
    }
    case 'eventMessage': {
      const ackId = optionalId(body, 'ackId', 'ack_id');
      if (body.stream) return { type: 'unsupported', name: 'event stream', ackId };
      return {
        type: 'event',
        event: checkEventName(body.event),
        ackId,
        payload: readData(body.data, 'event_message'),
      };
    }
    case 'sequenceAckMessage':
      return { type: 'sequenceAck', sequenceId: safeInteger(body.sequenceId, 'sequence_id') };
    case 'pingMessage':
      return { type: 'ping' };
    case 'invokeEventMessage':
      return {
        type: 'invoke',
        invocationId: checkInvocationId(body.invocationId),
        event: checkEventName(body.event),
        payload: body.data ? readData(body.data, 'invoke_event_message') : undefined,
      };
    case 'cancelInvocationMessage':
      return { type: 'cancelInvocation', invocationId: checkInvocationId(body.invocationId) };
    case 'streamDataMessage': {
      const streamId = checkStreamId(body.streamId);
      if (!has(body, 'streamSequenceId') && !body.data) return { type: 'streamData', streamId };
      return {
        type: 'streamData',
        streamId,
        streamSequenceId: safeInteger(body.streamSequenceId ?? 0, 'stream_sequence_id'),
        payload: readData(body.data, 'stream_data_message'),
      };
    }
    case 'streamEndMessage': {
      const error = body.error as Decoded | null | undefined;
      return {
        type: 'streamEnd',
        streamId: checkStreamId(body.streamId),
        error: error
          ? {
              message: has(error, 'message') ? (error.message as string) : undefined,
              userErrorCode: has(error, 'userErrorCode')
                ? (error.userErrorCode as string)
                : undefined,
            }
          : undefined,
      };
    }
    default:
      // setGroupState, subscribeGroupState, unsubscribeGroupState.
      return {
        type: 'unsupported',
        name: kind.replace(/Message$/, ''),
        ackId: optionalId(body, 'ackId', 'ack_id'),
      };
  }
}

// ---- service → client ----

/** Payload → `MessageData`. Bytes sent as protobuf that are not an `Any` go as `binary_data`. */
function writeData(payload: ClientPayload): Decoded {
  switch (payload.dataType) {
    case 'text':
      return { textData: payload.data.toString('utf8') };
    case 'json':
      return { jsonData: payload.data.toString('utf8') };
    case 'binary':
      return { binaryData: payload.data };
    case 'protobuf':
      try {
        return { protobufData: Any.decode(payload.data) };
      } catch {
        return { binaryData: payload.data };
      }
  }
}

function encode(message: Decoded): Buffer {
  const bytes = DownstreamMessage.encode(message).finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function writeProtobufConnected(
  userId: string | undefined,
  connectionId: string,
  reconnectionToken?: string,
): Buffer {
  const connected: Decoded = { connectionId, userId: userId ?? '' };
  if (reconnectionToken !== undefined) connected.reconnectionToken = reconnectionToken;
  return encode({ systemMessage: { connectedMessage: connected } });
}

export function writeProtobufDisconnected(reason: string): Buffer {
  return encode({ systemMessage: { disconnectedMessage: { reason } } });
}

export function writeProtobufAck(
  ackId: number,
  error?: { name: AckErrorName; message: string },
): Buffer {
  return encode({
    ackMessage: error ? { ackId, success: false, error } : { ackId, success: true },
  });
}

export function writeProtobufPong(): Buffer {
  return encode({ pongMessage: {} });
}

export function writeProtobufData(
  from: 'server' | 'group',
  message: ClientPayload,
  extra: DataExtra,
): Buffer {
  const data: Decoded = { from, data: writeData(message) };
  if (from === 'group') data.group = extra.group;
  if (extra.sequenceId !== undefined) data.sequenceId = extra.sequenceId;
  if (extra.stream) {
    const { streamId, streamSequenceId, endOfStream, error } = extra.stream;
    const stream: Decoded = { streamId, streamSequenceId, endOfStream };
    if (error) {
      stream.error = {
        name: error.name,
        message: error.message,
        userErrorCode: error.userErrorCode ?? '',
      };
    }
    data.stream = stream;
  }
  return encode({ dataMessage: data });
}

export function writeProtobufInvokeResponse(invocationId: string, result: InvokeResult): Buffer {
  if ('error' in result) {
    return encode({
      invokeResponseMessage: { invocationId, success: false, error: result.error },
    });
  }
  const response: Decoded = { invocationId, success: true };
  if (result.message) response.data = writeData(result.message);
  return encode({ invokeResponseMessage: response });
}

export function writeProtobufStreamControl(control: StreamControl): Buffer {
  switch (control.type) {
    case 'streamAck':
      return encode({
        streamAckMessage: {
          streamId: control.streamId,
          expectedSequenceId: control.expectedSequenceId,
        },
      });
    case 'streamNack':
      return encode({
        streamNackMessage: {
          streamId: control.streamId,
          name: control.name,
          message: control.message,
          expectedSequenceId: control.expectedSequenceId,
        },
      });
    case 'streamClosed':
      return encode({
        streamClosedMessage: control.error
          ? { streamId: control.streamId, error: control.error }
          : { streamId: control.streamId },
      });
  }
}

/** The protobuf subprotocols' codec: binary frames only; a text frame closes with 1003. */
export const protobufCodec: WireCodec = {
  read(data, isBinary) {
    if (!isBinary) {
      throw new MalformedMessage('protobuf subprotocol clients must send binary frames', 1003);
    }
    return readProtobufMessage(data);
  },
  connected: writeProtobufConnected,
  disconnected: writeProtobufDisconnected,
  ack: writeProtobufAck,
  pong: writeProtobufPong,
  data: writeProtobufData,
  invokeResponse: writeProtobufInvokeResponse,
  streamControl: writeProtobufStreamControl,
};
