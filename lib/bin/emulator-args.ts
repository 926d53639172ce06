/**
 * The `nestjs-web-pubsub-emulator` command line: flags and the `--config` file into emulator options.
 * Every problem is a `UsageError` whose message names the flag or setting (the bin exits with 2).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { mergeHubSettings, parseHubSettingsFile, readConfigText } from '../emulator/config-file.js';
import {
  EmulatorOptionsError,
  SYSTEM_EVENTS,
  validateEmulatorOptions,
  validateHubSettings,
  type EventHandlerSettings,
  type HubSettings,
} from '../emulator/emulator-options.js';

export const BIN_NAME = 'nestjs-web-pubsub-emulator';

export const USAGE = `Usage: ${BIN_NAME} [options]

A local Azure Web PubSub: client WebSockets, the REST API and a live view, on one port.
Prints the connection string on a line of its own, then one line per client connection,
upstream call and REST call. Open the endpoint in a browser for the live view.

Options:
  --port <number>       Port to listen on (default 8080; 0 picks a free port)
  --host <address>      Address to listen on (default 127.0.0.1)
  --access-key <key>    Access key for tokens and signatures (default: the development key)
  --hub <name>=<url>    Send every system event and every user event of hub <name> to <url>;
                        <url> may contain {hub} and {event}. Repeatable.
  --config <file.json>  Hub settings as the service names them:
                        { "<hub>": { "eventHandlers": [{ "urlTemplate": "...",
                          "userEventPattern": "*", "systemEvents": ["connect", "connected",
                          "disconnected"] }], "anonymousConnectPolicy": "deny" } }
                        Watched while running: a valid edit applies to the events that
                        follow (clients stay connected); an invalid one is logged and the
                        last good settings stay.
  -h, --help            Show this help

Example:
  ${BIN_NAME} --port 8080 --hub chat=http://localhost:3000/eventhandler
`;

/** A bad flag or a bad configuration: the message says which and why. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface EmulatorArgs {
  readonly help: boolean;
  readonly port?: number;
  readonly host?: string;
  readonly accessKey?: string;
  /** Every hub's settings: the `--config` file's, then the `--hub` handlers. */
  readonly hubs: Record<string, HubSettings>;
  /** `--config`: the file the emulator reads and watches. */
  readonly configFile?: string;
  /** The `--hub` handlers alone, merged on top of the file each time it is read. */
  readonly hubFlags: Record<string, HubSettings>;
}

const FLAG_NAMES: Record<string, string> = {
  port: '--port',
  host: '--host',
  accessKey: '--access-key',
};

/** Parses the arguments (without `node` and the script) and reads the `--config` file. */
export function parseEmulatorArgs(
  argv: readonly string[],
  readFile: (path: string) => string = path => readFileSync(path, 'utf8'),
): EmulatorArgs {
  let values: {
    port?: string;
    host?: string;
    'access-key'?: string;
    hub?: string[];
    config?: string;
    help?: boolean;
  };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        'access-key': { type: 'string' },
        hub: { type: 'string', multiple: true },
        config: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new UsageError(describeParseError(error as Error & { code?: string }));
  }
  if (values.help) return { help: true, hubs: {}, hubFlags: {} };

  const port = values.port === undefined ? undefined : parsePort(values.port);
  const fromFile = values.config === undefined ? {} : readConfig(values.config, readFile);
  let hubFlags: Record<string, HubSettings> = {};
  for (const entry of values.hub ?? []) hubFlags = mergeHubSettings(hubFlags, hubFlag(entry));
  const hubs = mergeHubSettings(fromFile, hubFlags);
  try {
    validateHubSettings(hubs);
    validateEmulatorOptions({ port, host: values.host, accessKey: values['access-key'] });
  } catch (error) {
    if (!(error instanceof EmulatorOptionsError)) throw error;
    throw new UsageError(
      error.message.replace(/^(port|host|accessKey):/, (_, name: string) => `${FLAG_NAMES[name]}:`),
    );
  }
  return {
    help: false,
    port,
    host: values.host,
    accessKey: values['access-key'],
    hubs,
    configFile: values.config,
    hubFlags,
  };
}

function describeParseError(error: Error & { code?: string }): string {
  const quoted = /'([^']*)'/.exec(error.message)?.[1];
  switch (error.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option ${quoted ?? error.message}`;
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument "${quoted ?? error.message}" (every option is a --flag)`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return `${quoted?.replace(/ <value>$/, '') ?? 'an option'} needs a value`;
    default:
      return error.message;
  }
}

function parsePort(text: string): number {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(port >= 0 && port <= 65535))
    throw new UsageError(`--port: must be a number from 0 to 65535 (got "${text}")`);
  return port;
}

function readConfig(path: string, readFile: (path: string) => string): Record<string, HubSettings> {
  try {
    return parseHubSettingsFile(path, readConfigText(path, readFile));
  } catch (error) {
    if (!(error instanceof EmulatorOptionsError)) throw error;
    throw new UsageError(`--config ${error.message}`);
  }
}

/** `--hub name=url`: one event handler for every system event and every user event. */
function hubFlag(entry: string): Record<string, HubSettings> {
  const equals = entry.indexOf('=');
  if (equals <= 0 || equals === entry.length - 1) {
    throw new UsageError(
      `--hub "${entry}": expected <name>=<urlTemplate>, as in --hub chat=http://localhost:3000/eventhandler`,
    );
  }
  const name = entry.slice(0, equals);
  const handler: EventHandlerSettings = {
    urlTemplate: entry.slice(equals + 1),
    userEventPattern: '*',
    systemEvents: [...SYSTEM_EVENTS],
  };
  try {
    validateHubSettings({ [name]: { eventHandlers: [handler] } });
  } catch (error) {
    if (!(error instanceof EmulatorOptionsError)) throw error;
    throw new UsageError(`--hub "${entry}": ${error.message.replace(/^hubs(\.[^:]*)?: /, '')}`);
  }
  return { [name]: { eventHandlers: [handler] } };
}
