import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { InvalidWebPubSubHandlerError } from '../errors/invalid-web-pubsub-handler.error.js';
import { Messages } from '../web-pubsub.messages.js';
import { WEB_PUBSUB_LOGGER_CONTEXT } from '../web-pubsub.constants.js';
import { WebPubSubConfigService } from './web-pubsub-config.service.js';
import { WebPubSubHandlerRegistry } from './web-pubsub-handler.registry.js';
import { WebPubSubMetadataAccessor } from './web-pubsub-metadata.accessor.js';

type Wrapper = ReturnType<DiscoveryService['getProviders']>[number];

/**
 * Finds the decorated handler methods of every provider and controller at start-up and
 * registers them. A problem (duplicate blocking handler, handler for a hub the module does not
 * serve, request-scoped host) makes the app fail to start.
 */
@Injectable()
export class WebPubSubExplorer implements OnModuleInit {
  private readonly logger = new Logger(WEB_PUBSUB_LOGGER_CONTEXT);

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly accessor: WebPubSubMetadataAccessor,
    private readonly registry: WebPubSubHandlerRegistry,
    private readonly config: WebPubSubConfigService,
  ) {}

  onModuleInit(): void {
    const wrappers = [...this.discovery.getProviders(), ...this.discovery.getControllers()];
    const seen = new Set<unknown>();
    for (const wrapper of wrappers) {
      const instance: unknown = wrapper.instance;
      if (!instance || typeof instance !== 'object' || wrapper.isAlias || seen.has(instance)) continue;
      seen.add(instance);
      const prototype = Object.getPrototypeOf(instance);
      if (!prototype) continue;
      this.exploreInstance(wrapper, instance as Record<string, unknown>, prototype);
    }
    if (this.registry.size === 0) this.logger.warn(Messages.noHandlers());
  }

  private exploreInstance(wrapper: Wrapper, instance: Record<string, unknown>, prototype: object): void {
    const className = (instance.constructor as { name?: string } | undefined)?.name || String(wrapper.name);
    for (const methodName of this.scanner.getAllMethodNames(prototype)) {
      const method = instance[methodName];
      const handlers = this.accessor.getHandlerMetadata(method);
      if (!handlers?.length) continue;
      const name = `${className}.${methodName}`;
      if (!wrapper.isDependencyTreeStatic()) {
        throw new InvalidWebPubSubHandlerError(Messages.requestScoped(name));
      }
      const call = (method as (request: unknown) => unknown).bind(instance);
      for (const metadata of handlers) {
        if (metadata.hub !== undefined && !this.config.servesHub(metadata.hub)) {
          throw new InvalidWebPubSubHandlerError(
            `Handler ${name} is restricted to hub "${metadata.hub}", which the module does not serve ` +
              `(hub: ${JSON.stringify(this.config.hubs)}).`,
          );
        }
        this.registry.add(metadata, { name, call });
        this.logger.log(Messages.registered(metadata.kind, metadata.event, name, metadata.hub));
      }
    }
  }
}
