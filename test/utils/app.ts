import type { INestApplication, LoggerService, ModuleMetadata } from '@nestjs/common';
import { Logger } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import type { AbstractHttpAdapter } from '@nestjs/core';

export type PlatformName = 'express' | 'fastify';
export const PLATFORMS: PlatformName[] = ['express', 'fastify'];

export interface TestApp {
  app: INestApplication;
  url: string;
  close(): Promise<void>;
}

export interface StartOptions {
  rawBody?: boolean;
  /** Runs before init (e.g. enableCors). */
  before?: (app: INestApplication) => void | Promise<void>;
  adapter?: () => AbstractHttpAdapter;
  /** Where the app logs; default: nowhere. */
  logger?: LoggerService | false;
}

/** A fresh adapter per app: adapters are never reused after close(). */
export function createAdapter(platform: PlatformName): AbstractHttpAdapter {
  return platform === 'express'
    ? new ExpressAdapter()
    : (new FastifyAdapter() as unknown as AbstractHttpAdapter);
}

/** Compiles `metadata` into a real app on `platform`, listening on a loopback port. */
export async function startApp(
  platform: PlatformName,
  metadata: ModuleMetadata,
  options: StartOptions = {},
): Promise<TestApp> {
  const moduleRef = await Test.createTestingModule(metadata).compile();
  const app = moduleRef.createNestApplication(options.adapter?.() ?? createAdapter(platform), {
    rawBody: options.rawBody ?? false,
    logger: options.logger ?? false,
  });
  await options.before?.(app);
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  return {
    app,
    url: `http://127.0.0.1:${address.port}`,
    close: () => app.close(),
  };
}

/** Collects what the module logs, by level. */
export class CapturingLogger {
  readonly lines: { level: string; message: string; context?: string }[] = [];
  log = (message: unknown, context?: string) => this.push('log', message, context);
  error = (message: unknown, ...rest: unknown[]) =>
    this.push(
      'error',
      [message, ...rest.slice(0, -1)].filter(part => part !== undefined).join('\n'),
      rest.at(-1) as string,
    );
  warn = (message: unknown, context?: string) => this.push('warn', message, context);
  debug = (message: unknown, context?: string) => this.push('debug', message, context);
  verbose = (message: unknown, context?: string) => this.push('verbose', message, context);
  fatal = (message: unknown, context?: string) => this.push('fatal', message, context);
  private push(level: string, message: unknown, context?: string): void {
    this.lines.push({ level, message: String(message), context });
  }
  messages(level: string): string[] {
    return this.lines.filter(line => line.level === level).map(line => line.message);
  }
  install(): void {
    Logger.overrideLogger(this);
  }
}
