/**
 * The timers of `@azure/web-pubsub-socket.io` 1.2 that outlive the server's close: left alone they
 * keep Node running for up to 40 s after `app.close()`, or for good if the tunnel was
 * reconnecting (Jest: "did not exit one second after the test run has completed"). Called right
 * after `useAzureSocketIO(server, ...)` (whose synchronous
 * part has built the engine and started its first tunnel), it reaches them through the objects
 * the SDK builds, and changes nothing else:
 *
 * - **The tunnel's keep-alive loops.** Each tunnel is an `@azure/web-pubsub-client` whose
 *   keep-alive runs as two `AbortableTask`s (a ping every 20 s, an idle check every 40 s) that
 *   wait between runs with a `delay()` no abort reaches, so `stop()` leaves a 20 s and a 40 s
 *   timer behind. Each time a tunnel client starts, its tasks are stopped before they first wait
 *   (their delay set to 0) and the idle check runs on an interval that `stop()` clears: a tunnel
 *   silent for 120 s is still closed and reopened. The ping is not run: the tunnel's protocol
 *   cannot write one (`TunnelServerProtocol.writeMessage` throws "Expecting sendEvent" for it,
 *   every 20 s), and the SDK's own fix after 1.2.1 (Azure/azure-webpubsub#1021) turns it off too.
 * - **Sends retried after the tunnel stopped.** The client retries a failed send 3 times, 1 s
 *   apart, without looking at whether it was stopped: an answer or a REST call still on its way
 *   when the server closes (a client that left just before) kept 1 s timers going for 3 s. A
 *   stopped tunnel client never reopens, so its sends now fail at once, and one in flight when it
 *   stops gets an aborted signal (the client then gives up after its current 1 s delay).
 * - **Reconnecting after the server closed.** `stop()` on a tunnel client between two reconnect
 *   attempts (the service or the emulator went away first) did not stop it: the client retried
 *   every second without end and the process never exited. Such a client is now left stopping,
 *   and its reconnect loop ends at its next turn.
 * - **The connect guard.** For each client connection the SDK's `connect` handler arms a 30 s
 *   timer that answers 500 if the engine never answers, and does not clear it when the engine
 *   does. It is unreferenced (it still fires; it no longer holds the process).
 *
 * A later SDK whose objects are shaped otherwise is left as it is (the timers then only delay the
 * process's exit); `test/e2e/socket-io-shutdown.spec.ts` fails if they hold it with this one.
 */

/** What the SDK's tunnel client (`WebPubSubTunnelClient`) holds: its `@azure/web-pubsub-client`. */
interface TunnelClient {
  _client?: WebPubSubClientInternals;
  stopped?: boolean;
  startAsync(this: TunnelClient, ...args: unknown[]): Promise<unknown>;
  sendAsync(this: TunnelClient, message: unknown, abortSignal?: AbortSignal): Promise<unknown>;
  stop(this: TunnelClient): void;
}

interface WebPubSubClientInternals {
  _state?: string;
  _isStopping?: boolean;
  _wsClient?: { isOpen?: () => boolean };
  _pingKeepaliveTask?: AbortableTask;
  _timeoutMonitorTask?: AbortableTask | IdleCheck;
  _keepAliveTimeoutInMs?: number;
  _checkKeepAliveTimeout?: () => Promise<void>;
}

interface AbortableTask {
  _interval: number;
  abort(): void;
}

interface IdleCheck {
  readonly idleCheck: true;
  abort(): void;
}

type Handler = (this: unknown, ...args: unknown[]) => unknown;

/** The SDK's `connect` guard (`web-pubsub-connection-manager.js`). */
const SDK_CONNECT_GUARD_MS = 30_000;
const patchedPrototypes = new WeakSet<object>();
/** Aborted when its tunnel client stops. */
const stopSignals = new WeakMap<TunnelClient, AbortController>();

/** Makes the SDK's timers of `server` (after `useAzureSocketIO(server, ...)`) release on close. */
export function releaseSdkTimersOnClose(server: unknown): void {
  const manager = property(property(server, 'engine'), 'webPubSubConnectionManager');
  releaseConnectGuards(manager);
  const clients = property(property(property(manager, 'service'), '_tunnel'), 'clients');
  if (!(clients instanceof Map)) return;
  for (const client of clients.values() as IterableIterator<TunnelClient>) {
    // The first tunnel client started inside useAzureSocketIO; later ones (after a reconnect
    // or a rebalance the service asks for) start through the prototype.
    replaceKeepAlive(client._client);
    patchTunnelClient(Object.getPrototypeOf(client) as TunnelClient);
  }
}

function patchTunnelClient(prototype: TunnelClient): void {
  const { startAsync: start, sendAsync: send, stop } = prototype;
  if (
    patchedPrototypes.has(prototype) ||
    typeof start !== 'function' ||
    typeof send !== 'function' ||
    typeof stop !== 'function'
  ) {
    return;
  }
  patchedPrototypes.add(prototype);
  prototype.startAsync = function (this: TunnelClient, ...args: unknown[]) {
    const started = start.apply(this, args);
    replaceKeepAlive(this._client);
    return started;
  };
  prototype.sendAsync = function (this: TunnelClient, message: unknown, abortSignal?: AbortSignal) {
    if (this.stopped === true) return Promise.reject(new Error('The tunnel has stopped.'));
    let stopping = stopSignals.get(this);
    if (!stopping) {
      stopping = new AbortController();
      stopSignals.set(this, stopping);
    }
    // The SDK passes none of its own today; the client only reads it after a retry's delay.
    return send.call(this, message, abortSignal ?? stopping.signal);
  };
  prototype.stop = function (this: TunnelClient) {
    stopSignals.get(this)?.abort();
    stop.call(this);
    endReconnecting(this._client);
  };
}

/**
 * Right after `start()` built the tasks, before they first wait. Applied again (the server's first
 * tunnel client once the prototype is patched), it re-arms the idle check with the client's
 * current timeout.
 */
function replaceKeepAlive(client: WebPubSubClientInternals | undefined): void {
  if (!client) return;
  const check = client._checkKeepAliveTimeout;
  const timeoutMs = client._keepAliveTimeoutInMs;
  if (typeof check !== 'function' || typeof timeoutMs !== 'number' || timeoutMs <= 0) return;
  const monitor = client._timeoutMonitorTask;
  if (isIdleCheck(monitor)) {
    monitor.abort();
  } else {
    const ping = client._pingKeepaliveTask;
    if (!isAbortableTask(ping) || !isAbortableTask(monitor)) return;
    for (const task of [ping, monitor]) {
      task.abort();
      task._interval = 0;
    }
    client._pingKeepaliveTask = undefined;
  }
  const interval = setInterval(
    () => {
      check.call(client).catch(() => undefined);
    },
    Math.floor(timeoutMs / 3),
  );
  (interval as { unref?: () => unknown }).unref?.();
  client._timeoutMonitorTask = { idleCheck: true, abort: () => clearInterval(interval) };
}

function isIdleCheck(task: unknown): task is IdleCheck {
  return typeof task === 'object' && task !== null && (task as IdleCheck).idleCheck === true;
}

/**
 * `stop()` on a client that is between reconnect attempts (its WebSocket not open) sets its
 * stopping flag and clears it again at once, so the reconnect loop (`autoReconnect`, retried
 * without end) goes on after the server has closed. Left set, the loop ends at its next turn
 * and the client reaches `Stopped` (which clears the flag and the keep-alive).
 */
function endReconnecting(client: WebPubSubClientInternals | undefined): void {
  if (!client || client._state === undefined || client._state === 'Stopped') return;
  if (client._wsClient?.isOpen?.() === true) return;
  client._isStopping = true;
}

function isAbortableTask(task: unknown): task is AbortableTask {
  return (
    typeof task === 'object' &&
    task !== null &&
    typeof (task as AbortableTask).abort === 'function' &&
    typeof (task as AbortableTask)._interval === 'number'
  );
}

/** Unreferences the 30 s guard the SDK's `connect` handler arms in its synchronous part. */
function releaseConnectGuards(manager: unknown): void {
  const handlers = property(
    property(property(manager, '_webPubSubEventHandler'), '_cloudEventsHandler'),
    'eventHandler',
  ) as { handleConnect?: Handler } | undefined;
  const handleConnect = handlers?.handleConnect;
  if (!handlers || typeof handleConnect !== 'function') return;
  handlers.handleConnect = function (this: unknown, ...args: unknown[]) {
    const setTimer = globalThis.setTimeout;
    globalThis.setTimeout = ((
      callback: (...values: unknown[]) => void,
      ms?: number,
      ...rest: unknown[]
    ) => {
      const timer = setTimer(callback, ms, ...rest);
      // A fake clock (jest.useFakeTimers) may hand out timers without unref.
      if (ms === SDK_CONNECT_GUARD_MS) (timer as { unref?: () => unknown }).unref?.();
      return timer;
    }) as typeof setTimeout;
    try {
      return handleConnect.apply(this, args);
    } finally {
      globalThis.setTimeout = setTimer;
    }
  };
}

function property(value: unknown, name: string): unknown {
  return typeof value === 'object' && value !== null
    ? (value as Record<string, unknown>)[name]
    : undefined;
}
