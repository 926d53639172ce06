// Loads the built package by its name, as an ESM consumer does.
import assert from 'node:assert/strict';

const api = await import('nestjs-web-pubsub');
for (const name of ['WebPubSubModule', 'WebPubSubConfigService', 'OnConnect', 'OnConnected', 'OnUserEvent', 'OnDisconnected', 'InjectWebPubSubOptions', 'userEventResponse', 'WebPubSubOptionsError', 'DuplicateWebPubSubHandlerError', 'WEB_PUBSUB_MODULE_OPTIONS']) {
  assert.ok(api[name] !== undefined, `missing export ${name}`);
}
assert.equal(typeof api.WebPubSubModule.forRoot, 'function');
assert.equal(typeof api.WebPubSubModule.forRootAsync, 'function');
// Token strings are the same whichever build defines them (CJS and ESM consumers share them).
assert.equal(api.getWebPubSubServiceClientToken('Chat'), 'WEB_PUB_SUB_SERVICE_CLIENT(chat)');
assert.equal(typeof api.InjectWebPubSubServiceClient, 'function');
assert.equal(typeof api.WebPubSubServiceClients, 'function');
console.log('import smoke test: ok');
