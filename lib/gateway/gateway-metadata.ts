/**
 * The metadata keys `@nestjs/websockets` writes (`constants.js`, the same in 11 and 12). Read by
 * name here so that the package never loads `@nestjs/websockets`: it stays an optional peer that
 * only apps with gateways install.
 */
export const GATEWAY_METADATA = 'websockets:is_gateway';
export const GATEWAY_OPTIONS = 'websockets:gateway_options';
export const PORT_METADATA = 'port';
export const MESSAGE_MAPPING_METADATA = 'websockets:message_mapping';
export const MESSAGE_METADATA = 'message';

/** `@WebSocketGateway()` options this adapter reads. */
export interface GatewayOptions {
  readonly namespace?: unknown;
  readonly path?: unknown;
}

/** What Nest hands `bindMessageHandlers` for each `@SubscribeMessage` of a gateway. */
export interface GatewayMessageHandler {
  readonly message: unknown;
  readonly callback: (...args: unknown[]) => unknown;
  readonly isAckHandledManually?: boolean;
}
