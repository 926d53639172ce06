/**
 * MQTT clients of Azure Web PubSub: the code tables, the mappings between HTTP statuses and MQTT
 * connect codes, and the `mqtt-<name>` user-property headers. Pure protocol, no Nest import.
 * Codes and mappings are those of `@azure/web-pubsub-express` 1.1.0 (protocol notes §5.1).
 */

/** MQTT 3.1.1 CONNACK return codes (refusals; 0 is "accepted"). @publicApi */
export enum MqttV311ConnectReturnCode {
  UnacceptableProtocolVersion = 1,
  IdentifierRejected = 2,
  ServerUnavailable = 3,
  BadUsernameOrPassword = 4,
  NotAuthorized = 5,
}

/** MQTT 5.0 CONNACK reason codes (refusals; 0 is "success"). @publicApi */
export enum MqttV500ConnectReasonCode {
  UnspecifiedError = 0x80,
  MalformedPacket = 0x81,
  ProtocolError = 0x82,
  ImplementationSpecificError = 0x83,
  UnsupportedProtocolVersion = 0x84,
  ClientIdentifierNotValid = 0x85,
  BadUserNameOrPassword = 0x86,
  NotAuthorized = 0x87,
  ServerUnavailable = 0x88,
  ServerBusy = 0x89,
  Banned = 0x8a,
  BadAuthenticationMethod = 0x8c,
  TopicNameInvalid = 0x90,
  PacketTooLarge = 0x95,
  QuotaExceeded = 0x97,
  PayloadFormatInvalid = 0x99,
  RetainNotSupported = 0x9a,
  QosNotSupported = 0x9b,
  UseAnotherServer = 0x9c,
  ServerMoved = 0x9d,
  ConnectionRateExceeded = 0x9f,
}

/** MQTT 5.0 DISCONNECT reason codes (`disconnectPacket.code`; 3.1.1 clients always send 0). @publicApi */
export enum MqttDisconnectReasonCode {
  NormalDisconnection = 0x00,
  DisconnectWithWillMessage = 0x04,
  UnspecifiedError = 0x80,
  MalformedPacket = 0x81,
  ProtocolError = 0x82,
  ImplementationSpecificError = 0x83,
  NotAuthorized = 0x87,
  ServerBusy = 0x89,
  ServerShuttingDown = 0x8b,
  KeepAliveTimeout = 0x8d,
  SessionTakenOver = 0x8e,
  TopicFilterInvalid = 0x8f,
  TopicNameInvalid = 0x90,
  ReceiveMaximumExceeded = 0x93,
  TopicAliasInvalid = 0x94,
  PacketTooLarge = 0x95,
  MessageRateTooHigh = 0x96,
  QuotaExceeded = 0x97,
  AdministrativeAction = 0x98,
  PayloadFormatInvalid = 0x99,
  RetainNotSupported = 0x9a,
  QosNotSupported = 0x9b,
  UseAnotherServer = 0x9c,
  ServerMoved = 0x9d,
  SharedSubscriptionsNotSupported = 0x9e,
  ConnectionRateExceeded = 0x9f,
  MaximumConnectTime = 0xa0,
  SubscriptionIdentifiersNotSupported = 0xa1,
  WildcardSubscriptionsNotSupported = 0xa2,
}

/** `protocolVersion` of an MQTT connect: 4 is MQTT 3.1.1, 5 is MQTT 5.0. */
export const MqttProtocolVersion = { v311: 4, v500: 5 } as const;

/** Which kind of client sent an event. @publicApi */
export type WebPubSubClientProtocol = 'default' | 'mqtt';

/** One MQTT 5 user property (a name/value string pair; names may repeat). @publicApi */
export interface MqttUserProperty {
  readonly name: string;
  readonly value: string;
}

/** Prefix of the request/response headers that carry MQTT user properties of user events. */
export const MQTT_HEADER_PREFIX = 'mqtt-';
const MQTT_HEADER_PREFIX_LENGTH = MQTT_HEADER_PREFIX.length;

const MQTT_SUBPROTOCOL = /mqtt/i;

/**
 * An event comes from an MQTT client when `ce-subprotocol` contains `mqtt` (any case) and
 * `ce-physicalConnectionId` is present (even empty), as `@azure/web-pubsub-express` decides.
 */
export function isMqttEvent(
  subprotocol: string | undefined,
  physicalConnectionId: string | undefined,
): boolean {
  return (
    physicalConnectionId !== undefined &&
    subprotocol !== undefined &&
    MQTT_SUBPROTOCOL.test(subprotocol)
  );
}

/**
 * The MQTT connect code for an HTTP status, by protocol version:
 * 400 → BadUsernameOrPassword (4 / 0x86), 401 and 403 → NotAuthorized (5 / 0x87), anything else →
 * ServerUnavailable (3) for 3.1.1 and UnspecifiedError (0x80) for 5.0. An unknown protocol version
 * → UnacceptableProtocolVersion (1), the only refusal every MQTT version understands.
 * (Express maps 403 to the default code; here a 403 means "not authorized" for MQTT too.)
 */
export function mqttConnectCodeFromStatus(status: number, protocolVersion: number): number {
  if (protocolVersion === MqttProtocolVersion.v311) {
    switch (status) {
      case 400:
        return MqttV311ConnectReturnCode.BadUsernameOrPassword;
      case 401:
      case 403:
        return MqttV311ConnectReturnCode.NotAuthorized;
      default:
        return MqttV311ConnectReturnCode.ServerUnavailable;
    }
  }
  if (protocolVersion === MqttProtocolVersion.v500) {
    switch (status) {
      case 400:
        return MqttV500ConnectReasonCode.BadUserNameOrPassword;
      case 401:
      case 403:
        return MqttV500ConnectReasonCode.NotAuthorized;
      default:
        return MqttV500ConnectReasonCode.UnspecifiedError;
    }
  }
  return MqttV311ConnectReturnCode.UnacceptableProtocolVersion;
}

/**
 * The HTTP status an explicit MQTT connect code is answered with (codes below 0x80 are read as
 * 3.1.1 return codes, the others as 5.0 reason codes): 3.1.1 1, 2 → 400; 3 → 503; 4, 5 → 401;
 * 5.0 0x86, 0x87 → 401; 0x81, 0x83, 0x84, 0x85, 0x8C, 0x90, 0x95, 0x99, 0x9A, 0x9B → 400;
 * 0x97, 0x9F → 429; 0x8A → 403; anything else (0x80, 0x82, 0x88, 0x89, 0x9C, 0x9D, unknown) → 500.
 */
export function httpStatusFromMqttConnectCode(code: number): number {
  if (code < 0x80) {
    switch (code) {
      case MqttV311ConnectReturnCode.UnacceptableProtocolVersion:
      case MqttV311ConnectReturnCode.IdentifierRejected:
        return 400;
      case MqttV311ConnectReturnCode.ServerUnavailable:
        return 503;
      case MqttV311ConnectReturnCode.BadUsernameOrPassword:
      case MqttV311ConnectReturnCode.NotAuthorized:
        return 401;
      default:
        return 500;
    }
  }
  switch (code) {
    case MqttV500ConnectReasonCode.NotAuthorized:
    case MqttV500ConnectReasonCode.BadUserNameOrPassword:
      return 401;
    case MqttV500ConnectReasonCode.ClientIdentifierNotValid:
    case MqttV500ConnectReasonCode.MalformedPacket:
    case MqttV500ConnectReasonCode.UnsupportedProtocolVersion:
    case MqttV500ConnectReasonCode.BadAuthenticationMethod:
    case MqttV500ConnectReasonCode.TopicNameInvalid:
    case MqttV500ConnectReasonCode.PayloadFormatInvalid:
    case MqttV500ConnectReasonCode.ImplementationSpecificError:
    case MqttV500ConnectReasonCode.PacketTooLarge:
    case MqttV500ConnectReasonCode.RetainNotSupported:
    case MqttV500ConnectReasonCode.QosNotSupported:
      return 400;
    case MqttV500ConnectReasonCode.QuotaExceeded:
    case MqttV500ConnectReasonCode.ConnectionRateExceeded:
      return 429;
    case MqttV500ConnectReasonCode.Banned:
      return 403;
    default:
      return 500;
  }
}

/** 3.1.1 return code → the 5.0 reason code that means the same. */
const V311_TO_V500: Readonly<Record<number, number>> = {
  [MqttV311ConnectReturnCode.UnacceptableProtocolVersion]:
    MqttV500ConnectReasonCode.UnsupportedProtocolVersion,
  [MqttV311ConnectReturnCode.IdentifierRejected]:
    MqttV500ConnectReasonCode.ClientIdentifierNotValid,
  [MqttV311ConnectReturnCode.ServerUnavailable]: MqttV500ConnectReasonCode.ServerUnavailable,
  [MqttV311ConnectReturnCode.BadUsernameOrPassword]:
    MqttV500ConnectReasonCode.BadUserNameOrPassword,
  [MqttV311ConnectReturnCode.NotAuthorized]: MqttV500ConnectReasonCode.NotAuthorized,
};

/** 5.0 reason code → the nearest 3.1.1 return code (3.1.1 has five; the rest → ServerUnavailable). */
const V500_TO_V311: Readonly<Record<number, number>> = {
  [MqttV500ConnectReasonCode.UnsupportedProtocolVersion]:
    MqttV311ConnectReturnCode.UnacceptableProtocolVersion,
  [MqttV500ConnectReasonCode.ClientIdentifierNotValid]:
    MqttV311ConnectReturnCode.IdentifierRejected,
  [MqttV500ConnectReasonCode.BadUserNameOrPassword]:
    MqttV311ConnectReturnCode.BadUsernameOrPassword,
  [MqttV500ConnectReasonCode.BadAuthenticationMethod]:
    MqttV311ConnectReturnCode.BadUsernameOrPassword,
  [MqttV500ConnectReasonCode.NotAuthorized]: MqttV311ConnectReturnCode.NotAuthorized,
  [MqttV500ConnectReasonCode.Banned]: MqttV311ConnectReturnCode.NotAuthorized,
};

/**
 * The code to send to a client of `protocolVersion`. A code of the client's own table is sent as
 * it is; a code of the other table is translated to its equivalent (3.1.1 NotAuthorized 5 ↔ 5.0
 * NotAuthorized 0x87, ...), because the service would show the client "unspecified error" for a
 * code its version does not have — and a 3.1.1 code below 0x80 means *success* in MQTT 5.
 * For an unknown protocol version the code is sent as it is.
 */
export function mqttConnectCodeForVersion(code: number, protocolVersion: number): number {
  if (protocolVersion === MqttProtocolVersion.v311) {
    return code < 0x80 ? code : (V500_TO_V311[code] ?? MqttV311ConnectReturnCode.ServerUnavailable);
  }
  if (protocolVersion === MqttProtocolVersion.v500) {
    return code >= 0x80 ? code : (V311_TO_V500[code] ?? MqttV500ConnectReasonCode.UnspecifiedError);
  }
  return code;
}

/** The name of a connect code, e.g. `NotAuthorized`, or the number when it is not in the tables. */
export function mqttConnectCodeName(code: number): string {
  return (
    (code < 0x80 ? MqttV311ConnectReturnCode[code] : MqttV500ConnectReasonCode[code]) ??
    String(code)
  );
}

/**
 * Checks a list of user properties: an array of `{ name: string, value: string }`.
 * @returns a frozen copy holding only `name` and `value`.
 * @throws TypeError naming the first faulty entry.
 */
export function copyUserProperties(properties: unknown, what: string): readonly MqttUserProperty[] {
  if (!Array.isArray(properties))
    throw new TypeError(`${what} must be an array of { name, value } strings`);
  return Object.freeze(
    properties.map((property: unknown, index) => {
      const { name, value } = (property ?? {}) as { name?: unknown; value?: unknown };
      if (typeof name !== 'string' || typeof value !== 'string') {
        throw new TypeError(`${what}[${index}] must be { name: string, value: string }`);
      }
      return Object.freeze({ name, value });
    }),
  );
}

/** RFC 9110 `token`: the characters an HTTP header name may have. */
const HEADER_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/**
 * RFC 9110 `field-value` restricted to ASCII: visible characters, with spaces and tabs inside
 * only (a leading or trailing one would be trimmed in transit). Empty is fine.
 */
const HEADER_VALUE = /^(?:[\x21-\x7e](?:[ \t\x21-\x7e]*[\x21-\x7e])?)?$/;

/**
 * The `mqtt-<name>` response headers for the user properties of a user-event reply, checked.
 * Names must be HTTP header tokens. Values must be header-safe ASCII: the protocol notes do not say
 * how the service decodes a non-ASCII header value (Node would send Latin-1, which is not UTF-8),
 * so non-ASCII and control characters are refused rather than risk a value the client would read
 * differently — percent-encode or base64 such values yourself. HTTP header names are
 * case-insensitive: names that differ only in case travel as the same header, so they are grouped
 * (one header line per value, in order, spelled as the first of them); Fastify sends every name in
 * lower case.
 * @throws TypeError naming the faulty property.
 */
export function mqttUserPropertyHeaders(
  properties: readonly MqttUserProperty[],
  what = 'userProperties',
): Readonly<Record<string, string | readonly string[]>> {
  const checked = copyUserProperties(properties, what);
  const headers: Record<string, string | string[]> = {};
  const spelling = new Map<string, string>();
  checked.forEach(({ name, value }, index) => {
    if (!HEADER_TOKEN.test(name)) {
      throw new TypeError(
        `${what}[${index}].name ${JSON.stringify(name)} is not a valid HTTP header name (token)`,
      );
    }
    if (!HEADER_VALUE.test(value)) {
      throw new TypeError(
        `${what}[${index}].value of ${JSON.stringify(name)} is not a header-safe value: ` +
          'use visible ASCII, with spaces or tabs only between characters (encode other text yourself)',
      );
    }
    const lower = name.toLowerCase();
    let header = spelling.get(lower);
    if (header === undefined) {
      header = MQTT_HEADER_PREFIX + name;
      spelling.set(lower, header);
      headers[header] = value;
    } else {
      const previous = headers[header];
      headers[header] = Array.isArray(previous)
        ? [...previous, value]
        : [previous as string, value];
    }
  });
  return Object.freeze(headers);
}

/**
 * The user properties of an MQTT user event: one `{ name, value }` per `mqtt-<name>` request
 * header, in the order the headers arrived. Names are the rest of the header name as the
 * platform delivers it (Node: lower case); values are taken as they are, nothing is decoded (Node
 * reads header bytes as Latin-1). A header repeated on the wire arrives joined by Node as one
 * `a, b` value; a header given as an array yields one property per element.
 */
export function readMqttUserProperties(
  headers: Readonly<Record<string, string | readonly string[] | undefined>>,
): MqttUserProperty[] {
  const properties: MqttUserProperty[] = [];
  for (const header in headers) {
    if (header.length <= MQTT_HEADER_PREFIX_LENGTH) continue;
    if (header.slice(0, MQTT_HEADER_PREFIX_LENGTH).toLowerCase() !== MQTT_HEADER_PREFIX) continue;
    const value = headers[header];
    if (value === undefined) continue;
    const name = header.slice(MQTT_HEADER_PREFIX_LENGTH);
    if (typeof value === 'string') properties.push({ name, value });
    else for (const item of value) properties.push({ name, value: item });
  }
  return properties;
}
