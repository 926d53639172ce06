import { Injectable, Logger, UnauthorizedException, ValidationPipe } from '@nestjs/common';
import type { WebPubSubServiceClient } from '@azure/web-pubsub';
import {
  EventContext,
  EventData,
  EventRequest,
  InjectWebPubSubServiceClient,
  OnConnect,
  OnConnected,
  OnDisconnected,
  OnUserEvent,
  type ConnectRequest,
  type ConnectResponse,
  type ConnectionContext,
} from 'nestjs-web-pubsub';
import { ROOM_PATTERN, type ChatEvent } from './chat-rules.js';
import { ChatRooms } from './chat-rooms.js';
import { ChatMessageDto } from './chat.dto.js';

/**
 * The chat's event handlers. Who a connection is and which room it is in come from its access
 * token (issued by the negotiate route from the signed session); everything a room sees goes out
 * through the injected service client, to the room's group. Join and leave notices carry who is
 * in the room after them (`ChatRooms`), so a page that just connected knows everyone at once.
 */
@Injectable()
export class ChatHandlers {
  private readonly logger = new Logger('Chat');

  constructor(
    @InjectWebPubSubServiceClient() private readonly service: WebPubSubServiceClient,
    private readonly rooms: ChatRooms,
  ) {}

  /** The token's `sub` is the user and its group the room; the connection joins the room's group. */
  @OnConnect()
  connect(@EventRequest() request: ConnectRequest): ConnectResponse {
    const userId = request.claims.sub?.[0];
    const room = request.claims['webpubsub.group']?.[0];
    if (!userId || !room || !ROOM_PATTERN.test(room)) {
      throw new UnauthorizedException(
        'join through the page: the access token names you and your room',
      );
    }
    request.context.setState('room', room);
    return { userId, groups: [room] };
  }

  @OnConnected()
  async connected(@EventContext() context: ConnectionContext): Promise<void> {
    await this.announce(context, 'joined');
  }

  /** Validated (`ValidationPipe` on the event data): anything but `{ text }` is refused with a 400. */
  @OnUserEvent('message')
  async message(
    @EventData(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true }))
    message: ChatMessageDto,
    @EventContext() context: ConnectionContext,
  ): Promise<void> {
    await this.send(roomOf(context), {
      type: 'message',
      user: context.userId ?? '?',
      text: message.text,
      at: new Date().toISOString(),
    });
  }

  @OnDisconnected()
  async disconnected(@EventContext() context: ConnectionContext): Promise<void> {
    await this.announce(context, 'left');
  }

  private async announce(context: ConnectionContext, type: 'joined' | 'left'): Promise<void> {
    const room = roomOf(context);
    const user = context.userId ?? '?';
    const members = type === 'joined' ? this.rooms.enter(room, user) : this.rooms.leave(room, user);
    this.logger.log(`${user} ${type} ${room}`);
    try {
      await this.send(room, { type, user, at: new Date().toISOString(), members });
    } catch (error) {
      // A notice that cannot go out (the service is stopping, say) is not worth failing the event for.
      this.logger.warn(`could not tell ${room} that ${user} ${type}: ${(error as Error).message}`);
    }
  }

  private send(room: string, event: ChatEvent): Promise<void> {
    return this.service.group(room).sendToAll(event);
  }
}

function roomOf(context: ConnectionContext): string {
  const room = context.states.room;
  if (typeof room !== 'string' || !ROOM_PATTERN.test(room)) {
    throw new UnauthorizedException('this connection has no room');
  }
  return room;
}
