/**
 * One MQTT session (= one Web PubSub connection; its client id is the connection id). It outlives
 * a network connection while its expiry lasts (MQTT 5 session expiry, or a 3.1.1 session without
 * clean session), and takes the next one with the same client id. SUBSCRIBE joins a group,
 * PUBLISH sends to one, PUBLISH to `$webpubsub/server/events/{event}` raises a user event whose
 * answer is published back; the last will goes out when the network connection is lost.
 */
import type {
  IConnackPacket,
  IConnectPacket,
  IPublishPacket,
  ISubscribePacket,
  IUnsubscribePacket,
  Packet,
  UserProperties,
} from 'mqtt-packet';
import { randomBytes } from 'node:crypto';
import type { MqttDisconnectedProperties } from '../../protocol/cloud-event.reader.js';
import {
  MqttDisconnectReasonCode as Reason,
  mqttUserPropertyHeaders,
  type MqttUserProperty,
} from '../../protocol/mqtt.js';
import type { SessionLimits } from '../clients/session-limits.js';
import type { OutboundMessage } from '../state/hub-operations.js';
import type { ClientDelivery, ClientSink, Connection, HubRegistry } from '../state/hubs.js';
import { groupNameProblem } from '../../protocol/names.js';
import {
  duplicate,
  encodePublish,
  numbered,
  clipReason,
  type EncodedPublish,
  type LinkEnd,
  type MqttLink,
} from './mqtt-link.js';
import { dataBody, elapsedMs, type TrafficBody, type TrafficLog } from '../traffic-log.js';
import type { EventSubject, MqttUserEventAnswer, Upstream } from '../upstream/upstream.js';

/** Topic of the messages REST sends to a connection, a user or everyone. */
export const SERVER_MESSAGES_TOPIC = '$webpubsub/server/messages';
/** Prefix of the topics that raise user events. */
export const SERVER_EVENTS_PREFIX = '$webpubsub/server/events/';

/** MQTT 5 reason codes of SUBACK, UNSUBACK, PUBACK and PUBREC used here. */
const Ack = {
  success: 0x00,
  noSubscriptionExisted: 0x11,
  unspecifiedError: 0x80,
  notAuthorized: 0x87,
  topicFilterInvalid: 0x8f,
  topicNameInvalid: 0x90,
  packetIdentifierNotFound: 0x92,
  sharedSubscriptionsNotSupported: 0x9e,
  wildcardSubscriptionsNotSupported: 0xa2,
} as const;
/** The 3.1.1 SUBACK refusal. */
const V311_SUBSCRIBE_FAILURE = 0x80;

export interface MqttSessionContext {
  readonly hubs: HubRegistry;
  readonly upstream: Upstream;
  readonly traffic: TrafficLog;
  readonly log: (line: string) => void;
  readonly limits: SessionLimits;
  /** Called once when the session has ended for good. */
  readonly ended: (session: MqttSession) => void;
}

/** The CONNECT packet's will, checked. */
export interface MqttWill {
  readonly topic: string;
  readonly payload: Buffer;
  readonly contentType?: string;
  /** MQTT 5 will delay interval, in ms. */
  readonly delayMs: number;
}

/** What a (re)connecting network connection brings to the session. */
export interface MqttAttachment {
  readonly packet: IConnectPacket;
  readonly sessionPresent: boolean;
  /** MQTT 5 CONNACK properties (assigned client id, user properties, ...). */
  readonly connackProperties?: IConnackPacket['properties'];
  readonly expiryMs: number;
  readonly will: MqttWill | undefined;
}

interface Subscription {
  readonly qos: number;
  readonly noLocal: boolean;
  readonly identifier?: number;
}

/** MQTT 5 content type → data type (cross-protocol mapping); 3.1.1 and absent → binary. */
export function dataTypeOfContentType(
  contentType: string | undefined,
): OutboundMessage['dataType'] {
  const media = contentType?.split(';')[0].trim().toLowerCase();
  if (media === 'application/json') return 'json';
  if (media === 'text/plain') return 'text';
  if (media === 'application/x-protobuf') return 'protobuf';
  return 'binary';
}

/** Encoded forms of a message being fanned out, dropped with the message. */
const ENCODED = new WeakMap<OutboundMessage, Map<string, EncodedPublish>>();

const CONTENT_TYPE_OF: Record<OutboundMessage['dataType'], string> = {
  json: 'application/json',
  text: 'text/plain',
  binary: 'application/octet-stream',
  protobuf: 'application/x-protobuf',
};

/** mqtt-packet's `{ name: value | value[] }` → `[{ name, value }]`, in order. */
export function userPropertyList(properties: UserProperties | undefined): MqttUserProperty[] {
  const list: MqttUserProperty[] = [];
  for (const [name, value] of Object.entries(properties ?? {})) {
    for (const item of Array.isArray(value) ? value : [value]) list.push({ name, value: item });
  }
  return list;
}

/** `[{ name, value }]` → mqtt-packet's `{ name: value | value[] }`. */
export function userPropertyObject(
  list: readonly MqttUserProperty[] | undefined,
): UserProperties | undefined {
  if (!list || list.length === 0) return undefined;
  // Keyed by the client's or the handler's names: no prototype (as mqtt-packet's own reader).
  const object: Record<string, string | string[]> = Object.create(null);
  for (const { name, value } of list) {
    const previous = object[name];
    object[name] =
      previous === undefined
        ? value
        : Array.isArray(previous)
          ? [...previous, value]
          : [previous, value];
  }
  return object;
}

export class MqttSession implements ClientSink {
  /** `ce-sessionId`. */
  readonly sessionId = randomBytes(12).toString('hex');
  /** Set once the registry holds the connection. */
  connection!: Connection;
  readonly subject: EventSubject;
  readonly protocolVersion: number;
  #link: MqttLink | undefined;
  #expiryMs = 0;
  #expiryTimer: NodeJS.Timeout | undefined;
  #will: MqttWill | undefined;
  #willTimer: NodeJS.Timeout | undefined;
  /** The will waits (for its delay, or for the session's end): it goes out when the session ends. */
  #willDue = false;
  readonly #subscriptions = new Map<string, Subscription>();
  /** Outgoing QoS 1 messages waiting for their PUBACK, by packet id. */
  readonly #inflight = new Map<number, Buffer>();
  /** Outgoing QoS 1 messages waiting for room in the client's receive maximum, or for a link. */
  readonly #pending: EncodedPublish[] = [];
  #nextPacketId = 1;
  #receiveMaximum = 65535;
  /** Incoming QoS 2 packet ids between PUBREC and PUBREL (processed once). */
  readonly #inboundQos2 = new Set<number>();
  #queue: Promise<void> = Promise.resolve();
  #queued = 0;
  #ended = false;
  #lastEnd: MqttDisconnectedProperties = { initiatedByClient: false, disconnectPacket: null };

  constructor(
    readonly context: MqttSessionContext,
    subject: EventSubject,
    protocolVersion: number,
  ) {
    this.subject = { ...subject, sessionId: this.sessionId };
    this.protocolVersion = protocolVersion;
  }

  get ended(): boolean {
    return this.#ended;
  }

  get #v5(): boolean {
    return this.protocolVersion === 5;
  }

  /** Takes a network connection: CONNACK, keep-alive, then messages that waited for it. */
  attach(link: MqttLink, attachment: MqttAttachment): void {
    const previous = this.#link;
    this.#link = link;
    if (previous)
      previous.close('another connection took the session over', Reason.SessionTakenOver);
    if (this.#expiryTimer) clearTimeout(this.#expiryTimer);
    this.#expiryTimer = undefined;
    // A will waiting for its delay is not sent when the session is resumed in time.
    if (this.#willTimer) clearTimeout(this.#willTimer);
    this.#willTimer = undefined;
    this.#willDue = false;
    this.#will = attachment.will;
    this.#expiryMs = attachment.expiryMs;
    this.subject.physicalConnectionId = link.physicalConnectionId;
    const { packet } = attachment;
    this.#receiveMaximum = packet.properties?.receiveMaximum ?? 65535;
    link.send({
      cmd: 'connack',
      sessionPresent: attachment.sessionPresent,
      returnCode: 0,
      reasonCode: 0,
      properties: this.#v5 ? attachment.connackProperties : undefined,
    });
    link.listen({
      packet: received => this.#onPacket(link, received),
      closed: end => this.#onLinkClosed(link, end),
    });
    link.keepAlive(packet.keepalive ?? 0, () => {
      const seconds = packet.keepalive ?? 0;
      this.context.log(
        `mqtt ${this.connection.hub}/${this.connection.connectionId} silent for 1.5 × ${seconds} s keep-alive: cut`,
      );
      link.close(
        `keep-alive timeout (nothing heard for 1.5 × ${seconds} s)`,
        Reason.KeepAliveTimeout,
      );
    });
    // Unacknowledged messages go again (DUP), then those that waited.
    for (const bytes of this.#inflight.values()) link.sendBytes(duplicate(bytes));
    this.#flush();
  }

  // ---- ClientSink ----

  deliver(delivery: ClientDelivery): void {
    if (this.#ended) return;
    const { message } = delivery;
    let topic = SERVER_MESSAGES_TOPIC;
    let qos = 1;
    let identifier: number | undefined;
    if (delivery.from === 'group' && delivery.group !== undefined) {
      topic = delivery.group;
      const subscription = this.#subscriptions.get(delivery.group);
      // Messages go out with QoS 1, downgraded to the subscription's; groups joined without a
      // SUBSCRIBE (token, connect answer, REST) have the default QoS 1.
      if (subscription) qos = Math.min(1, subscription.qos);
      identifier = subscription?.identifier;
    }
    // One message reaches many subscribers: it is encoded once per form (version, QoS, topic, id).
    let forms = ENCODED.get(message);
    if (!forms) ENCODED.set(message, (forms = new Map()));
    const form = `${this.protocolVersion}|${qos}|${identifier ?? ''}|${topic}`;
    let encoded = forms.get(form);
    if (!encoded) {
      encoded = encodePublish(
        {
          cmd: 'publish',
          topic,
          payload: message.data,
          qos: qos as 0 | 1,
          dup: false,
          retain: false,
          properties: this.#v5
            ? {
                contentType: CONTENT_TYPE_OF[message.dataType],
                ...(identifier !== undefined ? { subscriptionIdentifier: identifier } : {}),
              }
            : undefined,
        },
        this.protocolVersion,
      );
      forms.set(form, encoded);
    }
    if (qos === 0) {
      this.#link?.sendBytes(encoded.bytes);
      return;
    }
    this.#pending.push(encoded);
    if (this.#pending.length + this.#inflight.size > this.context.limits.maxUnackedMessages) {
      this.#fail(
        `the client did not acknowledge its messages (more than ${this.context.limits.maxUnackedMessages} waiting)`,
        Reason.QuotaExceeded,
      );
      return;
    }
    this.#flush();
  }

  /** REST close: DISCONNECT (MQTT 5: administrative action), the will, then `disconnected`. */
  close(reason: string | undefined): void {
    this.#fail(reason || 'closed by the service', Reason.AdministrativeAction);
  }

  /** A clean start with the same client id: DISCONNECT (MQTT 5: session taken over), the will, `disconnected`. */
  takeOver(reason: string): void {
    this.#fail(reason, Reason.SessionTakenOver);
  }

  /** Emulator shutdown: DISCONNECT (MQTT 5: server shutting down), no will, no upstream event. */
  shutdown(): void {
    if (this.#ended) return;
    const link = this.#link;
    this.#link = undefined;
    link?.close('the emulator is shutting down', Reason.ServerShuttingDown);
    link?.terminate();
    this.#will = undefined;
    this.#end('the emulator is shutting down', false);
  }

  /** Ends the session from the service side: DISCONNECT with `code` (MQTT 5), the will, `disconnected`. */
  #fail(reason: string, code: number): void {
    if (this.#ended) return;
    const link = this.#link;
    this.#link = undefined;
    link?.close(reason, code);
    this.#lastEnd = { initiatedByClient: false, disconnectPacket: null };
    this.#publishWill();
    this.#end(reason, true);
  }

  #end(reason: string, notifyUpstream: boolean): void {
    if (this.#ended) return;
    // A will still waiting for its delay goes out when the session ends.
    if (this.#willTimer) clearTimeout(this.#willTimer);
    this.#willTimer = undefined;
    if (this.#willDue) this.#publishWill();
    this.#ended = true;
    if (this.#expiryTimer) clearTimeout(this.#expiryTimer);
    this.#expiryTimer = undefined;
    this.#inflight.clear();
    this.#pending.length = 0;
    this.context.hubs.remove(this.connection);
    this.context.ended(this);
    const { hub, connectionId, userId } = this.connection;
    this.context.traffic.record({
      kind: 'connection',
      hub,
      action: 'disconnected',
      connectionId,
      userId,
      subprotocol: 'mqtt',
      detail: reason,
    });
    this.context.log(`mqtt ${hub}/${connectionId} session ended: ${reason}`);
    if (notifyUpstream)
      this.context.upstream.notify(this.subject, 'disconnected', reason, this.#lastEnd);
  }

  #onLinkClosed(link: MqttLink, end: LinkEnd): void {
    if (this.#link !== link || this.#ended) return;
    this.#link = undefined;
    const packet = end.disconnectPacket;
    this.#lastEnd = {
      initiatedByClient: !end.byServer,
      disconnectPacket: packet
        ? {
            code: packet.reasonCode ?? 0,
            ...(this.#v5 && packet.properties?.userProperties
              ? { userProperties: userPropertyList(packet.properties.userProperties) }
              : {}),
          }
        : null,
    };
    // The will goes out unless the client said goodbye (MQTT 5: unless without reason 0x04).
    if (packet && packet.reasonCode !== Reason.DisconnectWithWillMessage) this.#will = undefined;
    if (this.#expiryMs <= 0) {
      this.#publishWill();
      this.#end(end.reason, true);
      return;
    }
    const { hub, connectionId, userId } = this.connection;
    this.context.traffic.record({
      kind: 'connection',
      hub,
      action: 'dropped',
      connectionId,
      userId,
      subprotocol: 'mqtt',
      detail: `${end.reason}; session kept ${this.#expiryMs} ms`,
    });
    this.context.log(
      `mqtt ${hub}/${connectionId} network connection ended (${end.reason}); session kept ${this.#expiryMs} ms`,
    );
    const will = this.#will;
    if (will && will.delayMs === 0) {
      this.#publishWill();
    } else if (will) {
      // MQTT 5 will delay: sent after the delay, or when the session ends, unless it is resumed.
      this.#willDue = true;
      if (will.delayMs < this.#expiryMs) {
        this.#willTimer = setTimeout(() => {
          this.#willTimer = undefined;
          this.#publishWill();
        }, will.delayMs);
      }
    }
    this.#expiryTimer = setTimeout(() => {
      this.#expiryTimer = undefined;
      this.#end(
        `the session expired ${this.#expiryMs} ms after its network connection ended (${end.reason})`,
        true,
      );
    }, this.#expiryMs);
  }

  #publishWill(): void {
    const will = this.#will;
    this.#will = undefined;
    this.#willDue = false;
    if (!will || this.#ended) return;
    const { hub, connectionId } = this.connection;
    if (!this.connection.can('sendToGroup', will.topic)) {
      this.#refusalRecord(
        `will to ${will.topic} not published: no permission to send to the group`,
      );
      return;
    }
    this.context.log(`mqtt ${hub}/${connectionId} will published to ${will.topic}`);
    this.context.hubs.publishFromClient(
      this.connection,
      will.topic,
      { dataType: this.#dataType(will.contentType), data: will.payload },
      false,
    );
  }

  #dataType(contentType: string | undefined): OutboundMessage['dataType'] {
    return this.#v5 ? dataTypeOfContentType(contentType) : 'binary';
  }

  /** Sends waiting QoS 1 messages while the client's receive maximum allows. */
  #flush(): void {
    const link = this.#link;
    if (!link || !link.open) return;
    while (this.#pending.length > 0 && this.#inflight.size < this.#receiveMaximum) {
      const encoded = this.#pending.shift() as EncodedPublish;
      const messageId = this.#packetId();
      const bytes = numbered(encoded, messageId);
      this.#inflight.set(messageId, bytes);
      link.sendBytes(bytes);
    }
  }

  #packetId(): number {
    for (;;) {
      const id = this.#nextPacketId;
      this.#nextPacketId = id === 65535 ? 1 : id + 1;
      if (!this.#inflight.has(id)) return id;
    }
  }

  // ---- incoming ----

  #onPacket(link: MqttLink, packet: Packet): void {
    if (this.#link !== link || this.#ended) return;
    switch (packet.cmd) {
      case 'pingreq':
        link.send({ cmd: 'pingresp' });
        return;
      case 'puback':
        if (packet.messageId !== undefined) this.#inflight.delete(packet.messageId);
        this.#flush();
        return;
      case 'pubrel': {
        const known = packet.messageId !== undefined && this.#inboundQos2.delete(packet.messageId);
        link.send({
          cmd: 'pubcomp',
          messageId: packet.messageId,
          ...(this.#v5 ? { reasonCode: known ? Ack.success : Ack.packetIdentifierNotFound } : {}),
        });
        return;
      }
      case 'disconnect': {
        const expiry = packet.properties?.sessionExpiryInterval;
        if (expiry !== undefined && this.#expiryMs > 0) {
          this.#expiryMs = Math.min(expiry * 1000, this.context.limits.recoveryWindowMs);
        }
        return;
      }
      case 'publish':
      case 'subscribe':
      case 'unsubscribe':
        this.#enqueue(link, packet);
        return;
      case 'connect':
        link.close('a second CONNECT on the same connection', Reason.ProtocolError);
        return;
      default:
        // PUBREC/PUBCOMP (the emulator never sends QoS 2), AUTH (no enhanced authentication).
        link.close(`unexpected ${packet.cmd.toUpperCase()} packet`, Reason.ProtocolError);
    }
  }

  /** Runs packets one at a time, in order; stops reading the link while too many wait. */
  #enqueue(link: MqttLink, packet: IPublishPacket | ISubscribePacket | IUnsubscribePacket): void {
    this.#queued++;
    if (this.#queued > this.context.limits.maxQueuedMessages) link.pause(true);
    this.#queue = this.#queue
      .then(() => (this.#ended || this.#link !== link ? undefined : this.#execute(link, packet)))
      .catch((error: unknown) => {
        this.context.log(
          `mqtt ${this.connection.hub}/${this.connection.connectionId} ${packet.cmd} failed: ${(error as Error).message}`,
        );
      })
      .finally(() => {
        this.#queued--;
        if (this.#queued <= this.context.limits.maxQueuedMessages / 2) link.pause(false);
      });
  }

  async #execute(
    link: MqttLink,
    packet: IPublishPacket | ISubscribePacket | IUnsubscribePacket,
  ): Promise<void> {
    const started = performance.now();
    const time = Date.now();
    let reach: number | void = undefined;
    switch (packet.cmd) {
      case 'subscribe':
        this.#subscribe(link, packet);
        break;
      case 'unsubscribe':
        this.#unsubscribe(link, packet);
        break;
      case 'publish':
        reach = await this.#publish(link, packet);
        break;
    }
    this.#frameRecord(packet, time, started, reach);
  }

  /** The packet as a `client` traffic record: its topics, a publish's payload and reach. */
  #frameRecord(
    packet: IPublishPacket | ISubscribePacket | IUnsubscribePacket,
    time: number,
    started: number,
    reach: number | void,
  ): void {
    const { hub, connectionId, userId } = this.connection;
    let target: string;
    let payload: { dataType: string; body: TrafficBody } | undefined;
    if (packet.cmd === 'publish') {
      target = packet.topic;
      const dataType = this.#dataType(packet.properties?.contentType);
      const data = Buffer.isBuffer(packet.payload)
        ? packet.payload
        : Buffer.from(packet.payload, 'utf8');
      payload = { dataType, body: dataBody(dataType, data) };
    } else if (packet.cmd === 'subscribe') {
      target = packet.subscriptions.map(s => s.topic).join(', ');
    } else {
      target = packet.unsubscriptions.join(', ');
    }
    this.context.traffic.record({
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

  #subscribe(link: MqttLink, packet: ISubscribePacket): void {
    const identifier = packet.properties?.subscriptionIdentifier;
    const problems: string[] = [];
    const granted = packet.subscriptions.map(({ topic, qos, nl }) => {
      const refuse = (code: number, problem: string) => {
        problems.push(`${topic}: ${problem}`);
        return this.#v5 ? code : V311_SUBSCRIBE_FAILURE;
      };
      if (topic.startsWith('$share/'))
        return refuse(
          Ack.sharedSubscriptionsNotSupported,
          'shared subscriptions are not supported',
        );
      if (topic.includes('+') || topic.includes('#'))
        return refuse(
          Ack.wildcardSubscriptionsNotSupported,
          'wildcard subscriptions are not supported',
        );
      const invalid = groupNameProblem(topic);
      if (invalid) return refuse(Ack.topicFilterInvalid, invalid);
      if (!this.connection.can('joinLeaveGroup', topic))
        return refuse(
          Ack.notAuthorized,
          `no permission to join the group (role webpubsub.joinLeaveGroup.${topic} needed)`,
        );
      this.context.hubs.join(this.connection, topic);
      this.#subscriptions.set(topic, { qos, noLocal: nl === true, identifier });
      return qos;
    });
    for (const problem of problems) this.#refusalRecord(`subscribe refused: ${problem}`);
    link.send({
      cmd: 'suback',
      messageId: packet.messageId,
      granted,
      properties:
        this.#v5 && problems.length > 0
          ? { reasonString: clipReason(problems.join('; ')) }
          : undefined,
    });
  }

  #unsubscribe(link: MqttLink, packet: IUnsubscribePacket): void {
    const problems: string[] = [];
    const codes = packet.unsubscriptions.map(topic => {
      if (!this.connection.groups.has(topic)) {
        this.#subscriptions.delete(topic);
        return Ack.noSubscriptionExisted;
      }
      if (!this.connection.can('joinLeaveGroup', topic)) {
        problems.push(`${topic}: no permission to leave the group`);
        return Ack.notAuthorized;
      }
      this.context.hubs.leave(this.connection, topic);
      this.#subscriptions.delete(topic);
      return Ack.success;
    });
    for (const problem of problems) this.#refusalRecord(`unsubscribe refused: ${problem}`);
    link.send({
      cmd: 'unsuback',
      messageId: packet.messageId,
      ...(this.#v5
        ? {
            granted: codes,
            properties:
              problems.length > 0 ? { reasonString: clipReason(problems.join('; ')) } : undefined,
          }
        : { granted: [] }),
    });
  }

  /** Returns the reach of a group publish. */
  async #publish(link: MqttLink, packet: IPublishPacket): Promise<number | void> {
    const { topic, qos, messageId } = packet;
    if (packet.properties?.topicAlias !== undefined) {
      link.close(
        'topic aliases are not supported (topic alias maximum 0)',
        Reason.TopicAliasInvalid,
      );
      return;
    }
    if (packet.retain) {
      // 3.1.1 has no code for this: its only refusal of a PUBLISH is closing the connection.
      link.close('retained messages are not supported', Reason.RetainNotSupported);
      return;
    }
    if (topic === '' || topic.includes('+') || topic.includes('#')) {
      link.close(
        `the topic name ${JSON.stringify(topic.slice(0, 100))} is not valid (empty, or with a wildcard)`,
        Reason.TopicNameInvalid,
      );
      return;
    }
    if (qos === 2 && messageId !== undefined && this.#inboundQos2.has(messageId)) {
      // A resent QoS 2 message that was already processed: PUBREC again, nothing twice.
      this.#ack(link, packet, Ack.success);
      return;
    }
    const payload = Buffer.isBuffer(packet.payload)
      ? packet.payload
      : Buffer.from(packet.payload, 'utf8');
    if (topic.startsWith(SERVER_EVENTS_PREFIX)) {
      await this.#userEvent(link, packet, topic.slice(SERVER_EVENTS_PREFIX.length), payload);
      return;
    }
    const invalid = groupNameProblem(topic);
    if (invalid) {
      this.#refusalRecord(`publish to ${topic.slice(0, 100)} refused: ${invalid}`);
      this.#ack(link, packet, Ack.topicNameInvalid, invalid);
      return;
    }
    if (!this.connection.can('sendToGroup', topic)) {
      const problem = `no permission to send to the group (role webpubsub.sendToGroup.${topic} needed)`;
      this.#refusalRecord(`publish to ${topic} refused: ${problem}`);
      this.#ack(link, packet, Ack.notAuthorized, problem);
      return;
    }
    const reach = this.context.hubs.publishFromClient(
      this.connection,
      topic,
      { dataType: this.#dataType(packet.properties?.contentType), data: payload },
      this.#subscriptions.get(topic)?.noLocal ?? false,
    );
    this.#ack(link, packet, Ack.success);
    return reach;
  }

  /** A PUBLISH to `$webpubsub/server/events/{event}`: the user event, its answer published back, then the ack. */
  async #userEvent(
    link: MqttLink,
    packet: IPublishPacket,
    event: string,
    payload: Buffer,
  ): Promise<void> {
    if (event === '' || event.includes('/')) {
      const problem = 'the event name after $webpubsub/server/events/ must be non-empty, without /';
      this.#refusalRecord(`publish to ${packet.topic.slice(0, 100)} refused: ${problem}`);
      this.#ack(link, packet, Ack.topicNameInvalid, problem);
      return;
    }
    const userProperties = this.#v5 ? userPropertyList(packet.properties?.userProperties) : [];
    try {
      mqttUserPropertyHeaders(userProperties);
    } catch (error) {
      // Properties that cannot travel as `mqtt-<name>` headers are answered as a failure.
      const reason = (error as Error).message;
      this.#reply(packet, false, {
        body: Buffer.from(reason, 'utf8'),
        contentType: 'text/plain',
        userProperties: [],
      });
      this.#ack(link, packet, Ack.success);
      return;
    }
    let answer: MqttUserEventAnswer;
    try {
      answer = await this.context.upstream.mqttUserEvent(this.subject, event, payload, {
        contentType: this.#v5 ? packet.properties?.contentType : undefined,
        userProperties,
      });
    } catch (error) {
      // What cannot travel in an HTTP request (a control character in the content type or the
      // event name) is answered as a failure, never left without an answer.
      const reason = `the user event cannot be sent: ${(error as Error).message}`;
      this.#refusalRecord(reason);
      answer = {
        succeeded: false,
        contentType: 'text/plain',
        body: Buffer.from(reason, 'utf8'),
        userProperties: [],
      };
    }
    if (this.#ended) return;
    this.#reply(packet, answer.succeeded, answer);
    this.#ack(link, packet, Ack.success);
  }

  /** Publishes a user event's answer to `<topic>/succeeded` or `<topic>/failed`, as the service does. */
  #reply(
    request: IPublishPacket,
    succeeded: boolean,
    answer: {
      readonly status?: number;
      readonly contentType?: string;
      readonly body: Buffer;
      readonly userProperties: readonly MqttUserProperty[];
    },
  ): void {
    const userProperties = [...answer.userProperties];
    if (answer.status !== undefined)
      userProperties.push({ name: 'azure-status-code', value: String(answer.status) });
    const publish: IPublishPacket = {
      cmd: 'publish',
      topic: `${request.topic}/${succeeded ? 'succeeded' : 'failed'}`,
      payload: answer.body,
      qos: Math.min(1, request.qos) as 0 | 1,
      dup: false,
      retain: false,
      properties: this.#v5
        ? {
            ...(answer.contentType ? { contentType: answer.contentType } : {}),
            ...(request.properties?.correlationData
              ? { correlationData: request.properties.correlationData }
              : {}),
            userProperties: userPropertyObject(userProperties),
          }
        : undefined,
    };
    const encoded = encodePublish(publish, this.protocolVersion);
    if (publish.qos === 0) this.#link?.sendBytes(encoded.bytes);
    else {
      this.#pending.push(encoded);
      this.#flush();
    }
  }

  /** PUBACK (QoS 1) or PUBREC (QoS 2); MQTT 5 carries the reason code, 3.1.1 only acknowledges. */
  #ack(link: MqttLink, packet: IPublishPacket, code: number, reasonString?: string): void {
    if (packet.qos === 0 || packet.messageId === undefined) return;
    if (packet.qos === 2 && code < 0x80) this.#inboundQos2.add(packet.messageId);
    link.send({
      cmd: packet.qos === 1 ? 'puback' : 'pubrec',
      messageId: packet.messageId,
      ...(this.#v5
        ? {
            reasonCode: code,
            properties: reasonString ? { reasonString: clipReason(reasonString) } : undefined,
          }
        : {}),
    });
  }

  /** A refusal the client may not see (3.1.1 has no codes for it; QoS 0 has no ack): logged and recorded. */
  #refusalRecord(detail: string): void {
    const { hub, connectionId, userId } = this.connection;
    this.context.traffic.record({
      kind: 'connection',
      hub,
      action: 'refused',
      connectionId,
      userId,
      subprotocol: 'mqtt',
      detail,
    });
    this.context.log(`mqtt ${hub}/${connectionId} ${detail}`);
  }
}
