import 'reflect-metadata';
import { createHmac } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { ExpressAdapter } from '@nestjs/platform-express';
import { WebPubSubConfigService } from 'nestjs-web-pubsub';
import { AppModule } from './app.module.js';

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
  logger.log(`Try it:\n${tryItCommands(url, config.hubs?.[0] ?? 'chat')}`);
}

/** curl commands that send the handshake and a message event, signed when a key is configured. */
function tryItCommands(url: string, hub: string): string {
  const connectionId = 'sample-connection';
  const key = /AccessKey=([^;]+)/i.exec(process.env.WebPubSubConnectionString ?? '')?.[1];
  const signature = key
    ? ` -H 'ce-signature: sha256=${createHmac('sha256', key).update(connectionId).digest('hex')}'`
    : '';
  const headers =
    `-H 'ce-specversion: 1.0' -H 'ce-type: azure.webpubsub.user.message' -H 'ce-id: 1' -H 'ce-hub: ${hub}' ` +
    `-H 'ce-connectionId: ${connectionId}' -H 'ce-eventName: message' -H 'content-type: text/plain'${signature}`;
  return [
    `  curl -i -X OPTIONS ${url} -H 'WebHook-Request-Origin: *'`,
    `  curl -i ${url} ${headers} -d 'hello'`,
  ].join('\n');
}

void bootstrap();
