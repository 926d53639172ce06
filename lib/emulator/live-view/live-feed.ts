/**
 * The live view's server-sent events feed. Each page gets the traffic backlog, then every new
 * traffic record, and a snapshot of hubs and connections whenever it changes (polled on a timer
 * that runs only while a page is open). A page that cannot keep up is dropped (its browser
 * reconnects and starts again from the backlog), so a stalled tab never grows the server's memory.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ConnectionView, HubOperations } from '../state/hub-operations.js';
import type { TrafficLog } from '../traffic-log.js';
import { describeSioGroup } from '../../protocol/socket-io-groups.js';

export interface LiveFeedOptions {
  readonly hubs: HubOperations;
  readonly traffic: TrafficLog;
  /** How often connections are polled while a page is open. Default 1000 ms. */
  readonly snapshotIntervalMs?: number;
  /** Connections listed per hub (the count is always exact). Default 200. */
  readonly maxConnectionsPerHub?: number;
  /** Bytes a page may have pending before it is dropped. Default 1 MiB. */
  readonly maxBufferedBytes?: number;
}

/** A connection as the page shows it. */
export interface LiveConnection {
  readonly connectionId: string;
  readonly userId?: string;
  readonly groups: string[];
  readonly moreGroups?: number;
  readonly subprotocol?: string;
  readonly connectedAt?: number;
  readonly mqttVersion?: number;
}

export interface LiveHub {
  readonly name: string;
  readonly total: number;
  readonly connections: LiveConnection[];
}

const MAX_GROUPS_SHOWN = 50;
/** Keep-alive comment, so proxies and browsers do not time the stream out. */
const KEEP_ALIVE_MS = 15_000;

export class LiveFeed {
  readonly #hubs: HubOperations;
  readonly #traffic: TrafficLog;
  readonly #intervalMs: number;
  readonly #maxConnections: number;
  readonly #maxBuffered: number;
  readonly #clients = new Map<ServerResponse, () => void>();
  #timer: NodeJS.Timeout | undefined;
  #lastSnapshot = '';
  #lastKeepAlive = 0;

  constructor(options: LiveFeedOptions) {
    this.#hubs = options.hubs;
    this.#traffic = options.traffic;
    this.#intervalMs = options.snapshotIntervalMs ?? 1000;
    this.#maxConnections = options.maxConnectionsPerHub ?? 200;
    this.#maxBuffered = options.maxBufferedBytes ?? 1024 * 1024;
  }

  /** Pages currently subscribed. */
  get clients(): number {
    return this.#clients.size;
  }

  open(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'x-accel-buffering': 'no',
    });
    res.flushHeaders();
    req.socket.setNoDelay(true);
    const snapshot = this.#snapshot();
    this.#write(
      res,
      `retry: 1000\n\n${event('backlog', this.#traffic.snapshot())}${event('connections', snapshot)}`,
    );
    const unsubscribe = this.#traffic.subscribe(record =>
      this.#write(res, event('traffic', record)),
    );
    const cleanup = () => this.#remove(res);
    this.#clients.set(res, unsubscribe);
    res.once('close', cleanup);
    req.once('close', cleanup);
    if (this.#timer === undefined) {
      this.#lastSnapshot = JSON.stringify(snapshot);
      this.#lastKeepAlive = Date.now();
      this.#timer = setInterval(() => this.#tick(), this.#intervalMs);
      this.#timer.unref();
    }
  }

  /** Ends every page's stream and stops the timer (the emulator's `close()`). */
  close(): void {
    for (const res of this.#clients.keys()) {
      this.#remove(res);
      res.end();
    }
  }

  #remove(res: ServerResponse): void {
    const unsubscribe = this.#clients.get(res);
    if (unsubscribe === undefined) return;
    unsubscribe();
    this.#clients.delete(res);
    if (this.#clients.size === 0 && this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
      this.#lastSnapshot = '';
    }
  }

  #write(res: ServerResponse, chunk: string): void {
    if (res.destroyed || res.writableEnded) return;
    if (res.writableLength > this.#maxBuffered) {
      // The page is not reading: drop it rather than buffer without bound.
      this.#remove(res);
      res.destroy();
      return;
    }
    res.write(chunk);
  }

  #tick(): void {
    const snapshot = this.#snapshot();
    const text = JSON.stringify(snapshot);
    const now = Date.now();
    let chunk: string | undefined;
    if (text !== this.#lastSnapshot) {
      this.#lastSnapshot = text;
      chunk = `event: connections\ndata: ${text}\n\n`;
    } else if (now - this.#lastKeepAlive >= KEEP_ALIVE_MS) {
      chunk = ': keep-alive\n\n';
    }
    if (chunk === undefined) return;
    this.#lastKeepAlive = now;
    for (const res of this.#clients.keys()) this.#write(res, chunk);
  }

  #snapshot(): { hubs: LiveHub[] } {
    const hubs: LiveHub[] = [];
    for (const name of this.#hubs.hubNames()) {
      const connections: LiveConnection[] = [];
      let total = 0;
      for (const connection of this.#hubs.listConnections(name)) {
        total++;
        if (connections.length < this.#maxConnections) connections.push(toLive(connection));
      }
      hubs.push({ name, total, connections });
    }
    return { hubs };
  }
}

function toLive(connection: ConnectionView): LiveConnection {
  const groups: string[] = [];
  for (const group of connection.groups) {
    if (groups.length === MAX_GROUPS_SHOWN) break;
    // Socket.IO connections: their namespaces and rooms, readable.
    groups.push(connection.subprotocol === 'socket.io' ? describeSioGroup(group) : group);
  }
  const more = connection.groups.size - groups.length;
  return {
    connectionId: connection.connectionId,
    userId: connection.userId,
    groups,
    ...(more > 0 ? { moreGroups: more } : {}),
    subprotocol: connection.subprotocol,
    connectedAt: connection.connectedAt,
    mqttVersion: connection.mqttVersion,
  };
}

/** One SSE event; JSON.stringify escapes line breaks, so `data` stays on one line. */
function event(name: string, data: unknown): string {
  return `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
}
