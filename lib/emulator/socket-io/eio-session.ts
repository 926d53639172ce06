/**
 * One Engine.IO connection of a Socket.IO client, relayed between the client (long-polling, then
 * WebSocket after an upgrade, or WebSocket from the start) and the Socket.IO server behind the
 * tunnel. The emulator does not terminate Engine.IO: the server's packets (REST sends, an Engine.IO
 * payload each) are decoded and written to the client, and the client's packets go to the server as
 * `message` events, one call in flight per connection so that order holds. Heartbeats flow end to
 * end (the server pings, the client's pongs reach it), as they do through the service.
 *
 * What the service does on its own, and so does this session (inferred from the SDK, which relies
 * on it): it joins the connection to a namespace's group (`0~<ns>~`, the target of `io.emit()`)
 * when the server's CONNECT for that namespace passes, and leaves every group of the namespace on a
 * DISCONNECT either way; an Engine.IO `close` from the server ends the connection; for a
 * broadcast with acks (`:invoke`) it numbers the packet per client and catches the client's ACK;
 * and it carries out `io.disconnectSockets(close)`, which the SDK sends as a DISCONNECT with
 * `{"close"}` and then waits for the service: the client gets a plain DISCONNECT, the server the
 * client's DISCONNECT (so the server's socket ends), and with `close` the connection ends.
 */
import type { ServerResponse } from 'node:http';
import type { WebSocket } from 'ws';
import type { ClientDelivery, ClientSink, Connection, HubRegistry } from '../state/hubs.js';
import type { TrafficLog } from '../traffic-log.js';
import { BroadcastAcks, type AckCallback } from './eio-acks.js';
import type { EioSessionLimits } from './eio-session-limits.js';
import { badRequest, packetSize, sendFrames, toBuffer, writePayload } from './eio-transport.js';
import {
  decodeEioFrame,
  decodeEioPayload,
  disconnectPacket,
  encodeEioFrame,
  encodeEioPayload,
  readDisconnectOrder,
  readSioHeader,
  sioGroupName,
  SioPacketType,
  type EioPacket,
} from './packets.js';
import type { EventSubjectOfSocket, TunnelEvents } from './tunnel-events.js';

export const SOCKET_IO_SUBPROTOCOL = 'socket.io';
/** How long after the server's Engine.IO `close` the connection ends (see `#closeSoon`). */
export const SERVER_CLOSE_GRACE_MS = 50;

export interface EioSessionContext {
  readonly hubs: HubRegistry;
  readonly events: TunnelEvents;
  readonly traffic: TrafficLog;
  readonly log: (line: string) => void;
  readonly limits: EioSessionLimits;
  readonly ended: (session: EioSession) => void;
}

export class EioSession implements ClientSink {
  connection!: Connection;
  readonly subject: EventSubjectOfSocket;
  transport: 'polling' | 'websocket';
  ended = false;
  /** Ended with packets a long-polling client has yet to fetch (the server's last words). */
  lingering = false;
  /** Packets for a long-polling client (and for any client before its open packet went out). */
  #queue: EioPacket[] = [];
  #queuedBytes = 0;
  #poll: ServerResponse | undefined;
  #ws: WebSocket | undefined;
  /** A WebSocket between probe and `upgrade`. */
  #probe: WebSocket | undefined;
  #noopOwed = false;
  #opened = false;
  /** The server asked to close once what is queued is out. */
  #closing = false;
  #closeTimer: NodeJS.Timeout | undefined;
  #upstream: EioPacket[] = [];
  #inFlight = false;
  #acks = new BroadcastAcks();
  /** Attachments of a forwarded binary packet still to come. */
  #forwardAttachments = 0;

  constructor(
    readonly context: EioSessionContext,
    subject: EventSubjectOfSocket,
    transport: 'polling' | 'websocket',
  ) {
    this.subject = subject;
    this.transport = transport;
  }

  get id(): string {
    return this.subject.connectionId;
  }

  // ---- The server's side (REST sends and closes, through the state) ----

  deliver(delivery: ClientDelivery): void {
    if (this.ended) return;
    const text = delivery.message.data.toString('utf8');
    const packets = decodeEioPayload(text);
    if (packets.some(packet => packet.type === 'error')) {
      this.context.log(
        `socket.io ${this.subject.hub}/${this.id}: a send that is not an Engine.IO payload was dropped (${JSON.stringify(text.slice(0, 60))})`,
      );
      return;
    }
    this.fromServer(packets);
  }

  /** Packets the server wrote (already decoded). */
  fromServer(packets: EioPacket[]): void {
    const out: EioPacket[] = [];
    let closeOrdered = false;
    for (const packet of packets) {
      if (this.ended || this.#closing) break;
      if (packet.type === 'close') {
        this.#closeSoon();
        continue;
      }
      switch (packet.type) {
        case 'message': {
          const order =
            typeof packet.data === 'string' ? readDisconnectOrder(packet.data) : undefined;
          if (order) {
            // io.disconnectSockets(close): the client and the server each see the other leave.
            const disconnect: EioPacket = { type: 'message', data: disconnectPacket(order.nsp) };
            out.push(disconnect);
            this.#leaveNamespace(order.nsp);
            this.#forward(disconnect);
            closeOrdered ||= order.close;
            break;
          }
          if (typeof packet.data === 'string') this.#serverMessage(packet.data);
          out.push(packet);
          break;
        }
        case 'ping':
        case 'noop':
          out.push(packet);
          break;
        default:
          this.context.log(
            `socket.io ${this.subject.hub}/${this.id}: the server sent an Engine.IO ${packet.type} packet, which only the service may send; dropped`,
          );
      }
    }
    if (out.length > 0) this.#send(out);
    if (closeOrdered)
      this.#end('the server disconnected the socket (disconnectSockets(true))', true, true);
  }

  /**
   * The server's Engine.IO `close`. The SDK sends it on a REST call of its own, which may overtake
   * the call with the packets written before it (a socket.io DISCONNECT, say), so it takes effect
   * {@link SERVER_CLOSE_GRACE_MS} later, after whatever else the server sent meanwhile.
   */
  #closeSoon(): void {
    if (this.#closeTimer) return;
    this.#closeTimer = setTimeout(() => {
      this.#closing = true;
      this.#send([{ type: 'close' }]);
      this.#end('the server closed the connection', true, false);
    }, SERVER_CLOSE_GRACE_MS);
  }

  close(reason: string | undefined): void {
    if (this.ended) return;
    this.#send([{ type: 'close' }]);
    this.#end(reason ? `closed through REST: ${reason}` : 'closed through REST', true, false);
  }

  /** A broadcast with acks: `parts` carry ack id `id`; `done` gets the client's ACK (or nothing). */
  invoke(nsp: string, id: number, parts: EioPacket[], done: AckCallback): void {
    if (this.ended) {
      done(undefined);
      return;
    }
    this.#acks.expect(nsp, id, done);
    this.#send(parts);
  }

  /** Forgets a pending ACK (the broadcast's stream ended). */
  forgetAck(nsp: string, id: number): void {
    this.#acks.forget(nsp, id);
  }

  #serverMessage(text: string): void {
    const header = readSioHeader(text);
    if (!header) return;
    if (header.type === SioPacketType.CONNECT) {
      this.context.hubs.join(this.connection, sioGroupName(header.nsp));
    } else if (header.type === SioPacketType.DISCONNECT) {
      this.#leaveNamespace(header.nsp);
    }
  }

  #leaveNamespace(nsp: string): void {
    const prefix = sioGroupName(nsp);
    for (const group of Array.from(this.connection.groups)) {
      if (group.startsWith(prefix)) this.context.hubs.leave(this.connection, group);
    }
  }

  // ---- The client's side ----

  /** The open packet (from the server's answer to `connect`) and whatever the server sent meanwhile. */
  open(openPayload: string, res?: ServerResponse): void {
    this.#opened = true;
    const open: EioPacket = { type: 'open', data: openPayload };
    if (res) {
      writePayload(res, [open]);
    } else if (this.#ws) {
      sendFrames(this.#ws, [open, ...this.#takeQueue()]);
    }
  }

  attachWebSocket(ws: WebSocket): void {
    this.#ws = ws;
    this.#listen(ws, false);
  }

  /** A GET of a long-polling client. */
  poll(res: ServerResponse): void {
    if (this.ended) {
      if (this.lingering) {
        this.lingering = false;
        writePayload(res, this.#takeQueue());
      } else {
        badRequest(res);
      }
      return;
    }
    if (this.transport !== 'polling') {
      badRequest(res);
      return;
    }
    if (this.#poll) {
      badRequest(res);
      this.#end('two polls at once (overlap from the client)', true, true);
      return;
    }
    if (this.#noopOwed) {
      this.#noopOwed = false;
      writePayload(res, [{ type: 'noop' }]);
      return;
    }
    if (this.#queue.length > 0) {
      writePayload(res, this.#takeQueue());
      return;
    }
    this.#poll = res;
    res.once('close', () => {
      if (this.#poll === res) this.#poll = undefined;
    });
  }

  /** A POST of a long-polling client: its packets. Returns false when the payload is malformed. */
  post(payload: string): boolean {
    if (this.ended) return false;
    const packets = decodeEioPayload(payload);
    if (packets.some(packet => packet.type === 'error')) {
      this.#end('the client sent a malformed Engine.IO payload', true, true);
      return false;
    }
    for (const packet of packets) this.#fromClient(packet);
    return true;
  }

  /** A WebSocket that asks to take over a long-polling connection (`transport=websocket&sid=`). */
  probe(ws: WebSocket): void {
    if (this.transport !== 'polling' || this.#probe || this.ended) {
      ws.close(1008, 'this connection cannot be upgraded now');
      return;
    }
    this.#probe = ws;
    const timer = setTimeout(() => {
      if (this.#probe === ws) {
        this.#probe = undefined;
        ws.close(1008, 'the upgrade took too long');
      }
    }, this.context.limits.upgradeTimeoutMs);
    ws.on('message', (data, isBinary) => {
      if (this.#probe !== ws) return;
      const packet = decodeEioFrame(isBinary ? toBuffer(data) : toBuffer(data).toString('utf8'));
      if (packet.type === 'ping' && packet.data === 'probe') {
        ws.send(encodeEioFrame({ type: 'pong', data: 'probe' }));
        // Let a waiting poll return, so that the client can pause polling.
        if (this.#poll) {
          const res = this.#poll;
          this.#poll = undefined;
          writePayload(res, [{ type: 'noop' }, ...this.#takeQueue()]);
        } else {
          this.#noopOwed = true;
        }
      } else if (packet.type === 'upgrade') {
        clearTimeout(timer);
        this.#probe = undefined;
        ws.removeAllListeners('message');
        this.#upgraded(ws);
      } else {
        clearTimeout(timer);
        this.#probe = undefined;
        ws.close(1002, 'expected the probe and the upgrade packet');
      }
    });
    ws.once('close', () => {
      clearTimeout(timer);
      if (this.#probe === ws) this.#probe = undefined;
    });
    ws.on('error', () => ws.terminate());
  }

  #upgraded(ws: WebSocket): void {
    this.transport = 'websocket';
    this.#ws = ws;
    this.#noopOwed = false;
    if (this.#poll) {
      const res = this.#poll;
      this.#poll = undefined;
      writePayload(res, [{ type: 'noop' }]);
    }
    this.#listen(ws, true);
    const queued = this.#takeQueue();
    if (queued.length > 0) sendFrames(ws, queued);
    this.context.log(`socket.io ${this.subject.hub}/${this.id} upgraded to WebSocket`);
  }

  #listen(ws: WebSocket, upgraded: boolean): void {
    ws.on('message', (data, isBinary) => {
      if (this.ended) return;
      const buffer = toBuffer(data);
      const packet = decodeEioFrame(isBinary ? buffer : buffer.toString('utf8'));
      if (packet.type === 'error') {
        this.#end('the client sent a malformed Engine.IO packet', true, true);
        return;
      }
      this.#fromClient(packet);
    });
    ws.on('error', () => ws.terminate());
    ws.once('close', () => {
      if (this.#ws === ws) this.#end(upgraded ? 'transport close' : 'transport close', true, false);
    });
  }

  #fromClient(packet: EioPacket): void {
    switch (packet.type) {
      case 'message':
        this.#clientMessage(packet);
        return;
      case 'pong':
      case 'ping':
        this.#forward(packet);
        return;
      case 'close':
        this.#end('the client closed the connection', true, false);
        return;
      case 'noop':
      case 'upgrade':
        return;
      default:
        this.#end(`the client sent an Engine.IO ${packet.type} packet`, true, true);
    }
  }

  #clientMessage(packet: EioPacket): void {
    if (this.#acks.takeAttachment(packet)) return;
    if (this.#forwardAttachments > 0 && typeof packet.data !== 'string') {
      this.#forwardAttachments--;
      this.#forward(packet);
      return;
    }
    if (typeof packet.data === 'string') {
      const header = readSioHeader(packet.data);
      if (header && this.#acks.takeAck(header, packet)) return;
      if (header?.type === SioPacketType.DISCONNECT) this.#leaveNamespace(header.nsp);
      this.#forwardAttachments = header?.attachments ?? 0;
    }
    this.#forward(packet);
  }

  #forward(packet: EioPacket): void {
    this.#upstream.push(packet);
    this.#pump();
  }

  #pump(): void {
    if (this.#inFlight || this.#upstream.length === 0 || this.ended) return;
    const packets = this.#upstream;
    this.#upstream = [];
    this.#inFlight = true;
    this.context.events.message(this.subject, encodeEioPayload(packets)).then(
      response => {
        this.#inFlight = false;
        if (response.status >= 200 && response.status < 300) {
          this.#pump();
        } else {
          this.#end(
            `the Socket.IO server answered ${response.status} to the client's packets: ${response.body.toString('utf8').slice(0, 200)}`,
            true,
            true,
          );
        }
      },
      (error: unknown) => {
        this.#inFlight = false;
        this.#end(
          `the client's packets could not reach the Socket.IO server: ${error instanceof Error ? error.message : String(error)}`,
          false,
          true,
        );
      },
    );
  }

  // ---- Writing to the client ----

  #send(packets: EioPacket[]): void {
    if (this.#opened && this.transport === 'websocket' && this.#ws) {
      sendFrames(this.#ws, packets);
      return;
    }
    for (const packet of packets) {
      this.#queue.push(packet);
      this.#queuedBytes += packetSize(packet);
    }
    if (this.#queuedBytes > this.context.limits.maxQueuedBytes) {
      this.#queue = [];
      this.#queuedBytes = 0;
      this.#end('the client does not poll (its queue is full)', true, true);
      return;
    }
    if (this.#poll && this.#opened) {
      const res = this.#poll;
      this.#poll = undefined;
      writePayload(res, this.#takeQueue());
    }
  }

  #takeQueue(): EioPacket[] {
    const packets = this.#queue;
    this.#queue = [];
    this.#queuedBytes = 0;
    return packets;
  }

  // ---- The end ----

  /**
   * Ends the connection once: out of the state, the client told (a `close` packet to a waiting
   * poll, the WebSocket closed), pending ACKs released, `disconnected` to the server.
   */
  #end(reason: string, notify: boolean, tellClient: boolean): void {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.#closeTimer);
    if (this.connection) this.context.hubs.remove(this.connection);
    if (tellClient && !this.#closing) this.#queue.push({ type: 'close' });
    if (this.#poll) {
      const res = this.#poll;
      this.#poll = undefined;
      const packets = this.#takeQueue();
      writePayload(res, packets.length > 0 ? packets : [{ type: 'close' }]);
    }
    this.lingering = this.transport === 'polling' && this.#queue.length > 0;
    if (this.#ws) {
      const ws = this.#ws;
      const queued = this.#takeQueue();
      if (queued.length > 0) sendFrames(ws, queued);
      ws.close(1000);
    }
    this.#probe?.close(1000);
    this.#acks.release();
    this.context.traffic.record({
      kind: 'connection',
      hub: this.subject.hub,
      action: 'disconnected',
      connectionId: this.id,
      userId: this.subject.userId,
      subprotocol: SOCKET_IO_SUBPROTOCOL,
      detail: reason,
    });
    this.context.log(`socket.io ${this.subject.hub}/${this.id} disconnected: ${reason}`);
    this.context.ended(this);
    if (notify && this.#opened) {
      this.context.events.disconnected(this.subject, reason).catch(() => {
        // Logged and recorded by the events sender; the connection is gone either way.
      });
    }
  }

  /** Ends the connection because its server is gone or the emulator closes. */
  shutdown(reason: string): void {
    this.#end(reason, false, true);
  }
}
