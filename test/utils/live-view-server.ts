/**
 * A loopback HTTP server with only the live view mounted, over a `ListingHubs` and a real
 * `TrafficLog`: the page specs drive hubs, connections and traffic directly.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLiveView, type LiveViewHandler } from '../../lib/emulator/live-view/live-view.js';
import { TrafficLog } from '../../lib/emulator/traffic-log.js';
import { ListingHubs } from './listing-hubs.js';

export interface LiveViewServer {
  readonly url: string;
  readonly hubs: ListingHubs;
  readonly traffic: TrafficLog;
  readonly view: LiveViewHandler;
  readonly server: Server;
  close(): Promise<void>;
}

export async function startLiveViewServer(
  options: { capacity?: number; snapshotIntervalMs?: number } = {},
): Promise<LiveViewServer> {
  const hubs = new ListingHubs();
  const traffic = new TrafficLog(options.capacity);
  const view = createLiveView({
    hubs,
    traffic,
    snapshotIntervalMs: options.snapshotIntervalMs ?? 100,
  });
  const server = createServer((req, res) => {
    if (view(req, res)) return;
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not the live view\n');
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hubs,
    traffic,
    view,
    server,
    close: async () => {
      view.close();
      server.closeAllConnections();
      await new Promise<void>(resolve => server.close(() => resolve()));
    },
  };
}
