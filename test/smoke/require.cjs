// Loads the built package from CommonJS (require(esm), Node >= 20.19), as a CJS Nest app does.
const assert = require('node:assert/strict');

const api = require('nestjs-web-pubsub');
assert.equal(typeof api.WebPubSubModule.forRoot, 'function');
assert.equal(typeof api.OnUserEvent, 'function');
assert.equal(api.getWebPubSubServiceClientToken('Chat'), 'WEB_PUB_SUB_SERVICE_CLIENT(chat)');
console.log('require smoke test: ok');
