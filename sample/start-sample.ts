import { createServer } from 'node:net';
import { type INestApplication, type LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Logger } from '@nestjs/common';
import { startEmulator, type RunningEmulator } from 'nestjs-web-pubsub/emulator';
import { WebPubSubWsAdapter } from 'nestjs-web-pubsub';
import { AppModule } from './app.module.js';

export type SamplePlatform = 'express' | 'fastify';

export interface SampleOptions {
  readonly platform: SamplePlatform;
  /** The app's port; 0 picks a free one. */
  readonly port: number;
  readonly host: string;
  readonly hub: string;
  /** An Azure Web PubSub resource; absent: the embedded emulator. */
  readonly connectionString?: string;
  /** The embedded emulator's port; 0 (the default) picks a free one. */
  readonly emulatorPort?: number;
  readonly publicDir: string;
  /** Signs the tabs' session tokens (`SAMPLE_SESSION_SECRET`); absent: a random secret per run. */
  readonly sessionSecret?: string;
  /** Nest's log levels, or `false` for none. */
  readonly logger?: LogLevel[] | false;
  /** The chat as a Nest gateway (`sample/gateway/chat.gateway.ts`) instead of the module's handlers. */
  readonly gateway?: boolean;
}

export interface RunningSample {
  /** The page to open. */
  readonly url: string;
  readonly platform: SamplePlatform;
  readonly hub: string;
  readonly app: INestApplication;
  /** Present when no connection string was given. */
  readonly emulator?: RunningEmulator;
  /** The Azure endpoint, when a connection string was given. */
  readonly serviceEndpoint?: string;
  /**
   * Stops the app, then the emulator (its clients are told 1001 Going Away). In this order no
   * handler is left calling the service's REST API (and retrying) after the service is gone.
   */
  close(): Promise<void>;
}

export const EVENT_HANDLER_PATH = '/eventhandler';

/**
 * Starts the chat: with a connection string on that Azure resource; without one, the embedded
 * emulator first, with the hub's event handler pointed at this app
 * (`http://<host>:<port>/eventhandler/{event}`, every user event and system event).
 */
export async function startSample(options: SampleOptions): Promise<RunningSample> {
  const localHost =
    options.host === '0.0.0.0' || options.host === '::' ? '127.0.0.1' : options.host;
  // The emulator must know the app's port before the app starts (the app needs its connection
  // string), so port 0 is resolved to a free port here.
  const port = options.port === 0 ? await freePort(options.host) : options.port;
  let emulator: RunningEmulator | undefined;
  if (!options.connectionString) {
    const log = new Logger('Emulator');
    emulator = await startEmulator({
      port: options.emulatorPort ?? 0,
      host: localHost,
      log: line => log.verbose(line),
      hubs: {
        [options.hub]: {
          eventHandlers: [
            {
              urlTemplate: `http://${urlHost(localHost)}:${port}${EVENT_HANDLER_PATH}/{event}`,
              userEventPattern: '*',
              systemEvents: ['connect', 'connected', 'disconnected'],
            },
          ],
        },
      },
    });
  }
  let app: INestApplication | undefined;
  try {
    app = await NestFactory.create(
      AppModule.forRoot(
        {
          hub: options.hub,
          connectionString: options.connectionString || emulator!.connectionString,
          publicDir: options.publicDir,
          sessionSecret: options.sessionSecret,
          liveViewUrl: emulator && `${emulator.endpoint}/`,
        },
        // Loaded only for the gateway variant: @nestjs/websockets is needed for it alone.
        options.gateway ? (await import('./gateway/chat.gateway.js')).ChatGateway : undefined,
      ),
      options.platform === 'express' ? new ExpressAdapter() : new FastifyAdapter(),
      { rawBody: true, forceCloseConnections: true, abortOnError: false, logger: options.logger },
    );
    if (options.gateway) app.useWebSocketAdapter(new WebPubSubWsAdapter(app));
    await app.listen(port, options.host);
  } catch (error) {
    await app?.close().catch(() => undefined);
    await emulator?.close();
    throw error;
  }
  const started = app;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost(localHost)}:${port}/`,
    platform: options.platform,
    hub: options.hub,
    app: started,
    emulator,
    serviceEndpoint: emulator ? undefined : endpointOf(options.connectionString!),
    close: () =>
      (closing ??= (async () => {
        await started.close();
        await emulator?.close();
      })()),
  };
}

const urlHost = (host: string): string => (host.includes(':') ? `[${host}]` : host);

function endpointOf(connectionString: string): string | undefined {
  return /(?:^|;)\s*Endpoint=([^;]+)/i.exec(connectionString)?.[1];
}

/** A port nothing listens on right now (the OS's pick for port 0). */
function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
