// The live-view benchmark's load, in its own process (forked by bench/live-view.mjs): traffic at a
// steady rate into the emulator, three quarters client `sendToGroup` frames from a `ws` client with
// the JSON subprotocol, one quarter REST group sends through WebPubSubServiceClient. Each becomes
// one traffic record. Told { connectionString, hub, perMinute, seconds } over IPC; answers
// { sent: { client, rest }, errors } when done.
import { WebPubSubServiceClient } from '@azure/web-pubsub';
import WebSocket from 'ws';

const GROUP = 'bench';
const TICK_MS = 50;

process.once('message', async ({ connectionString, hub, perMinute, seconds }) => {
  const service = new WebPubSubServiceClient(connectionString, hub, {
    allowInsecureConnection: true,
  });
  const errors = [];
  const open = async userId => {
    const { url } = await service.getClientAccessToken({
      userId,
      groups: [GROUP],
      roles: [`webpubsub.sendToGroup.${GROUP}`],
    });
    const socket = new WebSocket(url, 'json.webpubsub.azure.v1');
    socket.on('error', error => errors.push(error.message));
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    return socket;
  };
  const sender = await open('sender');
  const listener = await open('listener');
  listener.on('message', () => undefined);
  sender.on('message', () => undefined);

  const sent = { client: 0, rest: 0 };
  const total = Math.round((perMinute * seconds) / 60);
  const started = Date.now();
  const words = ['quokka', 'wombat', 'numbat', 'bilby', 'dingo', 'echidna'];
  let n = 0;
  await new Promise(resolve => {
    const timer = setInterval(() => {
      const due = Math.min(total, Math.round(((Date.now() - started) / 1000) * (perMinute / 60)));
      while (n < due) {
        n++;
        const data = { seq: n, text: `message ${n} about a ${words[n % words.length]}` };
        if (n % 4 === 0) {
          sent.rest++;
          service
            .group(GROUP)
            .sendToAll(data)
            .catch(error => errors.push(error.message));
        } else {
          sent.client++;
          sender.send(
            JSON.stringify({ type: 'sendToGroup', group: GROUP, dataType: 'json', data }),
          );
        }
      }
      if (n >= total) {
        clearInterval(timer);
        resolve();
      }
    }, TICK_MS);
  });
  await new Promise(resolve => setTimeout(resolve, 500));
  sender.close();
  listener.close();
  process.send({ sent, errors: errors.slice(0, 10) }, () => process.exit(0));
});
