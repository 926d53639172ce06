export * from './inject-web-pubsub-options.decorator.js';
export * from './on-connect.decorator.js';
export * from './on-connected.decorator.js';
export * from './on-disconnected.decorator.js';
export * from './on-group-joined.decorator.js';
export * from './on-group-left.decorator.js';
export * from './on-user-event.decorator.js';
export * from './web-pubsub-event.decorator.js';
