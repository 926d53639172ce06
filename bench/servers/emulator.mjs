// The emulator under load: `startEmulator()` from the built package (dist/), no event handlers,
// log lines off (the bin would print one per connection), the live view closed.
import { startEmulator } from '../../dist/esm/emulator/index.js';
import { ACCESS_KEY } from '../lib/common.mjs';
import { ready } from '../lib/server-harness.mjs';

const emulator = await startEmulator({
  port: 0,
  host: '127.0.0.1',
  accessKey: ACCESS_KEY,
  log: () => undefined,
});
ready(emulator.port, () => emulator.close());
