/**
 * `TrafficLog`, the record of every message the live view shows: it keeps the newest records,
 * numbered, and tells its listeners; long bodies are cut saying how long they were, short ones kept
 * as they are; a one-line preview is derived from the request body unless one is given; its ring
 * stays in order past many wraps and keeps nothing with capacity 0; durations are measured to the
 * microsecond.
 */
import {
  dataBody,
  elapsedMs,
  mediaBody,
  PREVIEW_CHARS,
  TrafficLog,
  utf8Body,
} from '../../lib/emulator/traffic-log.js';

describe('TrafficLog', () => {
  it('keeps the newest records, numbered, and tells its listeners', () => {
    const log = new TrafficLog(3);
    const seen: number[] = [];
    const unsubscribe = log.subscribe(record => seen.push(record.id));
    expect(log.listenerCount).toBe(1);
    for (let i = 0; i < 5; i++) log.record({ kind: 'rest', hub: 'chat', action: `op-${i}` });
    expect(log.snapshot().map(r => r.action)).toEqual(['op-2', 'op-3', 'op-4']);
    expect(seen).toEqual([1, 2, 3, 4, 5]);
    unsubscribe();
    expect(log.listenerCount).toBe(0);
  });

  it('cuts long bodies, saying how long they were, and keeps short ones as they are', () => {
    const log = new TrafficLog(10, 8);
    const record = log.record({
      kind: 'upstream',
      hub: 'chat',
      action: 'message',
      request: { headers: { a: 'b' }, body: '0123456789abc' },
      response: { headers: {}, body: 'short' },
    });
    expect(record.request).toEqual({
      headers: { a: 'b' },
      body: '01234567\n… (13 characters, cut at 8)',
    });
    expect(record.response).toEqual({ headers: {}, body: 'short' });
    expect(log.snapshot()[0]).toBe(record);
  });

  it('clips bodies given as bytes once, with the same marker, decoding only what it keeps', () => {
    const log = new TrafficLog(10, 12);
    const body = (given: Parameters<typeof log.record>[0]['request']) =>
      log.record({ kind: 'rest', hub: 'chat', action: 'send', request: given }).request?.body;
    const bytes = (text: string) => Buffer.from(text, 'utf8');
    expect(body({ headers: {}, body: utf8Body(bytes('0123456789abcdef')) })).toBe(
      '0123456789ab\n… (16 bytes, cut at 12)',
    );
    // Exactly the limit is kept whole; so is a short body.
    expect(body({ headers: {}, body: utf8Body(bytes('0123456789ab')) })).toBe('0123456789ab');
    expect(body({ headers: {}, body: dataBody('json', bytes('{"a":1}')) })).toBe('{"a":1}');
    // Base64 is clipped as it is shown: the prefix counts.
    expect(
      body({ headers: {}, body: mediaBody(bytes('abcdefgh'), 'application/octet-stream') }),
    ).toBe('base64:YWJjZ\n… (8 bytes, cut at 12)');
    expect(body({ headers: {}, body: mediaBody(bytes('ab'), undefined) })).toBe('base64:YWI=');
    expect(body({ headers: {}, body: mediaBody(bytes('abc'), 'text/plain; charset=utf-8') })).toBe(
      'abc',
    );
    // Printable binary data as text, anything else as base64.
    expect(body({ headers: {}, body: dataBody('binary', bytes('hi')) })).toBe('hi');
    expect(body({ headers: {}, body: dataBody('binary', Buffer.from([7, 8])) })).toBe(
      'base64:Bwg=',
    );
    // A character split by the cut is not shown as a replacement character.
    const many = new TrafficLog(10, 3);
    const cut = many.record({
      kind: 'client',
      hub: 'chat',
      action: 'message',
      request: { headers: {}, body: dataBody('binary', bytes('ééééééééééé')) },
    });
    expect(cut.request?.body).toBe('ééé\n… (22 bytes, cut at 3)');
    // The preview is taken from the body as given, not from the clipped one.
    expect(cut.preview).toBe('ééééééééééé');
    // No bytes, no body.
    expect(
      body({ headers: { a: 'b' }, body: mediaBody(Buffer.alloc(0), undefined) }),
    ).toBeUndefined();
  });

  it('derives a one-line preview from the request body unless one is given', () => {
    const log = new TrafficLog(10);
    const spaced = log.record({
      kind: 'client',
      hub: 'chat',
      action: 'sendToGroup',
      request: { headers: {}, body: '{\n  "a":\t1 }' },
    });
    expect(spaced.preview).toBe('{ "a": 1 }');
    const long = log.record({
      kind: 'rest',
      hub: 'chat',
      action: 'sendToAll',
      request: { headers: {}, body: 'y'.repeat(PREVIEW_CHARS + 1) },
    });
    expect(long.preview).toBe(`${'y'.repeat(PREVIEW_CHARS - 1)}…`);
    expect(
      log.record({ kind: 'client', hub: 'chat', action: 'joinGroup' }).preview,
    ).toBeUndefined();
    const given = log.record({ kind: 'client', hub: 'chat', action: 'publish', preview: 'own' });
    expect(given.preview).toBe('own');
  });

  it('keeps its ring in order past many wraps, and keeps nothing with capacity 0', () => {
    const log = new TrafficLog(4);
    for (let i = 0; i < 1003; i++) log.record({ kind: 'rest', hub: 'chat', action: `op-${i}` });
    expect(log.snapshot().map(r => r.action)).toEqual(['op-999', 'op-1000', 'op-1001', 'op-1002']);
    const none = new TrafficLog(0);
    let heard = 0;
    none.subscribe(() => heard++);
    none.record({ kind: 'rest', hub: 'chat', action: 'x' });
    expect(none.snapshot()).toEqual([]);
    expect(heard).toBe(1);
  });

  it('measures durations to the microsecond, not the millisecond', () => {
    // 12.3456 µs: a millisecond clock would say 0; the log keeps three decimals of a millisecond.
    expect(elapsedMs(1000, 1000.0123456)).toBe(0.012);
    expect(elapsedMs(1000, 1002.5004)).toBe(2.5);
    expect(elapsedMs(1000, 1000.0016)).toBe(0.002);
    // Without a clock reading it measures from now.
    expect(elapsedMs(performance.now())).toBeGreaterThanOrEqual(0);
  });
});
