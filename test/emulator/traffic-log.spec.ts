/**
 * `TrafficLog`, the record of every message the live view shows: it keeps the newest records,
 * numbered, and tells its listeners; long bodies are cut saying how long they were, short ones kept
 * as they are; a one-line preview is derived from the request body unless one is given; its ring
 * stays in order past many wraps and keeps nothing with capacity 0; durations are measured to the
 * microsecond.
 */
import { elapsedMs, PREVIEW_CHARS, TrafficLog } from '../../lib/emulator/traffic-log.js';

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
