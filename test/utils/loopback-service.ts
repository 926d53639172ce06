import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

export interface RecordedRequest {
  method: string;
  /** The path without the query. */
  path: string;
  apiVersion: string | null;
  /** The bearer token of `Authorization`, if any. */
  bearer: string | undefined;
  /** The full URL the SDK addressed (the audience of its token). */
  url: string;
  body: string;
}

export interface RecordedUpgrade {
  path: string;
  accessToken: string | null;
  protocols: string | undefined;
}

/**
 * A stand-in for the service on loopback: records what the SDK sends to its REST API (answering
 * `202`) and accepts WebSocket clients (answering with the `connected` system message).
 */
export class LoopbackService {
  readonly requests: RecordedRequest[] = [];
  readonly upgrades: RecordedUpgrade[] = [];
  private readonly server: Server;
  private readonly sockets = new WebSocketServer({ noServer: true });
  private readonly clients = new Set<WebSocket>();

  private constructor() {
    this.server = createServer((req, res) => this.record(req, res));
    this.server.on('upgrade', (req, socket, head) => {
      const url = new URL(req.url ?? '/', this.endpoint);
      this.upgrades.push({
        path: url.pathname,
        accessToken: url.searchParams.get('access_token'),
        protocols: req.headers['sec-websocket-protocol'] as string | undefined,
      });
      this.sockets.handleUpgrade(req, socket, head, ws => {
        this.clients.add(ws);
        ws.send(
          JSON.stringify({
            type: 'system',
            event: 'connected',
            userId: 'from-token',
            connectionId: 'loopback-connection',
          }),
        );
      });
    });
  }

  static async start(): Promise<LoopbackService> {
    const service = new LoopbackService();
    await new Promise<void>(resolve => service.server.listen(0, '127.0.0.1', resolve));
    return service;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    for (const ws of this.clients) ws.terminate();
    this.sockets.close();
    this.server.closeAllConnections();
    await new Promise<void>(resolve => this.server.close(() => resolve()));
  }

  private record(req: IncomingMessage, res: import('node:http').ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', chunk => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', this.endpoint);
      const authorization = req.headers.authorization;
      this.requests.push({
        method: req.method ?? '',
        path: url.pathname,
        apiVersion: url.searchParams.get('api-version'),
        bearer: authorization?.startsWith('Bearer ') ? authorization.slice(7) : undefined,
        url: url.href,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      res.statusCode = 202;
      res.end();
    });
  }
}
