/**
 * The emulator's options and their validation, shared by `startEmulator()` and the
 * `nestjs-web-pubsub-emulator` bin (which reads the `hubs` object from `--config`).
 * Setting names are the service's own (ARM): `eventHandlers[].urlTemplate`, `userEventPattern`,
 * `systemEvents`, `anonymousConnectPolicy`.
 */
import { hubNameProblem, hubKey } from '../protocol/names.js';

/** The system events an event handler may subscribe to. */
export const SYSTEM_EVENTS = ['connect', 'connected', 'disconnected'] as const;
export type SystemEventName = (typeof SYSTEM_EVENTS)[number];

export interface EventHandlerSettings {
  /** `http(s)` URL of the upstream; may contain `{hub}` and `{event}`. */
  readonly urlTemplate: string;
  /** `*`, a comma-separated list of event names, or one name. Absent: no user events. */
  readonly userEventPattern?: string;
  /** A subset of `connect`, `connected`, `disconnected`. Absent: none. */
  readonly systemEvents?: readonly SystemEventName[];
}

export interface HubSettings {
  readonly eventHandlers?: readonly EventHandlerSettings[];
  /** `deny` (the default) requires an access token; `allow` accepts clients without one. */
  readonly anonymousConnectPolicy?: 'allow' | 'deny';
}

/** The settings `startEmulator()` and the command line share (validated by `validateEmulatorOptions`). */
export interface EmulatorSettings {
  /** Default `8080`; `0` picks a free port. */
  readonly port?: number;
  /** Default `127.0.0.1`. */
  readonly host?: string;
  /** Default: the fixed development key (printed in the connection string). */
  readonly accessKey?: string;
  /** Hub settings by hub name (case-insensitive). Hubs not listed still accept clients, with no event handlers. */
  readonly hubs?: Readonly<Record<string, HubSettings>>;
  /**
   * A JSON file of hub settings (the `hubs` object), read at start and watched while the emulator
   * runs: a valid edit applies to the events that follow, without dropping clients; an invalid one
   * keeps the last good settings and is logged. `hubs` is merged on top of the file's settings.
   */
  readonly configFile?: string;
  /** Receives one line per client connection, upstream call and REST call. Default: `console.log`. */
  readonly log?: (line: string) => void;
}

/** A setting that cannot be used; the message names the setting and the problem. */
export class EmulatorOptionsError extends Error {
  override readonly name = 'EmulatorOptionsError';
}

const HUB_KEYS = ['eventHandlers', 'anonymousConnectPolicy'];
const HANDLER_KEYS = ['urlTemplate', 'userEventPattern', 'systemEvents'];
/** Names from other configuration forms, with the name this one uses. */
const KEY_HINTS = new Map<string, string>([
  ['EventHandlers', 'eventHandlers'],
  ['AnonymousConnectPolicy', 'anonymousConnectPolicy'],
  ['UrlTemplate', 'urlTemplate'],
  ['EventPattern', 'userEventPattern'],
  ['eventPattern', 'userEventPattern'],
  ['UserEventPattern', 'userEventPattern'],
  ['SystemEvents', 'systemEvents'],
]);

const fail = (message: string): never => {
  throw new EmulatorOptionsError(message);
};

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const describe = (value: unknown): string =>
  value === null
    ? 'null'
    : Array.isArray(value)
      ? 'an array'
      : typeof value === 'string'
        ? JSON.stringify(value)
        : typeof value;

function checkKeys(
  where: string,
  value: Record<string, unknown>,
  allowed: readonly string[],
): void {
  for (const key of Object.keys(value)) {
    if (allowed.includes(key)) continue;
    const hint = KEY_HINTS.get(key);
    fail(
      hint
        ? `${where}: unknown setting "${key}" (this configuration calls it "${hint}")`
        : `${where}: unknown setting "${key}" (allowed: ${allowed.join(', ')})`,
    );
  }
}

/** Checks a `urlTemplate`: an absolute http(s) URL once `{hub}` and `{event}` are filled in. */
export function validateUrlTemplate(where: string, template: unknown): void {
  if (typeof template !== 'string' || template.trim() === '') {
    fail(`${where}.urlTemplate: must be a non-empty string (got ${describe(template)})`);
  }
  const text = template as string;
  const filled = text.replace(/\{hub\}/g, 'hub').replace(/\{event\}/g, 'event');
  const unknown = /\{[^}]*\}/.exec(filled);
  if (unknown) {
    fail(
      `${where}.urlTemplate: unknown placeholder ${unknown[0]} in "${text}" (only {hub} and {event})`,
    );
  }
  let url: URL;
  try {
    url = new URL(filled);
  } catch {
    return fail(`${where}.urlTemplate: "${text}" is not an absolute URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    fail(
      `${where}.urlTemplate: "${text}" must be an http or https URL (got ${url.protocol.slice(0, -1)})`,
    );
  }
}

/** Checks a `userEventPattern`: `*`, or comma-separated event names without `*` or white space. */
export function validateUserEventPattern(where: string, pattern: unknown): void {
  if (typeof pattern !== 'string') {
    fail(
      `${where}.userEventPattern: must be a string such as "*" or "message,chat" (got ${describe(pattern)})`,
    );
  }
  const text = (pattern as string).trim();
  if (text === '*') return;
  if (text === '') fail(`${where}.userEventPattern: must not be empty (use "*" for every event)`);
  for (const name of text.split(',').map(part => part.trim())) {
    if (name === '') fail(`${where}.userEventPattern: "${pattern}" has an empty event name`);
    if (name.includes('*')) {
      fail(
        `${where}.userEventPattern: "${pattern}": "*" must stand alone, not inside a list or a name`,
      );
    }
    if (/\s/.test(name))
      fail(`${where}.userEventPattern: event name "${name}" contains white space`);
  }
}

function validateEventHandler(where: string, handler: unknown): void {
  if (!isPlainObject(handler))
    fail(`${where}: must be an object with a urlTemplate (got ${describe(handler)})`);
  const settings = handler as Record<string, unknown>;
  checkKeys(where, settings, HANDLER_KEYS);
  validateUrlTemplate(where, settings.urlTemplate);
  if (settings.userEventPattern !== undefined)
    validateUserEventPattern(where, settings.userEventPattern);
  const systemEvents = settings.systemEvents;
  if (systemEvents !== undefined) {
    if (!Array.isArray(systemEvents)) {
      fail(
        `${where}.systemEvents: must be an array, a subset of ${SYSTEM_EVENTS.join(', ')} (got ${describe(systemEvents)})`,
      );
    }
    for (const event of systemEvents as unknown[]) {
      if (!SYSTEM_EVENTS.includes(event as SystemEventName)) {
        fail(
          `${where}.systemEvents: ${describe(event)} is not a system event (allowed: ${SYSTEM_EVENTS.join(', ')})`,
        );
      }
    }
  }
}

/**
 * Checks the `hubs` option (or the bin's `--config` file): hub names, event handlers and policies.
 * Throws an `EmulatorOptionsError` naming the first problem, as `hubs.<name>.eventHandlers[i].<setting>: ...`.
 */
export function validateHubSettings(hubs: unknown): asserts hubs is Record<string, HubSettings> {
  if (!isPlainObject(hubs))
    fail(`hubs: must be an object of hub settings by hub name (got ${describe(hubs)})`);
  const seen = new Map<string, string>();
  for (const [hub, settings] of Object.entries(hubs as Record<string, unknown>)) {
    const where = `hubs.${hub}`;
    const problem = hubNameProblem(hub);
    if (problem) fail(`hubs: ${problem}`);
    const lower = hubKey(hub);
    const earlier = seen.get(lower);
    if (earlier !== undefined)
      fail(`hubs: "${hub}" and "${earlier}" are the same hub (hub names are case-insensitive)`);
    seen.set(lower, hub);
    if (!isPlainObject(settings)) fail(`${where}: must be an object (got ${describe(settings)})`);
    const hubSettings = settings as Record<string, unknown>;
    checkKeys(where, hubSettings, HUB_KEYS);
    const policy = hubSettings.anonymousConnectPolicy;
    if (policy !== undefined && policy !== 'allow' && policy !== 'deny') {
      fail(`${where}.anonymousConnectPolicy: must be "allow" or "deny" (got ${describe(policy)})`);
    }
    const handlers = hubSettings.eventHandlers;
    if (handlers === undefined) continue;
    if (!Array.isArray(handlers))
      fail(`${where}.eventHandlers: must be an array (got ${describe(handlers)})`);
    (handlers as unknown[]).forEach((handler, index) =>
      validateEventHandler(`${where}.eventHandlers[${index}]`, handler),
    );
  }
}

/** Checks every option of `startEmulator()`; throws an `EmulatorOptionsError` naming the first problem. */
export function validateEmulatorOptions(options: unknown): asserts options is EmulatorSettings {
  if (options === undefined) return;
  if (!isPlainObject(options)) fail(`options: must be an object (got ${describe(options)})`);
  const { port, host, accessKey, hubs, configFile, log } = options as Record<string, unknown>;
  if (configFile !== undefined && (typeof configFile !== 'string' || configFile.trim() === '')) {
    fail(`configFile: must be a file path (got ${describe(configFile)})`);
  }
  if (
    port !== undefined &&
    (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535)
  ) {
    fail(
      `port: must be an integer from 0 to 65535 (got ${describe(port)}${typeof port === 'number' ? ` ${port}` : ''})`,
    );
  }
  if (host !== undefined && (typeof host !== 'string' || host.trim() === '')) {
    fail(`host: must be a non-empty string (got ${describe(host)})`);
  }
  if (accessKey !== undefined && (typeof accessKey !== 'string' || accessKey === '')) {
    fail(`accessKey: must be a non-empty string (got ${describe(accessKey)})`);
  }
  if (typeof accessKey === 'string' && /[;\s]/.test(accessKey)) {
    fail('accessKey: must not contain ";" or white space (it goes into the connection string)');
  }
  if (hubs !== undefined) validateHubSettings(hubs);
  if (log !== undefined && typeof log !== 'function')
    fail(`log: must be a function (got ${describe(log)})`);
}
