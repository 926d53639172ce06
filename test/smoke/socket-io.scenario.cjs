// What `nestjs-web-pubsub/socket.io` must do once built, whichever module system loaded it: a Nest
// app whose socket.io gateway runs on WebPubSubSocketIoAdapter against the built emulator, reached
// by socket.io-client with a token the official SDK signed (ack round trip), then closed.
require('reflect-metadata');
const assert = require('node:assert/strict');
const { Module } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');
const { SubscribeMessage, WebSocketGateway } = require('@nestjs/websockets');
const { WebPubSubServiceClient } = require('@azure/web-pubsub');
const { io } = require('socket.io-client');
const { startEmulator } = require('nestjs-web-pubsub/emulator');

module.exports = async function socketIoScenario(api) {
  assert.equal(typeof api.WebPubSubSocketIoAdapter, 'function');
  const emulator = await startEmulator({ port: 0, log: () => {} });
  let app;
  try {
    class EchoGateway {
      echo(_client, data) {
        return `echo:${data}`;
      }
    }
    const descriptor = Object.getOwnPropertyDescriptor(EchoGateway.prototype, 'echo');
    SubscribeMessage('echo')(EchoGateway.prototype, 'echo', descriptor);
    Object.defineProperty(EchoGateway.prototype, 'echo', descriptor);
    WebSocketGateway()(EchoGateway);
    class AppModule {}
    Module({ providers: [EchoGateway] })(AppModule);

    app = await NestFactory.create(AppModule, { logger: false, abortOnError: false });
    app.useWebSocketAdapter(
      new api.WebPubSubSocketIoAdapter(app, { hub: 'smoke', connectionString: emulator.connectionString }),
    );
    await app.listen(0, '127.0.0.1');

    const { baseUrl, token } = await new WebPubSubServiceClient(
      emulator.connectionString,
      'smoke',
    ).getClientAccessToken({ clientProtocol: 'socketio' });
    const url = new URL(baseUrl);
    const socket = io(url.origin, {
      path: url.pathname,
      query: { access_token: token },
      transports: ['websocket'],
      reconnection: false,
    });
    const answer = await socket.timeout(5000).emitWithAck('echo', 'hi');
    assert.equal(answer, 'echo:hi');
    socket.disconnect();
  } finally {
    await app?.close();
    await emulator.close();
  }
};
