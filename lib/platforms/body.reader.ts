import type { IncomingMessage } from 'node:http';
import { ProtocolError } from '../protocol/protocol.error.js';

const EMPTY = Buffer.alloc(0);

/** The 413 refusal for a body over `limit` bytes. */
export function bodyTooLarge(limit: number): ProtocolError {
  return new ProtocolError(413, `Request body exceeds the ${limit}-byte limit (maxBodySize)`);
}

/**
 * Reads a request stream that no parser consumed, refusing (413) as soon as it is known to
 * exceed `limit`: at once from `Content-Length`, otherwise while the bytes arrive (chunked).
 */
export function readBoundedBody(stream: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = stream.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit)
    return Promise.reject(bodyTooLarge(limit));
  return new Promise<Buffer>((resolve, reject) => {
    let chunks: Buffer[] | undefined;
    let first: Buffer | undefined;
    let size = 0;
    const cleanup = (): void => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
      stream.off('close', onClose);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        stream.pause();
        reject(bodyTooLarge(limit));
        return;
      }
      if (first === undefined) first = chunk;
      else (chunks ??= [first]).push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(chunks ? Buffer.concat(chunks, size) : (first ?? EMPTY));
    };
    const onError = (): void => {
      cleanup();
      reject(new ProtocolError(400, 'The request body could not be read'));
    };
    const onClose = (): void => {
      cleanup();
      reject(new ProtocolError(400, 'The request was aborted before its body was complete'));
    };
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', onError);
    stream.on('close', onClose);
  });
}

export { EMPTY as EMPTY_BODY };
