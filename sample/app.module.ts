import { Module, type DynamicModule } from '@nestjs/common';
import { WebPubSubModule } from 'nestjs-web-pubsub';
import { ChatPageController } from './chat-page.controller.js';
import { ChatSessions } from './chat-sessions.js';
import { ChatHandlers } from './chat.handlers.js';
import { CHAT_APP_OPTIONS, type ChatAppOptions } from './sample-options.js';

/** The chat: the page and its sign-in, the event handlers, and the negotiate route. */
@Module({})
export class AppModule {
  static forRoot(options: ChatAppOptions): DynamicModule {
    const sessions = new ChatSessions(options.cookieSecret);
    return {
      module: AppModule,
      imports: [
        WebPubSubModule.forRoot({
          hub: options.hub,
          connectionString: options.connectionString,
          path: '/eventhandler',
          negotiate: {
            path: '/negotiate',
            // The user and the room come from the signed session cookie, never from the query.
            resolve: request => {
              const session = sessions.read(request as Parameters<ChatSessions['read']>[0]);
              return session && { userId: session.name, groups: [session.room] };
            },
          },
        }),
      ],
      controllers: [ChatPageController],
      providers: [
        ChatHandlers,
        { provide: ChatSessions, useValue: sessions },
        { provide: CHAT_APP_OPTIONS, useValue: options },
      ],
    };
  }
}
