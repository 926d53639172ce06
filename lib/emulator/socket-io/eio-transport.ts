/**
 * Writing Engine.IO packets to a client's transport, and reading what it sends: one long-polling
 * answer (a payload), WebSocket frames (one packet each), the 400 of a poll that cannot be served,
 * a frame's bytes, and what a queued packet weighs.
 */
import type { ServerResponse } from 'node:http';
import type { WebSocket } from 'ws';
import { encodeEioFrame, encodeEioPayload, type EioPacket } from './packets.js';

/** Answers a long-polling GET with `packets`, as one payload. */
export function writePayload(res: ServerResponse, packets: EioPacket[]): void {
  const body = Buffer.from(encodeEioPayload(packets), 'utf8');
  res.writeHead(200, {
    'content-type': 'text/plain; charset=UTF-8',
    'content-length': String(body.length),
    'cache-control': 'no-store',
  });
  res.end(body);
}

/** Sends `packets` over a WebSocket, one frame each. */
export function sendFrames(ws: WebSocket, packets: EioPacket[]): void {
  for (const packet of packets) ws.send(encodeEioFrame(packet));
}

export function badRequest(res: ServerResponse): void {
  const body = JSON.stringify({ code: 3, message: 'Bad request' });
  res.writeHead(400, { 'content-type': 'application/json' });
  res.end(body);
}

/** The bytes of a WebSocket message, however `ws` delivered them. */
export function toBuffer(data: unknown): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data as Buffer[]);
  return Buffer.from(data as ArrayBuffer);
}

/** What a packet weighs in a long-polling client's queue. */
export function packetSize(packet: EioPacket): number {
  const data = packet.data as unknown;
  if (typeof data === 'string') return data.length + 1;
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return data.byteLength + 1;
  return 1;
}
