// lru: the node's reclaimable pages, kept by worker 0 (mm/vmscan.c, much simplified: one list per kind, oldest
// first, no active/inactive split). Clean file pages are dropped; dirty file pages must be written back first -
// kswapd starts the writeback and the page becomes clean writebackNs later, direct reclaim passes over them (the
// kernel's direct reclaim does not write pages); anonymous pages would need swap, which the model has not, so they
// are never reclaimed. Pages leave the list when reclaimed or when their owner frees them (lruDel). The list is the
// node's, as the kernel's lruvec is since 4.8, but it counts each zone's file pages (NR_ZONE_INACTIVE_FILE and
// friends), which should_reclaim_retry weighs zone by zone. Pages are kept in arrays indexed by pfn, threaded into
// one list in the order they were added (what the kernel's list_head in struct page gives it): an add or a delete
// costs a few array writes and no allocation, which matters to the prefill's tens of thousands of adds at start.
import { LRU_ANON, LRU_FILE, LRU_FILE_DIRTY } from './layout.js';

/** A page on the list, packed in one number so that the list allocates nothing per page: its kind (LRU_FILE,
 * LRU_FILE_DIRTY, LRU_ANON) in the low 2 bits, its zone in the next 6, its owner + 1 above (an owner of -1, the
 * prefill's, is 0; at most RUN_TASKS_MAX owners, so it fits an Int32). When a dirty page under writeback becomes
 * clean is kept apart (`cleanAt`). */
const KIND_MASK = 3;
const ZONE_SHIFT = 2;
const ZONE_MASK = 63;
const OWNER_UNIT = 256;
const pack = (kind: number, zone: number, owner: number) => kind + (zone << ZONE_SHIFT) + (owner + 1) * OWNER_UNIT;
const kindOf = (e: number) => e & KIND_MASK;
const zoneOf = (e: number) => (e >> ZONE_SHIFT) & ZONE_MASK;
const ownerOf = (e: number) => Math.floor(e / OWNER_UNIT) - 1;

export interface ReclaimOutcome {
  readonly pfns: number[];
  readonly scanned: number;
  readonly writebacksStarted: number;
}

/** No page: the end of the list, or a page that is not on it. */
const NONE = -1;

export class NodeLru {
  /** Each pfn's packed entry + 1; 0: not on the list. */
  private entry: Int32Array;
  /** The list in the order pages were added (a page's entry changing in place keeps its place): next and previous
   * pfn, NONE at the ends. */
  private next: Int32Array;
  private prev: Int32Array;
  private first = NONE;
  private last = NONE;
  /** Dirty pages under writeback: when each becomes clean. */
  private readonly cleanAt = new Map<number, number>();
  /** Oldest first; entries of pages that left are skipped when met. */
  private readonly file: number[] = [];
  private fileHead = 0;
  private readonly writeback: number[] = [];
  counts = [0, 0, 0];
  /** File pages (clean and dirty) on the list per zone, lowest zone first. */
  readonly fileByZone: number[];

  /** `zoneOf(pfn)`: the index of the zone a page belongs to (MemoryNode.zoneIndexOf), of `zones` in all; `pages`:
   * the node's page count (the arrays grow past it when a larger pfn comes). */
  constructor(
    private readonly zoneIndexOf: (pfn: number) => number = () => 0,
    zones = 1,
    pages = 0,
  ) {
    if (zones > ZONE_MASK + 1) throw new RangeError(`NodeLru: ${zones} zones; allowed: at most ${ZONE_MASK + 1}`);
    this.fileByZone = new Array<number>(zones).fill(0);
    this.entry = new Int32Array(pages);
    this.next = new Int32Array(pages);
    this.prev = new Int32Array(pages);
  }

  /** The arrays grown to hold `pfn`. */
  private grow(pfn: number): void {
    if (!(Number.isInteger(pfn) && pfn >= 0)) throw new RangeError(`NodeLru: pfn ${pfn}; allowed: integers from 0`);
    if (pfn < this.entry.length) return;
    const size = Math.max(pfn + 1, this.entry.length * 2, 64);
    const grown = (a: Int32Array) => {
      const b = new Int32Array(size);
      b.set(a);
      return b;
    };
    this.entry = grown(this.entry);
    this.next = grown(this.next);
    this.prev = grown(this.prev);
  }

  /** The packed entry of a page, or -1 when it is not on the list. */
  private entryOf(pfn: number): number {
    const v = this.entry[pfn]; // undefined past the end, below 0 or between integers
    return v === undefined ? -1 : v - 1;
  }

  add(pfn: number, kind: number, owner: number): void {
    if (!(pfn < this.entry.length && Number.isInteger(pfn) && pfn >= 0)) this.grow(pfn);
    if (this.entryOf(pfn) >= 0) throw new Error(`pfn ${pfn} is already on the LRU`);
    const z = this.zoneIndexOf(pfn);
    this.entry[pfn] = pack(kind, z, owner) + 1;
    // list_add_tail
    this.prev[pfn] = this.last;
    this.next[pfn] = NONE;
    if (this.last === NONE) this.first = pfn;
    else this.next[this.last] = pfn;
    this.last = pfn;
    this.counts[kind]!++;
    if (kind !== LRU_ANON) {
      this.file.push(pfn);
      this.fileByZone[z]!++;
    }
  }

  delete(pfn: number): boolean {
    const e = this.entryOf(pfn);
    if (e < 0) return false;
    this.entry[pfn] = 0;
    // list_del
    const n = this.next[pfn]!;
    const p = this.prev[pfn]!;
    if (p === NONE) this.first = n;
    else this.next[p] = n;
    if (n === NONE) this.last = p;
    else this.prev[n] = p;
    this.cleanAt.delete(pfn);
    const kind = kindOf(e);
    this.counts[kind]!--;
    if (kind !== LRU_ANON) this.fileByZone[zoneOf(e)]!--;
    return true;
  }

  has(pfn: number): boolean {
    return this.entryOf(pfn) >= 0;
  }

  /** LRU_FILE, LRU_FILE_DIRTY or LRU_ANON; -1 when the page is not on the list. */
  kindOf(pfn: number): number {
    const e = this.entryOf(pfn);
    return e < 0 ? -1 : kindOf(e);
  }

  /** Writebacks that have completed by now turn their pages clean. */
  advance(nowNs: number): void {
    let keep = 0;
    for (const pfn of this.writeback) {
      const e = this.entryOf(pfn);
      if (e < 0) continue;
      const at = this.cleanAt.get(pfn);
      if (at === undefined) continue; // left the list and came back: no longer under writeback
      if (at <= nowNs) {
        this.counts[kindOf(e)]!--;
        this.entry[pfn] = e - kindOf(e) + LRU_FILE + 1;
        this.cleanAt.delete(pfn);
        this.counts[LRU_FILE]!++;
      } else this.writeback[keep++] = pfn;
    }
    this.writeback.length = keep;
  }

  /**
   * Take up to `nr` clean file pages off the list, oldest first, scanning at most `scanMax` entries. A dirty page met
   * by kswapd (`mayWrite`) is put under writeback and rotated; met by direct reclaim it is just rotated.
   */
  reclaim(nr: number, scanMax: number, mayWrite: boolean, nowNs: number, writebackNs: number): ReclaimOutcome {
    const pfns: number[] = [];
    let scanned = 0;
    let writebacksStarted = 0;
    const rotated: number[] = [];
    while (pfns.length < nr && scanned < scanMax && this.fileHead < this.file.length) {
      const pfn = this.file[this.fileHead++]!;
      const e = this.entryOf(pfn);
      if (e < 0 || kindOf(e) === LRU_ANON) continue; // left the list (or re-added as anon)
      scanned++;
      if (kindOf(e) === LRU_FILE) {
        this.delete(pfn);
        pfns.push(pfn);
        continue;
      }
      if (kindOf(e) === LRU_FILE_DIRTY && mayWrite && !this.cleanAt.has(pfn)) {
        this.cleanAt.set(pfn, nowNs + writebackNs);
        this.writeback.push(pfn);
        writebacksStarted++;
      }
      rotated.push(pfn);
    }
    for (const pfn of rotated) this.file.push(pfn);
    if (this.fileHead > 4096 && this.fileHead * 2 > this.file.length) {
      this.file.splice(0, this.fileHead);
      this.fileHead = 0;
    }
    return { pfns, scanned, writebacksStarted };
  }

  /**
   * Reclaim inside a memory cgroup: up to `nr` clean file pages that the group's tasks (`owners`) added, oldest
   * first, scanning at most `scanMax` of the group's entries; the rest of the list keeps its order (the kernel
   * scans the group's own lruvec).
   */
  reclaimOwned(nr: number, scanMax: number, owners: ReadonlySet<number>): ReclaimOutcome {
    const pfns: number[] = [];
    let scanned = 0;
    for (let pfn = this.first; pfn !== NONE; pfn = this.next[pfn]!) {
      if (pfns.length >= nr || scanned >= scanMax) break;
      const e = this.entry[pfn]! - 1;
      if (!owners.has(ownerOf(e)) || kindOf(e) === LRU_ANON) continue;
      scanned++;
      if (kindOf(e) === LRU_FILE) pfns.push(pfn);
    }
    for (const pfn of pfns) this.delete(pfn);
    return { pfns, scanned, writebacksStarted: 0 };
  }

  /** Pages a reclaimer could still get: clean and dirty file pages (should_reclaim_retry's "reclaimable"). */
  reclaimable(): number {
    return this.counts[LRU_FILE]! + this.counts[LRU_FILE_DIRTY]!;
  }
}
