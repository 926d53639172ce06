/**
 * MQTT properties in Web PubSub's terms: user properties as a list (`[{ name, value }]`, the order
 * kept) and as mqtt-packet's object, and a message's content type (MQTT 5) as its data type and back.
 */
import type { UserProperties } from 'mqtt-packet';
import type { MqttUserProperty } from '../../protocol/mqtt.js';
import type { OutboundMessage } from '../state/hub-operations.js';

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

/** The data type of a message a client of `protocolVersion` sent: 3.1.1 has no content type. */
export function dataTypeOf(
  protocolVersion: number,
  contentType: string | undefined,
): OutboundMessage['dataType'] {
  return protocolVersion === 5 ? dataTypeOfContentType(contentType) : 'binary';
}

/** Data type → the content type an MQTT 5 client hears. */
export const CONTENT_TYPE_OF: Record<OutboundMessage['dataType'], string> = {
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
