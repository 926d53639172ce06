/**
 * What an MQTT session records in the traffic log besides its connection's life: each SUBSCRIBE,
 * UNSUBSCRIBE and PUBLISH as a `client` record (topics, a publish's payload and reach), and each
 * refusal the client may not see (3.1.1 has no codes for it; QoS 0 has no ack), logged too. Also
 * what the session's parts read of it.
 */
import type { IPublishPacket, ISubscribePacket, IUnsubscribePacket } from 'mqtt-packet';
import type { Connection } from '../state/hubs.js';
import { dataBody, elapsedMs, type TrafficBody } from '../traffic-log.js';
import type { EventSubject } from '../upstream/upstream.js';
import { dataTypeOf } from './mqtt-properties.js';
import type { MqttSessionContext } from './mqtt-session.js';

/** What the parts of a session (subscriptions, publishes, will) read of it. */
export interface MqttSessionView {
  readonly connection: Connection;
  readonly context: MqttSessionContext;
  readonly subject: EventSubject;
  readonly protocolVersion: number;
  readonly ended: boolean;
}

/** The packet as a `client` traffic record: its topics, a publish's payload and reach. */
export function recordPacket(
  session: MqttSessionView,
  packet: IPublishPacket | ISubscribePacket | IUnsubscribePacket,
  time: number,
  started: number,
  reach: number | void,
): void {
  const { hub, connectionId, userId } = session.connection;
  let target: string;
  let payload: { dataType: string; body: TrafficBody } | undefined;
  if (packet.cmd === 'publish') {
    target = packet.topic;
    const dataType = dataTypeOf(session.protocolVersion, packet.properties?.contentType);
    const data = Buffer.isBuffer(packet.payload)
      ? packet.payload
      : Buffer.from(packet.payload, 'utf8');
    payload = { dataType, body: dataBody(dataType, data) };
  } else if (packet.cmd === 'subscribe') {
    target = packet.subscriptions.map(s => s.topic).join(', ');
  } else {
    target = packet.unsubscriptions.join(', ');
  }
  session.context.traffic.record({
    kind: 'client',
    time,
    hub,
    action: packet.cmd,
    target,
    connectionId,
    userId,
    subprotocol: 'mqtt',
    durationMs: elapsedMs(started),
    ...(payload
      ? { dataType: payload.dataType, request: { headers: {}, body: payload.body } }
      : {}),
    ...(typeof reach === 'number' ? { reach } : {}),
  });
}

/** A refusal the client may not see (3.1.1 has no codes for it; QoS 0 has no ack): logged and recorded. */
export function recordRefusal(session: MqttSessionView, detail: string): void {
  recordConnection(session.context, session.connection, 'refused', detail);
  const { hub, connectionId } = session.connection;
  session.context.log(`mqtt ${hub}/${connectionId} ${detail}`);
}

/** A `connection` record of the session's life (refused, dropped, disconnected). */
export function recordConnection(
  context: MqttSessionContext,
  { hub, connectionId, userId }: Connection,
  action: string,
  detail: string,
): void {
  context.traffic.record({
    kind: 'connection',
    hub,
    action,
    connectionId,
    userId,
    subprotocol: 'mqtt',
    detail,
  });
}
