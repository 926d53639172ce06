/**
 * What the service refuses in an MQTT CONNECT (client id, keep-alive, enhanced authentication, the
 * will), as MQTT 5 reason codes, and the code a refusal carries in the client's version; the will a
 * CONNECT leaves with the session.
 */
import type { IConnectPacket } from 'mqtt-packet';
import {
  mqttConnectCodeForVersion,
  MqttV311ConnectReturnCode,
  MqttV500ConnectReasonCode as Code,
  type MqttUserProperty,
} from '../../protocol/mqtt.js';
import type { MqttWill } from './mqtt-will.js';

/** Client ids (= connection ids) the service accepts. */
const CLIENT_ID = /^[0-9a-zA-Z]{1,128}$/;
const MAX_WILL_TOPIC = 1024;
const MAX_WILL_PAYLOAD = 2000;
const V311_CODES = new Set<number>(
  Object.values(MqttV311ConnectReturnCode).filter((v): v is number => typeof v === 'number'),
);
const V500_CODES = new Set<number>(
  Object.values(Code).filter((v): v is number => typeof v === 'number'),
);

/** A CONNECT refusal: the MQTT 5 reason code (translated for 3.1.1 clients) and why. */
export interface ConnectProblem {
  readonly code: number;
  readonly reason: string;
  readonly userProperties?: readonly MqttUserProperty[];
}

/** The code a refusal carries in the client's version (3.1.1 return code or 5.0 reason code). */
export function refusalCode(problem: ConnectProblem, version: number): number {
  let code = mqttConnectCodeForVersion(problem.code, version);
  // A code the client's version does not have would read as something else (0 as success).
  if (version === 5 ? !V500_CODES.has(code) : !V311_CODES.has(code)) {
    code = version === 5 ? Code.UnspecifiedError : MqttV311ConnectReturnCode.ServerUnavailable;
  }
  return code;
}

/** What the service refuses in a CONNECT, as MQTT 5 reason codes (translated for 3.1.1). */
export function checkConnect(packet: IConnectPacket, version: number): ConnectProblem | undefined {
  const { clientId } = packet;
  if (clientId === '') {
    if (version === 4 && packet.clean === false) {
      return {
        code: Code.ClientIdentifierNotValid,
        reason: 'an empty client id needs clean session (MQTT 3.1.1)',
      };
    }
  } else if (!CLIENT_ID.test(clientId)) {
    return {
      code: Code.ClientIdentifierNotValid,
      reason: 'client ids are 1 to 128 letters or digits ([0-9a-zA-Z])',
    };
  }
  const keepAlive = packet.keepalive ?? 0;
  if (version === 4 && (keepAlive < 1 || keepAlive > 180)) {
    return {
      code: Code.ImplementationSpecificError,
      reason: `keep-alive must be 1 to 180 s for MQTT 3.1.1, not ${keepAlive}`,
    };
  }
  if (version === 5 && packet.properties?.authenticationMethod !== undefined) {
    return {
      code: Code.BadAuthenticationMethod,
      reason: 'enhanced authentication is not supported',
    };
  }
  const will = packet.will;
  if (will) {
    if (will.retain)
      return { code: Code.RetainNotSupported, reason: 'retained wills are not supported' };
    if (
      will.topic.trim() === '' ||
      will.topic.length > MAX_WILL_TOPIC ||
      will.topic.includes('+') ||
      will.topic.includes('#')
    ) {
      return {
        code: Code.TopicNameInvalid,
        reason: `the will topic must be 1 to ${MAX_WILL_TOPIC} characters, not only whitespace, without wildcards`,
      };
    }
    const size =
      typeof will.payload === 'string' ? Buffer.byteLength(will.payload) : will.payload.length;
    if (size > MAX_WILL_PAYLOAD) {
      return {
        code: Code.PacketTooLarge,
        reason: `the will payload is ${size} bytes; at most ${MAX_WILL_PAYLOAD}`,
      };
    }
  }
  return undefined;
}

/** The will a CONNECT leaves with its session. */
export function willOf(packet: IConnectPacket, version: number): MqttWill | undefined {
  const will = packet.will;
  if (!will) return undefined;
  return {
    topic: will.topic,
    payload: typeof will.payload === 'string' ? Buffer.from(will.payload, 'utf8') : will.payload,
    contentType: version === 5 ? will.properties?.contentType : undefined,
    delayMs: version === 5 ? (will.properties?.willDelayInterval ?? 0) * 1000 : 0,
  };
}
