/**
 * Names and values of the Azure Web PubSub upstream protocol, in one place.
 *
 * Header names as the service spells them (Microsoft's documentation camel-cases them); names
 * are case-insensitive on the wire. Writers send these spellings.
 */
export const ServiceHeader = {
  specVersion: 'ce-specversion',
  type: 'ce-type',
  source: 'ce-source',
  id: 'ce-id',
  time: 'ce-time',
  awpsVersion: 'ce-awpsversion',
  signature: 'ce-signature',
  userId: 'ce-userId',
  connectionId: 'ce-connectionId',
  hub: 'ce-hub',
  eventName: 'ce-eventName',
  subprotocol: 'ce-subprotocol',
  connectionState: 'ce-connectionState',
  /** MQTT clients only: the network connection. */
  physicalConnectionId: 'ce-physicalConnectionId',
  /** MQTT clients only, every event but `connect`. */
  sessionId: 'ce-sessionId',
  webhookRequestOrigin: 'WebHook-Request-Origin',
  webhookAllowedOrigin: 'WebHook-Allowed-Origin',
  contentType: 'content-type',
} as const;

type LowerCased<T extends Record<string, string>> = { readonly [K in keyof T]: Lowercase<T[K]> };

/** The same header names in lower case, as Node delivers them (readers look these up). */
export const Header = Object.freeze(
  Object.fromEntries(Object.entries(ServiceHeader).map(([key, name]) => [key, name.toLowerCase()])),
) as LowerCased<typeof ServiceHeader>;

/** The CloudEvents attributes every event must carry (binary mode headers). */
export const REQUIRED_EVENT_HEADERS = [
  Header.specVersion,
  Header.type,
  Header.id,
  Header.hub,
  Header.connectionId,
  Header.eventName,
] as const;

export const SPEC_VERSION = '1.0';

/** Every event type the service sends starts with this. */
export const EVENT_TYPE_PREFIX = 'azure.webpubsub.';

export const EventType = {
  connect: 'azure.webpubsub.sys.connect',
  connected: 'azure.webpubsub.sys.connected',
  disconnected: 'azure.webpubsub.sys.disconnected',
  groupJoined: 'azure.webpubsub.gp.joined',
  groupLeft: 'azure.webpubsub.gp.left',
  userPrefix: 'azure.webpubsub.user.',
} as const;

/** What kind of event a request carries, derived from `ce-type`. */
export type EventKind =
  'connect' | 'connected' | 'disconnected' | 'user' | 'groupJoined' | 'groupLeft';

/** Events the service waits for: their response reaches the client. */
export const BLOCKING_KINDS: ReadonlySet<EventKind> = new Set<EventKind>(['connect', 'user']);

export const ContentType = {
  json: 'application/json; charset=utf-8',
  text: 'text/plain; charset=utf-8',
  binary: 'application/octet-stream',
  /** A serialized `google.protobuf.Any` from a protobuf subprotocol client. */
  protobuf: 'application/x-protobuf',
} as const;

/** The media types a user event may carry, mapped to the data type handlers see. */
export const USER_EVENT_MEDIA_TYPES = {
  'text/plain': 'text',
  'application/json': 'json',
  'application/octet-stream': 'binary',
  'application/x-protobuf': 'protobuf',
} as const;

export type UserEventDataType = 'text' | 'json' | 'binary' | 'protobuf';

/** The `Content-Type` each data type travels with (user events and their answers). */
export const DATA_TYPE_CONTENT_TYPES: Readonly<Record<UserEventDataType, string>> = {
  text: ContentType.text,
  json: ContentType.json,
  binary: ContentType.binary,
  protobuf: ContentType.protobuf,
};
