import { Injectable, Logger, UnauthorizedException } from '@nestjs/common';
import {
  OnConnect,
  OnConnected,
  OnDisconnected,
  OnUserEvent,
  WebPubSubConfigService,
  type ConnectRequest,
  type ConnectResponse,
  type ConnectedRequest,
  type DisconnectedRequest,
  type UserEventRequest,
} from 'nestjs-web-pubsub';

/** The sample's event handlers: each logs what it handles. */
@Injectable()
export class ChatHandlers {
  private readonly logger = new Logger('ChatHandlers');

  constructor(private readonly config: WebPubSubConfigService) {}

  @OnConnect()
  connect(request: ConnectRequest): ConnectResponse {
    const userId = request.claims.sub?.[0] ?? request.query.user?.[0];
    this.logger.log(
      `connect ${request.context.connectionId} (hub ${request.context.hub}) user=${userId ?? '-'}`,
    );
    if (!userId)
      throw new UnauthorizedException('a user id is required (token sub claim or ?user=)');
    return { userId, groups: ['lobby'] };
  }

  @OnConnected()
  connected(request: ConnectedRequest): void {
    this.logger.log(
      `connected ${request.context.connectionId} user=${request.context.userId ?? '-'}`,
    );
  }

  @OnUserEvent('message')
  message(request: UserEventRequest): string {
    const count = Number(request.context.states.messages ?? 0) + 1;
    request.context.setState('messages', count);
    this.logger.log(
      `message #${count} from ${request.context.connectionId} (${request.dataType}): ${String(request.data)}`,
    );
    return `echo: ${String(request.data)}`;
  }

  @OnDisconnected()
  disconnected(request: DisconnectedRequest): void {
    this.logger.log(`disconnected ${request.context.connectionId} reason=${request.reason || '-'}`);
  }

  describe(): string {
    return this.config.signatureValidation ? 'signatures checked' : 'signatures NOT checked';
  }
}
