// lru: the node's reclaimable pages, kept by worker 0 (mm/vmscan.c, much simplified: one list per kind, oldest
// first, no active/inactive split). Clean file pages are dropped; dirty file pages must be written back first -
// kswapd starts the writeback and the page becomes clean writebackNs later, direct reclaim passes over them (the
// kernel's direct reclaim does not write pages); anonymous pages would need swap, which the model has not, so they
// are never reclaimed. Pages leave the list when reclaimed or when their owner frees them (lruDel). The list is the
// node's, as the kernel's lruvec is since 4.8, but it counts each zone's file pages (NR_ZONE_INACTIVE_FILE and
// friends), which should_reclaim_retry weighs zone by zone.
import { LRU_ANON, LRU_FILE, LRU_FILE_DIRTY } from './layout.js';

/** A page on the list, packed in one number so that the list allocates nothing per page: its kind (LRU_FILE,
 * LRU_FILE_DIRTY, LRU_ANON) in the low 2 bits, its zone in the next 6, its owner + 1 above (an owner of -1, the
 * prefill's, is 0). When a dirty page under writeback becomes clean is kept apart (`cleanAt`). */
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

export class NodeLru {
  private readonly pages = new Map<number, number>();
  /** Dirty pages under writeback: when each becomes clean. */
  private readonly cleanAt = new Map<number, number>();
  /** Oldest first; entries of pages that left are skipped when met. */
  private readonly file: number[] = [];
  private fileHead = 0;
  private readonly writeback: number[] = [];
  counts = [0, 0, 0];
  /** File pages (clean and dirty) on the list per zone, lowest zone first. */
  readonly fileByZone: number[];

  /** `zoneOf(pfn)`: the index of the zone a page belongs to (MemoryNode.zoneIndexOf), of `zones` in all. */
  constructor(
    private readonly zoneIndexOf: (pfn: number) => number = () => 0,
    zones = 1,
  ) {
    if (zones > ZONE_MASK + 1) throw new RangeError(`NodeLru: ${zones} zones; allowed: at most ${ZONE_MASK + 1}`);
    this.fileByZone = new Array<number>(zones).fill(0);
  }

  add(pfn: number, kind: number, owner: number): void {
    if (this.pages.has(pfn)) throw new Error(`pfn ${pfn} is already on the LRU`);
    const zone = this.zoneIndexOf(pfn);
    this.pages.set(pfn, pack(kind, zone, owner));
    this.counts[kind]!++;
    if (kind !== LRU_ANON) {
      this.file.push(pfn);
      this.fileByZone[zone]!++;
    }
  }

  delete(pfn: number): boolean {
    const e = this.pages.get(pfn);
    if (e === undefined) return false;
    this.pages.delete(pfn);
    this.cleanAt.delete(pfn);
    const kind = kindOf(e);
    this.counts[kind]!--;
    if (kind !== LRU_ANON) this.fileByZone[zoneOf(e)]!--;
    return true;
  }

  has(pfn: number): boolean {
    return this.pages.has(pfn);
  }

  /** LRU_FILE, LRU_FILE_DIRTY or LRU_ANON; -1 when the page is not on the list. */
  kindOf(pfn: number): number {
    const e = this.pages.get(pfn);
    return e === undefined ? -1 : kindOf(e);
  }

  /** Writebacks that have completed by now turn their pages clean. */
  advance(nowNs: number): void {
    let keep = 0;
    for (const pfn of this.writeback) {
      const e = this.pages.get(pfn);
      if (e === undefined) continue;
      const at = this.cleanAt.get(pfn);
      if (at === undefined) continue; // left the list and came back: no longer under writeback
      if (at <= nowNs) {
        this.counts[kindOf(e)]!--;
        this.pages.set(pfn, e - kindOf(e) + LRU_FILE);
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
      const e = this.pages.get(pfn);
      if (e === undefined || kindOf(e) === LRU_ANON) continue; // left the list (or re-added as anon)
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
    for (const [pfn, e] of this.pages) {
      if (pfns.length >= nr || scanned >= scanMax) break;
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
