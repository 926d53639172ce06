/**
 * Connection states written by `@azure/web-pubsub-express` (the official Express handler) read
 * back in this module and the other way round, so an app can move over without losing the
 * states of connections that are open during the move.
 */
import { createServer, type Server } from 'node:http';
import { Injectable } from '@nestjs/common';
import express from 'express';
import { WebPubSubEventHandler } from '@azure/web-pubsub-express';
import { OnUserEvent, WebPubSubModule, type UserEventRequest } from '../../lib/index.js';
import { startApp, PLATFORMS, type TestApp } from '../utils/app.js';
import { CONNECTION_STRING, eventHeaders } from '../utils/events.js';
import { http } from '../utils/http.js';

@Injectable()
class StateHandlers {
  @OnUserEvent('message')
  message(request: UserEventRequest): unknown {
    const seen = { ...request.context.states };
    request.context.setState('from', 'nestjs-web-pubsub');
    request.context.setState('nested', { list: [1, 2], flag: true });
    return { seen };
  }
}

describe.each(PLATFORMS)(
  'connection states shared with @azure/web-pubsub-express on %s',
  platform => {
    let app: TestApp;
    let peer: Server;
    let peerUrl: string;
    let peerSaw: Record<string, unknown> | undefined;

    beforeAll(async () => {
      app = await startApp(platform, {
        imports: [WebPubSubModule.forRoot({ hub: 'chat', connectionString: CONNECTION_STRING })],
        providers: [StateHandlers],
      });
      const handler = new WebPubSubEventHandler('chat', {
        path: '/eventhandler',
        handleUserEvent: (request, response) => {
          peerSaw = { ...request.context.states };
          response.setState('from', '@azure/web-pubsub-express');
          response.setState('count', 7);
          response.success('ok', 'text');
        },
      });
      const expressApp = express();
      expressApp.use(handler.getMiddleware());
      peer = createServer(expressApp);
      await new Promise<void>(resolve => peer.listen(0, '127.0.0.1', resolve));
      peerUrl = `http://127.0.0.1:${(peer.address() as { port: number }).port}/eventhandler`;
    });
    afterAll(async () => {
      await app?.close();
      await new Promise(resolve => peer?.close(resolve));
    });

    it('reads a state the Express package wrote, and the Express package reads the state it writes', async () => {
      const fromPeer = await http(peerUrl, {
        method: 'POST',
        headers: eventHeaders('message'),
        body: 'x',
      });
      expect(fromPeer.status).toBe(200);
      const peerState = fromPeer.headers['ce-connectionstate'] as string;
      expect(peerState).toBeDefined();

      const ours = await http(`${app.url}/eventhandler`, {
        method: 'POST',
        headers: eventHeaders('message', { state: peerState }),
        body: 'x',
      });
      expect(ours.status).toBe(200);
      expect(JSON.parse(ours.text).seen).toEqual({ from: '@azure/web-pubsub-express', count: 7 });
      const ourState = ours.headers['ce-connectionstate'] as string;

      peerSaw = undefined;
      const back = await http(peerUrl, {
        method: 'POST',
        headers: eventHeaders('message', { state: ourState }),
        body: 'x',
      });
      expect(back.status).toBe(200);
      expect(peerSaw).toEqual({
        from: 'nestjs-web-pubsub',
        count: 7,
        nested: { list: [1, 2], flag: true },
      });
    });
  },
);
