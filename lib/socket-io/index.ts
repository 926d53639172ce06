/**
 * `nestjs-web-pubsub/socket.io`: Nest socket.io gateways on Azure Web PubSub for Socket.IO.
 * Its peers (`@nestjs/platform-socket.io`, `socket.io`, `@azure/web-pubsub-socket.io`) are needed
 * by this subpath only; the package's main entry loads without them.
 */
export {
  DEFAULT_READY_TIMEOUT_MS,
  WebPubSubSocketIoAdapter,
  WebPubSubSocketIoStartupError,
  type WebPubSubSocketIoAdapterOptions,
} from './web-pubsub-socket-io.adapter.js';
