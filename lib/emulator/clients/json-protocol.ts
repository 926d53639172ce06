/**
 * The `json.webpubsub.azure.v1` and `json.reliable.webpubsub.azure.v1` subprotocols: reading what
 * clients send and writing what the service sends (text frames only). No sockets here.
 */
import { jsonDepthProblem } from '../../protocol/json-depth.js';
import {
  MalformedMessage,
  checkEventName,
  checkGroup,
  checkId,
  checkIdleTimeout,
  checkInvocationId,
  checkStreamId,
  type ClientMessage,
  type ClientPayload,
  type PayloadDataType,
  type StreamEndError,
} from './client-messages.js';
import type {
  AckErrorName,
  DataExtra,
  InvokeResult,
  StreamControl,
  WireCodec,
} from './wire-codec.js';

export { MalformedMessage, type ClientMessage, type ClientPayload, type AckErrorName };

export const JSON_SUBPROTOCOL = 'json.webpubsub.azure.v1';
export const JSON_RELIABLE_SUBPROTOCOL = 'json.reliable.webpubsub.azure.v1';
export const PUBSUB_SUBPROTOCOLS: readonly string[] = [JSON_RELIABLE_SUBPROTOCOL, JSON_SUBPROTOCOL];

/** The data types a client may put in `dataType`. */
export type ClientDataType = PayloadDataType;

/** Messages of @azure/web-pubsub-client 1.1 the emulator does not execute: answered `BadRequest`. */
const UNSUPPORTED_TYPES = new Set([
  'setGroupState',
  'subscribeGroupState',
  'unsubscribeGroupState',
]);

/**
 * Reads one text frame of a JSON client.
 * @throws MalformedMessage naming the problem.
 */
export function readClientMessage(text: string): ClientMessage {
  // Measured before parsing: the data is written again, and JSON.stringify overflows the stack
  // on deep nesting (about 5,000 levels).
  const tooDeep = jsonDepthProblem(text);
  if (tooDeep) throw new MalformedMessage(`the frame is refused: ${tooDeep}`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new MalformedMessage('the frame is not JSON');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new MalformedMessage('the frame is not a JSON object');
  }
  const message = value as Record<string, unknown>;
  const type = message.type;
  if (typeof type !== 'string') throw new MalformedMessage('the message has no "type"');
  const ackId = readAckId(message.ackId);
  switch (type) {
    case 'joinGroup':
    case 'leaveGroup':
      return { type, group: checkGroup(message.group), ackId };
    case 'sendToGroup':
      if (message.stream !== undefined && message.stream !== null) {
        const stream = message.stream as Record<string, unknown>;
        if (typeof stream !== 'object' || Array.isArray(stream)) {
          throw new MalformedMessage('"stream" must be an object with a "streamId"');
        }
        return {
          type: 'streamStart',
          group: checkGroup(message.group),
          streamId: checkStreamId(stream.streamId),
          noEcho: message.noEcho === true,
          idleTimeoutMs: checkIdleTimeout(stream.idleTimeoutMs),
          ackId,
        };
      }
      return {
        type,
        group: checkGroup(message.group),
        ackId,
        noEcho: message.noEcho === true,
        payload: readPayload(message.dataType, message.data),
      };
    case 'event':
      return {
        type,
        event: checkEventName(message.event),
        ackId,
        payload: readPayload(message.dataType, message.data),
      };
    case 'sequenceAck': {
      const sequenceId = message.sequenceId;
      if (typeof sequenceId !== 'number' || !Number.isSafeInteger(sequenceId) || sequenceId < 0) {
        throw new MalformedMessage('sequenceAck needs a non-negative integer "sequenceId"');
      }
      return { type, sequenceId };
    }
    case 'ping':
      return { type };
    case 'invoke': {
      const invocationId = checkInvocationId(message.invocationId);
      if (message.target !== undefined && message.target !== 'event') {
        throw new MalformedMessage(
          `invoke target ${JSON.stringify(message.target)} is not "event"`,
        );
      }
      return {
        type,
        invocationId,
        event: checkEventName(message.event),
        payload:
          message.dataType === undefined && message.data === undefined
            ? undefined
            : readPayload(message.dataType, message.data),
      };
    }
    case 'cancelInvocation':
      return { type, invocationId: checkInvocationId(message.invocationId) };
    case 'streamData': {
      const streamId = checkStreamId(message.streamId);
      if (message.streamSequenceId === undefined && message.data === undefined) {
        return { type, streamId };
      }
      return {
        type,
        streamId,
        streamSequenceId: checkId(message.streamSequenceId, 'streamSequenceId'),
        payload: readPayload(message.dataType, message.data),
      };
    }
    case 'streamEnd':
      return {
        type,
        streamId: checkStreamId(message.streamId),
        error: readStreamEndError(message.error),
      };
    default:
      if (UNSUPPORTED_TYPES.has(type)) return { type: 'unsupported', name: type, ackId };
      throw new MalformedMessage(`unknown message type ${JSON.stringify(type.slice(0, 40))}`);
  }
}

function readAckId(value: unknown): number | undefined {
  return value === undefined || value === null ? undefined : checkId(value, 'ackId');
}

function readStreamEndError(value: unknown): StreamEndError | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new MalformedMessage('"error" of streamEnd must be an object');
  }
  const { message, userErrorCode } = value as Record<string, unknown>;
  if (message !== undefined && typeof message !== 'string') {
    throw new MalformedMessage('"error.message" of streamEnd must be a string');
  }
  if (userErrorCode !== undefined && typeof userErrorCode !== 'string') {
    throw new MalformedMessage('"error.userErrorCode" of streamEnd must be a string');
  }
  return { message, userErrorCode };
}

function readPayload(dataType: unknown, data: unknown): ClientPayload {
  switch (dataType ?? 'json') {
    case 'json':
      if (data === undefined) throw new MalformedMessage('"data" is missing');
      return { dataType: 'json', data: Buffer.from(JSON.stringify(data), 'utf8') };
    case 'text':
      if (typeof data !== 'string')
        throw new MalformedMessage('"data" must be a string for dataType text');
      return { dataType: 'text', data: Buffer.from(data, 'utf8') };
    case 'binary':
    case 'protobuf':
      if (typeof data !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(data)) {
        throw new MalformedMessage(`"data" must be base64 for dataType ${String(dataType)}`);
      }
      return { dataType: dataType as 'binary' | 'protobuf', data: Buffer.from(data, 'base64') };
    default:
      throw new MalformedMessage(
        `unknown dataType ${JSON.stringify(String(dataType).slice(0, 40))}`,
      );
  }
}

// ---- service → client ----

/**
 * The `dataType` and `data` of a message for a JSON client: parsed JSON, a string, or base64. A
 * json body that does not parse, or nests too deep to be written again (an MQTT payload, say),
 * reaches the client as text.
 */
function wire(message: ClientPayload): { dataType: ClientPayload['dataType']; data: unknown } {
  switch (message.dataType) {
    case 'json': {
      const text = message.data.toString('utf8');
      if (jsonDepthProblem(text)) return { dataType: 'text', data: text };
      try {
        return { dataType: 'json', data: JSON.parse(text) };
      } catch {
        return { dataType: 'text', data: text };
      }
    }
    case 'text':
      return { dataType: 'text', data: message.data.toString('utf8') };
    case 'binary':
    case 'protobuf':
      return { dataType: message.dataType, data: message.data.toString('base64') };
  }
}

export function writeDataMessage(
  from: 'server' | 'group',
  message: ClientPayload,
  extra: DataExtra,
): string {
  const { dataType, data } = wire(message);
  const body: Record<string, unknown> = { type: 'message', from };
  if (from === 'group') body.group = extra.group;
  body.dataType = dataType;
  body.data = data;
  if (extra.fromUserId !== undefined) body.fromUserId = extra.fromUserId;
  if (extra.sequenceId !== undefined) body.sequenceId = extra.sequenceId;
  if (extra.stream) body.stream = extra.stream;
  return JSON.stringify(body);
}

export function writeConnected(
  userId: string | undefined,
  connectionId: string,
  reconnectionToken?: string,
): string {
  const body: Record<string, unknown> = {
    type: 'system',
    event: 'connected',
    userId: userId ?? null,
    connectionId,
  };
  if (reconnectionToken !== undefined) body.reconnectionToken = reconnectionToken;
  return JSON.stringify(body);
}

export function writeDisconnected(message: string): string {
  return JSON.stringify({ type: 'system', event: 'disconnected', message });
}

export function writeAck(ackId: number, error?: { name: AckErrorName; message: string }): string {
  return JSON.stringify(
    error ? { type: 'ack', ackId, success: false, error } : { type: 'ack', ackId, success: true },
  );
}

export function writePong(): string {
  return '{"type":"pong"}';
}

export function writeInvokeResponse(invocationId: string, result: InvokeResult): string {
  if ('error' in result) {
    return JSON.stringify({
      type: 'invokeResponse',
      invocationId,
      success: false,
      error: result.error,
    });
  }
  const body: Record<string, unknown> = { type: 'invokeResponse', invocationId, success: true };
  if (result.message) {
    const { dataType, data } = wire(result.message);
    body.dataType = dataType;
    body.data = data;
  }
  return JSON.stringify(body);
}

/** `streamAck`, `streamNack` and `streamClosed`, as @azure/web-pubsub-client 1.1 reads them. */
export function writeStreamControl(control: StreamControl): string {
  return JSON.stringify(control);
}

/** The JSON subprotocols' codec: text frames only; a binary frame closes with 1003. */
export const jsonCodec: WireCodec = {
  read(data, isBinary) {
    if (isBinary) {
      throw new MalformedMessage('JSON subprotocol clients must send text frames', 1003);
    }
    return readClientMessage(data.toString('utf8'));
  },
  connected: writeConnected,
  disconnected: writeDisconnected,
  ack: writeAck,
  pong: writePong,
  data: writeDataMessage,
  invokeResponse: writeInvokeResponse,
  streamControl: writeStreamControl,
};
