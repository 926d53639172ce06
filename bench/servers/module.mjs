// This module (from the built dist/) on Fastify or Express.
// Usage: node bench/servers/module.mjs <fastify|express> [--no-signature] [--telemetry] [--dist <url>]
// --telemetry: an OpenTelemetry SDK is registered first (spans batched, metrics read every
// minute, both exported nowhere), so the module records a span and metrics per event.
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { CONNECTION_STRING, HUB } from '../lib/common.mjs';
import {
  decorateClass,
  decorateMethod,
  NEST_LOGGER,
  portOf,
  ready,
} from '../lib/server-harness.mjs';

const adapterName = process.argv[2] ?? 'fastify';
// --dist <folder>: an ESM build of another commit (bench/lib/baseline.mjs), measured beside this one.
const distArg = process.argv.indexOf('--dist');
const dist =
  distArg > 0 ? process.argv[distArg + 1] : new URL('../../dist/esm/', import.meta.url).href;
const { OnConnect, OnConnected, OnDisconnected, OnUserEvent, WebPubSubModule } = await import(
  new URL('index.js', dist.endsWith('/') ? dist : `${dist}/`).href
);
const signature = !process.argv.includes('--no-signature');
if (process.argv.includes('--telemetry')) await registerTelemetry();

/** What an app's tracing set-up does before it starts Nest, with exporters that drop everything. */
async function registerTelemetry() {
  const { metrics, trace } = await import('@opentelemetry/api');
  const { BasicTracerProvider, BatchSpanProcessor } = await import('@opentelemetry/sdk-trace-base');
  const { MeterProvider, PeriodicExportingMetricReader } =
    await import('@opentelemetry/sdk-metrics');
  const nowhere = {
    export: (_items, done) => done({ code: 0 }),
    forceFlush: async () => undefined,
    shutdown: async () => undefined,
  };
  trace.setGlobalTracerProvider(
    new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(nowhere)] }),
  );
  metrics.setGlobalMeterProvider(
    new MeterProvider({
      readers: [
        new PeriodicExportingMetricReader({ exporter: nowhere, exportIntervalMillis: 60_000 }),
      ],
    }),
  );
}

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
