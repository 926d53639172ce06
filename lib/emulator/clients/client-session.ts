/**
 * One client connection's behaviour on the socket: the simple protocol (every frame is a `message`
 * user event) and the PubSub subprotocols (JSON and protobuf, each with its reliable variant:
 * sequence ids, unacked buffer, recovery), whose frames a {@link WireCodec} reads and writes.
 * Beside it in `clients/`: the kind a subprotocol makes (`client-kind.ts`), the reliable
 * subprotocols' unacked buffer (`unacked-buffer.ts`), the traffic record of a client frame
 * (`client-frame-record.ts`), close codes and reasons (`close-codes.ts`), the connection's group
 * streams (`group-streams.ts`); the state in `state/hubs.ts`; the upstream calls in `upstream/`.
 */
import { randomBytes } from 'node:crypto';
import type WebSocket from 'ws';
import { clientKind, type ClientKind } from './client-kind.js';
import { frameTarget, recordClientFrame, type FrameOutcome } from './client-frame-record.js';
import { MalformedMessage, type ClientMessage } from './client-messages.js';
import { CloseCode, closeReason, describeClose } from './close-codes.js';
import { GroupStreams } from './group-streams.js';
import { UnackedBuffer } from './unacked-buffer.js';
import type { AckErrorName, Frame, WireCodec } from './wire-codec.js';
import type { OutboundMessage } from '../state/hub-operations.js';
import type { ClientDelivery, ClientSink, Connection, HubRegistry } from '../state/hubs.js';
import type { RawSendToGroup } from './raw-send-mode.js';
import type { TrafficLog } from '../traffic-log.js';
import type { EventSubject, Upstream } from '../upstream/upstream.js';
import type { SessionLimits } from './session-limits.js';

export interface SessionContext {
  readonly hubs: HubRegistry;
  readonly upstream: Upstream;
  readonly traffic: TrafficLog;
  readonly log: (line: string) => void;
  readonly limits: SessionLimits;
  /** Called once when the connection has ended for good. */
  readonly ended: (session: ClientSession) => void;
}

/** Frames encoded once per delivery and codec for every non-reliable member (fan-out). */
const ENCODED = new WeakMap<ClientDelivery, Map<WireCodec, Frame>>();

export class ClientSession implements ClientSink {
  readonly kind: ClientKind;
  /** PubSub clients read group streams; simple clients get their fragments as plain messages. */
  readonly speaksStreams: boolean;
  readonly reconnectionToken: string | undefined;
  /** Set once the registry holds the connection. */
  connection!: Connection;
  readonly subject: EventSubject;
  #ws: WebSocket | undefined;
  #awaitingPong = false;
  #ended = false;
  #recoveryTimer: NodeJS.Timeout | undefined;
  readonly #unacked: UnackedBuffer;
  readonly #succeededAckIds = new Set<number>();
  #queue: Promise<void> = Promise.resolve();
  #queued = 0;
  #paused = false;
  /** Group streams this connection writes (PubSub clients only). */
  readonly #streams: GroupStreams | undefined;

  constructor(
    readonly context: SessionContext,
    subject: EventSubject,
    /** A client without subprotocol that publishes its frames to a group (`webpubsub_mode=sendToGroup`). */
    readonly rawSend?: RawSendToGroup,
  ) {
    this.subject = subject;
    this.kind = clientKind(subject.subprotocol);
    this.speaksStreams = this.kind.codec !== undefined;
    this.reconnectionToken = this.kind.reliable ? randomBytes(24).toString('base64url') : undefined;
    this.#unacked = new UnackedBuffer(context.limits);
    const codec = this.kind.codec;
    this.#streams = codec
      ? new GroupStreams(
          {
            canSend: group => this.connection.can('sendToGroup', group),
            publish: (group, noEcho, payload, stream) =>
              this.context.hubs.publishFromClient(this.connection, group, payload, noEcho, stream),
            control: control => this.#send(codec.streamControl(control)),
          },
          context.limits.streams,
        )
      : undefined;
  }

  get ended(): boolean {
    return this.#ended;
  }

  get attached(): boolean {
    return this.#ws !== undefined;
  }

  /** Takes a socket: the first one, or a recovered one (then the unacked messages are replayed in order). */
  attach(ws: WebSocket, recovered: boolean): void {
    if (this.#recoveryTimer) clearTimeout(this.#recoveryTimer);
    this.#recoveryTimer = undefined;
    const previous = this.#ws;
    this.#ws = ws;
    // A recovery while the old socket looks open (a half-open TCP connection): the new one takes over.
    if (previous && previous !== ws) previous.terminate();
    this.#awaitingPong = false;
    this.#paused = false;
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      // Nothing a frame does may escape into ws (an exception there ends the process).
      try {
        this.#onFrame(ws, data, isBinary);
      } catch (error) {
        this.#failed(error, 'reading a frame');
      }
    });
    ws.on('close', (code: number, reason: Buffer) => {
      try {
        this.#onClose(ws, code, reason.toString('utf8'));
      } catch (error) {
        this.#failed(error, 'closing');
      }
    });
    ws.on('pong', () => {
      this.#awaitingPong = false;
    });
    ws.on('error', () => {
      // 'close' follows; the error (a frame over 1 MB, an invalid frame) is in its code.
    });
    const codec = this.kind.codec;
    if (!codec) return;
    // Also on a recovered socket: the client resumes its paused group streams on `connected`
    // (@azure/web-pubsub-client 1.1) and fires no second `connected` event for the same id.
    const { userId, connectionId } = this.connection;
    ws.send(codec.connected(userId, connectionId, this.reconnectionToken));
    if (recovered) for (const frame of this.#unacked.frames()) ws.send(frame);
  }

  /** Keep-alive: terminates a socket that did not answer the previous ping (a client gone without a close frame). */
  heartbeat(): void {
    const ws = this.#ws;
    if (!ws || ws.readyState !== ws.OPEN) return;
    // While the socket is paused (too many messages waiting) its pongs are not read either.
    if (this.#paused) return;
    if (this.#awaitingPong) {
      ws.terminate();
      return;
    }
    this.#awaitingPong = true;
    ws.ping();
  }

  // ---- ClientSink ----

  deliver(delivery: ClientDelivery): void {
    if (this.#ended) return;
    const codec = this.kind.codec;
    if (!codec) {
      const ws = this.#ws;
      if (!ws || ws.readyState !== ws.OPEN) return;
      const { message } = delivery;
      if (this.#overflowing(ws)) return;
      if (message.dataType === 'binary' || message.dataType === 'protobuf') {
        ws.send(message.data, { binary: true });
      } else ws.send(message.data.toString('utf8'));
      return;
    }
    const extra = {
      group: delivery.group,
      fromUserId: delivery.fromUserId,
      stream: delivery.stream,
    };
    if (!this.kind.reliable) {
      let frames = ENCODED.get(delivery);
      if (!frames) ENCODED.set(delivery, (frames = new Map()));
      let frame = frames.get(codec);
      if (frame === undefined) {
        frame = codec.data(delivery.from, delivery.message, extra);
        frames.set(codec, frame);
      }
      this.#send(frame);
      return;
    }
    const sequenceId = this.#unacked.nextSequenceId();
    const frame = codec.data(delivery.from, delivery.message, { ...extra, sequenceId });
    if (!this.#unacked.keep(sequenceId, frame)) {
      this.#finish(
        CloseCode.policyViolation,
        'the client did not acknowledge its messages (more than the unacked buffer holds)',
      );
      return;
    }
    this.#send(frame);
  }

  close(reason: string | undefined): void {
    this.#finish(CloseCode.normal, reason ?? '');
  }

  /** Ends the connection from the service side: `disconnected` to JSON clients, the close frame, then the upstream event. */
  #finish(code: number, reason: string, notifyUpstream = true): void {
    if (this.#ended) return;
    const ws = this.#ws;
    if (ws && ws.readyState === ws.OPEN) {
      if (this.kind.codec) ws.send(this.kind.codec.disconnected(reason));
      ws.close(code, closeReason(reason));
    }
    this.#end(reason, notifyUpstream);
  }

  /** Emulator shutdown: close frames, no upstream events. */
  shutdown(): void {
    this.#finish(CloseCode.goingAway, 'the emulator is shutting down', false);
    this.#ws?.terminate();
  }

  /**
   * A fault of the emulator itself while serving this client: logged, and the connection ended
   * (1011) so that nothing of it stays in the state and the client is not left waiting.
   */
  #failed(error: unknown, doing: string): void {
    const message = error instanceof Error ? error.message : String(error);
    const { hub, connectionId } = this.connection;
    this.context.log(`client ${hub}/${connectionId} failed while ${doing}: ${message}`);
    if (this.#ended) return;
    try {
      this.#finish(CloseCode.internalError, `the emulator failed while ${doing}`);
    } finally {
      this.#end(`the emulator failed while ${doing}`, true);
    }
  }

  #end(reason: string, notifyUpstream: boolean): void {
    if (this.#ended) return;
    this.#ended = true;
    if (this.#recoveryTimer) clearTimeout(this.#recoveryTimer);
    this.#recoveryTimer = undefined;
    this.#unacked.clear();
    // The state first: whatever fails after this, the connection is gone from it.
    this.context.hubs.remove(this.connection);
    this.#streams?.closeAll(
      reason ? `the writer's connection ended: ${reason}` : "the writer's connection ended",
    );
    this.context.ended(this);
    const { hub, connectionId, userId, subprotocol } = this.connection;
    this.context.traffic.record({
      kind: 'connection',
      hub,
      action: 'disconnected',
      connectionId,
      userId,
      subprotocol,
      detail: reason || undefined,
    });
    this.context.log(`client ${hub}/${connectionId} disconnected${reason ? `: ${reason}` : ''}`);
    if (notifyUpstream) this.context.upstream.notify(this.subject, 'disconnected', reason);
  }

  #onClose(ws: WebSocket, code: number, reason: string): void {
    if (this.#ws !== ws) return;
    this.#ws = undefined;
    if (this.#ended) return;
    // Only a socket that vanished without a close frame may come back; any close frame is final.
    if (this.kind.reliable && code === CloseCode.abnormal) {
      const { hub, connectionId, userId, subprotocol } = this.connection;
      this.context.traffic.record({
        kind: 'connection',
        hub,
        action: 'dropped',
        connectionId,
        userId,
        subprotocol,
        detail: `socket lost; kept ${this.context.limits.recoveryWindowMs} ms for recovery`,
      });
      this.context.log(
        `client ${hub}/${connectionId} dropped; waiting ${this.context.limits.recoveryWindowMs} ms for recovery`,
      );
      this.#recoveryTimer = setTimeout(() => {
        this.#recoveryTimer = undefined;
        this.#end('the client did not reconnect within the recovery window', true);
      }, this.context.limits.recoveryWindowMs);
      return;
    }
    this.#end(describeClose(code, reason), true);
  }

  #send(frame: Frame): void {
    const ws = this.#ws;
    if (ws && ws.readyState === ws.OPEN && !this.#overflowing(ws)) ws.send(frame);
  }

  /** A client that stops reading while messages pile up is cut (a reliable one may recover). */
  #overflowing(ws: WebSocket): boolean {
    if (ws.bufferedAmount <= this.context.limits.maxBufferedBytes) return false;
    this.context.log(
      `client ${this.connection.hub}/${this.connection.connectionId} does not read its messages ` +
        `(more than ${this.context.limits.maxBufferedBytes} bytes waiting); cutting the socket`,
    );
    ws.terminate();
    return true;
  }

  // ---- incoming ----

  #onFrame(ws: WebSocket, data: Buffer, isBinary: boolean): void {
    if (this.#ended || this.#ws !== ws) return;
    const codec = this.kind.codec;
    if (!codec) {
      const message: OutboundMessage = { dataType: isBinary ? 'binary' : 'text', data };
      const raw = this.rawSend;
      if (raw) {
        this.#enqueue(() =>
          recordClientFrame(
            this.context.traffic,
            this.connection,
            'sendToGroup',
            raw.group,
            message,
            () => this.#rawSendToGroup(raw, message),
          ),
        );
      } else {
        this.#enqueue(() =>
          recordClientFrame(
            this.context.traffic,
            this.connection,
            'message',
            undefined,
            message,
            () => this.#simpleMessage(message),
          ),
        );
      }
      return;
    }
    let message: ClientMessage;
    try {
      message = codec.read(data, isBinary);
    } catch (error) {
      if (!(error instanceof MalformedMessage)) throw error;
      this.#finish(error.code, `malformed message: ${error.message}`);
      return;
    }
    switch (message.type) {
      case 'ping':
        this.#send(codec.pong());
        return;
      case 'sequenceAck':
        this.#unacked.acknowledge(message.sequenceId);
        return;
      case 'cancelInvocation':
        return;
      default:
        this.#enqueue(() =>
          recordClientFrame(
            this.context.traffic,
            this.connection,
            message.type === 'unsupported' ? message.name : message.type,
            frameTarget(message),
            'payload' in message ? message.payload : undefined,
            () => this.#execute(message),
          ),
        );
    }
  }

  /** Runs incoming messages one at a time, in frame order; stops reading the socket while too many wait. */
  #enqueue(task: () => Promise<void> | void): void {
    this.#queued++;
    const ws = this.#ws;
    if (this.#queued > this.context.limits.maxQueuedMessages && ws && !this.#paused) {
      this.#paused = true;
      ws.pause();
    }
    this.#queue = this.#queue
      .then(() => (this.#ended ? undefined : task()))
      .catch((error: unknown) => this.#failed(error, 'handling a message'))
      .finally(() => {
        this.#queued--;
        if (this.#paused && this.#queued <= this.context.limits.maxQueuedMessages / 2) {
          this.#paused = false;
          this.#ws?.resume();
        }
      });
  }

  /** A raw frame published to the client's group; without the permission (revoked over REST) the client is closed with 1008. */
  #rawSendToGroup({ group, noEcho }: RawSendToGroup, message: OutboundMessage): FrameOutcome {
    if (!this.connection.can('sendToGroup', group)) {
      const error = `no permission to send to group ${JSON.stringify(group)} (webpubsub_mode=sendToGroup)`;
      this.#finish(CloseCode.policyViolation, error);
      return { error, reach: 0 };
    }
    return { reach: this.context.hubs.publishFromClient(this.connection, group, message, noEcho) };
  }

  async #simpleMessage(message: OutboundMessage): Promise<FrameOutcome | void> {
    const outcome = await this.context.upstream.userEvent(this.subject, 'message', message);
    if (this.#ended) return;
    if (!outcome.ok) {
      this.#finish(CloseCode.internalError, outcome.reason);
      return { error: outcome.reason };
    }
    if (outcome.message) this.deliver({ from: 'server', message: outcome.message });
  }

  async #execute(message: ClientMessage): Promise<FrameOutcome | void> {
    const ackId = 'ackId' in message ? message.ackId : undefined;
    if (ackId !== undefined && this.#succeededAckIds.has(ackId)) {
      this.#ack(ackId, {
        name: 'Duplicate',
        message: `Message with ack-id: ${ackId} has been processed`,
      });
      return;
    }
    const { hubs } = this.context;
    const connection = this.connection;
    switch (message.type) {
      case 'joinGroup':
      case 'leaveGroup': {
        if (!connection.can('joinLeaveGroup', message.group)) {
          const error = `The connection has no permission to ${message.type === 'joinGroup' ? 'join' : 'leave'} group ${JSON.stringify(message.group)} (role webpubsub.joinLeaveGroup.${message.group} needed)`;
          this.#ack(ackId, { name: 'Forbidden', message: error });
          return { error };
        }
        if (message.type === 'joinGroup') hubs.join(connection, message.group);
        else hubs.leave(connection, message.group);
        this.#ack(ackId);
        return;
      }
      case 'sendToGroup': {
        if (!connection.can('sendToGroup', message.group)) {
          const error = `The connection has no permission to send to group ${JSON.stringify(message.group)} (role webpubsub.sendToGroup.${message.group} needed)`;
          this.#ack(ackId, { name: 'Forbidden', message: error });
          return { error, reach: 0 };
        }
        const reach = hubs.publishFromClient(
          connection,
          message.group,
          message.payload,
          message.noEcho,
        );
        this.#ack(ackId);
        return { reach };
      }
      case 'streamStart':
        this.#streams?.open(message);
        this.#ack(ackId);
        return;
      case 'streamData':
        this.#streams?.data(message);
        return;
      case 'streamEnd':
        this.#streams?.end(message);
        return;
      case 'event': {
        const outcome = await this.context.upstream.userEvent(
          this.subject,
          message.event,
          message.payload,
        );
        if (this.#ended) return;
        if (!outcome.ok) {
          this.#ack(ackId, { name: 'InternalServerError', message: outcome.reason });
          return { error: outcome.reason };
        }
        if (outcome.message) this.deliver({ from: 'server', message: outcome.message });
        this.#ack(ackId);
        return;
      }
      case 'invoke': {
        const payload = message.payload ?? { dataType: 'binary' as const, data: Buffer.alloc(0) };
        const outcome = await this.context.upstream.userEvent(this.subject, message.event, payload);
        if (this.#ended) return;
        this.#send(
          this.kind.codec!.invokeResponse(
            message.invocationId,
            outcome.ok
              ? { message: outcome.message }
              : { error: { name: 'InternalServerError', message: outcome.reason } },
          ),
        );
        return outcome.ok ? undefined : { error: outcome.reason };
      }
      case 'unsupported': {
        const error = `${message.name} messages are not supported by the emulator`;
        this.#ack(ackId, { name: 'BadRequest', message: error });
        return { error };
      }
    }
  }

  #ack(ackId: number | undefined, error?: { name: AckErrorName; message: string }): void {
    if (ackId === undefined) return;
    if (!error) this.#succeededAckIds.add(ackId);
    const codec = this.kind.codec;
    if (codec) this.#send(codec.ack(ackId, error));
  }
}
