/**
 * `MemoryDeduplicationStore`: an entry is forgotten once its TTL has passed, and at most
 * `maxEntries` are kept, the oldest forgotten first.
 */
import { MemoryDeduplicationStore } from '../../../lib/deduplication/memory-deduplication.store.js';

describe('MemoryDeduplicationStore', () => {
  const response = { status: 200, headers: {}, body: 'eA==' };

  it('forgets an entry once its TTL has passed', () => {
    let now = 1000;
    const store = new MemoryDeduplicationStore(10, () => now);
    store.set('a', response, 500);
    now = 1499;
    expect(store.get('a')).toEqual(response);
    now = 1500;
    expect(store.get('a')).toBeUndefined();
    expect(store.size).toBe(0);
  });

  it('keeps at most maxEntries, forgetting the oldest first', () => {
    const store = new MemoryDeduplicationStore(3);
    for (const key of ['a', 'b', 'c', 'd']) store.set(key, response, 60_000);
    expect(store.size).toBe(3);
    expect(store.get('a')).toBeUndefined();
    expect(store.get('d')).toEqual(response);
  });
});
