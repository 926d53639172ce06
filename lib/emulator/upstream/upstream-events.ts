/**
 * What the upstream calls take and give: the connection an event is about, the body of a
 * `connect` request, and the outcomes of `connect` and of user events (JSON, simple and MQTT
 * clients).
 */
import type { MqttConnectRefusal } from '../../protocol/response.reader.js';
import type { MqttUserProperty } from '../../protocol/mqtt.js';
import type { OutboundMessage } from '../state/hub-operations.js';

/** What an event says about its connection. */
export interface EventSubject {
  readonly hub: string;
  readonly connectionId: string;
  readonly userId: string | undefined;
  readonly subprotocol: string | undefined;
  /** Read for `ce-connectionState`, updated from blocking responses. */
  state: string | undefined;
  /** `ce-id` of the next event (the connect event is 0). */
  nextEventId: number;
  /** MQTT clients: `ce-physicalConnectionId` (the network connection) and `ce-sessionId` (not on `connect`). */
  physicalConnectionId?: string;
  sessionId?: string;
}

export type ConnectOutcome =
  | { readonly accepted: true; readonly response?: ConnectResponseFields }
  | {
      readonly accepted: false;
      readonly status: number;
      readonly reason: string;
      readonly body?: Buffer;
      /** An MQTT refusal body (`{"mqtt":{"code",...}}`), when the handler sent one. */
      readonly mqtt?: MqttConnectRefusal;
    };

export interface ConnectResponseFields {
  userId?: string;
  groups?: string[];
  roles?: string[];
  subprotocol?: string;
  /** MQTT clients: user properties for the CONNACK. */
  mqttUserProperties?: readonly MqttUserProperty[];
}

/** MQTT clients: what a user event carries besides its payload, and the raw answer it gets. */
export interface MqttUserEventOptions {
  /** Sent as the `Content-Type` (the MQTT 5 content type; absent: `application/octet-stream`). */
  readonly contentType?: string;
  /** Sent as `mqtt-<name>` headers (checked by the caller: header-safe names and values). */
  readonly userProperties?: readonly MqttUserProperty[];
}

/** The answer to an MQTT client's user event, as it is published back to the client. */
export interface MqttUserEventAnswer {
  /** 2xx: published to `.../succeeded`, otherwise to `.../failed`. */
  readonly succeeded: boolean;
  /** The handler's status; absent when there was no answer (no handler, network error, timeout). */
  readonly status?: number;
  readonly contentType?: string;
  readonly body: Buffer;
  readonly userProperties: readonly MqttUserProperty[];
  /** Why it failed, when it did. */
  readonly reason?: string;
}

export type UserEventOutcome =
  | { readonly ok: true; readonly message?: OutboundMessage }
  | { readonly ok: false; readonly reason: string; readonly noHandler?: boolean };

export interface ConnectRequestBody {
  claims: Record<string, string[]>;
  query: Record<string, string[]>;
  headers: Record<string, string[]>;
  subprotocols: string[];
  clientCertificates: { thumbprint: string; content?: string }[];
  /** MQTT clients: the CONNECT packet's part of the body. */
  mqtt?: {
    protocolVersion: number;
    username?: string;
    passwordBytes?: Uint8Array;
    userProperties?: readonly MqttUserProperty[];
  };
}
