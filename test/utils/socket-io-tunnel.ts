/**
 * A tunnel to the emulator's `/server/tunnel` without the SDK, for the specs that send it frames
 * the SDK would not: REST calls it does not make, frames it cannot read.
 */
import WebSocket from 'ws';
import type { RunningEmulator } from '../../lib/emulator/index.js';
import {
  decodeTunnelFrame,
  encodeTunnelFrame,
  TunnelMessageType,
  type TunnelFrame,
} from '../../lib/emulator/socket-io/tunnel-frame.js';
import { signRestToken } from '../../lib/protocol/client-access-token.js';

export interface RawTunnel {
  readonly ws: WebSocket;
  /** Every frame the emulator sent, in order. */
  readonly frames: TunnelFrame[];
  readonly url: string;
}

/** A raw tunnel, as useAzureSocketIO would open it, signed with `key`. */
export async function rawTunnel(
  emulator: RunningEmulator,
  hub: string,
  key = emulator.accessKey,
): Promise<RawTunnel> {
  const url = `${emulator.endpoint.replace('http', 'ws')}/server/tunnel?hub=${hub}`;
  const token = await signRestToken({ url, accessKey: key });
  const ws = new WebSocket(`${url}&access_token=${token}`);
  const frames: TunnelFrame[] = [];
  ws.on('message', data => frames.push(decodeTunnelFrame(data as Buffer)));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
  return { ws, frames, url };
}

/** Sends a REST call through a raw tunnel and returns the first response frame. */
export async function tunnelCall(
  tunnel: RawTunnel,
  ackId: number,
  method: string,
  url: string,
  body?: string,
  contentType: string | null = 'text/plain',
): Promise<TunnelFrame> {
  tunnel.ws.send(
    encodeTunnelFrame({
      type: TunnelMessageType.HttpRequest,
      fields: {
        AckId: ackId,
        LocalRouting: true,
        ChannelName: '',
        HttpMethod: method,
        Url: url,
        Headers: contentType === null ? {} : { 'Content-Type': [contentType] },
      },
      content: body === undefined ? undefined : Buffer.from(body),
    }),
  );
  for (let i = 0; i < 100; i++) {
    const frame = tunnel.frames.find(
      f => f.type === TunnelMessageType.HttpResponse && f.fields.AckId === ackId,
    );
    if (frame) return frame;
    await new Promise(resolve => setTimeout(resolve, 20));
  }
  throw new Error(`no response to AckId ${ackId}`);
}
