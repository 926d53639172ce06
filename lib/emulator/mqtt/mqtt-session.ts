/**
 * One MQTT session (= one Web PubSub connection; its client id is the connection id). It outlives
 * a network connection while its expiry lasts (MQTT 5 session expiry, or a 3.1.1 session without
 * clean session), and takes the next one with the same client id. SUBSCRIBE joins a group,
 * PUBLISH sends to one, PUBLISH to `$webpubsub/server/events/{event}` raises a user event whose
 * answer is published back; the last will goes out when the network connection is lost.
 * The session keeps its network connection, its expiry and its order; its parts are beside it:
 * subscriptions (`mqtt-subscriptions.ts`), PUBLISH and user events (`mqtt-publishes.ts`), the will
 * (`mqtt-will.ts`), QoS 1 messages to the client (`mqtt-outbox.ts`), traffic records
 * (`mqtt-records.ts`), MQTT properties in Web PubSub's terms (`mqtt-properties.ts`).
 */
import type {
  IConnackPacket,
  IConnectPacket,
  IPublishPacket,
  ISubscribePacket,
  IUnsubscribePacket,
  Packet,
} from 'mqtt-packet';
import { randomBytes } from 'node:crypto';
import type { MqttDisconnectedProperties } from '../../protocol/cloud-event.reader.js';
import { MqttDisconnectReasonCode as Reason } from '../../protocol/mqtt.js';
import type { SessionLimits } from '../clients/session-limits.js';
import type { ClientDelivery, ClientSink, Connection, HubRegistry } from '../state/hubs.js';
import type { EncodedPublish, LinkEnd, MqttLink } from './mqtt-link.js';
import { encodedDelivery, MqttOutbox } from './mqtt-outbox.js';
import { userPropertyList } from './mqtt-properties.js';
import { MqttPublishes, SERVER_MESSAGES_TOPIC } from './mqtt-publishes.js';
import { recordConnection, recordPacket } from './mqtt-records.js';
import { MqttSubscriptions } from './mqtt-subscriptions.js';
import { MqttWillKeeper, type MqttWill } from './mqtt-will.js';
import type { TrafficLog } from '../traffic-log.js';
import type { EventSubject, Upstream } from '../upstream/upstream.js';

export interface MqttSessionContext {
  readonly hubs: HubRegistry;
  readonly upstream: Upstream;
  readonly traffic: TrafficLog;
  readonly log: (line: string) => void;
  readonly limits: SessionLimits;
  /** Called once when the session has ended for good. */
  readonly ended: (session: MqttSession) => void;
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
  readonly #will = new MqttWillKeeper(this);
  readonly #subscriptions = new MqttSubscriptions(this);
  readonly #outbox = new MqttOutbox();
  readonly #publishes = new MqttPublishes(this, this.#subscriptions, (encoded, qos) =>
    this.#toClient(encoded, qos),
  );
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
    this.#will.take(attachment.will);
    this.#expiryMs = attachment.expiryMs;
    this.subject.physicalConnectionId = link.physicalConnectionId;
    const { packet } = attachment;
    this.#outbox.receiveMaximum = packet.properties?.receiveMaximum ?? 65535;
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
    this.#outbox.resend(link);
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
    const encoded = encodedDelivery(message, this.protocolVersion, qos, identifier, topic);
    if (qos === 0) {
      this.#link?.sendBytes(encoded.bytes);
      return;
    }
    this.#outbox.queue(encoded);
    if (this.#outbox.size > this.context.limits.maxUnackedMessages) {
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
    this.#will.drop();
    this.#end('the emulator is shutting down', false);
  }

  /** Ends the session from the service side: DISCONNECT with `code` (MQTT 5), the will, `disconnected`. */
  #fail(reason: string, code: number): void {
    if (this.#ended) return;
    const link = this.#link;
    this.#link = undefined;
    link?.close(reason, code);
    this.#lastEnd = { initiatedByClient: false, disconnectPacket: null };
    this.#will.publish();
    this.#end(reason, true);
  }

  #end(reason: string, notifyUpstream: boolean): void {
    if (this.#ended) return;
    // A will still waiting for its delay goes out when the session ends.
    this.#will.sessionEnding();
    this.#ended = true;
    if (this.#expiryTimer) clearTimeout(this.#expiryTimer);
    this.#expiryTimer = undefined;
    this.#outbox.clear();
    this.context.hubs.remove(this.connection);
    this.context.ended(this);
    recordConnection(this.context, this.connection, 'disconnected', reason);
    const { hub, connectionId } = this.connection;
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
    if (packet && packet.reasonCode !== Reason.DisconnectWithWillMessage) this.#will.drop();
    if (this.#expiryMs <= 0) {
      this.#will.publish();
      this.#end(end.reason, true);
      return;
    }
    recordConnection(
      this.context,
      this.connection,
      'dropped',
      `${end.reason}; session kept ${this.#expiryMs} ms`,
    );
    const { hub, connectionId } = this.connection;
    this.context.log(
      `mqtt ${hub}/${connectionId} network connection ended (${end.reason}); session kept ${this.#expiryMs} ms`,
    );
    this.#will.connectionLost(this.#expiryMs);
    this.#expiryTimer = setTimeout(() => {
      this.#expiryTimer = undefined;
      this.#end(
        `the session expired ${this.#expiryMs} ms after its network connection ended (${end.reason})`,
        true,
      );
    }, this.#expiryMs);
  }

  /** Sends waiting QoS 1 messages while the client's receive maximum allows. */
  #flush(): void {
    this.#outbox.flush(this.#link);
  }

  /** A user event's answer to the client: QoS 0 at once, QoS 1 through the outbox. */
  #toClient(encoded: EncodedPublish, qos: number): void {
    if (qos === 0) this.#link?.sendBytes(encoded.bytes);
    else {
      this.#outbox.queue(encoded);
      this.#flush();
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
        this.#outbox.acknowledge(packet.messageId);
        this.#flush();
        return;
      case 'pubrel':
        this.#publishes.release(link, packet);
        return;
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
        this.#subscriptions.subscribe(link, packet);
        break;
      case 'unsubscribe':
        this.#subscriptions.unsubscribe(link, packet);
        break;
      case 'publish':
        reach = await this.#publishes.publish(link, packet);
        break;
    }
    recordPacket(this, packet, time, started, reach);
  }
}
