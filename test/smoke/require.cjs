// Loads every entry point of the built package from CommonJS, as a CJS Nest 11 app does, and
// checks that `require` resolves to the CommonJS build (no require(esm) of this package).
const assert = require('node:assert/strict');
const { subpaths, MAIN_EXPORTS } = require('./subpaths.cjs');

for (const { subpath, specifier, source, present } of subpaths()) {
  assert.ok(present, `package.json exports ${subpath}, but its source ${source} is missing`);
  assert.match(
    require.resolve(specifier),
    /[/\\]dist[/\\]cjs[/\\]/,
    `${specifier} resolves to the CJS build`,
  );
  const api = require(specifier);
  assert.ok(Object.keys(api).length > 0, `${specifier} exports something`);
  if (subpath === '.') {
    for (const name of MAIN_EXPORTS) assert.ok(api[name] !== undefined, `missing export ${name}`);
    assert.equal(typeof api.WebPubSubModule.forRoot, 'function');
    assert.equal(api.getWebPubSubServiceClientToken('Chat'), 'WEB_PUB_SUB_SERVICE_CLIENT(chat)');
  }
  console.log(`require smoke test: ${specifier} ok (${Object.keys(api).length} exports)`);
}
