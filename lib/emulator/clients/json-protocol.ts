/**
 * The `json.webpubsub.azure.v1` and `json.reliable.webpubsub.azure.v1` subprotocols: reading what
 * clients send and writing what the service sends (text frames only). No sockets here.
 */
import { jsonDepthProblem } from '../../protocol/json-depth.js';
import { groupNameProblem } from '../../protocol/names.js';
import type { OutboundMessage } from '../state/hub-operations.js';

export const JSON_SUBPROTOCOL = 'json.webpubsub.azure.v1';
export const JSON_RELIABLE_SUBPROTOCOL = 'json.reliable.webpubsub.azure.v1';
export const PUBSUB_SUBPROTOCOLS: readonly string[] = [JSON_RELIABLE_SUBPROTOCOL, JSON_SUBPROTOCOL];

/** The data types a client may put in `dataType`; `protobuf` travels as base64 like `binary`. */
export type ClientDataType = 'json' | 'text' | 'binary' | 'protobuf';

/** A client message's payload, decoded. */
export interface ClientPayload {
  readonly dataType: OutboundMessage['dataType'];
  readonly data: Buffer;
}

export type ClientMessage =
  | { readonly type: 'joinGroup' | 'leaveGroup'; readonly group: string; readonly ackId?: number }
  | {
      readonly type: 'sendToGroup';
      readonly group: string;
      readonly ackId?: number;
      readonly noEcho: boolean;
      readonly payload: ClientPayload;
    }
  | {
      readonly type: 'event';
      readonly event: string;
      readonly ackId?: number;
      readonly payload: ClientPayload;
    }
  | { readonly type: 'sequenceAck'; readonly sequenceId: number }
  | { readonly type: 'ping' }
  | {
      readonly type: 'invoke';
      readonly invocationId: string;
      readonly event: string;
      readonly payload?: ClientPayload;
    }
  | { readonly type: 'cancelInvocation'; readonly invocationId: string }
  | { readonly type: 'unsupported'; readonly name: string; readonly ackId?: number };

/** A message the service cannot read: the session closes the socket with {@link code}. */
export class MalformedMessage extends Error {
  constructor(
    message: string,
    /** 1003 for a binary frame, 1007 for text that is not a valid message. */
    readonly code: 1003 | 1007 = 1007,
  ) {
    super(message);
  }
}

/** Stream messages of @azure/web-pubsub-client 1.1: answered as unsupported, never executed. */
const UNSUPPORTED_TYPES = new Set(['streamData', 'streamEnd']);

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
      return { type, group: readGroup(message.group), ackId };
    case 'sendToGroup':
      if (message.stream !== undefined) return { type: 'unsupported', name: 'stream', ackId };
      return {
        type,
        group: readGroup(message.group),
        ackId,
        noEcho: message.noEcho === true,
        payload: readPayload(message.dataType, message.data),
      };
    case 'event':
      return {
        type,
        event: readEventName(message.event),
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
      const invocationId = readInvocationId(message.invocationId);
      if (message.target !== undefined && message.target !== 'event') {
        throw new MalformedMessage(
          `invoke target ${JSON.stringify(message.target)} is not "event"`,
        );
      }
      return {
        type,
        invocationId,
        event: readEventName(message.event),
        payload:
          message.dataType === undefined && message.data === undefined
            ? undefined
            : readPayload(message.dataType, message.data),
      };
    }
    case 'cancelInvocation':
      return { type, invocationId: readInvocationId(message.invocationId) };
    default:
      if (UNSUPPORTED_TYPES.has(type)) return { type: 'unsupported', name: type, ackId };
      throw new MalformedMessage(`unknown message type ${JSON.stringify(type.slice(0, 40))}`);
  }
}

function readAckId(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new MalformedMessage('"ackId" must be a non-negative integer');
  }
  return value;
}

function readGroup(value: unknown): string {
  const problem = groupNameProblem(value);
  if (problem) throw new MalformedMessage(problem);
  return value as string;
}

function readEventName(value: unknown): string {
  if (typeof value !== 'string' || value === '') {
    throw new MalformedMessage('"event" must be a non-empty string');
  }
  // oxlint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (/[\s,\x00-\x1f\x7f]/.test(value) || value.length > 128) {
    throw new MalformedMessage(`event name ${JSON.stringify(value.slice(0, 40))} is not valid`);
  }
  return value;
}

function readInvocationId(value: unknown): string {
  if (typeof value !== 'string' || value === '' || value.length > 128) {
    throw new MalformedMessage('"invocationId" must be a non-empty string');
  }
  return value;
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
function wire(message: OutboundMessage): { dataType: OutboundMessage['dataType']; data: unknown } {
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
  message: OutboundMessage,
  extra: { group?: string; fromUserId?: string; sequenceId?: number },
): string {
  const { dataType, data } = wire(message);
  const body: Record<string, unknown> = { type: 'message', from };
  if (from === 'group') body.group = extra.group;
  body.dataType = dataType;
  body.data = data;
  if (extra.fromUserId !== undefined) body.fromUserId = extra.fromUserId;
  if (extra.sequenceId !== undefined) body.sequenceId = extra.sequenceId;
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

export type AckErrorName = 'Forbidden' | 'InternalServerError' | 'Duplicate' | 'BadRequest';

export function writeAck(ackId: number, error?: { name: AckErrorName; message: string }): string {
  return JSON.stringify(
    error ? { type: 'ack', ackId, success: false, error } : { type: 'ack', ackId, success: true },
  );
}

export function writePong(): string {
  return '{"type":"pong"}';
}

export function writeInvokeResponse(
  invocationId: string,
  result: { message?: OutboundMessage } | { error: { name: string; message: string } },
): string {
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
