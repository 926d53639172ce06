// Each subpath of the built package exercised from CommonJS: `require` must resolve to dist/cjs
// and the entry must do its job (the scenarios), not only load.
const assert = require('node:assert/strict');

const scenarios = {
  'nestjs-web-pubsub/testing': require('./testing.scenario.cjs'),
  'nestjs-web-pubsub/emulator': require('./emulator.scenario.cjs'),
  'nestjs-web-pubsub/socket.io': require('./socket-io.scenario.cjs'),
};
(async () => {
  for (const [specifier, scenario] of Object.entries(scenarios)) {
    assert.match(require.resolve(specifier), /[/\\]dist[/\\]cjs[/\\]/, `${specifier} resolves to the CJS build`);
    await scenario(require(specifier));
    console.log(`require smoke test: ${specifier} works`);
  }
})().catch(error => {
  console.error(error);
  process.exitCode = 1;
});
