import { Injectable, Logger } from '@nestjs/common';
import { readEventHeaders } from '../protocol/cloud-event.reader.js';
import { Header } from '../protocol/headers.js';
import { ProtocolError } from '../protocol/protocol.error.js';
import { writeError, writeHandshakeResponse, type WireResponse } from '../protocol/response.writer.js';
import { quote } from '../protocol/text.js';
import { WEB_PUBSUB_LOGGER_CONTEXT } from '../web-pubsub.constants.js';
import { Messages } from '../web-pubsub.messages.js';
import type { HttpPlatform, PlatformRequest } from './http-platform.js';
import { WebPubSubConfigService } from './web-pubsub-config.service.js';
import { WebPubSubDispatcher } from './web-pubsub.dispatcher.js';

/**
 * The request flow behind the controller: handshake, then for events
 * headers → hub → signature → body → dispatch, every refusal answered with its 4xx and logged.
 * The handler never runs for a request that failed a check.
 */
@Injectable()
export class WebPubSubEventHandler {
  private readonly logger = new Logger(WEB_PUBSUB_LOGGER_CONTEXT);
  #platform: HttpPlatform | undefined;

  constructor(
    private readonly config: WebPubSubConfigService,
    private readonly dispatcher: WebPubSubDispatcher,
  ) {}

  /** Set once at start-up by the module, from the application's HTTP adapter. */
  attach(platform: HttpPlatform): void {
    this.#platform = platform;
  }

  get platform(): HttpPlatform {
    if (!this.#platform) throw new Error('WebPubSubModule was not set up with an HTTP adapter');
    return this.#platform;
  }

  /** `OPTIONS`/`GET` with `WebHook-Request-Origin`. */
  handshake(request: PlatformRequest, response: unknown): void {
    const origin = request.headers[Header.webhookRequestOrigin];
    const answer = this.config.abuseProtection.answer(Array.isArray(origin) ? origin.join(',') : origin);
    if (!answer.allowed) this.reject(request, answer.status, answer.message);
    this.platform.send(response, writeHandshakeResponse(answer));
  }

  /** `POST`: one CloudEvent. */
  async event(request: PlatformRequest, response: unknown): Promise<void> {
    const platform = this.platform;
    let wire: WireResponse;
    try {
      const event = readEventHeaders(request.headers);
      if (!this.config.servesHub(event.hub)) {
        throw new ProtocolError(404, `Hub ${quote(event.hub)} is not served by this event handler`);
      }
      const verifier = this.config.signatureVerifier;
      if (verifier && !verifier.verify(event.connectionId, event.signature)) {
        throw new ProtocolError(401, event.signature ? 'Invalid ce-signature' : 'Missing ce-signature header');
      }
      const body = await platform.readBody(request);
      wire = await this.dispatcher.dispatch(event, body);
    } catch (error) {
      wire = this.refusal(request, error);
    }
    platform.send(response, wire);
  }

  private refusal(request: PlatformRequest, error: unknown): WireResponse {
    if (error instanceof ProtocolError) {
      this.reject(request, error.status, error.message);
      // A body over the limit is left unread: close the connection rather than drain it.
      return writeError(error.status, error.message, error.status === 413 ? { connection: 'close' } : undefined);
    }
    this.logger.error(`Unexpected failure on ${request.method} ${request.url}`, (error as Error)?.stack);
    return writeError(500, 'Internal server error');
  }

  private reject(request: PlatformRequest, status: number, message: string): void {
    this.logger.warn(Messages.rejected(request.method ?? '?', request.url ?? '?', status, message));
  }
}
