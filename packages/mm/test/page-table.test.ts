// The page-table hash against a Map under random inserts and removes (backward-shift deletion must keep every
// remaining key reachable), with strided addresses like the fault storm's.
import { describe, expect, it } from 'vitest';
import seedrandom from 'seedrandom';
import { LEVEL_PAGE, LEVEL_PMD, LEVEL_PTE, PageTableHash, pageTableKey } from '../src/page-table.js';

describe('PageTableHash', () => {
  it('agrees with a Map through 20,000 random inserts and removes of strided keys', () => {
    const slots = 1024;
    const h = new PageTableHash(new Float64Array(slots * 2), 0, slots);
    const ref = new Map<number, number>();
    const rng = seedrandom('page-table-hash');
    const keys: number[] = [];
    for (let i = 0; i < 600; i++) {
      const address = 2 ** 44 + i * 2 ** 30 + Math.floor(rng() * 512) * 4096;
      keys.push(pageTableKey(LEVEL_PAGE, address), pageTableKey(LEVEL_PTE, address), pageTableKey(LEVEL_PMD, address));
    }
    for (let step = 0; step < 20_000; step++) {
      const key = keys[Math.floor(rng() * keys.length)]!;
      if (ref.has(key)) {
        expect(h.remove(key)).toBe(ref.get(key));
        ref.delete(key);
      } else if (ref.size < slots - 1) {
        h.insert(key, step + 1);
        ref.set(key, step + 1);
      }
      if (step % 997 === 0) for (const k of keys) expect(h.get(k)).toBe(ref.get(k) ?? -1);
    }
    expect(h.countWithin(0, 2 ** 48)).toBe(ref.size);
    expect(h.within(0, 2 ** 48).length).toBe(ref.size);
  });

  it('spreads a storm\'s data pages, which share their low address bits, over the table', () => {
    const slots = 4096;
    const h = new PageTableHash(new Float64Array(slots * 2), 0, slots);
    const homes = new Set<number>();
    for (let i = 0; i < 1024; i++) homes.add((h as unknown as { home(k: number): number }).home(pageTableKey(LEVEL_PAGE, 2 ** 44 + i * 2 ** 30)));
    expect(homes.size).toBeGreaterThan(600);
  });
});
