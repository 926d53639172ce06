import {
  Logger,
  Module,
  type BeforeApplicationShutdown,
  type NestModule,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { DiscoveryModule, HttpAdapterHost } from '@nestjs/core';
import { WEB_PUBSUB_LOGGER_CONTEXT, WEB_PUBSUB_MODULE_OPTIONS } from '../web-pubsub.constants.js';
import { Messages } from '../web-pubsub.messages.js';
import { ExpressPlatform } from '../platforms/express.platform.js';
import { FastifyPlatform } from '../platforms/fastify.platform.js';
import type { HttpPlatform } from '../platforms/http-platform.js';
import { WebPubSubConfigService } from '../config/web-pubsub-config.service.js';
import { WebPubSubEventPipeline } from '../events/web-pubsub-event.pipeline.js';
import { WebPubSubHandlerRegistry } from '../events/web-pubsub-handler.registry.js';
import { WebPubSubMetadataAccessor } from '../events/web-pubsub-metadata.accessor.js';
import { ConfigurableModuleClass } from './web-pubsub.module-definition.js';
import { WebPubSubAuthenticator } from '../auth/web-pubsub.authenticator.js';
import { WebPubSubDispatcher } from '../events/web-pubsub.dispatcher.js';
import { WebPubSubExplorer } from '../events/web-pubsub.explorer.js';
import { InFlightTracker } from '../events/in-flight.tracker.js';
import { WebPubSubTelemetry } from '../telemetry/web-pubsub.telemetry.js';

/**
 * Makes the app the upstream event handler of Azure Web PubSub.
 * `WebPubSubModule.forRoot(options)` / `WebPubSubModule.forRootAsync({ useFactory, ... })`.
 * @publicApi
 */
@Module({
  imports: [DiscoveryModule],
  providers: [
    WebPubSubConfigService,
    WebPubSubMetadataAccessor,
    WebPubSubHandlerRegistry,
    WebPubSubExplorer,
    WebPubSubDispatcher,
    WebPubSubAuthenticator,
    WebPubSubEventPipeline,
    InFlightTracker,
    WebPubSubTelemetry,
  ],
  exports: [WebPubSubConfigService, WEB_PUBSUB_MODULE_OPTIONS],
})
export class WebPubSubModule
  extends ConfigurableModuleClass
  implements NestModule, OnModuleInit, BeforeApplicationShutdown, OnApplicationShutdown
{
  private readonly logger = new Logger(WEB_PUBSUB_LOGGER_CONTEXT);

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly config: WebPubSubConfigService,
    private readonly events: WebPubSubEventPipeline,
  ) {
    super();
  }

  /**
   * Runs during `app.init()` after Nest's body parsers are registered and before routes are:
   * the one moment to adapt body handling to the event handler route.
   */
  configure(): void {
    const adapter = this.adapterHost.httpAdapter;
    if (!adapter) return;
    const platform = this.createPlatform(adapter.getType(), adapter.getInstance(), adapter);
    this.events.attach(platform);
    platform.install((request, response) => this.events.inspectBeforeBody(request, response));
  }

  onModuleInit(): void {
    if (!this.config.signatureValidation) this.logger.warn(Messages.noSignatureKeys());
  }

  /**
   * `app.close()` (SIGTERM with `enableShutdownHooks()`): before the HTTP server closes, wait
   * for the events in flight and the non-blocking handlers already started.
   */
  async beforeApplicationShutdown(): Promise<void> {
    await this.events.drain();
  }

  /** After the HTTP server closed: any event it was still answering, then the store. */
  async onApplicationShutdown(): Promise<void> {
    await this.events.drain();
    await this.events.close();
  }

  private createPlatform(type: string, instance: unknown, adapter: object): HttpPlatform {
    switch (type) {
      case 'express':
        return new ExpressPlatform(
          instance as ConstructorParameters<typeof ExpressPlatform>[0],
          this.config.path,
          this.config.maxBodySize,
        );
      case 'fastify':
        return new FastifyPlatform(
          instance as ConstructorParameters<typeof FastifyPlatform>[0],
          this.config.maxBodySize,
          this.logger,
          adapter,
        );
      default:
        throw new Error(Messages.unknownPlatform(type));
    }
  }
}
