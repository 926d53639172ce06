import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import {
  ContextIdFactory,
  DiscoveryService,
  ExternalContextCreator,
  MetadataScanner,
  ModuleRef,
} from '@nestjs/core';
import { InvalidWebPubSubHandlerError } from '../errors/invalid-web-pubsub-handler.error.js';
import { Messages } from '../web-pubsub.messages.js';
import {
  WEB_PUBSUB_CONTEXT_TYPE,
  WEB_PUBSUB_LOGGER_CONTEXT,
  WEB_PUBSUB_PARAM_ARGS_METADATA,
} from '../web-pubsub.constants.js';
import { WebPubSubConfigService } from '../config/web-pubsub-config.service.js';
import { WebPubSubHandlerRegistry, type RegisteredHandler } from './web-pubsub-handler.registry.js';
import { WebPubSubMetadataAccessor } from './web-pubsub-metadata.accessor.js';
import { WebPubSubParamsFactory } from './web-pubsub-params.factory.js';

type Wrapper = ReturnType<DiscoveryService['getProviders']>[number];
type Call = RegisteredHandler['call'];
type Method = (this: unknown, ...args: unknown[]) => unknown;

/** Nest's enhancer metadata keys (`@UseGuards`, `@UseInterceptors`, `@UsePipes`). */
const ENHANCER_METADATA = ['__guards__', '__interceptors__', '__pipes__'];
/** Exceptions reach the dispatcher, which maps them; HTTP exception filters are not for events. */
const CONTEXT_OPTIONS = { guards: true, interceptors: true, filters: false };

/**
 * Finds the decorated handler methods of every provider and controller at start-up and
 * registers them. A problem (duplicate blocking handler, handler for a hub the module does not
 * serve) makes the app fail to start.
 *
 * How a handler is called is decided here, once:
 * - a plain method of a singleton: called directly (the hot path);
 * - a method with its own guards, interceptors, pipes or parameter decorators (or on a class
 *   with enhancers): through Nest's `ExternalContextCreator`, so they apply (and Nest's global
 *   ones with them), with the execution context type `'webpubsub'`;
 * - a method of a request-scoped provider: the host is resolved per event, in a DI sub-tree of
 *   the HTTP request (`@Inject(REQUEST)` gets it).
 */
@Injectable()
export class WebPubSubExplorer implements OnModuleInit {
  private readonly logger = new Logger(WEB_PUBSUB_LOGGER_CONTEXT);
  private readonly paramsFactory = new WebPubSubParamsFactory();

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly accessor: WebPubSubMetadataAccessor,
    private readonly registry: WebPubSubHandlerRegistry,
    private readonly config: WebPubSubConfigService,
    private readonly contextCreator: ExternalContextCreator,
    private readonly moduleRef: ModuleRef,
  ) {}

  onModuleInit(): void {
    const wrappers = [...this.discovery.getProviders(), ...this.discovery.getControllers()];
    const seen = new Set<unknown>();
    for (const wrapper of wrappers) {
      const instance: unknown = wrapper.instance;
      if (!instance || typeof instance !== 'object' || wrapper.isAlias || seen.has(instance))
        continue;
      seen.add(instance);
      const prototype = Object.getPrototypeOf(instance);
      if (!prototype) continue;
      this.exploreInstance(wrapper, instance as Record<string, unknown>, prototype);
    }
    if (this.registry.size === 0) this.logger.warn(Messages.noHandlers());
  }

  private exploreInstance(
    wrapper: Wrapper,
    instance: Record<string, unknown>,
    prototype: object,
  ): void {
    const className =
      (instance.constructor as { name?: string } | undefined)?.name || String(wrapper.name);
    for (const methodName of this.scanner.getAllMethodNames(prototype)) {
      const method = instance[methodName];
      const handlers = this.accessor.getHandlerMetadata(method);
      if (!handlers?.length) continue;
      const name = `${className}.${methodName}`;
      const call = this.createCall(wrapper, instance, methodName);
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

  private createCall(
    wrapper: Wrapper,
    instance: Record<string, unknown>,
    methodName: string,
  ): Call {
    const enhanced = this.hasEnhancers(
      instance.constructor as object,
      instance[methodName] as object,
      methodName,
    );
    if (wrapper.isDependencyTreeStatic()) {
      const method = instance[methodName] as Method;
      if (!enhanced) return request => method.call(instance, request);
      const enhancedCall = this.enhance(instance, methodName);
      return request => enhancedCall(request);
    }
    return this.requestScopedCall(wrapper, methodName, enhanced);
  }

  private requestScopedCall(wrapper: Wrapper, methodName: string, enhanced: boolean): Call {
    const hostRef =
      (wrapper.host?.getProviderByKey(ModuleRef)?.instance as ModuleRef | undefined) ??
      this.moduleRef;
    const token = wrapper.token;
    return async (request, httpRequest) => {
      const contextId = ContextIdFactory.getByRequest(httpRequest);
      hostRef.registerRequestByContextId(httpRequest, contextId);
      const scoped = (await hostRef.resolve(token, contextId, { strict: true })) as Record<
        string,
        unknown
      >;
      if (!enhanced) return (scoped[methodName] as Method).call(scoped, request);
      return this.enhance(scoped, methodName, contextId, wrapper.id)(request);
    };
  }

  private enhance(
    instance: Record<string, unknown>,
    methodName: string,
    contextId?: ReturnType<typeof ContextIdFactory.create>,
    inquirerId?: string,
  ): (request: unknown) => Promise<unknown> {
    return this.contextCreator.create(
      instance as object,
      instance[methodName] as Method,
      methodName,
      WEB_PUBSUB_PARAM_ARGS_METADATA,
      this.paramsFactory,
      contextId,
      inquirerId,
      CONTEXT_OPTIONS,
      WEB_PUBSUB_CONTEXT_TYPE,
    );
  }

  /** Guards, interceptors or pipes on the method or its class, or parameter decorators. */
  private hasEnhancers(type: object, method: object, methodName: string): boolean {
    for (const key of ENHANCER_METADATA) {
      if (Reflect.getMetadata(key, method) || Reflect.getMetadata(key, type)) return true;
    }
    return Reflect.getMetadata(WEB_PUBSUB_PARAM_ARGS_METADATA, type, methodName) !== undefined;
  }
}
