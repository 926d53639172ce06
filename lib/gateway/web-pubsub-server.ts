import type { WebPubSubServiceClient } from '@azure/web-pubsub';
import {
  eventMessage,
  sendThrough,
  type SendMethod,
  type WebPubSubMessage,
} from './outgoing-message.js';

/** Sends to a set of connections through the service. @publicApi */
export interface WebPubSubBroadcast {
  /** A string as text, bytes as binary, anything else as JSON. */
  send(data: WebPubSubMessage): Promise<void>;
  /** The JSON message `{ event, data }`. */
  emit(event: string, data?: unknown): Promise<void>;
}

/** A broadcast that may leave some connections out (the service's `excludedConnections`). @publicApi */
export interface WebPubSubExcludingBroadcast extends WebPubSubBroadcast {
  /** The same broadcast without these connections. */
  except(connectionIds: string | readonly string[]): WebPubSubExcludingBroadcast;
}

/**
 * The server object of a gateway (`@WebSocketServer()`, `afterInit(server)`): one hub of the
 * service. Every method is a call to the service through the hub's `WebPubSubServiceClient`.
 * @publicApi
 */
export interface WebPubSubServer extends WebPubSubExcludingBroadcast {
  /** The hub, as the module is configured. */
  readonly hub: string;
  /** The hub's `WebPubSubServiceClient` (the one the module injects) for everything else. */
  readonly serviceClient: WebPubSubServiceClient;
  /** Everyone in a group. */
  to(group: string): WebPubSubExcludingBroadcast;
  /** Every connection of a user. */
  toUser(userId: string): WebPubSubBroadcast;
}

/** @internal what the server needs from the adapter. */
export interface ServerHost {
  readonly hub: string;
  serviceClient(): WebPubSubServiceClient;
  track(work: Promise<void>, what: string): Promise<void>;
}

type Target = (client: WebPubSubServiceClient, excluded: string[] | undefined) => SendMethod;

class Broadcast implements WebPubSubExcludingBroadcast {
  constructor(
    protected readonly host: ServerHost,
    private readonly what: string,
    private readonly target: Target,
    private readonly excluded?: string[],
  ) {}

  send(data: WebPubSubMessage): Promise<void> {
    let pending: Promise<void>;
    try {
      const excluded = this.excluded;
      pending = sendThrough(
        this.target(this.host.serviceClient(), excluded),
        data,
        excluded ? { excludedConnections: excluded } : {},
      );
    } catch (error) {
      pending = Promise.reject(error);
    }
    return this.host.track(pending, `send to ${this.what} of hub "${this.host.hub}"`);
  }

  emit(event: string, data?: unknown): Promise<void> {
    return this.send(eventMessage(event, data));
  }

  except(connectionIds: string | readonly string[]): WebPubSubExcludingBroadcast {
    const ids = typeof connectionIds === 'string' ? [connectionIds] : [...connectionIds];
    if (ids.some(id => typeof id !== 'string' || id === ''))
      throw new TypeError('except() needs connection ids (non-empty strings)');
    return new Broadcast(this.host, this.what, this.target, [...(this.excluded ?? []), ...ids]);
  }
}

const toAll: Target = client => client.sendToAll.bind(client) as SendMethod;

/** @internal the implementation of {@link WebPubSubServer}. */
export class HubServer extends Broadcast implements WebPubSubServer {
  constructor(host: ServerHost) {
    super(host, 'everyone', toAll);
  }

  get hub(): string {
    return this.host.hub;
  }

  get serviceClient(): WebPubSubServiceClient {
    return this.host.serviceClient();
  }

  to(group: string): WebPubSubExcludingBroadcast {
    if (typeof group !== 'string' || group === '')
      throw new TypeError('to(group) needs a non-empty group name');
    return new Broadcast(this.host, `group "${group}"`, client => {
      const groupClient = client.group(group);
      return groupClient.sendToAll.bind(groupClient) as SendMethod;
    });
  }

  toUser(userId: string): WebPubSubBroadcast {
    if (typeof userId !== 'string' || userId === '')
      throw new TypeError('toUser(userId) needs a non-empty user id');
    const broadcast = new Broadcast(
      this.host,
      `user "${userId}"`,
      client => client.sendToUser.bind(client, userId) as SendMethod,
    );
    return {
      send: data => broadcast.send(data),
      emit: (event, data) => broadcast.emit(event, data),
    };
  }
}
