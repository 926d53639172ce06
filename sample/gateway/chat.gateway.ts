import { Logger, UnauthorizedException, UsePipes, ValidationPipe } from '@nestjs/common';
import {
  ConnectedSocket,
  MessageBody,
  SubscribeMessage,
  WebSocketGateway,
  WebSocketServer,
  WsException,
  type OnGatewayConnection,
  type OnGatewayDisconnect,
} from '@nestjs/websockets';
import {
  EventRequest,
  OnConnect,
  type ConnectRequest,
  type ConnectResponse,
  type WebPubSubServer,
  type WebPubSubSocket,
} from 'nestjs-web-pubsub';
import { ROOM_PATTERN, type ChatEvent } from '../chat-rules.js';
import { ChatRooms } from '../chat-rooms.js';
import { ChatMessageDto } from '../chat.dto.js';

/**
 * The same chat as `ChatHandlers`, written as a Nest gateway served by `WebPubSubWsAdapter`: the
 * hub is the module's only hub (no namespace), `handleConnection`/`handleDisconnect` tell the room
 * who joins and leaves, `@SubscribeMessage('message')` relays validated messages to the room's
 * group. Who may connect stays with `@OnConnect()`, here on the gateway class.
 */
@WebSocketGateway()
export class ChatGateway implements OnGatewayConnection, OnGatewayDisconnect {
  @WebSocketServer() server!: WebPubSubServer;
  private readonly logger = new Logger('Chat');

  constructor(private readonly rooms: ChatRooms) {}

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

  async handleConnection(socket: WebPubSubSocket): Promise<void> {
    await this.announce(socket, 'joined');
  }

  async handleDisconnect(socket: WebPubSubSocket): Promise<void> {
    await this.announce(socket, 'left');
  }

  /** Anything but `{ text }` is answered with Nest's exception message (the page shows it). */
  @SubscribeMessage('message')
  @UsePipes(
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      exceptionFactory: errors =>
        new WsException(errors.flatMap(error => Object.values(error.constraints ?? {})).join('; ')),
    }),
  )
  async message(
    @MessageBody() message: ChatMessageDto,
    @ConnectedSocket() socket: WebPubSubSocket,
  ): Promise<void> {
    await this.send(roomOf(socket), {
      type: 'message',
      user: socket.userId ?? '?',
      text: message.text,
      at: new Date().toISOString(),
    });
  }

  private async announce(socket: WebPubSubSocket, type: 'joined' | 'left'): Promise<void> {
    const room = roomOf(socket);
    const user = socket.userId ?? '?';
    const members = type === 'joined' ? this.rooms.enter(room, user) : this.rooms.leave(room, user);
    this.logger.log(`${user} ${type} ${room}`);
    try {
      await this.send(room, { type, user, at: new Date().toISOString(), members });
    } catch (error) {
      this.logger.warn(`could not tell ${room} that ${user} ${type}: ${(error as Error).message}`);
    }
  }

  private send(room: string, event: ChatEvent): Promise<void> {
    return this.server.to(room).send(event);
  }
}

function roomOf(socket: WebPubSubSocket): string {
  const room = socket.states.room;
  if (typeof room !== 'string' || !ROOM_PATTERN.test(room)) {
    throw new WsException('this connection has no room');
  }
  return room;
}
