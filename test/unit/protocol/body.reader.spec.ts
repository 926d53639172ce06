/**
 * The one bounded body reader (`lib/protocol/body.reader.ts`), which the module's Express platform,
 * the emulator's REST API and its Engine.IO long-polling POSTs all use:
 * - a body over the limit is refused 413, at once from `Content-Length` (nothing read) or as soon
 *   as the bytes arriving pass it; what comes after is drained and dropped (nothing buffered);
 * - a body of exactly the limit is read whole, in one chunk or many;
 * - with a deadline, a body slower than the minimum rate after the grace period is refused 408,
 *   naming what arrived in how long; one that keeps pace is read; without one, nothing times out;
 * - a stream cut off before its end is refused 400 (aborted), one that errors 400 (unreadable);
 * - whatever the outcome, no listener of the reader and no timer stays behind.
 */
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import type { IncomingHttpHeaders } from 'node:http';
import { PassThrough } from 'node:stream';
import {
  BodyReadError,
  readBoundedBody,
  type BodyStream,
} from '../../../lib/protocol/body.reader.js';
import { ProtocolError } from '../../../lib/protocol/protocol.error.js';

const EVENTS = ['data', 'end', 'error', 'close'] as const;

/** A request-like stream: headers, and `complete` set once its end has come, as Node does. */
class FakeRequest extends PassThrough {
  complete = false;
  constructor(readonly headers: IncomingHttpHeaders = {}) {
    super();
  }
  finish(last?: Buffer): void {
    this.complete = true;
    this.end(last);
  }
}

function listeners(stream: BodyStream): number[] {
  return EVENTS.map(event => stream.listenerCount(event));
}

async function refusal(read: Promise<Buffer>): Promise<BodyReadError> {
  const error = await read.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(BodyReadError);
  expect(error).toBeInstanceOf(ProtocolError);
  return error as BodyReadError;
}

describe('readBoundedBody', () => {
  it('refuses a declared Content-Length over the limit at once, reading nothing (413)', async () => {
    const stream = new FakeRequest({ 'content-length': '11' });
    const before = listeners(stream);
    const error = await refusal(readBoundedBody(stream, { limit: 10, limitName: 'maxBodySize' }));
    expect([error.problem, error.status, error.message]).toEqual([
      'too-large',
      413,
      'Request body exceeds the 10-byte limit (maxBodySize)',
    ]);
    expect(listeners(stream)).toEqual(before);
    expect(stream.readableFlowing).toBeNull();
  });

  it('refuses a chunked body as soon as it passes the limit, then drains and drops the rest', async () => {
    const stream = new FakeRequest();
    const before = listeners(stream);
    const read = readBoundedBody(stream, { limit: 10 });
    stream.write(Buffer.alloc(6));
    stream.write(Buffer.alloc(5));
    const error = await refusal(read);
    expect([error.problem, error.status, error.message]).toEqual([
      'too-large',
      413,
      'Request body exceeds the 10-byte limit',
    ]);
    expect(listeners(stream)).toEqual(before);
    // What the client goes on sending is read and thrown away: nothing piles up.
    for (let i = 0; i < 100; i++) stream.write(Buffer.alloc(64 * 1024));
    await new Promise(resolve => setImmediate(resolve));
    expect(stream.readableFlowing).toBe(true);
    expect(stream.readableLength).toBe(0);
  });

  it('reads a body of exactly the limit, declared or in many chunks', async () => {
    const declared = new FakeRequest({ 'content-length': '10' });
    const one = readBoundedBody(declared, { limit: 10 });
    declared.finish(Buffer.from('0123456789'));
    expect((await one).toString()).toBe('0123456789');

    const chunked = new FakeRequest();
    const before = listeners(chunked);
    const many = readBoundedBody(chunked, { limit: 10 });
    for (const piece of ['012', '3456', '789']) chunked.write(Buffer.from(piece));
    chunked.finish();
    expect((await many).toString()).toBe('0123456789');
    expect(listeners(chunked)).toEqual(before);
  });

  it('reads an empty body', async () => {
    const stream = new FakeRequest({ 'content-length': '0' });
    const read = readBoundedBody(stream, { limit: 0 });
    stream.finish();
    expect((await read).length).toBe(0);
  });

  describe('with a deadline', () => {
    beforeEach(() => {
      jest.useFakeTimers();
    });
    afterEach(() => {
      jest.useRealTimers();
    });

    const deadline = { gracePeriodMs: 5_000, minBytesPerSecond: 240 };

    it('refuses a body slower than the minimum rate once the grace period is over (408)', async () => {
      const stream = new FakeRequest({ 'content-length': '1000' });
      const before = listeners(stream);
      const refused = refusal(readBoundedBody(stream, { limit: 10_000, deadline }));
      stream.write(Buffer.alloc(9));
      await jest.advanceTimersByTimeAsync(5_000);
      const error = await refused;
      expect([error.problem, error.status, error.message]).toEqual([
        'too-slow',
        408,
        'The body did not arrive in time: 9 of 1000 bytes in 5000 ms (at least 240 bytes/s once 5000 ms have passed)',
      ]);
      expect(listeners(stream)).toEqual(before);
      expect(jest.getTimerCount()).toBe(0);
    });

    it('reads a body that keeps pace past the grace period, and leaves no timer behind', async () => {
      const stream = new FakeRequest();
      const read = readBoundedBody(stream, { limit: 10_000, deadline });
      for (let second = 0; second < 8; second++) {
        stream.write(Buffer.alloc(300));
        await jest.advanceTimersByTimeAsync(1_000);
      }
      stream.finish();
      expect((await read).length).toBe(2_400);
      expect(jest.getTimerCount()).toBe(0);
    });

    it('sets no timer without a deadline', async () => {
      const stream = new FakeRequest();
      const read = readBoundedBody(stream, { limit: 10 });
      expect(jest.getTimerCount()).toBe(0);
      await jest.advanceTimersByTimeAsync(600_000);
      stream.finish(Buffer.from('late'));
      expect((await read).toString()).toBe('late');
    });
  });

  it('refuses a stream cut off before its end (400, aborted), and one that fails (400, unreadable)', async () => {
    const cut = new FakeRequest();
    const before = listeners(cut);
    const aborted = readBoundedBody(cut, {
      limit: 10,
      deadline: { gracePeriodMs: 60_000, minBytesPerSecond: 1 },
    });
    cut.write(Buffer.from('abc'));
    cut.destroy();
    const abortedError = await refusal(aborted);
    expect([abortedError.problem, abortedError.status]).toEqual(['aborted', 400]);
    expect(abortedError.message).toBe('The request was aborted before its body was complete');
    expect(listeners(cut)).toEqual(before);

    const failing = new FakeRequest();
    const unreadable = readBoundedBody(failing, { limit: 10 });
    failing.destroy(new Error('socket hang up'));
    const unreadableError = await refusal(unreadable);
    expect([unreadableError.problem, unreadableError.status]).toEqual(['unreadable', 400]);
    expect(unreadableError.message).toBe('The request body could not be read');
  });
});
