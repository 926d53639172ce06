/**
 * Clients that say exactly what a spec tells them to, for the emulator under hostile input: signed
 * raw REST calls (from any loopback address), raw MQTT over WebSocket (bytes in, packets out),
 * and nested JSON.
 */
import { connect, type Socket } from 'node:net';
import { SignJWT } from 'jose';
import mqttPacket, { type Packet } from 'mqtt-packet';
import WebSocket from 'ws';

/** `[[[…1…]]]`, `depth` arrays deep. */
export function nestedJson(depth: number): string {
  return `${'['.repeat(depth)}1${']'.repeat(depth)}`;
}

/** A REST bearer token for `url` (the SDK's audience: the whole request URL). */
export function restToken(url: string, accessKey: string): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt()
    .setAudience(url)
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(accessKey));
}

export interface RawAnswer {
  /** 0 when the connection closed without a status line. */
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
  /** When the answer (or the close) came, in ms after the request started. */
  readonly afterMs: number;
}

/** Reads one HTTP answer (or the close) from a raw socket. */
export function readAnswer(socket: Socket, started = Date.now()): Promise<RawAnswer> {
  return new Promise(resolve => {
    const chunks: Buffer[] = [];
    socket.on('data', chunk => chunks.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const end = text.indexOf('\r\n\r\n');
      const head = end < 0 ? text : text.slice(0, end);
      const [statusLine, ...lines] = head.split('\r\n');
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '');
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      resolve({
        status: match ? Number(match[1]) : 0,
        headers,
        body: end < 0 ? '' : text.slice(end + 4),
        afterMs: Date.now() - started,
      });
    });
  });
}

/** Opens a TCP connection to the emulator from `localAddress` (any 127.x.y.z is loopback). */
export function rawSocket(port: number, localAddress = '127.0.0.1'): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', localAddress });
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/**
 * One signed REST request on its own connection (`Connection: close`), written as given: the
 * answer, or status 0 if the emulator closed without one.
 */
export async function restCall(
  port: number,
  accessKey: string,
  request: {
    method: string;
    path: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
    localAddress?: string;
    signed?: boolean;
  },
): Promise<RawAnswer> {
  const host = `127.0.0.1:${port}`;
  const body = typeof request.body === 'string' ? Buffer.from(request.body, 'utf8') : request.body;
  const headers: Record<string, string> = {
    host,
    connection: 'close',
    'content-length': String(body?.length ?? 0),
    ...request.headers,
  };
  if (request.signed !== false) {
    headers.authorization = `Bearer ${await restToken(`http://${host}${request.path}`, accessKey)}`;
  }
  const socket = await rawSocket(port, request.localAddress);
  const started = Date.now();
  const answer = readAnswer(socket, started);
  const head =
    `${request.method} ${request.path} HTTP/1.1\r\n` +
    Object.entries(headers)
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('') +
    '\r\n';
  socket.write(head);
  if (body) socket.write(body);
  return answer;
}

/** A raw MQTT-over-WebSocket client: writes any bytes, frame by frame, and decodes what comes back. */
export class RawMqtt {
  readonly packets: (Packet & Record<string, any>)[] = [];
  readonly ws: WebSocket;
  readonly opened: Promise<void>;
  readonly closed: Promise<number>;
  #parser: ReturnType<typeof mqttPacket.parser>;
  #waiters: { test(packet: Packet & Record<string, any>): boolean; resolve(): void }[] = [];

  constructor(
    url: string,
    readonly protocolVersion: 4 | 5,
  ) {
    this.ws = new WebSocket(url, 'mqtt');
    this.#parser = mqttPacket.parser({ protocolVersion });
    this.#parser.on('packet', packet => {
      this.packets.push(packet as Packet & Record<string, any>);
      this.#waiters = this.#waiters.filter(waiter => {
        if (!waiter.test(packet as Packet & Record<string, any>)) return true;
        waiter.resolve();
        return false;
      });
    });
    this.#parser.on('error', () => undefined);
    this.ws.on('message', (data: Buffer) => this.#parser.parse(data));
    this.ws.on('error', () => undefined);
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('unexpected-response', (_req, res) => reject(new Error(`${res.statusCode}`)));
    });
    this.closed = new Promise(resolve => this.ws.once('close', code => resolve(code)));
  }

  /** Encodes packets for this client's version. */
  encode(...packets: Packet[]): Buffer {
    return Buffer.concat(
      packets.map(packet => mqttPacket.generate(packet, { protocolVersion: this.protocolVersion })),
    );
  }

  /** The CONNECT packet a spec starts with. */
  connectPacket(clientId: string, properties?: Record<string, unknown>): Packet {
    return {
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: this.protocolVersion,
      clean: true,
      clientId,
      keepalive: 60,
      ...(properties && this.protocolVersion === 5 ? { properties } : {}),
    } as Packet;
  }

  send(bytes: Buffer): void {
    this.ws.send(bytes, { binary: true });
  }

  /** Resolves when a packet matching `test` has come (or has already come). */
  packet(
    test: (packet: Packet & Record<string, any>) => boolean,
    timeoutMs = 3000,
  ): Promise<Packet & Record<string, any>> {
    const found = this.packets.find(test);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no matching packet in ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.#waiters.push({
        test,
        resolve: () => {
          clearTimeout(timer);
          resolve(this.packets.find(test) as Packet & Record<string, any>);
        },
      });
    });
  }

  close(): void {
    this.ws.terminate();
  }
}

/** A raw PUBLISH packet with `topic` bytes as given (no UTF-8 check), QoS and packet id as given. */
export function rawPublish(
  topic: Buffer,
  payload: Buffer,
  options: { qos?: number; messageId?: number; protocolVersion: 4 | 5 },
): Buffer {
  const qos = options.qos ?? 0;
  const parts: Buffer[] = [];
  const length = Buffer.alloc(2);
  length.writeUInt16BE(topic.length);
  parts.push(length, topic);
  if (qos > 0) {
    const id = Buffer.alloc(2);
    id.writeUInt16BE(options.messageId ?? 1);
    parts.push(id);
  }
  if (options.protocolVersion === 5) parts.push(Buffer.from([0])); // no properties
  parts.push(payload);
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([0x30 | (qos << 1)]), remainingLength(body.length), body]);
}

/** A raw SUBSCRIBE or UNSUBSCRIBE with the given packet id and topic filters (possibly none). */
export function rawSubscribe(
  kind: 'subscribe' | 'unsubscribe',
  messageId: number,
  filters: Buffer[],
  protocolVersion: 4 | 5,
): Buffer {
  const parts: Buffer[] = [];
  const id = Buffer.alloc(2);
  id.writeUInt16BE(messageId);
  parts.push(id);
  if (protocolVersion === 5) parts.push(Buffer.from([0]));
  for (const filter of filters) {
    const length = Buffer.alloc(2);
    length.writeUInt16BE(filter.length);
    parts.push(length, filter);
    if (kind === 'subscribe') parts.push(Buffer.from([0]));
  }
  const body = Buffer.concat(parts);
  const first = kind === 'subscribe' ? 0x82 : 0xa2;
  return Buffer.concat([Buffer.from([first]), remainingLength(body.length), body]);
}

function remainingLength(length: number): Buffer {
  const bytes: number[] = [];
  do {
    let byte = length % 128;
    length = Math.floor(length / 128);
    if (length > 0) byte |= 0x80;
    bytes.push(byte);
  } while (length > 0);
  return Buffer.from(bytes);
}
