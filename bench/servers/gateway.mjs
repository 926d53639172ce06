// The bench's module app (bench/servers/module.mjs) with its user event "message" answered by a
// Nest gateway (@SubscribeMessage('message') with @MessageBody()) through WebPubSubWsAdapter
// instead of @OnUserEvent('message'); connect, connected and disconnected stay the module's.
// Usage: node bench/servers/gateway.mjs <fastify|express> [--dist <url>]
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { MessageBody, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { CONNECTION_STRING, HUB } from '../lib/common.mjs';
import {
  decorateClass,
  decorateMethod,
  decorateParam,
  NEST_LOGGER,
  portOf,
  ready,
} from '../lib/server-harness.mjs';

const adapterName = process.argv[2] ?? 'fastify';
// --dist <folder>: an ESM build of another commit (bench/lib/baseline.mjs), measured beside this one.
const distArg = process.argv.indexOf('--dist');
const dist =
  distArg > 0 ? process.argv[distArg + 1] : new URL('../../dist/esm/', import.meta.url).href;
const { OnConnect, OnConnected, OnDisconnected, WebPubSubModule, WebPubSubWsAdapter } =
  await import(new URL('index.js', dist.endsWith('/') ? dist : `${dist}/`).href);

class ChatHandlers {
  connect(request) {
    return { userId: request.claims.sub?.[0] };
  }

  connected() {}

  disconnected() {}
}
decorateClass(ChatHandlers, Injectable());
decorateMethod(ChatHandlers, 'connect', OnConnect());
decorateMethod(ChatHandlers, 'connected', OnConnected());
decorateMethod(ChatHandlers, 'disconnected', OnDisconnected());

class ChatGateway {
  message(data) {
    // Echo: a string is answered as text/plain, a Buffer as application/octet-stream.
    return data;
  }
}
decorateParam(ChatGateway, 'message', 0, MessageBody());
decorateMethod(ChatGateway, 'message', SubscribeMessage('message'));
decorateClass(ChatGateway, WebSocketGateway({ namespace: HUB }));

class AppModule {}
decorateClass(
  AppModule,
  Module({
    imports: [WebPubSubModule.forRoot({ hub: HUB, connectionString: CONNECTION_STRING })],
    providers: [ChatHandlers, ChatGateway],
  }),
);

const adapter = adapterName === 'express' ? new ExpressAdapter() : new FastifyAdapter();
const app = await NestFactory.create(AppModule, adapter, { logger: NEST_LOGGER });
app.useWebSocketAdapter(new WebPubSubWsAdapter(app));
await app.listen(0, '127.0.0.1');
ready(portOf(app), () => app.close());
