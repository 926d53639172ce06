import type { ModulesContainer } from '@nestjs/core';
import { MetadataScanner } from '@nestjs/core';
import { InvalidWebPubSubHandlerError } from '../errors/invalid-web-pubsub-handler.error.js';
import type { WebPubSubConfigService } from '../config/web-pubsub-config.service.js';
import { HUB_NAME_PATTERN, sameHub } from '../protocol/names.js';
import {
  GATEWAY_METADATA,
  GATEWAY_OPTIONS,
  MESSAGE_MAPPING_METADATA,
  MESSAGE_METADATA,
  PORT_METADATA,
  type GatewayOptions,
} from './gateway-metadata.js';

/** A `@WebSocketGateway()` class as the adapter serves it. */
export interface GatewayPlan {
  readonly className: string;
  /** The hub, as the module is configured. */
  readonly hub: string;
  readonly instance: Record<string, unknown>;
  /** Its `@SubscribeMessage` handlers. */
  readonly messages: readonly { readonly message: string; readonly methodName: string }[];
}

/**
 * Every gateway of the app, its hub and its messages, read from the metadata Nest's decorators
 * wrote, before Nest binds them. A gateway that cannot be served is a start-up error naming it.
 */
export function findGateways(
  container: ModulesContainer,
  config: WebPubSubConfigService,
): GatewayPlan[] {
  const scanner = new MetadataScanner();
  const plans: GatewayPlan[] = [];
  const seen = new Set<unknown>();
  for (const module of container.values()) {
    for (const wrapper of module.providers.values()) {
      const type = wrapper.metatype as (abstract new (...args: never[]) => unknown) | undefined;
      if (!type || typeof type !== 'function' || !Reflect.getMetadata(GATEWAY_METADATA, type))
        continue;
      const instance = wrapper.instance as Record<string, unknown> | undefined;
      if (!instance || seen.has(instance)) continue;
      seen.add(instance);
      const className = type.name || String(wrapper.name);
      if (!wrapper.isDependencyTreeStatic())
        throw new InvalidWebPubSubHandlerError(
          `Gateway ${className} is request-scoped: WebPubSubWsAdapter serves singleton gateways only ` +
            '(keep per-event state in the connection state or a store)',
        );
      const port: unknown = Reflect.getMetadata(PORT_METADATA, type) ?? 0;
      if (port !== 0)
        throw new InvalidWebPubSubHandlerError(
          `Gateway ${className} asks for port ${String(port)}: with WebPubSubWsAdapter the service holds ` +
            "the sockets and events reach the app through the module's event handler, so give no port",
        );
      const options: GatewayOptions = Reflect.getMetadata(GATEWAY_OPTIONS, type) ?? {};
      const hub = gatewayHub(options.namespace, config, `Gateway ${className}`);
      const prototype = Object.getPrototypeOf(instance) as Record<string, unknown>;
      const messages = scanner
        .getAllMethodNames(prototype)
        .filter(
          methodName =>
            Reflect.getMetadata(MESSAGE_MAPPING_METADATA, prototype[methodName] as object) !==
            undefined,
        )
        .map(methodName => {
          const message: unknown = Reflect.getMetadata(
            MESSAGE_METADATA,
            prototype[methodName] as object,
          );
          if (typeof message !== 'string' || message === '')
            throw new InvalidWebPubSubHandlerError(
              `${className}.${methodName}: @SubscribeMessage needs the user event name as a non-empty string`,
            );
          return { message, methodName };
        });
      plans.push({ className, hub, instance, messages });
    }
  }
  return plans;
}

/**
 * The hub a gateway's `namespace` names (Nest hands it with a leading `/`), or the module's
 * default hub without one.
 * @throws InvalidWebPubSubHandlerError when that is no hub the module serves.
 */
export function gatewayHub(
  namespace: unknown,
  config: WebPubSubConfigService,
  who: string,
): string {
  const served = config.hubs;
  const list = served ? served.map(hub => `"${hub}"`).join(', ') : 'every hub';
  if (namespace === undefined || namespace === null || namespace === '' || namespace === '/') {
    if (config.defaultHub !== undefined) return config.defaultHub;
    throw new InvalidWebPubSubHandlerError(
      `${who} has no namespace and the module has no default hub (hubs served: ${list}): ` +
        "name the hub, @WebSocketGateway({ namespace: 'chat' }), or set defaultHub",
    );
  }
  if (typeof namespace !== 'string')
    throw new InvalidWebPubSubHandlerError(
      `${who}: the namespace names a Web PubSub hub and must be a string, not a ${namespace instanceof RegExp ? 'RegExp' : typeof namespace}`,
    );
  const hub = namespace.startsWith('/') ? namespace.slice(1) : namespace;
  if (!HUB_NAME_PATTERN.test(hub) || !config.servesHub(hub))
    throw new InvalidWebPubSubHandlerError(
      `${who}: namespace "${hub}" is not a hub the module serves (hubs served: ${list})`,
    );
  return served?.find(name => sameHub(name, hub)) ?? hub;
}
