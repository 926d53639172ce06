import { TrafficLog } from '../../lib/emulator/traffic-log.js';

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
});
