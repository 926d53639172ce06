import { Module, type DynamicModule, type Type } from '@nestjs/common';
import { WebPubSubModule } from 'nestjs-web-pubsub';
import { ChatPageController } from './chat-page.controller.js';
import { ChatRooms } from './chat-rooms.js';
import { ChatSessions } from './chat-sessions.js';
import { ChatHandlers } from './chat.handlers.js';
import { CHAT_APP_OPTIONS, type ChatAppOptions } from './sample-options.js';

/**
 * The chat: the page and its sign-in, the event handlers, who is in which room, and the negotiate
 * route. Other front doors onto the same chat (a gateway, say) reuse `ChatSessions`, `ChatRooms`,
 * `chat-rules.ts` and the page, and bring their own module.
 */
@Module({})
export class AppModule {
  /** `chat`: what answers the chat's events (the gateway variant passes `ChatGateway`). */
  static forRoot(options: ChatAppOptions, chat: Type = ChatHandlers): DynamicModule {
    const sessions = new ChatSessions(options.sessionSecret);
    return {
      module: AppModule,
      imports: [
        WebPubSubModule.forRoot({
          hub: options.hub,
          connectionString: options.connectionString,
          path: '/eventhandler',
          negotiate: {
            path: '/negotiate',
            // The user and the room come from the tab's signed bearer token, never from the query.
            resolve: request => {
              const session = sessions.read(request as Parameters<ChatSessions['read']>[0]);
              return session && { userId: session.name, groups: [session.room] };
            },
          },
        }),
      ],
      controllers: [ChatPageController],
      providers: [
        chat,
        { provide: ChatSessions, useValue: sessions },
        ChatRooms,
        { provide: CHAT_APP_OPTIONS, useValue: options },
      ],
    };
  }
}
