/** `nestjs-web-pubsub/emulator`: a local Azure Web PubSub for development and tests. No Nest inside. */
export {
  EMULATOR_ACCESS_KEY,
  EMULATOR_DEFAULT_PORT,
  startEmulator,
  type EmulatorOptions,
  type EmulatorTimings,
  type RunningEmulator,
} from './emulator.js';
export {
  EmulatorOptionsError,
  type EventHandlerSettings,
  type HubSettings,
  type SystemEventName,
} from './emulator-options.js';
