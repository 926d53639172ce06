import type { Logger } from '@nestjs/common';
import type { WebPubSubServiceClient } from '@azure/web-pubsub';
import { isObservable } from 'rxjs';
import type { InFlightTracker } from '../events/in-flight.tracker.js';
import type {
  ConnectedRequest,
  ConnectionContext,
  DisconnectedRequest,
  UserEventRequest,
} from '../interfaces/web-pubsub-request.interface.js';
import type { GatewayMessageHandler } from './gateway-metadata.js';
import { HubServer } from './web-pubsub-server.js';
import type { DirectMessageCall } from './direct-message-call.js';
import { GatewaySocket, type Reply } from './web-pubsub-socket.js';
import { wsExceptionMessage } from './ws-exception-payload.js';

/** What a hub needs from the adapter. */
export interface GatewayHubOptions {
  /** The hub, as the module is configured. */
  readonly hub: string;
  readonly serviceClient: () => WebPubSubServiceClient;
  readonly inFlight: InFlightTracker;
  readonly logger: Logger;
  /** Sockets kept at most; the least recently active one is forgotten beyond it. */
  readonly maxSockets: number;
  /** How long a message handler with `@Ack()` may take to call it (the module's handlerTimeout). */
  readonly ackTimeoutMs: number;
}

/**
 * One hub served to gateways: its server object and the sockets of the connections this process
 * has seen, each created once (Nest then calls `handleConnection` and binds the gateways'
 * message handlers to it) and dropped at `disconnected`.
 */
export class GatewayHub {
  readonly server: HubServer;
  readonly #sockets = new Map<string, GatewaySocket>();
  readonly #connectionCallbacks: ((socket: GatewaySocket) => void)[] = [];
  readonly #direct = new Map<string, DirectMessageCall>();
  readonly #host;

  constructor(private readonly options: GatewayHubOptions) {
    const { hub, serviceClient, inFlight, logger } = options;
    this.#host = {
      hub,
      serviceClient,
      track(work: Promise<void>, what: string): Promise<void> {
        inFlight.begin();
        work.then(
          () => inFlight.end(),
          (error: unknown) => {
            inFlight.end();
            logger.warn(`Web PubSub gateway: ${what} failed: ${describe(error)}`);
          },
        );
        return work;
      },
    };
    this.server = new HubServer(this.#host);
  }

  get hub(): string {
    return this.options.hub;
  }

  /** Nest's `bindClientConnect` callback of one gateway on this hub. */
  onConnection(callback: (socket: GatewaySocket) => void): void {
    this.#connectionCallbacks.push(callback);
  }

  /** A message whose handler is called directly, not through Nest's proxy. */
  direct(message: string, call: DirectMessageCall): void {
    this.#direct.set(message, call);
  }

  /** A user event for a `@SubscribeMessage(message)` handler: the reply, or its promise. */
  message(request: UserEventRequest, message: string): unknown {
    const socket = this.socketFor(request.context);
    const direct = this.#direct.get(message);
    if (direct) return this.answerDirectly(socket, direct, request.data, message);
    const handler = socket.handlers.get(message);
    if (!handler) {
      socket.release();
      return undefined;
    }
    return this.answer(socket, handler, request.data);
  }

  /** `connected`: the socket is created (once), so `handleConnection` runs. */
  connected(request: ConnectedRequest): void {
    this.socketFor(request.context).release();
  }

  /**
   * `disconnected`: `handleDisconnect` runs and the socket is forgotten. A connection this
   * process has not seen (its other events went to another replica) gets its socket first, so
   * `handleConnection` and `handleDisconnect` stay paired.
   */
  disconnected(request: DisconnectedRequest): void {
    const socket = this.socketFor(request.context);
    this.#sockets.delete(socket.id);
    socket.end(request.reason, true);
  }

  /** `app.close()`: ends every stream; no `handleDisconnect` (the connections stay with the service). */
  close(): void {
    for (const socket of this.#sockets.values()) socket.end(undefined, false);
    this.#sockets.clear();
  }

  /**
   * The connection's socket, created on its first event here; `context` becomes its latest (the
   * caller releases it once the event is answered).
   *
   * Beyond `maxSockets` a socket not active lately is forgotten: second chance (the clock
   * algorithm) over the map's insertion order. An event only sets its socket's `recent` flag; the
   * map is not reordered per event, which would store the event's young id string in the map's
   * old table and keep it alive (the garbage collector's cost, not the map's).
   */
  private socketFor(context: ConnectionContext): GatewaySocket {
    const id = context.connectionId;
    const sockets = this.#sockets;
    let socket = sockets.get(id);
    if (socket) {
      socket.recent = true;
      socket.use(context);
      return socket;
    }
    socket = new GatewaySocket(id, this.#host, context);
    sockets.set(id, socket);
    if (sockets.size > this.options.maxSockets) this.forgetOne(socket);
    for (const callback of this.#connectionCallbacks) callback(socket);
    return socket;
  }

  /**
   * Forgets the first socket, in insertion order, not active since the hand last passed it; an
   * active one loses its flag and goes to the end (under the map's own key: nothing young is
   * stored). Ends within one round of the map; the newest socket is never the one forgotten.
   */
  private forgetOne(newest: GatewaySocket): void {
    const sockets = this.#sockets;
    for (const [id, socket] of sockets) {
      if (socket === newest) continue;
      if (socket.recent) {
        socket.recent = false;
        sockets.delete(id);
        sockets.set(id, socket);
        continue;
      }
      sockets.delete(id);
      socket.end(undefined, false);
      return;
    }
  }

  /**
   * Calls one message handler (Nest's proxy: guards, interceptors, pipes, filters) and settles
   * with its reply: the result, the first value of an Observable (later values are sent to the
   * connection), what `@Ack()` was given, or the exception payload the filter emitted.
   */
  private answer(
    socket: GatewaySocket,
    handler: GatewayMessageHandler,
    data: unknown,
  ): Promise<unknown> {
    return new Promise<unknown>(resolve => {
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      const reply: Reply = value => {
        if (settled) return false;
        settled = true;
        if (timer) clearTimeout(timer);
        socket.close(reply);
        resolve(value);
        return true;
      };
      socket.open(reply);
      const manualAck = handler.isAckHandledManually === true;

      let pending: unknown;
      try {
        pending = manualAck
          ? handler.callback(data, (value?: unknown) => void reply(value))
          : handler.callback(data);
      } catch (error) {
        this.failed(error, reply);
        return;
      }
      if (manualAck && !settled && this.options.ackTimeoutMs > 0) {
        // The module answers 504 then; the reply slot must not outlive it.
        timer = setTimeout(() => reply(undefined), this.options.ackTimeoutMs);
        timer.unref?.();
      }
      Promise.resolve(pending).then(
        result => {
          // An Observable must be subscribed for the handler to run (interceptors are lazy);
          // with @Ack() its values are not the reply.
          if (isObservable(result)) socket.stream(result, manualAck ? IGNORED : reply);
          else if (!manualAck) reply(result);
        },
        error => this.failed(error, reply),
      );
    });
  }

  /**
   * A plain handler, called as Nest's proxy would call it: a synchronous result is the reply at
   * once (the module answers in the same turn); a thrown error gets the exception payload Nest's
   * default filter would emit.
   */
  private answerDirectly(
    socket: GatewaySocket,
    call: DirectMessageCall,
    data: unknown,
    message: string,
  ): unknown {
    // Answering while the handler runs: setState() works, as in any message handler.
    socket.run();
    let result: unknown;
    try {
      result = call(socket, data);
    } catch (error) {
      socket.ran();
      return wsExceptionMessage(error, message, data);
    }
    const pending = isThenable(result);
    if (!pending && !isObservable(result)) {
      socket.ran();
      return result;
    }
    return new Promise<unknown>(resolve => {
      let settled = false;
      const reply: Reply = value => {
        if (settled) return false;
        settled = true;
        socket.close(reply);
        resolve(value);
        return true;
      };
      socket.open(reply);
      socket.ran();
      const fail = (error: unknown): void => {
        const exception = wsExceptionMessage(error, message, data);
        if (!reply(exception)) void socket.send(exception).catch(() => undefined);
      };
      const take = (value: unknown): void => {
        if (isObservable(value)) socket.stream(value, reply, fail);
        else reply(value);
      };
      if (pending) Promise.resolve(result).then(take, fail);
      else take(result);
    });
  }

  /** Nest's proxy handles a handler's errors; this is for anything that escapes it. */
  private failed(error: unknown, reply: Reply): void {
    this.options.logger.error(
      'Web PubSub gateway: a message handler failed outside its exception filter',
      error instanceof Error ? error.stack : String(error),
    );
    reply({ event: 'exception', data: { status: 'error', message: 'Internal server error' } });
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as PromiseLike<unknown>).then === 'function'
  );
}

/** Takes the values of a handler whose reply is what it acknowledges with. */
const IGNORED: Reply = () => true;

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
