/**
 * A session's subscriptions: SUBSCRIBE joins a group (the topic is the group's name), UNSUBSCRIBE
 * leaves it. No shared or wildcard subscriptions; the connection's roles decide. Each refusal is in
 * the SUBACK or UNSUBACK (MQTT 5: a reason code and string; 3.1.1: the one failure code) and in the
 * traffic log.
 */
import type { ISubscribePacket, IUnsubscribePacket } from 'mqtt-packet';
import { groupNameProblem } from '../../protocol/names.js';
import { Ack, clip, V311_SUBSCRIBE_FAILURE } from './mqtt-ack-codes.js';
import type { MqttLink } from './mqtt-link.js';
import { recordRefusal, type MqttSessionView } from './mqtt-records.js';

export interface Subscription {
  readonly qos: number;
  readonly noLocal: boolean;
  readonly identifier?: number;
}

export class MqttSubscriptions {
  readonly #subscriptions = new Map<string, Subscription>();

  constructor(readonly session: MqttSessionView) {}

  get #v5(): boolean {
    return this.session.protocolVersion === 5;
  }

  /** The subscription to `topic`, if the client subscribed (groups joined otherwise have none). */
  get(topic: string): Subscription | undefined {
    return this.#subscriptions.get(topic);
  }

  subscribe(link: MqttLink, packet: ISubscribePacket): void {
    const { connection, context } = this.session;
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
      if (!connection.can('joinLeaveGroup', topic))
        return refuse(
          Ack.notAuthorized,
          `no permission to join the group (role webpubsub.joinLeaveGroup.${topic} needed)`,
        );
      context.hubs.join(connection, topic);
      this.#subscriptions.set(topic, { qos, noLocal: nl === true, identifier });
      return qos;
    });
    for (const problem of problems) recordRefusal(this.session, `subscribe refused: ${problem}`);
    link.send({
      cmd: 'suback',
      messageId: packet.messageId,
      granted,
      properties:
        this.#v5 && problems.length > 0 ? { reasonString: clip(problems.join('; ')) } : undefined,
    });
  }

  unsubscribe(link: MqttLink, packet: IUnsubscribePacket): void {
    const { connection, context } = this.session;
    const problems: string[] = [];
    const codes = packet.unsubscriptions.map(topic => {
      if (!connection.groups.has(topic)) {
        this.#subscriptions.delete(topic);
        return Ack.noSubscriptionExisted;
      }
      if (!connection.can('joinLeaveGroup', topic)) {
        problems.push(`${topic}: no permission to leave the group`);
        return Ack.notAuthorized;
      }
      context.hubs.leave(connection, topic);
      this.#subscriptions.delete(topic);
      return Ack.success;
    });
    for (const problem of problems) recordRefusal(this.session, `unsubscribe refused: ${problem}`);
    link.send({
      cmd: 'unsuback',
      messageId: packet.messageId,
      ...(this.#v5
        ? {
            granted: codes,
            properties:
              problems.length > 0 ? { reasonString: clip(problems.join('; ')) } : undefined,
          }
        : { granted: [] }),
    });
  }
}
