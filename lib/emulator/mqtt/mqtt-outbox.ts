/**
 * What a session sends its client with QoS 1: messages wait for room in the client's receive
 * maximum (or for a network connection), go out numbered, and stay in flight until their PUBACK;
 * a new network connection gets the unacknowledged ones again (DUP). And the encoded forms of a
 * message fanned out to many subscribers, encoded once per form.
 */
import type { OutboundMessage } from '../state/hub-operations.js';
import {
  duplicate,
  encodePublish,
  numbered,
  type EncodedPublish,
  type MqttLink,
} from './mqtt-link.js';
import { CONTENT_TYPE_OF } from './mqtt-properties.js';

/** Encoded forms of a message being fanned out, dropped with the message. */
const ENCODED = new WeakMap<OutboundMessage, Map<string, EncodedPublish>>();

/** `message` as a PUBLISH to `topic` for a client of `protocolVersion`, encoded once per form. */
export function encodedDelivery(
  message: OutboundMessage,
  protocolVersion: number,
  qos: number,
  identifier: number | undefined,
  topic: string,
): EncodedPublish {
  // One message reaches many subscribers: it is encoded once per form (version, QoS, topic, id).
  let forms = ENCODED.get(message);
  if (!forms) ENCODED.set(message, (forms = new Map()));
  const form = `${protocolVersion}|${qos}|${identifier ?? ''}|${topic}`;
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
        properties:
          protocolVersion === 5
            ? {
                contentType: CONTENT_TYPE_OF[message.dataType],
                ...(identifier !== undefined ? { subscriptionIdentifier: identifier } : {}),
              }
            : undefined,
      },
      protocolVersion,
    );
    forms.set(form, encoded);
  }
  return encoded;
}

/** A session's QoS 1 messages to its client, waiting or in flight. */
export class MqttOutbox {
  /** Outgoing QoS 1 messages waiting for their PUBACK, by packet id. */
  readonly #inflight = new Map<number, Buffer>();
  /** Outgoing QoS 1 messages waiting for room in the client's receive maximum, or for a link. */
  readonly #pending: EncodedPublish[] = [];
  #nextPacketId = 1;
  /** The client's receive maximum (MQTT 5), from its CONNECT. */
  receiveMaximum = 65535;

  /** Messages not acknowledged yet, in flight or waiting. */
  get size(): number {
    return this.#pending.length + this.#inflight.size;
  }

  /** A message waits for its turn. */
  queue(encoded: EncodedPublish): void {
    this.#pending.push(encoded);
  }

  /** A new network connection: the unacknowledged messages go again (DUP). */
  resend(link: MqttLink): void {
    for (const bytes of this.#inflight.values()) link.sendBytes(duplicate(bytes));
  }

  /** A PUBACK: the message with that packet id has arrived. */
  acknowledge(messageId: number | undefined): void {
    if (messageId !== undefined) this.#inflight.delete(messageId);
  }

  /** Sends waiting QoS 1 messages while the client's receive maximum allows. */
  flush(link: MqttLink | undefined): void {
    if (!link || !link.open) return;
    while (this.#pending.length > 0 && this.#inflight.size < this.receiveMaximum) {
      const encoded = this.#pending.shift() as EncodedPublish;
      const messageId = this.#packetId();
      const bytes = numbered(encoded, messageId);
      this.#inflight.set(messageId, bytes);
      link.sendBytes(bytes);
    }
  }

  /** The session has ended: nothing waits. */
  clear(): void {
    this.#inflight.clear();
    this.#pending.length = 0;
  }

  #packetId(): number {
    for (;;) {
      const id = this.#nextPacketId;
      this.#nextPacketId = id === 65535 ? 1 : id + 1;
      if (!this.#inflight.has(id)) return id;
    }
  }
}
