export * from './decorators/index.js';
export * from './errors/index.js';
export * from './interfaces/index.js';
export { WebPubSubModule } from './module/web-pubsub.module.js';
export {
  WebPubSubConfigService,
  type WebPubSubServiceEndpointInfo,
} from './config/web-pubsub-config.service.js';
export { ASYNC_OPTIONS_TYPE, OPTIONS_TYPE } from './module/web-pubsub.module-definition.js';
export { WEB_PUBSUB_MODULE_OPTIONS } from './web-pubsub.constants.js';
export type {
  AccessKeyProviderFunction,
  AccessKeys,
  WebPubSubAccessKeyProvider,
} from './auth/access-key.store.js';
export type { ManagedIdentityOptions } from './auth/entra-token.verifier.js';
export { RedisDeduplicationStore } from './deduplication/redis-deduplication.store.js';
export { MemoryDeduplicationStore } from './deduplication/memory-deduplication.store.js';
export type {
  DeduplicationClaim,
  DeduplicationOptions,
  RedisClientLike,
  RedisDeduplicationOptions,
  StoredResponse,
  WebPubSubDeduplicationStore,
} from './interfaces/deduplication.interface.js';
export {
  userEventResponse,
  UserEventResponse,
  type UserEventData,
  type UserEventResponseOptions,
} from './protocol/user-event-response.js';
export {
  MqttDisconnectReasonCode,
  MqttV311ConnectReturnCode,
  MqttV500ConnectReasonCode,
} from './protocol/mqtt.js';
export type { ConnectionStates } from './protocol/connection-state.js';
export { packAny, unpackAny, type ProtobufAny } from './protocol/protobuf-any.js';
export type { UserEventDataType, EventKind } from './protocol/headers.js';
export {
  getWebPubSubServiceClientToken,
  WEB_PUBSUB_SERVICE_CLIENT,
} from './service-client/web-pubsub-service-client.token.js';
export { InjectWebPubSubServiceClient } from './service-client/inject-web-pubsub-service-client.decorator.js';
export { WebPubSubServiceClients } from './service-client/web-pubsub-service-clients.js';
export {
  WebPubSubWsAdapter,
  type WebPubSubWsAdapterOptions,
} from './gateway/web-pubsub-ws.adapter.js';
export type { WebPubSubSocket } from './gateway/web-pubsub-socket.js';
export type {
  WebPubSubBroadcast,
  WebPubSubExcludingBroadcast,
  WebPubSubServer,
} from './gateway/web-pubsub-server.js';
export type { WebPubSubMessage } from './gateway/outgoing-message.js';
