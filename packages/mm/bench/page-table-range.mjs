#!/usr/bin/env node
// page-table-range: what munmap's range walk costs. A storm's page tables (threads of 1024 faults 1 GiB apart, each
// in its own 1 TiB VMA: a PMD, a PTE table and a page per fault) in tables of 2^16 and 2^18 slots; per munmap of one
// thread's VMA, countWithin plus within through the hash's per-PGD-entry index, beside two scans of every slot of
// the same table (what the hash did before the index: one to count, one to collect), in the same run; then dense
// VMAs side by side in one PGD entry, where the hash looks up the range's possible keys instead of walking the
// entry's list. Medians of 5 rounds of 20 munmaps.
// Usage (after a build): node packages/mm/bench/page-table-range.mjs
import os from 'node:os';
import { keyAddress, keyLevel, PageTableHash, pageTableKey, pageTableWords } from '../dist/page-table.js';

const SPAN = [0, 2 ** 39, 2 ** 30, 2 ** 21, 2 ** 12];
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
/** A munmap's cost: the median of 5 rounds of 20 calls of fn, in ms per call. */
const time = (fn) =>
  median(
    Array.from({ length: 5 }, () => {
      const t0 = performance.now();
      for (let r = 0; r < 20; r++) fn();
      return (performance.now() - t0) / 20;
    }),
  );

/** The scan the index replaced: every slot, the same test. */
function scan(m, slots, start, end) {
  const out = [];
  for (let i = 0; i < slots; i++) {
    const k = m[2 * i];
    if (k === 0) continue;
    const a = keyAddress(k);
    if (a >= start && a + SPAN[keyLevel(k)] <= end) out.push({ key: k, pfn: m[2 * i + 1] });
  }
  return out.sort((x, y) => x.key - y.key);
}

console.log(`page-table range walk: node ${process.version}, ${os.cpus()[0]?.model.trim()}, medians of 5 x 20 munmaps`);
for (const [slots, threads] of [
  [65_536, 6],
  [262_144, 30],
]) {
  const m = new Float64Array(pageTableWords(slots));
  const h = new PageTableHash(m, 0, slots);
  let entries = 0;
  for (let t = 0; t < threads; t++) {
    for (let i = 0; i < 1024 && entries + 3 < slots * 0.45; i++, entries += 3) {
      const a = 2 ** 44 + t * 2 ** 40 + i * 2 ** 30;
      for (const level of [2, 3, 4]) h.insert(pageTableKey(level, a), level);
    }
  }
  const start = 2 ** 44 + 2 * 2 ** 40;
  const end = start + 2 ** 40;
  const found = h.within(start, end).length;
  if (scan(m, slots, start, end).length !== found) throw new Error('the index and the scan disagree');
  const indexMs = time(() => h.countWithin(start, end) + h.within(start, end).length);
  const scanMs = time(() => scan(m, slots, start, end).length + scan(m, slots, start, end).length);
  console.log(
    `${slots} slots, ${entries} entries, ${found} in the range: index ${indexMs.toFixed(2)} ms, ` +
      `full scan ${scanMs.toFixed(2)} ms per munmap (${(scanMs / indexMs).toFixed(1)}x)`,
  );
}

// Dense VMAs side by side in one PGD entry (pft's shape: each thread's region of pages, all under one entry): a
// munmap of one looks up the keys its range could hold instead of walking the entry's whole list.
for (const [threads, pages] of [
  [16, 512],
  [64, 512],
  [8, 4096],
]) {
  const slots = 2 ** Math.ceil(Math.log2(threads * pages * 3));
  const m = new Float64Array(pageTableWords(slots));
  const h = new PageTableHash(m, 0, slots);
  for (let t = 0; t < threads; t++) {
    for (let p = 0; p < pages; p++) {
      const a = 2 ** 44 + t * pages * 4096 * 2 + p * 4096;
      for (const level of [2, 3, 4]) if (h.get(pageTableKey(level, a)) < 0) h.insert(pageTableKey(level, a), level);
    }
  }
  const start = 2 ** 44 + 3 * pages * 4096 * 2;
  const end = start + pages * 4096;
  const found = h.within(start, end).length;
  if (scan(m, slots, start, end).length !== found) throw new Error('the lookups and the scan disagree');
  const lookupMs = time(() => h.countTablesWithin(start, end) + h.within(start, end).length);
  const scanMs = time(() => scan(m, slots, start, end).length + scan(m, slots, start, end).length);
  console.log(
    `dense: ${threads} VMAs of ${pages} pages in one PGD entry, ${found} in the range: lookups ` +
      `${lookupMs.toFixed(3)} ms, full scan ${scanMs.toFixed(2)} ms per munmap (${(scanMs / lookupMs).toFixed(1)}x)`,
  );
}
