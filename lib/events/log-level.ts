import { ConsoleLogger, Logger, type LogLevel } from '@nestjs/common';

interface LoggerStatics {
  staticInstanceRef?: unknown;
  logLevels?: LogLevel[];
}

/**
 * Whether the app's logger prints `level`, read the same way on Nest 11 and 12 (Nest 12's own
 * `Logger.isLevelEnabled()`). Nest 11's static `Logger.isLevelEnabled()` answers `false` for every
 * level unless log levels were set explicitly, although its loggers then print them all: on
 * Nest 11 the module's debug lines would never appear.
 */
export function isLogLevelEnabled(level: LogLevel): boolean {
  const statics = Logger as unknown as LoggerStatics;
  const instance = statics.staticInstanceRef;
  if (!instance) return false;
  if (instance instanceof ConsoleLogger) return instance.isLevelEnabled(level);
  return statics.logLevels ? Logger.isLevelEnabled(level) : true;
}
