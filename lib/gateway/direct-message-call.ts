import type { GatewaySocket } from './web-pubsub-socket.js';

/** A `@SubscribeMessage` method called directly: `(socket, data)` → its result. */
export type DirectMessageCall = (socket: GatewaySocket, data: unknown) => unknown;

/** Nest's metadata keys of the enhancers a method or class may carry (11 and 12). */
const ENHANCER_METADATA = ['__guards__', '__interceptors__', '__pipes__', '__exceptionFilters__'];
const ROUTE_ARGS_METADATA = '__routeArguments__';
const CUSTOM_ROUTE_ARGS = '__customRouteArgs__';
/** `WsParamtype`: `@ConnectedSocket()`, `@MessageBody()`. */
const SOCKET = '0';
const PAYLOAD = '3';

interface ParamEntry {
  readonly index: number;
  readonly data?: unknown;
  readonly pipes?: readonly unknown[];
}

/**
 * The direct call of a gateway method that no guard, interceptor, pipe or filter can reach (none
 * on it, its class or globally) and whose parameters are `@MessageBody(key?)` and
 * `@ConnectedSocket()` only: what Nest's proxy would do for it, without its promise chain (the
 * hot path, as the module calls a plain `@OnUserEvent` method). `undefined` for any other method,
 * which goes through Nest's proxy.
 */
export function directMessageCall(
  instance: Record<string, unknown>,
  methodName: string,
  message: string,
  globalEnhancers: boolean,
): DirectMessageCall | undefined {
  if (globalEnhancers) return undefined;
  const method = instance[methodName] as (...args: unknown[]) => unknown;
  const type = instance.constructor as object;
  for (const key of ENHANCER_METADATA)
    if (hasAny(Reflect.getMetadata(key, method)) || hasAny(Reflect.getMetadata(key, type)))
      return undefined;
  const params = Reflect.getMetadata(ROUTE_ARGS_METADATA, type, methodName) as
    Record<string, ParamEntry> | undefined;
  // No parameter decorators: Nest passes (client, data, pattern).
  if (params === undefined) return (socket, data) => method.call(instance, socket, data, message);
  const extractors: ((socket: GatewaySocket, data: unknown) => unknown)[] = [];
  for (const [key, entry] of Object.entries(params)) {
    if (key.includes(CUSTOM_ROUTE_ARGS) || hasAny(entry.pipes)) return undefined;
    const paramType = key.split(':')[0];
    const field = entry.data;
    if (paramType === SOCKET) extractors[entry.index] = socket => socket;
    else if (paramType === PAYLOAD)
      extractors[entry.index] = !field
        ? (_socket, data) => data
        : (_socket, data) =>
            (data as Record<string, unknown> | null | undefined)?.[field as string];
    else return undefined;
  }
  const count = extractors.length;
  return (socket, data) => {
    const args: unknown[] = [];
    for (let index = 0; index < count; index++) args.push(extractors[index]?.(socket, data));
    return method.apply(instance, args);
  };
}

function hasAny(value: unknown): boolean {
  return Array.isArray(value) ? value.length > 0 : value !== undefined && value !== null;
}
