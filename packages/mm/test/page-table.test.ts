// The page-table hash against a Map under random inserts and removes (backward-shift deletion must keep every
// remaining key reachable, and the per-region range index every remaining entry listed once), with strided
// addresses like the fault storm's; range queries against a scan of the Map.
import { describe, expect, it } from 'vitest';
import seedrandom from 'seedrandom';
import {
  keyAddress,
  keyLevel,
  LEVEL_PAGE,
  LEVEL_PMD,
  LEVEL_PTE,
  LEVEL_PUD,
  PageTableHash,
  pageTableKey,
  pageTableWords,
} from '../src/page-table.js';

const SPAN = [0, 2 ** 39, 2 ** 30, 2 ** 21, 2 ** 12];
/** What within() must return: the Map's entries wholly inside [start, end), by key. */
function brute(ref: Map<number, number>, start: number, end: number): Array<{ key: number; pfn: number }> {
  return [...ref]
    .filter(([k]) => keyAddress(k) >= start && keyAddress(k) + SPAN[keyLevel(k)]! <= end)
    .map(([key, pfn]) => ({ key, pfn }))
    .sort((a, b) => a.key - b.key);
}

describe('PageTableHash', () => {
  it('agrees with a Map through 20,000 random inserts and removes of strided keys', () => {
    const slots = 1024;
    const h = new PageTableHash(new Float64Array(pageTableWords(slots)), 0, slots);
    const ref = new Map<number, number>();
    const rng = seedrandom('page-table-hash');
    const keys: number[] = [];
    for (let i = 0; i < 600; i++) {
      // Spread over several PGD entries (512 GiB each): 600 GiB from 16 TiB, and some far above.
      const address = 2 ** 44 + i * 2 ** 30 + (i % 7 === 0 ? 2 ** 42 : 0) + Math.floor(rng() * 512) * 4096;
      keys.push(pageTableKey(LEVEL_PAGE, address), pageTableKey(LEVEL_PTE, address), pageTableKey(LEVEL_PMD, address));
      if (i % 50 === 0) keys.push(pageTableKey(LEVEL_PUD, address));
    }
    let partial = 0; // queries that found some of the entries, not none or all
    for (let step = 0; step < 20_000; step++) {
      const key = keys[Math.floor(rng() * keys.length)]!;
      if (ref.has(key)) {
        // A present key: insertIfAbsent leaves it and says what is there; then it goes.
        if (step % 3 === 0) expect(h.insertIfAbsent(key, -5)).toBe(ref.get(key));
        expect(h.remove(key)).toBe(ref.get(key));
        ref.delete(key);
      } else if (ref.size < slots - 1) {
        if (step % 2 === 0) h.insert(key, step + 1);
        else expect(h.insertIfAbsent(key, step + 1)).toBe(-1);
        ref.set(key, step + 1);
      }
      if (step % 997 === 0) {
        for (const k of keys) expect(h.get(k)).toBe(ref.get(k) ?? -1);
        // Ranges inside a region, across regions, and the whole address space.
        for (let q = 0; q < 20; q++) {
          const start = 2 ** 44 + Math.floor(rng() * 2 ** 14) * 2 ** 29 * (rng() < 0.5 ? 1 : 0.001);
          const end = q === 0 ? 2 ** 48 : start + Math.floor(rng() * 2 ** 12) * 2 ** 30;
          const from = q === 0 ? 0 : start;
          const want = brute(ref, from, end);
          if (want.length > 0 && want.length < ref.size) partial++;
          expect(h.within(from, end)).toEqual(want);
          expect(Array.from(h.keysWithin(from, end))).toEqual(want.map((e) => e.key));
          expect(h.countWithin(from, end)).toBe(want.length);
        }
      }
    }
    expect(partial).toBeGreaterThan(50);
    expect(h.countWithin(0, 2 ** 48)).toBe(ref.size);
    expect(h.within(0, 2 ** 48).length).toBe(ref.size);
    // exit_mmap's teardown: the page tables by key, then the table empty and usable again.
    const tables = brute(ref, 0, 2 ** 48).filter((e) => keyLevel(e.key) !== LEVEL_PAGE);
    expect(tables.length).toBeGreaterThan(10);
    expect(h.allTablePfns()).toEqual(tables.map((e) => e.pfn));
    h.clear();
    for (const k of keys) expect(h.get(k)).toBe(-1);
    expect(h.countWithin(0, 2 ** 48)).toBe(0);
    h.insert(keys[0]!, 7);
    expect(h.within(0, 2 ** 48)).toEqual([{ key: keys[0], pfn: 7 }]);
  });

  it("finds a dense VMA's entries among many in its PGD entry by looking its keys up, as the region walk would", () => {
    // Eight threads' dense VMAs of 1,000 pages in one PGD entry (a storm's shape): a range of one VMA, or of part
    // of it, holds far fewer possible pages than the region's entries, so the lookups are taken.
    const slots = 32_768;
    const h = new PageTableHash(new Float64Array(pageTableWords(slots)), 0, slots);
    const ref = new Map<number, number>();
    const base = 2 ** 44;
    for (let t = 0; t < 8; t++) {
      for (let p = 0; p < 1000; p++) {
        const a = base + t * 2 ** 32 + p * 4096;
        for (const level of [LEVEL_PMD, LEVEL_PTE, LEVEL_PAGE]) {
          const key = pageTableKey(level, a);
          if (!ref.has(key)) {
            h.insert(key, ref.size + 1);
            ref.set(key, ref.size + 1);
          }
        }
      }
    }
    const rng = seedrandom('dense-ranges');
    for (let q = 0; q < 40; q++) {
      const t = Math.floor(rng() * 8);
      // A whole VMA (with its 2 MiB-aligned PTE tables), or an unaligned piece of one.
      const start = base + t * 2 ** 32 + (q % 2 === 0 ? 0 : Math.floor(rng() * 900) * 4096);
      const end = q % 2 === 0 ? start + 2 ** 22 : start + Math.floor(1 + rng() * 600) * 4096;
      const want = brute(ref, start, end);
      expect(h.within(start, end)).toEqual(want);
      expect(Array.from(h.keysWithin(start, end))).toEqual(want.map((e) => e.key));
      expect(h.countWithin(start, end)).toBe(want.length);
      expect(h.countTablesWithin(start, end)).toBe(want.filter((e) => keyLevel(e.key) !== LEVEL_PAGE).length);
    }
    // Removing one VMA's entries keeps both paths in step.
    for (const e of brute(ref, base, base + 2 ** 32)) {
      h.remove(e.key);
      ref.delete(e.key);
    }
    expect(h.within(base, base + 2 ** 22)).toEqual([]);
    const next = base + 2 ** 32;
    expect(h.within(next, next + 2 ** 22)).toEqual(brute(ref, next, next + 2 ** 22));
    expect(h.countWithin(0, 2 ** 48)).toBe(ref.size);
  });

  it("spreads a storm's data pages, which share their low address bits, over the table", () => {
    const slots = 4096;
    const h = new PageTableHash(new Float64Array(pageTableWords(slots)), 0, slots);
    const homes = new Set<number>();
    for (let i = 0; i < 1024; i++)
      homes.add((h as unknown as { home(k: number): number }).home(pageTableKey(LEVEL_PAGE, 2 ** 44 + i * 2 ** 30)));
    expect(homes.size).toBeGreaterThan(600);
  });
});
