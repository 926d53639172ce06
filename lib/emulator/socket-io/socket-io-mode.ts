/**
 * Web PubSub for Socket.IO (Default mode) on the emulator's port: the client endpoint
 * (`/clients/socketio/hubs/{hub}/`, long-polling and WebSocket) and the tunnel a Socket.IO server
 * opens with `useAzureSocketIO` (`/server/tunnel`). Connections live in the emulator's one state,
 * so REST, filters and the live view see them (subprotocol `socket.io`). No option turns it on: a
 * hub serves Socket.IO clients while a Socket.IO server holds a tunnel for it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { HubRegistry } from '../state/hubs.js';
import { bodyDeadline, DEFAULT_HTTP_LIMITS, type HttpLimits } from '../http-limits.js';
import type { TrafficLog } from '../traffic-log.js';
import { EioEndpoint } from './eio-endpoint.js';
import { DEFAULT_EIO_LIMITS, type EioSessionLimits } from './eio-session-limits.js';
import { TunnelEndpoint } from './tunnel-endpoint.js';
import { TunnelEvents } from './tunnel-events.js';
import { createTunnelRest } from './tunnel-rest.js';

export interface SocketIoModeOptions {
  readonly accessKey: string;
  readonly hubs: HubRegistry;
  readonly traffic: TrafficLog;
  readonly log: (line: string) => void;
  /** `WebHook-Request-Origin` of the events. */
  readonly origin: string;
  /** `deny` refuses clients without a token; otherwise they are let in (as the SDK's quickstart expects). */
  readonly anonymousConnectPolicy: (hub: string) => 'allow' | 'deny' | undefined;
  readonly timings: SocketIoTimings;
}

export interface SocketIoTimings extends Partial<EioSessionLimits>, Partial<HttpLimits> {
  /** How long `connect` and `message` events may take, and how long a broadcast with acks waits. */
  readonly blockingTimeoutMs: number;
  /** Keep-alive frames on each tunnel. */
  readonly keepAliveIntervalMs: number;
}

export interface SocketIoMode {
  handles(pathname: string): boolean;
  handleRequest(req: IncomingMessage, res: ServerResponse): void;
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  readonly tunnel: TunnelEndpoint;
  readonly clients: EioEndpoint;
  close(): void;
}

export function createSocketIoMode(options: SocketIoModeOptions): SocketIoMode {
  const { accessKey, hubs, traffic, log, timings } = options;
  let clients: EioEndpoint | undefined;
  const tunnel = new TunnelEndpoint({
    accessKey,
    traffic,
    log,
    keepAliveIntervalMs: timings.keepAliveIntervalMs,
    handleAppRequest: createTunnelRest({
      hubs,
      traffic,
      log,
      invokeTimeoutMs: timings.blockingTimeoutMs,
    }),
    hubEmptied: hub => clients?.closeHub(hub, 'the Socket.IO server of the hub has gone'),
  });
  const events = new TunnelEvents({
    tunnel,
    accessKey,
    origin: options.origin,
    traffic,
    log,
    timeoutMs: timings.blockingTimeoutMs,
  });
  clients = new EioEndpoint({
    accessKey,
    hubs,
    tunnel,
    events,
    traffic,
    log,
    limits: { ...DEFAULT_EIO_LIMITS, ...pick(timings) },
    bodyDeadline: bodyDeadline({ ...DEFAULT_HTTP_LIMITS, ...timings }),
    anonymousAllowed: hub => options.anonymousConnectPolicy(hub) !== 'deny',
  });
  const endpoint = clients;
  return {
    handles: pathname => EioEndpoint.handles(pathname) || TunnelEndpoint.handles(pathname),
    handleRequest(req, res) {
      const pathname = (req.url ?? '/').split('?')[0];
      if (TunnelEndpoint.handles(pathname)) {
        res.writeHead(426, { 'content-type': 'application/json', upgrade: 'websocket' });
        res.end(JSON.stringify({ code: 'UpgradeRequired', message: 'the tunnel is a WebSocket' }));
        return;
      }
      endpoint.handleRequest(req, res);
    },
    handleUpgrade(req, socket, head) {
      const pathname = (req.url ?? '/').split('?')[0];
      if (TunnelEndpoint.handles(pathname)) tunnel.handleUpgrade(req, socket, head);
      else endpoint.handleUpgrade(req, socket, head);
    },
    tunnel,
    clients: endpoint,
    close() {
      endpoint.close();
      tunnel.close();
    },
  };
}

function pick(timings: SocketIoTimings): Partial<EioSessionLimits> {
  const limits: { -readonly [K in keyof EioSessionLimits]?: number } = {};
  if (timings.maxQueuedBytes !== undefined) limits.maxQueuedBytes = timings.maxQueuedBytes;
  if (timings.upgradeTimeoutMs !== undefined) limits.upgradeTimeoutMs = timings.upgradeTimeoutMs;
  return limits;
}
