// The peer: @azure/web-pubsub-express on a plain Express app, with the same handlers.
// Note: @azure/web-pubsub-express 1.1.0 does not check ce-signature at all (it has no access
// key option), so the peer does less work per event than every other server here.
import { WebPubSubEventHandler } from '@azure/web-pubsub-express';
import express from 'express';
import { HUB, PATH, SERVICE_HOST } from '../lib/common.mjs';
import { ready } from '../lib/server-harness.mjs';

const handler = new WebPubSubEventHandler(HUB, {
  path: PATH,
  allowedEndpoints: [`https://${SERVICE_HOST}`],
  handleConnect(request, response) {
    response.success({ userId: request.claims.sub?.[0] });
  },
  onConnected() {},
  onDisconnected() {},
  handleUserEvent(request, response) {
    response.success(request.data, request.dataType);
  },
});

const app = express();
app.use(handler.getMiddleware());
const server = app.listen(0, '127.0.0.1', () => {
  ready(server.address().port, () => new Promise(resolve => server.close(() => resolve())));
});
