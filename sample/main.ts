import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { ExpressAdapter } from '@nestjs/platform-express';
import { WebPubSubConfigService } from 'nestjs-web-pubsub';
import { AppModule } from './app.module.js';
import { tryItCommands } from './try-it.js';

/**
 * The sample event handler. Runs on Fastify by default; SAMPLE_PLATFORM=express runs it on
 * Express. PORT defaults to 3000 (the upstream awps-tunnel forwards to by default).
 */
async function bootstrap(): Promise<void> {
  const platform = process.env.SAMPLE_PLATFORM === 'express' ? 'express' : 'fastify';
  const adapter = platform === 'express' ? new ExpressAdapter() : new FastifyAdapter();
  const app = await NestFactory.create(AppModule, adapter, { rawBody: true });
  app.enableShutdownHooks();
  const port = Number(process.env.PORT ?? 3000);
  const host = process.env.HOST ?? '127.0.0.1';
  await app.listen(port, host);

  const config = app.get(WebPubSubConfigService);
  const url = `http://${host === '0.0.0.0' ? 'localhost' : host}:${port}${config.path}`;
  const logger = new Logger('Sample');
  logger.log(
    `Web PubSub event handler listening on ${url} (${platform}; hubs: ${config.hubs?.join(', ') ?? 'any'})`,
  );
  logger.log(
    `Signatures ${config.signatureValidation ? 'are checked' : 'are NOT checked (set WebPubSubConnectionString to check them)'}`,
  );
  const commands = tryItCommands(
    url,
    config.hubs?.[0] ?? 'chat',
    app.get(ConfigService).get<string>('WebPubSubConnectionString') || undefined,
  );
  logger.log(`Try it:\n${commands.map(command => `  ${command}`).join('\n')}`);
}

void bootstrap();
