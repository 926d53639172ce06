import 'reflect-metadata';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EVENT_HANDLER_PATH, startSample, type RunningSample } from './start-sample.js';

/**
 * `npm start`: the chat on Fastify (SAMPLE_PLATFORM=express: on Express), on PORT (3000). Without
 * WebPubSubConnectionString it runs on the embedded emulator and prints the one URL to open; with
 * it, on that Azure resource, and prints how to point the hub's event handler at this app.
 * SAMPLE_GATEWAY=1: the same chat written as a Nest gateway (sample/gateway/chat.gateway.ts).
 * Ctrl-C (SIGINT) or SIGTERM stops the app and the emulator, and the process ends by itself.
 */
async function main(): Promise<void> {
  const env = process.env;
  const sample = await startSample({
    platform: env.SAMPLE_PLATFORM === 'express' ? 'express' : 'fastify',
    port: Number(env.PORT ?? 3000),
    host: env.HOST ?? '127.0.0.1',
    hub: env.WEBPUBSUB_HUB ?? 'chat',
    connectionString: env.WebPubSubConnectionString || undefined,
    emulatorPort: Number(env.EMULATOR_PORT ?? 0),
    publicDir: env.SAMPLE_PUBLIC_DIR ?? join(dirname(fileURLToPath(import.meta.url)), 'public'),
    sessionSecret: env.SAMPLE_SESSION_SECRET,
    logger: ['error', 'warn', 'log'],
    gateway: env.SAMPLE_GATEWAY === '1',
  });
  console.log(banner(sample));
  stopOnSignals(sample);
}

function banner(sample: RunningSample): string {
  const platform = sample.platform === 'express' ? 'Express' : 'Fastify';
  if (sample.emulator) {
    return [
      '',
      `Chat sample on ${platform}, with the embedded Web PubSub emulator (hub "${sample.hub}").`,
      `Open ${sample.url} in two tabs (each tab is one person), join the same room under two names, and chat.`,
      "The page links the emulator's live view. Ctrl-C stops both.",
      '',
    ].join('\n');
  }
  const upstream = sample.url.replace(/\/$/, '');
  return [
    '',
    `Chat sample on ${platform}, with Azure Web PubSub at ${sample.serviceEndpoint} (hub "${sample.hub}").`,
    `The service must reach this app's event handler. In the portal, hub "${sample.hub}" > Settings > add an event handler:`,
    `  URL template:  tunnel:///eventhandler/{event}   (or https://<public host of this app>${EVENT_HANDLER_PATH}/{event})`,
    '  User events:   *   System events: connect, connected, disconnected',
    'Then expose this app to the service with the Web PubSub tunnel (it reads WebPubSubConnectionString):',
    '  npm install -g @azure/web-pubsub-tunnel-tool',
    `  awps-tunnel run --hub ${sample.hub} --upstream ${upstream}`,
    `Open ${sample.url} in two tabs (each tab is one person), join the same room under two names, and chat. Ctrl-C stops the app.`,
    '',
  ].join('\n');
}

function stopOnSignals(sample: RunningSample): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      console.log(`${signal} again: exiting now.`);
      process.exit(130);
    }
    stopping = true;
    console.log(`${signal}: stopping the app${sample.emulator ? ' and the emulator' : ''}...`);
    sample.close().then(
      () => {
        console.log('Stopped.');
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      },
      (error: unknown) => {
        console.error('Stopping failed:', error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(`The chat sample could not start: ${(error as Error)?.message ?? String(error)}`);
  process.exitCode = 1;
});
