/**
 * The service's events to a Socket.IO server, sent through its tunnel: `connect` at the Engine.IO
 * handshake, `message` user events carrying the client's packets (an Engine.IO payload,
 * `text/plain`), and `disconnected`. They are the CloudEvents the emulator sends over HTTP
 * (`writeCloudEvent`), addressed to `/eventhandler/`, the path the SDK's handler listens on.
 */
import { writeCloudEvent, type OutgoingCloudEvent } from '../../protocol/cloud-event.writer.js';
import { utf8Body, type TrafficLog } from '../traffic-log.js';
import type { ConnectRequestBody } from '../upstream/upstream.js';
import type { TunnelEndpoint, TunnelHttpResponse } from './tunnel-endpoint.js';

/** The user event name the emulator gives client packets ([gap]: the SDK reads any name). */
export const SOCKET_IO_USER_EVENT = 'message';
const EVENT_HANDLER_PATH = '/eventhandler/';

export interface EventSubjectOfSocket {
  readonly hub: string;
  readonly connectionId: string;
  readonly userId: string | undefined;
  nextEventId: number;
}

export interface TunnelEventsOptions {
  readonly tunnel: TunnelEndpoint;
  readonly accessKey: string;
  /** `WebHook-Request-Origin`, and the host of the event URL. */
  readonly origin: string;
  readonly traffic: TrafficLog;
  readonly log: (line: string) => void;
  readonly timeoutMs: number;
}

export class TunnelEvents {
  constructor(readonly options: TunnelEventsOptions) {}

  connect(subject: EventSubjectOfSocket, body: ConnectRequestBody): Promise<TunnelHttpResponse> {
    return this.#send(subject, {
      kind: 'connect',
      ...this.#context(subject),
      claims: body.claims,
      query: body.query,
      clientHeaders: body.headers,
      subprotocols: [],
      clientCertificates: [],
    });
  }

  message(subject: EventSubjectOfSocket, payload: string): Promise<TunnelHttpResponse> {
    return this.#send(subject, {
      kind: 'user',
      ...this.#context(subject),
      eventName: SOCKET_IO_USER_EVENT,
      dataType: 'text',
      data: payload,
    });
  }

  disconnected(subject: EventSubjectOfSocket, reason: string): Promise<TunnelHttpResponse> {
    return this.#send(subject, { kind: 'disconnected', ...this.#context(subject), reason });
  }

  #context(subject: EventSubjectOfSocket) {
    return {
      hub: subject.hub,
      connectionId: subject.connectionId,
      userId: subject.userId,
      id: String(subject.nextEventId++),
      origin: this.options.origin,
      accessKeys: [this.options.accessKey],
    };
  }

  async #send(
    subject: EventSubjectOfSocket,
    event: OutgoingCloudEvent,
  ): Promise<TunnelHttpResponse> {
    const { tunnel, traffic, log, timeoutMs, origin } = this.options;
    const wire = writeCloudEvent(event);
    const headers: Record<string, string[]> = {};
    for (const [name, value] of Object.entries(wire.headers)) headers[name] = [value];
    const url = `http://${origin}${EVENT_HANDLER_PATH}`;
    const started = Date.now();
    const action = event.kind === 'user' ? SOCKET_IO_USER_EVENT : event.kind;
    let response: TunnelHttpResponse | undefined;
    let failure: string | undefined;
    try {
      response = await tunnel.request(
        subject.hub,
        { method: 'POST', url, headers, body: wire.body },
        timeoutMs,
      );
      return response;
    } catch (error) {
      failure = error instanceof Error ? error.message : String(error);
      throw error;
    } finally {
      const durationMs = Date.now() - started;
      const status = response?.status;
      try {
        log(
          `tunnel ${subject.hub}/${subject.connectionId} ${action} -> ${status ?? 'no answer'} (${durationMs} ms)${failure ? `: ${failure}` : ''}`,
        );
        traffic.record({
          kind: 'upstream',
          time: started,
          hub: subject.hub,
          action,
          method: 'POST',
          url: `tunnel://${EVENT_HANDLER_PATH}`,
          status,
          durationMs,
          connectionId: subject.connectionId,
          userId: subject.userId,
          subprotocol: 'socket.io',
          detail: failure,
          request: { headers: wire.headers, body: utf8Body(wire.body) },
          response: response
            ? {
                headers: Object.fromEntries(
                  Object.entries(response.headers).map(([name, list]) => [name, list.join(', ')]),
                ),
                body: utf8Body(response.body),
              }
            : undefined,
        });
      } catch {
        // A failing log sink or live-view listener cannot be told about it.
      }
    }
  }
}
