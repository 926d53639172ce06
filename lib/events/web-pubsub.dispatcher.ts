import { GatewayTimeoutException, HttpException, Injectable, Logger } from '@nestjs/common';
import { MqttConnectError } from '../errors/mqtt-connect.error.js';
import { isLogLevelEnabled } from './log-level.js';
import type {
  ConnectRequest,
  ConnectedRequest,
  DisconnectedRequest,
  GroupPresenceRequest,
  UserEventRequest,
} from '../interfaces/web-pubsub-request.interface.js';
import {
  readConnectPayload,
  readDisconnectedPayload,
  readGroupPayload,
  readJsonObjectBody,
  readUserEventPayload,
  type EventBody,
  type EventHeaders,
} from '../protocol/cloud-event.reader.js';
import { mqttConnectCodeForVersion, mqttConnectCodeFromStatus } from '../protocol/mqtt.js';
import {
  NO_CONTENT,
  writeConnectResponse,
  writeError,
  writeMqttConnectError,
  writeUserEventResponse,
  type WireResponse,
} from '../protocol/response.writer.js';
import { WEB_PUBSUB_LOGGER_CONTEXT } from '../web-pubsub.constants.js';
import { Messages } from '../web-pubsub.messages.js';
import { WebPubSubConnectionContext } from './web-pubsub-connection-context.js';
import { WebPubSubConfigService } from '../config/web-pubsub-config.service.js';
import { WebPubSubHandlerRegistry, type RegisteredHandler } from './web-pubsub-handler.registry.js';
import { InFlightTracker } from './in-flight.tracker.js';
import { WebPubSubTelemetry, type EventOutcome } from '../telemetry/web-pubsub.telemetry.js';
import { hubKey } from '../protocol/names.js';

const INTERNAL_ERROR = 'Internal server error';

/**
 * Turns a validated event into handler calls and the handler's outcome into the response the
 * service expects. Blocking events (connect, user events) are answered with the handler's
 * result; non-blocking ones are acknowledged at once and their handlers run afterwards.
 */
@Injectable()
export class WebPubSubDispatcher {
  private readonly logger = new Logger(WEB_PUBSUB_LOGGER_CONTEXT);

  private readonly timeoutMs: number;

  constructor(
    private readonly registry: WebPubSubHandlerRegistry,
    config: WebPubSubConfigService,
    private readonly inFlight: InFlightTracker,
    private readonly telemetry: WebPubSubTelemetry,
  ) {
    this.timeoutMs = config.handlerTimeout;
  }

  /**
   * Expects an event the event handler inspected (a user event's data type is set). Answers
   * synchronously when the handler does (no promise, no extra turn of the event loop).
   * @throws ProtocolError (400) when the body does not fit the event.
   */
  dispatch(
    event: EventHeaders,
    body: EventBody,
    httpRequest: object,
  ): WireResponse | Promise<WireResponse> {
    const hub = hubKey(event.hub);
    if (isLogLevelEnabled('debug')) {
      this.logger.debug(Messages.event(event.kind, event.eventName, event.hub, event.connectionId));
    }
    switch (event.kind) {
      case 'connect': {
        const mqtt = event.clientProtocol === 'mqtt';
        const payload = readConnectPayload(body, mqtt);
        const handler = this.registry.blockingHandler('connect', 'connect', hub);
        if (!handler) return this.noHandler(event);
        const context = new WebPubSubConnectionContext(event);
        context.data = payload;
        const request: ConnectRequest = { context, ...payload };
        return this.answer(
          handler,
          request,
          result => writeConnectResponse(result, context.stateHeader, mqtt),
          httpRequest,
          payload.mqtt?.protocolVersion,
        );
      }
      case 'user': {
        const payload = readUserEventPayload(body, event.dataType ?? 'binary');
        const handler = this.registry.blockingHandler('user', event.eventName, hub);
        if (!handler) return this.noHandler(event);
        const context = new WebPubSubConnectionContext(event);
        context.data = payload.data;
        const mqtt = event.clientProtocol === 'mqtt';
        const request = (
          mqtt
            ? {
                context,
                dataType: payload.dataType,
                data: payload.data,
                mqtt: { userProperties: event.mqttUserProperties ?? [] },
              }
            : { context, dataType: payload.dataType, data: payload.data }
        ) as UserEventRequest;
        return this.answer(
          handler,
          request,
          result => writeUserEventResponse(result, context.stateHeader, mqtt),
          httpRequest,
        );
      }
      case 'connected': {
        const payload = readJsonObjectBody(body, 'connected');
        const handlers = this.registry.nonBlockingHandlers('connected', 'connected', hub);
        if (handlers.length > 0) {
          const context = new WebPubSubConnectionContext(event);
          context.data = payload;
          this.runLater(event.kind, handlers, { context } satisfies ConnectedRequest, httpRequest);
        }
        return NO_CONTENT;
      }
      case 'disconnected': {
        const payload = readDisconnectedPayload(body, event.clientProtocol === 'mqtt');
        const handlers = this.registry.nonBlockingHandlers('disconnected', 'disconnected', hub);
        if (handlers.length > 0) {
          const context = new WebPubSubConnectionContext(event);
          context.data = payload;
          const request: DisconnectedRequest = payload.mqtt
            ? { context, reason: payload.reason, mqtt: payload.mqtt }
            : { context, reason: payload.reason };
          this.runLater(event.kind, handlers, request, httpRequest);
        }
        return NO_CONTENT;
      }
      case 'groupJoined':
      case 'groupLeft': {
        const payload = readGroupPayload(body, event.eventName);
        const handlers = this.registry.nonBlockingHandlers(event.kind, event.eventName, hub);
        if (handlers.length > 0) {
          const context = new WebPubSubConnectionContext(event);
          context.data = payload;
          this.runLater(
            event.kind,
            handlers,
            { context, group: payload.group } satisfies GroupPresenceRequest,
            httpRequest,
          );
        }
        return NO_CONTENT;
      }
    }
  }

  private noHandler(event: EventHeaders): WireResponse {
    if (isLogLevelEnabled('debug'))
      this.logger.debug(Messages.noHandler(event.kind, event.eventName, event.hub));
    return NO_CONTENT;
  }

  /**
   * Calls a blocking handler and encodes its outcome; its failures never escape.
   * `mqttVersion`: set for an MQTT client's connect, whose refusals take the MQTT error form.
   */
  private answer(
    handler: RegisteredHandler,
    request: unknown,
    encode: (result: unknown) => WireResponse,
    httpRequest: object,
    mqttVersion?: number,
  ): WireResponse | Promise<WireResponse> {
    let result: unknown;
    try {
      result = handler.call(request, httpRequest);
    } catch (error) {
      return this.refused(handler, error, mqttVersion);
    }
    if (!isThenable(result)) return this.encode(handler, encode, result, mqttVersion);
    return this.withTimeout(handler, result).then(
      settled => this.encode(handler, encode, settled, mqttVersion),
      error => this.refused(handler, error, mqttVersion),
    );
  }

  private refused(
    handler: RegisteredHandler,
    error: unknown,
    mqttVersion: number | undefined,
  ): WireResponse {
    return mqttVersion === undefined
      ? this.failure(handler, error)
      : this.mqttConnectFailure(handler, error, mqttVersion);
  }

  private encode(
    handler: RegisteredHandler,
    encode: (result: unknown) => WireResponse,
    result: unknown,
    mqttVersion: number | undefined,
  ): WireResponse {
    try {
      return encode(result);
    } catch (error) {
      this.logger.error(Messages.writeFailed(handler.name), (error as Error)?.stack);
      return mqttVersion === undefined
        ? writeError(500, INTERNAL_ERROR)
        : writeMqttConnectError(500, mqttConnectCodeFromStatus(500, mqttVersion), INTERNAL_ERROR);
    }
  }

  /** `HttpException` → its status and message; anything else → 500, logged with its stack. */
  private failure(handler: RegisteredHandler, error: unknown): WireResponse {
    if (error instanceof HttpException) {
      return writeError(error.getStatus(), httpExceptionMessage(error));
    }
    this.logger.error(
      Messages.handlerFailed(handler.name),
      error instanceof Error ? error.stack : String(error),
    );
    return writeError(500, INTERNAL_ERROR);
  }

  /**
   * An MQTT client's refused connect, as JSON `{"mqtt":{"code","reason"}}`:
   * - `MqttConnectError` → its code (translated to the client's protocol version when it belongs
   *   to the other one), the status its code maps to, its reason and user properties;
   * - `HttpException` → its own status (a status below 400 would read as success: 500 instead),
   *   the code for that status and protocol version, the exception's message as the reason;
   * - anything else → 500, ServerUnavailable (3.1.1) / UnspecifiedError (5.0), a generic reason;
   *   logged with its stack, which never reaches the response.
   */
  private mqttConnectFailure(
    handler: RegisteredHandler,
    error: unknown,
    protocolVersion: number,
  ): WireResponse {
    if (error instanceof MqttConnectError) {
      return writeMqttConnectError(
        error.getStatus(),
        mqttConnectCodeForVersion(error.code, protocolVersion),
        error.reason,
        error.userProperties,
      );
    }
    if (error instanceof HttpException) {
      const thrown = error.getStatus();
      const status = thrown >= 400 && thrown <= 599 ? thrown : 500;
      return writeMqttConnectError(
        status,
        mqttConnectCodeFromStatus(status, protocolVersion),
        httpExceptionMessage(error),
      );
    }
    this.logger.error(
      Messages.handlerFailed(handler.name),
      error instanceof Error ? error.stack : String(error),
    );
    return writeMqttConnectError(
      500,
      mqttConnectCodeFromStatus(500, protocolVersion),
      INTERNAL_ERROR,
    );
  }

  /**
   * Runs non-blocking handlers after the acknowledgement is sent; failures are logged. Counted
   * in flight until every one of them settled (or passed `handlerTimeout`), for shutdown.
   */
  private runLater(
    kind: string,
    handlers: readonly RegisteredHandler[],
    request: unknown,
    httpRequest: object,
  ): void {
    const inFlight = this.inFlight;
    inFlight.begin();
    setImmediate(() => {
      let pending = 0;
      const settled = (): void => {
        if (--pending === 0) inFlight.end();
      };
      for (const handler of handlers) {
        const started = this.telemetry.enabled ? performance.now() : 0;
        try {
          const result = handler.call(request, httpRequest);
          if (isThenable(result)) {
            pending++;
            this.withTimeout(handler, result)
              .then(
                () => this.timed(kind, started, 'ok'),
                error => {
                  this.timed(kind, started, 'error');
                  this.logFailure(handler, error);
                },
              )
              .finally(settled);
          } else this.timed(kind, started, 'ok');
        } catch (error) {
          this.timed(kind, started, 'error');
          this.logFailure(handler, error);
        }
      }
      // Synchronous handlers only: done now; otherwise the last promise to settle ends it.
      if (pending === 0) inFlight.end();
    });
  }

  /** Records a non-blocking handler's duration (telemetry on only). */
  private timed(kind: string, started: number, outcome: EventOutcome): void {
    if (this.telemetry.enabled)
      this.telemetry.handlerDuration(kind, (performance.now() - started) / 1000, outcome);
  }

  /**
   * Waits for a handler's promise at most `handlerTimeout` ms: then it is logged and answered 504
   * (the handler's own outcome, whenever it comes, is dropped without an unhandled rejection).
   */
  private withTimeout(handler: RegisteredHandler, pending: PromiseLike<unknown>): Promise<unknown> {
    const promise = Promise.resolve(pending);
    if (this.timeoutMs === 0) return promise;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        promise.catch(() => undefined);
        this.logger.error(Messages.handlerTimedOut(handler.name, this.timeoutMs));
        reject(new HandlerTimeout(Messages.timeoutAnswer(this.timeoutMs)));
      }, this.timeoutMs);
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
  }

  private logFailure(handler: RegisteredHandler, error: unknown): void {
    if (error instanceof HandlerTimeout) return; // logged when it happened
    this.logger.error(
      Messages.handlerFailed(handler.name),
      error instanceof Error ? error.stack : String(error),
    );
  }
}

/** A handler passed `handlerTimeout`: answered 504 like any `GatewayTimeoutException`. */
class HandlerTimeout extends GatewayTimeoutException {}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && typeof (value as PromiseLike<unknown> | undefined)?.then === 'function';
}

/** The message a client should see: the string response, or the `message` of an object response. */
function httpExceptionMessage(error: HttpException): string {
  const response = error.getResponse();
  if (typeof response === 'string') return response;
  const message = (response as { message?: unknown } | null)?.message;
  if (Array.isArray(message)) return message.join('; ');
  if (typeof message === 'string') return message;
  return error.message;
}
