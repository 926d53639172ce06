// Each subpath of the built package exercised from ESM: `import` must resolve to dist/esm and the
// entry must do its job (the scenarios), not only load.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const scenarios = {
  'nestjs-web-pubsub/testing': require('./testing.scenario.cjs'),
  'nestjs-web-pubsub/emulator': require('./emulator.scenario.cjs'),
  'nestjs-web-pubsub/socket.io': require('./socket-io.scenario.cjs'),
};
for (const [specifier, scenario] of Object.entries(scenarios)) {
  assert.match(import.meta.resolve(specifier), /\/dist\/esm\//, `${specifier} resolves to the ESM build`);
  await scenario(await import(specifier));
  console.log(`import smoke test: ${specifier} works`);
}
