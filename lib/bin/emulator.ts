#!/usr/bin/env node
/**
 * `nestjs-web-pubsub-emulator`: starts the emulator from the command line. The connection string
 * goes to stdout on a line of its own, then the emulator's log lines; notes for people go to stderr.
 * Exit codes: 0 after SIGINT/SIGTERM, 1 when the emulator cannot start, 2 for bad flags or settings.
 * A second signal while closing exits at once with 1.
 */
import { EmulatorOptionsError } from '../emulator/emulator-options.js';
import {
  EMULATOR_DEFAULT_PORT,
  portInUse,
  startEmulator,
  type RunningEmulator,
} from '../emulator/emulator.js';
import { BIN_NAME, USAGE, UsageError, parseEmulatorArgs } from './emulator-args.js';

async function main(argv: readonly string[]): Promise<void> {
  let args;
  try {
    args = parseEmulatorArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    return usageFailure(error.message);
  }
  if (args.help) {
    process.stdout.write(USAGE);
    return;
  }

  // Signals are handled from here on, also while the emulator starts.
  let stopping: NodeJS.Signals | undefined;
  let emulator: RunningEmulator | undefined;
  const close = (running: RunningEmulator) =>
    running.close().then(
      () => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      },
      (error: unknown) => {
        process.stderr.write(`${BIN_NAME}: close failed: ${(error as Error).message}\n`);
        process.exit(1);
      },
    );
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      process.stderr.write(`${BIN_NAME}: ${signal} again, exiting now\n`);
      process.exit(1);
    }
    stopping = signal;
    process.stderr.write(`${BIN_NAME}: ${signal}, closing\n`);
    if (emulator) void close(emulator);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);

  try {
    emulator = await startEmulator({
      port: args.port,
      host: args.host,
      accessKey: args.accessKey,
      // The file is read again and watched by the emulator; the --hub handlers stay on top.
      ...(args.configFile === undefined
        ? { hubs: args.hubs }
        : { configFile: args.configFile, hubs: args.hubFlags }),
      log: (line: string) => process.stdout.write(`${line}\n`),
    });
  } catch (error) {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    if (error instanceof EmulatorOptionsError) return usageFailure(error.message);
    // A taken port names the flag the user typed, not the option of startEmulator().
    const inUse =
      ((error as Error).cause as NodeJS.ErrnoException | undefined)?.code === 'EADDRINUSE';
    const message = inUse
      ? portInUse(args.port ?? EMULATOR_DEFAULT_PORT, args.host ?? '127.0.0.1', '--port')
      : (error as Error).message;
    process.stderr.write(`${BIN_NAME}: cannot start: ${message}\n`);
    process.exitCode = 1;
    return;
  }
  if (stopping) return void close(emulator);

  process.stdout.write(`${emulator.connectionString}\n`);
  const hubNames = Object.keys(args.hubs);
  process.stderr.write(
    `${BIN_NAME}: listening on ${emulator.endpoint}` +
      ` (hubs: ${hubNames.length ? hubNames.join(', ') : 'any, no event handlers'}).` +
      ` Live view: ${emulator.endpoint}/ . Ctrl+C stops.\n`,
  );
}

function usageFailure(message: string): void {
  process.stderr.write(`${BIN_NAME}: ${message}\nRun ${BIN_NAME} --help for the options.\n`);
  process.exitCode = 2;
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`${BIN_NAME}: ${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
