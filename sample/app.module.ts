import { Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { WebPubSubModule } from 'nestjs-web-pubsub';
import { ChatHandlers } from './chat.handlers.js';

@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true }),
    WebPubSubModule.forRootAsync({
      path: '/eventhandler',
      inject: [ConfigService],
      useFactory: (config: ConfigService) => ({
        hub: config.get<string>('WEBPUBSUB_HUB', 'chat'),
        // Absent: signatures are not checked (fine for a local try-out, never in production).
        connectionString: config.get<string>('WebPubSubConnectionString') || undefined,
      }),
    }),
  ],
  providers: [ChatHandlers],
})
export class AppModule {}
