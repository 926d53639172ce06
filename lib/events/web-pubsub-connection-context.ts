import { CloudEvent } from 'cloudevents';
import type {
  ConnectionContext,
  MqttConnectionContext,
} from '../interfaces/web-pubsub-request.interface.js';
import type { EventHeaders } from '../protocol/cloud-event.reader.js';
import { decodeConnectionState, type ConnectionStates } from '../protocol/connection-state.js';
import type { WebPubSubClientProtocol } from '../protocol/mqtt.js';
import { stateHeader } from '../protocol/response.writer.js';

/**
 * The `context` of every request object. States are decoded on first use and the CloudEvent
 * object is built on first access, so events that use neither pay nothing for them.
 */
export class WebPubSubConnectionContext implements ConnectionContext {
  readonly hub: string;
  readonly connectionId: string;
  readonly userId?: string;
  readonly eventName: string;
  readonly origin?: string;
  readonly signature?: string;
  readonly subprotocol?: string;
  readonly eventId: string;
  readonly clientProtocol: WebPubSubClientProtocol;
  readonly mqtt?: MqttConnectionContext;
  readonly source?: string;
  readonly awpsVersion?: string;
  #states: ConnectionStates | undefined;
  #statesChanged = false;
  #cloudEvent: CloudEvent<unknown> | undefined;
  /** The event data, set once the body is read (for the CloudEvent view). */
  data: unknown;

  constructor(private readonly event: EventHeaders) {
    this.hub = event.hub;
    this.connectionId = event.connectionId;
    this.userId = event.userId;
    this.eventName = event.eventName;
    this.origin = event.origin;
    this.signature = event.signature;
    this.subprotocol = event.subprotocol;
    this.eventId = event.id;
    this.clientProtocol = event.clientProtocol;
    this.mqtt = event.clientProtocol === 'mqtt' ? mqttContext(event) : undefined;
    this.source = event.source;
    this.awpsVersion = event.awpsVersion;
  }

  get states(): Readonly<ConnectionStates> {
    return (this.#states ??= decodeConnectionState(this.event.connectionState));
  }

  setState(key: string, value: unknown): void {
    if (typeof key !== 'string' || key === '')
      throw new TypeError('setState needs a non-empty string key');
    const states = (this.#states ??= decodeConnectionState(this.event.connectionState));
    // defineProperty, not assignment: a key such as "__proto__" stays a plain entry.
    Object.defineProperty(states, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
    this.#statesChanged = true;
  }

  clearStates(): void {
    this.#states = {};
    this.#statesChanged = true;
  }

  /**
   * The connection state this event leaves, for an object that outlives the event (a gateway's
   * socket): the states when a handler changed them, else `ce-connectionState` as sent (to decode
   * on demand), so that nothing else of the event stays reachable.
   * @internal
   */
  get laterStates(): ConnectionStates | string | undefined {
    return this.#statesChanged ? this.#states : this.event.connectionState;
  }

  /** The `ce-connectionState` response header value, when the handler changed the state. */
  get stateHeader(): string | undefined {
    return this.#statesChanged ? stateHeader(this.#states as ConnectionStates, true) : undefined;
  }

  get cloudEvent(): CloudEvent<unknown> {
    return (this.#cloudEvent ??= this.buildCloudEvent());
  }

  private buildCloudEvent(): CloudEvent<unknown> {
    const e = this.event;
    const attributes: Record<string, unknown> = {
      specversion: e.specVersion,
      id: e.id,
      type: e.type,
      source: e.source || `/hubs/${e.hub}/client/${e.connectionId}`,
      time: e.time,
      datacontenttype: e.contentType,
      data: this.data,
      hub: e.hub,
      connectionid: e.connectionId,
      eventname: e.eventName,
      userid: e.userId,
      subprotocol: e.subprotocol,
      connectionstate: e.connectionState,
      signature: e.signature,
      awpsversion: e.awpsVersion,
      physicalconnectionid: e.physicalConnectionId,
      sessionid: e.sessionId,
    };
    for (const key of Object.keys(attributes))
      if (attributes[key] === undefined) delete attributes[key];
    return new CloudEvent<unknown>(attributes, false);
  }
}

function mqttContext(event: EventHeaders): MqttConnectionContext {
  const physicalConnectionId = event.physicalConnectionId as string;
  return event.sessionId === undefined
    ? { physicalConnectionId }
    : { physicalConnectionId, sessionId: event.sessionId };
}
