export * from './web-pubsub-handler-metadata.interface.js';
export * from './web-pubsub-module-options.interface.js';
export * from './web-pubsub-request.interface.js';
export * from './mqtt-request.guards.js';
export * from './web-pubsub-service-client.interface.js';
