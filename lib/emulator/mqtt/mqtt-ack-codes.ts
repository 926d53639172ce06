/**
 * The reason codes an MQTT session answers SUBSCRIBE, UNSUBSCRIBE, PUBLISH and PUBREL with, and
 * the one clipping of an MQTT 5 reason string (the endpoint, the link and the session use it).
 */

/** MQTT 5 reason codes of SUBACK, UNSUBACK, PUBACK, PUBREC and PUBCOMP used here. */
export const Ack = {
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
export const V311_SUBSCRIBE_FAILURE = 0x80;

/**
 * An MQTT 5 reason string as sent, in every packet that carries one (CONNACK, DISCONNECT, SUBACK,
 * UNSUBACK, PUBACK, PUBREC): at most 200 characters, 199 and an ellipsis when longer.
 */
export function clip(text: string): string {
  return text.length <= 200 ? text : `${text.slice(0, 199)}…`;
}
