// This module (from the built dist/) on Fastify or Express.
// Usage: node bench/servers/module.mjs <fastify|express> [--no-signature]
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import {
  OnConnect,
  OnConnected,
  OnDisconnected,
  OnUserEvent,
  WebPubSubModule,
} from '../../dist/esm/index.js';
import { CONNECTION_STRING, HUB } from '../lib/common.mjs';
import {
  decorateClass,
  decorateMethod,
  NEST_LOGGER,
  portOf,
  ready,
} from '../lib/server-harness.mjs';

const adapterName = process.argv[2] ?? 'fastify';
const signature = !process.argv.includes('--no-signature');

class ChatHandlers {
  connect(request) {
    return { userId: request.claims.sub?.[0] };
  }

  connected() {}

  message(request) {
    // Echo: a string is answered as text/plain, a Buffer as application/octet-stream.
    return request.data;
  }

  disconnected() {}
}
decorateClass(ChatHandlers, Injectable());
decorateMethod(ChatHandlers, 'connect', OnConnect());
decorateMethod(ChatHandlers, 'connected', OnConnected());
decorateMethod(ChatHandlers, 'message', OnUserEvent('message'));
decorateMethod(ChatHandlers, 'disconnected', OnDisconnected());

class AppModule {}
decorateClass(
  AppModule,
  Module({
    // Without a connection string no access key is known: ce-signature is not checked.
    imports: [
      WebPubSubModule.forRoot(
        signature ? { hub: HUB, connectionString: CONNECTION_STRING } : { hub: HUB },
      ),
    ],
    providers: [ChatHandlers],
  }),
);

const adapter = adapterName === 'express' ? new ExpressAdapter() : new FastifyAdapter();
const app = await NestFactory.create(AppModule, adapter, { logger: NEST_LOGGER });
await app.listen(0, '127.0.0.1');
ready(portOf(app), () => app.close());
