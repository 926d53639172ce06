/**
 * A session's last will: the CONNECT's will goes out when the network connection is lost (not
 * after a DISCONNECT, unless MQTT 5's reason 0x04 asks for it), or when the service ends the
 * session; MQTT 5's will delay holds it until the delay passes or the session ends, and a session
 * resumed in time sends none. It is a publish to a group, so the connection's roles decide.
 */
import { recordRefusal, type MqttSessionView } from './mqtt-records.js';
import { dataTypeOf } from './mqtt-properties.js';

/** The CONNECT packet's will, checked. */
export interface MqttWill {
  readonly topic: string;
  readonly payload: Buffer;
  readonly contentType?: string;
  /** MQTT 5 will delay interval, in ms. */
  readonly delayMs: number;
}

export class MqttWillKeeper {
  #will: MqttWill | undefined;
  #willTimer: NodeJS.Timeout | undefined;
  /** The will waits (for its delay, or for the session's end): it goes out when the session ends. */
  #willDue = false;

  constructor(readonly session: MqttSessionView) {}

  /** A network connection (re)attached, with its CONNECT's will. */
  take(will: MqttWill | undefined): void {
    // A will waiting for its delay is not sent when the session is resumed in time.
    if (this.#willTimer) clearTimeout(this.#willTimer);
    this.#willTimer = undefined;
    this.#willDue = false;
    this.#will = will;
  }

  /** No will goes out (the client said goodbye, or the emulator shuts down). */
  drop(): void {
    this.#will = undefined;
  }

  /** The network connection is lost and the session kept for `expiryMs`: the will, now or later. */
  connectionLost(expiryMs: number): void {
    const will = this.#will;
    if (will && will.delayMs === 0) {
      this.publish();
    } else if (will) {
      // MQTT 5 will delay: sent after the delay, or when the session ends, unless it is resumed.
      this.#willDue = true;
      if (will.delayMs < expiryMs) {
        this.#willTimer = setTimeout(() => {
          this.#willTimer = undefined;
          this.publish();
        }, will.delayMs);
      }
    }
  }

  /** The session ends: a will still waiting for its delay goes out. */
  sessionEnding(): void {
    if (this.#willTimer) clearTimeout(this.#willTimer);
    this.#willTimer = undefined;
    if (this.#willDue) this.publish();
  }

  publish(): void {
    const will = this.#will;
    this.#will = undefined;
    this.#willDue = false;
    const { connection, context, ended, protocolVersion } = this.session;
    if (!will || ended) return;
    const { hub, connectionId } = connection;
    if (!connection.can('sendToGroup', will.topic)) {
      recordRefusal(
        this.session,
        `will to ${will.topic} not published: no permission to send to the group`,
      );
      return;
    }
    context.log(`mqtt ${hub}/${connectionId} will published to ${will.topic}`);
    context.hubs.publishFromClient(
      connection,
      will.topic,
      { dataType: dataTypeOf(protocolVersion, will.contentType), data: will.payload },
      false,
    );
  }
}
