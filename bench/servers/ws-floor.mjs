// The floor: a bare `ws` server doing the same broadcasts by hand, with no token check, no state and
// no traffic log. Clients connect to /client/hubs/<hub>; the `webpubsub.group` claim of their
// (unverified) token puts them in groups. A `sendToGroup` JSON message goes to every member as the
// emulator frames it; `POST /api/hubs/<hub>/:send` (what WebPubSubServiceClient.sendToAll calls)
// goes to every connection of the hub, answered 202.
import { createServer } from 'node:http';
import { WebSocketServer } from 'ws';
import { readBody } from '../lib/common.mjs';
import { ready } from '../lib/server-harness.mjs';

const hubs = new Map(); // hub -> Set<ws>
const groups = new Map(); // group -> Set<ws>
let nextId = 0;

const server = createServer(async (request, response) => {
  const match = /^\/api\/hubs\/([^/]+)\/:send$/.exec(request.url.split('?', 1)[0]);
  if (request.method !== 'POST' || !match) {
    response.writeHead(404).end();
    return;
  }
  const body = await readBody(request);
  const frame = `{"type":"message","from":"server","dataType":"json","data":${body.toString('utf8')}}`;
  for (const socket of hubs.get(match[1].toLowerCase()) ?? []) socket.send(frame);
  response.writeHead(202).end();
});

const wss = new WebSocketServer({
  server,
  handleProtocols: protocols =>
    protocols.has('json.webpubsub.azure.v1') ? 'json.webpubsub.azure.v1' : false,
});

wss.on('connection', (socket, request) => {
  const url = new URL(request.url, 'http://floor');
  const hub = /^\/client\/hubs\/([^/]+)$/.exec(url.pathname)?.[1]?.toLowerCase() ?? 'default';
  const connectionId = `floor-${++nextId}`;
  const claims = JSON.parse(
    Buffer.from(url.searchParams.get('access_token').split('.')[1], 'base64url'),
  );
  const joined = [].concat(claims['webpubsub.group'] ?? []);
  if (!hubs.has(hub)) hubs.set(hub, new Set());
  hubs.get(hub).add(socket);
  for (const group of joined) {
    if (!groups.has(group)) groups.set(group, new Set());
    groups.get(group).add(socket);
  }
  socket.send(JSON.stringify({ type: 'system', event: 'connected', userId: null, connectionId }));
  socket.on('message', data => {
    const message = JSON.parse(data.toString('utf8'));
    if (message.type !== 'sendToGroup') return;
    const frame = JSON.stringify({
      type: 'message',
      from: 'group',
      fromConnectionId: connectionId,
      group: message.group,
      dataType: message.dataType,
      data: message.data,
    });
    for (const member of groups.get(message.group) ?? []) {
      if (message.noEcho && member === socket) continue;
      member.send(frame);
    }
  });
  socket.on('close', () => {
    hubs.get(hub).delete(socket);
    for (const group of joined) groups.get(group).delete(socket);
  });
});

server.listen(0, '127.0.0.1', () => {
  ready(server.address().port, async () => {
    for (const socket of wss.clients) socket.terminate();
    await new Promise(resolve => wss.close(() => resolve()));
    await new Promise(resolve => server.close(() => resolve()));
  });
});
