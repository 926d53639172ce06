// Loads the built package from CommonJS (require(esm), Node >= 20.19), as a CJS Nest app does.
const assert = require('node:assert/strict');

const api = require('nestjs-web-pubsub');
assert.equal(typeof api.WebPubSubModule.forRoot, 'function');
assert.equal(typeof api.OnUserEvent, 'function');
console.log('require smoke test: ok');
