import type { WebPubSubServiceClient } from '@azure/web-pubsub';
import type { Observable, Subscription } from 'rxjs';
import { WebPubSubConnectionContext } from '../events/web-pubsub-connection-context.js';
import type { ConnectionContext } from '../interfaces/web-pubsub-request.interface.js';
import { decodeConnectionState, type ConnectionStates } from '../protocol/connection-state.js';
import type { GatewayMessageHandler } from './gateway-metadata.js';
import {
  eventMessage,
  sendThrough,
  type SendMethod,
  type WebPubSubMessage,
} from './outgoing-message.js';

/**
 * The client object of a gateway (`@ConnectedSocket()`, `handleConnection(socket)`): one
 * Web PubSub connection, as this process knows it. The service holds the real socket, so every
 * method is a call to the service (through the hub's `WebPubSubServiceClient`), not a socket write.
 * @publicApi
 */
export interface WebPubSubSocket {
  /** The connection id. */
  readonly id: string;
  /** The connection's user, as its latest event says. */
  readonly userId: string | undefined;
  /** The hub, as the module is configured. */
  readonly hub: string;
  /** The connection state as the latest event brought it (`ce-connectionState`). */
  readonly states: Readonly<ConnectionStates>;
  /**
   * Sets one connection state entry. Only while a message of this connection is being answered:
   * the reply carries it, and later events bring it back in `states`.
   * @throws Error outside a message handler (`handleConnection` runs after the service was answered).
   */
  setState(key: string, value: unknown): void;
  /** Clears the connection state (same rule as `setState`). */
  clearStates(): void;
  /** Sends to this connection: a string as text, bytes as binary, anything else as JSON. */
  send(data: WebPubSubMessage): Promise<void>;
  /** Sends the JSON message `{ event, data }` to this connection. */
  emit(event: string, data?: unknown): Promise<void>;
  /** Adds this connection to a group. */
  join(group: string): Promise<void>;
  /** Removes this connection from a group. */
  leave(group: string): Promise<void>;
  /** Closes the connection; `handleDisconnect` runs when the service reports it. */
  disconnect(reason?: string): Promise<void>;
}

/** @internal what a socket needs from its hub. */
export interface SocketHost {
  readonly hub: string;
  serviceClient(): WebPubSubServiceClient;
  /** Counts `work` in flight (app.close() waits for it) and logs its failure. */
  track(work: Promise<void>, what: string): Promise<void>;
}

/** Settles a message's reply once; `false` when it was settled already. */
export type Reply = (value: unknown) => boolean;

/** The event a gateway's exception filter emits (`BaseWsExceptionFilter`). */
const EXCEPTION_EVENT = 'exception';

/**
 * @internal the implementation of {@link WebPubSubSocket}, cached per connection.
 *
 * A socket lives as long as its connection, so it is old for the garbage collector, while an
 * event's objects are young: between events the socket keeps no object of the last event (its
 * context, headers and body), only the user id and the connection state, and those only when
 * they changed. Otherwise every event would be copied out of the young generation and promoted
 * for a socket to hold it until the connection's next event.
 */
export class GatewaySocket implements WebPubSubSocket {
  /** The message handlers Nest bound to this client, by message. */
  readonly handlers = new Map<string, GatewayMessageHandler>();
  /** Set by each event after the first; the hub's eviction (second chance) clears it. */
  recent = false;
  readonly #disconnectCallbacks: ((reason?: string) => void)[] = [];
  readonly #replies = new Set<Reply>();
  readonly #streams = new Set<Subscription>();
  /** The latest event's context, while any event of the connection is being answered. */
  #context: ConnectionContext | undefined;
  /** Synchronous answers running (a counter: no object per event). */
  #running = 0;
  /** Between events: the user id and the state the latest event left. */
  #userId: string | undefined;
  #laterStates: ConnectionStates | string | undefined;
  #decodedStates: ConnectionStates | undefined;
  #ended = false;

  constructor(
    readonly id: string,
    private readonly host: SocketHost,
    context: ConnectionContext,
  ) {
    this.#context = context;
  }

  get hub(): string {
    return this.host.hub;
  }

  get userId(): string | undefined {
    const context = this.#context;
    return context === undefined ? this.#userId : context.userId;
  }

  get states(): Readonly<ConnectionStates> {
    const context = this.#context;
    if (context !== undefined) return context.states;
    const later = this.#laterStates;
    if (typeof later === 'object') return later;
    return (this.#decodedStates ??= decodeConnectionState(later));
  }

  setState(key: string, value: unknown): void {
    this.answering('setState').setState(key, value);
  }

  clearStates(): void {
    this.answering('clearStates').clearStates();
  }

  send(data: WebPubSubMessage): Promise<void> {
    return this.call(`send to connection ${this.id}`, client =>
      sendThrough(client.sendToConnection.bind(client, this.id) as SendMethod, data),
    );
  }

  /**
   * Nest's exception filter emits `exception` on the client: while exactly one message of this
   * connection is being answered, that payload is its reply (no extra call to the service).
   */
  emit(event: string, data?: unknown): Promise<void> {
    const message = eventMessage(event, data);
    if (event === EXCEPTION_EVENT && this.#replies.size === 1 && this.#running === 0) {
      const [reply] = this.#replies;
      if (reply(message)) return Promise.resolve();
    }
    return this.send(message);
  }

  join(group: string): Promise<void> {
    return this.call(`add connection ${this.id} to group "${group}"`, client =>
      client.group(group).addConnection(this.id),
    );
  }

  leave(group: string): Promise<void> {
    return this.call(`remove connection ${this.id} from group "${group}"`, client =>
      client.group(group).removeConnection(this.id),
    );
  }

  disconnect(reason?: string): Promise<void> {
    return this.call(`close connection ${this.id}`, client =>
      client.closeConnection(this.id, reason === undefined ? {} : { reason }),
    );
  }

  /** @internal the latest event of this connection; {@link release} once it is answered. */
  use(context: ConnectionContext): void {
    this.#context = context;
  }

  /**
   * @internal once no event of the connection is being answered: keeps the user id and the
   * state the latest event left (the strings already held when they are equal) and drops the
   * event itself.
   */
  release(): void {
    const context = this.#context;
    if (context === undefined || this.#running > 0 || this.#replies.size > 0) return;
    this.#context = undefined;
    const userId = context.userId;
    if (userId !== this.#userId) this.#userId = userId;
    const later =
      context instanceof WebPubSubConnectionContext ? context.laterStates : context.states;
    if (later !== this.#laterStates) {
      this.#laterStates = later;
      this.#decodedStates = undefined;
    }
  }

  /** @internal a message being answered synchronously (no reply slot: nothing to settle later). */
  run(): void {
    this.#running++;
  }

  /** @internal */
  ran(): void {
    this.#running--;
    this.release();
  }

  /** @internal a message being answered; `emit('exception')` may settle it. */
  open(reply: Reply): void {
    this.#replies.add(reply);
  }

  /** @internal */
  close(reply: Reply): void {
    this.#replies.delete(reply);
    this.release();
  }

  /**
   * @internal an Observable result: its first value settles `reply`, later ones are sent to the
   * connection; it runs until it completes, the connection ends or the app closes.
   */
  stream(result: Observable<unknown>, reply: Reply, onError?: (error: unknown) => void): void {
    if (this.#ended) {
      reply(undefined);
      return;
    }
    let subscription: Subscription | undefined;
    const done = (): void => {
      reply(undefined);
      if (subscription) this.#streams.delete(subscription);
    };
    subscription = result.subscribe({
      next: value => {
        if (value === undefined || value === null) return;
        if (!reply(value)) void this.send(value as WebPubSubMessage).catch(() => undefined);
      },
      // Through Nest's proxy, the gateway's exception filter saw the error already.
      error: onError
        ? error => {
            onError(error);
            done();
          }
        : done,
      complete: done,
    });
    if (!subscription.closed) this.#streams.add(subscription);
  }

  /** @internal Nest's `bindClientDisconnect` callback of one gateway. */
  onDisconnect(callback: (reason?: string) => void): void {
    this.#disconnectCallbacks.push(callback);
  }

  /** @internal the connection ended (or the app closes: no callback then). */
  end(reason: string | undefined, notify: boolean): void {
    if (this.#ended) return;
    this.#ended = true;
    for (const subscription of this.#streams) subscription.unsubscribe();
    this.#streams.clear();
    for (const reply of this.#replies) reply(undefined);
    if (notify) for (const callback of this.#disconnectCallbacks) callback(reason);
  }

  private answering(method: string): ConnectionContext {
    const context = this.#context;
    if (context === undefined || (this.#running === 0 && this.#replies.size === 0))
      throw new Error(
        `socket.${method}() works only while a message of the connection is being answered: ` +
          'the reply carries the connection state (handleConnection and handleDisconnect run after the service was answered)',
      );
    return context;
  }

  /** A call to the service; never throws synchronously (a missing client rejects). */
  private call(
    what: string,
    work: (client: WebPubSubServiceClient) => Promise<void>,
  ): Promise<void> {
    let pending: Promise<void>;
    try {
      pending = work(this.host.serviceClient());
    } catch (error) {
      pending = Promise.reject(error);
    }
    return this.host.track(pending, what);
  }
}
