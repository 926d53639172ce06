// Loads every entry point of the built package by its name, as an ESM consumer does, and checks
// that `import` resolves to the ESM build.
import assert from 'node:assert/strict';
import smoke from './subpaths.cjs';

const { subpaths, MAIN_EXPORTS } = smoke;
for (const { subpath, specifier, source, present } of subpaths()) {
  assert.ok(present, `package.json exports ${subpath}, but its source ${source} is missing`);
  assert.match(
    import.meta.resolve(specifier),
    /\/dist\/esm\//,
    `${specifier} resolves to the ESM build`,
  );
  const api = await import(specifier);
  assert.ok(Object.keys(api).length > 0, `${specifier} exports something`);
  if (subpath === '.') {
    for (const name of MAIN_EXPORTS) assert.ok(api[name] !== undefined, `missing export ${name}`);
    assert.equal(typeof api.WebPubSubModule.forRoot, 'function');
    assert.equal(typeof api.WebPubSubModule.forRootAsync, 'function');
    // Token strings are the same whichever build defines them (CJS and ESM consumers share them).
    assert.equal(api.getWebPubSubServiceClientToken('Chat'), 'WEB_PUB_SUB_SERVICE_CLIENT(chat)');
  }
  console.log(`import smoke test: ${specifier} ok (${Object.keys(api).length} exports)`);
}
