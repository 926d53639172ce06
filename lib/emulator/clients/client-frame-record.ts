/**
 * The traffic record of one client frame (kind `client`): the frame's type, the group, event or
 * stream it names, its data, how long it took, how many connections a `sendToGroup` reached, and
 * the error it was answered.
 */
import type { OutboundMessage } from '../state/hub-operations.js';
import type { Connection } from '../state/hubs.js';
import { dataBody, elapsedMs, type TrafficLog } from '../traffic-log.js';
import type { ClientMessage } from './client-messages.js';

/** What a client frame came to, for its traffic record. */
export interface FrameOutcome {
  readonly reach?: number;
  readonly error?: string;
}

/** Runs one client frame of `connection` and records it, whatever it came to. */
export async function recordClientFrame(
  traffic: TrafficLog,
  connection: Connection,
  action: string,
  target: string | undefined,
  payload: OutboundMessage | undefined,
  run: () => Promise<FrameOutcome | void> | FrameOutcome | void,
): Promise<void> {
  const started = performance.now();
  const time = Date.now();
  let outcome: FrameOutcome | void = undefined;
  try {
    outcome = await run();
  } finally {
    const { hub, connectionId, userId, subprotocol } = connection;
    traffic.record({
      kind: 'client',
      time,
      hub,
      action,
      target,
      connectionId,
      userId,
      subprotocol,
      durationMs: elapsedMs(started),
      ...(payload
        ? {
            dataType: payload.dataType,
            request: { headers: {}, body: dataBody(payload.dataType, payload.data) },
          }
        : {}),
      ...(outcome?.reach === undefined ? {} : { reach: outcome.reach }),
      ...(outcome?.error === undefined ? {} : { detail: outcome.error }),
    });
  }
}

/** What a client frame addresses, for its traffic record: its group, its event, or its stream. */
export function frameTarget(message: ClientMessage): string | undefined {
  if ('group' in message) return message.group;
  if ('event' in message) return message.event;
  if ('streamId' in message) return `stream ${message.streamId}`;
  return undefined;
}
