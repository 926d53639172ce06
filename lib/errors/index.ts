export * from './duplicate-web-pubsub-handler.error.js';
export * from './invalid-web-pubsub-handler.error.js';
export * from './web-pubsub-options.error.js';
export * from './mqtt-connect.error.js';
export * from './unknown-web-pubsub-hub.error.js';
