// The node's LRU (lru.ts): clean file pages reclaimed oldest first, dirty ones rotated and written back by kswapd
// only, anonymous pages never taken, counts kept per kind and per zone, and a page that leaves the list while under
// writeback and comes back later starts afresh.
import { describe, expect, it } from 'vitest';
import { NodeLru } from '../dist/lru.js';
import { LRU_ANON, LRU_FILE, LRU_FILE_DIRTY } from '../dist/layout.js';

const WB = 1_000; // writeback time, ns

describe('NodeLru', () => {
  it('takes clean file pages oldest first, rotates dirty ones and skips anonymous ones', () => {
    const lru = new NodeLru((pfn) => (pfn < 100 ? 0 : 1), 2);
    lru.add(1, LRU_FILE, 7);
    lru.add(2, LRU_FILE_DIRTY, 7);
    lru.add(3, LRU_ANON, 7);
    lru.add(150, LRU_FILE, 8);
    expect(lru.counts).toEqual([2, 1, 1]);
    expect(lru.fileByZone).toEqual([2, 1]);
    const direct = lru.reclaim(10, 10, false, 0, WB); // direct reclaim writes nothing back
    expect(direct).toEqual({ pfns: [1, 150], scanned: 3, writebacksStarted: 0 });
    expect(lru.kindOf(2)).toBe(LRU_FILE_DIRTY);
    expect(lru.reclaimable()).toBe(1);
    const kswapd = lru.reclaim(10, 10, true, 0, WB); // kswapd starts the dirty page's writeback
    expect(kswapd).toEqual({ pfns: [], scanned: 1, writebacksStarted: 1 });
    lru.advance(WB - 1);
    expect(lru.kindOf(2)).toBe(LRU_FILE_DIRTY);
    lru.advance(WB);
    expect(lru.kindOf(2)).toBe(LRU_FILE);
    expect(lru.reclaim(10, 10, false, WB, WB).pfns).toEqual([2]);
    expect(lru.counts).toEqual([0, 0, 1]);
    expect(lru.kindOf(3)).toBe(LRU_ANON);
  });

  it('forgets the writeback of a page that left the list: back as anonymous, it stays anonymous', () => {
    const lru = new NodeLru();
    lru.add(5, LRU_FILE_DIRTY, 1);
    expect(lru.reclaim(1, 1, true, 0, WB).writebacksStarted).toBe(1);
    expect(lru.delete(5)).toBe(true);
    lru.add(5, LRU_ANON, 2); // freed, allocated again, added as an anonymous page
    lru.advance(2 * WB);
    expect(lru.kindOf(5)).toBe(LRU_ANON);
    expect(lru.counts).toEqual([0, 0, 1]);
  });

  it("reclaims a memcg's own pages in the order they were added, leaving others'", () => {
    const lru = new NodeLru();
    for (let pfn = 0; pfn < 6; pfn++) lru.add(pfn, LRU_FILE, pfn % 2);
    const out = lru.reclaimOwned(2, 10, new Set([1]));
    expect(out.pfns).toEqual([1, 3]);
    expect(lru.has(0) && lru.has(5) && !lru.has(1) && !lru.has(3)).toBe(true);
  });

  it('keeps the order pages were added in: one that left and came back is at the tail; arrays grow past the size', () => {
    const lru = new NodeLru(() => 0, 1, 4);
    for (const pfn of [3, 1, 2, 70]) lru.add(pfn, LRU_FILE, 1);
    lru.delete(1);
    lru.add(1, LRU_FILE, 1);
    expect(lru.reclaimOwned(10, 10, new Set([1])).pfns).toEqual([3, 2, 70, 1]);
    expect(lru.has(70) || lru.has(1)).toBe(false);
    expect(lru.kindOf(1_000_000)).toBe(-1);
    expect(lru.delete(-1)).toBe(false);
  });

  it('refuses a page already on the list', () => {
    const lru = new NodeLru();
    lru.add(9, LRU_FILE, -1);
    expect(() => lru.add(9, LRU_FILE, -1)).toThrow(/already on the LRU/);
  });
});
