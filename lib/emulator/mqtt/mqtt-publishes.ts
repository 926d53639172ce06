/**
 * PUBLISH from a session's client: to a group (the topic is the group's name; the connection's
 * roles decide), or to `$webpubsub/server/events/{event}`, which raises a user event whose answer
 * is published back to `<topic>/succeeded` or `<topic>/failed`. Acknowledged with PUBACK (QoS 1)
 * or PUBREC (QoS 2, processed once until its PUBREL); no topic aliases, no retained messages.
 */
import type { IPublishPacket, IPubrelPacket } from 'mqtt-packet';
import {
  MqttDisconnectReasonCode as Reason,
  mqttUserPropertyHeaders,
  type MqttUserProperty,
} from '../../protocol/mqtt.js';
import { groupNameProblem } from '../../protocol/names.js';
import type { MqttUserEventAnswer } from '../upstream/upstream.js';
import { Ack, clip } from './mqtt-ack-codes.js';
import { encodePublish, type EncodedPublish, type MqttLink } from './mqtt-link.js';
import { dataTypeOf, userPropertyList, userPropertyObject } from './mqtt-properties.js';
import { recordRefusal, type MqttSessionView } from './mqtt-records.js';
import type { MqttSubscriptions } from './mqtt-subscriptions.js';

/** Topic of the messages REST sends to a connection, a user or everyone. */
export const SERVER_MESSAGES_TOPIC = '$webpubsub/server/messages';
/** Prefix of the topics that raise user events. */
export const SERVER_EVENTS_PREFIX = '$webpubsub/server/events/';

export class MqttPublishes {
  /** Incoming QoS 2 packet ids between PUBREC and PUBREL (processed once). */
  readonly #inboundQos2 = new Set<number>();

  constructor(
    readonly session: MqttSessionView,
    readonly subscriptions: MqttSubscriptions,
    /** Sends a PUBLISH to the client (QoS 0 at once, QoS 1 through the session's outbox). */
    readonly toClient: (encoded: EncodedPublish, qos: number) => void,
  ) {}

  get #v5(): boolean {
    return this.session.protocolVersion === 5;
  }

  /** Returns the reach of a group publish. */
  async publish(link: MqttLink, packet: IPublishPacket): Promise<number | void> {
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
      recordRefusal(this.session, `publish to ${topic.slice(0, 100)} refused: ${invalid}`);
      this.#ack(link, packet, Ack.topicNameInvalid, invalid);
      return;
    }
    const { connection, context, protocolVersion } = this.session;
    if (!connection.can('sendToGroup', topic)) {
      const problem = `no permission to send to the group (role webpubsub.sendToGroup.${topic} needed)`;
      recordRefusal(this.session, `publish to ${topic} refused: ${problem}`);
      this.#ack(link, packet, Ack.notAuthorized, problem);
      return;
    }
    const reach = context.hubs.publishFromClient(
      connection,
      topic,
      { dataType: dataTypeOf(protocolVersion, packet.properties?.contentType), data: payload },
      this.subscriptions.get(topic)?.noLocal ?? false,
    );
    this.#ack(link, packet, Ack.success);
    return reach;
  }

  /** PUBREL: PUBCOMP (MQTT 5: whether the packet id was known); the QoS 2 message is done. */
  release(link: MqttLink, packet: IPubrelPacket): void {
    const known = packet.messageId !== undefined && this.#inboundQos2.delete(packet.messageId);
    link.send({
      cmd: 'pubcomp',
      messageId: packet.messageId,
      ...(this.#v5 ? { reasonCode: known ? Ack.success : Ack.packetIdentifierNotFound } : {}),
    });
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
      recordRefusal(this.session, `publish to ${packet.topic.slice(0, 100)} refused: ${problem}`);
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
      answer = await this.session.context.upstream.mqttUserEvent(
        this.session.subject,
        event,
        payload,
        {
          contentType: this.#v5 ? packet.properties?.contentType : undefined,
          userProperties,
        },
      );
    } catch (error) {
      // What cannot travel in an HTTP request (a control character in the content type or the
      // event name) is answered as a failure, never left without an answer.
      const reason = `the user event cannot be sent: ${(error as Error).message}`;
      recordRefusal(this.session, reason);
      answer = {
        succeeded: false,
        contentType: 'text/plain',
        body: Buffer.from(reason, 'utf8'),
        userProperties: [],
      };
    }
    if (this.session.ended) return;
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
    this.toClient(encodePublish(publish, this.session.protocolVersion), publish.qos);
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
            properties: reasonString ? { reasonString: clip(reasonString) } : undefined,
          }
        : {}),
    });
  }
}
