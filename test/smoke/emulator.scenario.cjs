// What `nestjs-web-pubsub/emulator` must do once built, whichever module system loaded it: start
// on a free port, answer the REST health probe, accept a JSON client whose token the official
// SDK signed, greet it with the `connected` system message, and close leaving nothing open.
const assert = require('node:assert/strict');
const { WebPubSubServiceClient } = require('@azure/web-pubsub');
const WebSocket = require('ws');

module.exports = async function emulatorScenario(api) {
  const emulator = await api.startEmulator({ port: 0, log: () => {} });
  try {
    assert.match(emulator.connectionString, /^Endpoint=http:\/\/127\.0\.0\.1:\d+;AccessKey=.+;Version=1\.0;$/);
    const health = await fetch(`${emulator.endpoint}/api/health`, { method: 'HEAD' });
    assert.equal(health.status, 200, 'HEAD /api/health');

    const service = new WebPubSubServiceClient(emulator.connectionString, 'chat');
    const { url } = await service.getClientAccessToken({ userId: 'alice' });
    const socket = new WebSocket(url, 'json.webpubsub.azure.v1');
    const first = await new Promise((resolve, reject) => {
      socket.once('message', data => resolve(JSON.parse(String(data))));
      socket.once('error', reject);
    });
    assert.equal(socket.protocol, 'json.webpubsub.azure.v1');
    assert.deepEqual([first.type, first.event, first.userId], ['system', 'connected', 'alice']);
    const closed = new Promise(resolve => socket.once('close', resolve));
    socket.close();
    await closed;
  } finally {
    await emulator.close();
  }
};
