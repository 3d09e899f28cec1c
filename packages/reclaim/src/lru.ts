// lru: the node's reclaimable pages, kept by worker 0 (mm/vmscan.c, much simplified: one list per kind, oldest
// first, no active/inactive split). Clean file pages are dropped; dirty file pages must be written back first -
// kswapd starts the writeback and the page becomes clean writebackNs later, direct reclaim passes over them (the
// kernel's direct reclaim does not write pages); anonymous pages would need swap, which the model has not, so they
// are never reclaimed. Pages leave the list when reclaimed or when their owner frees them (lruDel). The list is the
// node's, as the kernel's lruvec is since 4.8, but it counts each zone's file pages (NR_ZONE_INACTIVE_FILE and
// friends), which should_reclaim_retry weighs zone by zone.
import { LRU_ANON, LRU_FILE, LRU_FILE_DIRTY } from './layout.js';

interface Entry {
  kind: number;
  readonly owner: number;
  readonly zone: number;
  /** For a dirty page under writeback: when it becomes clean; otherwise -1. */
  cleanAtNs: number;
}

export interface ReclaimOutcome {
  readonly pfns: number[];
  readonly scanned: number;
  readonly writebacksStarted: number;
}

export class NodeLru {
  private readonly pages = new Map<number, Entry>();
  /** Oldest first; entries of pages that left are skipped when met. */
  private readonly file: number[] = [];
  private fileHead = 0;
  private readonly writeback: number[] = [];
  counts = [0, 0, 0];
  /** File pages (clean and dirty) on the list per zone, lowest zone first. */
  readonly fileByZone: number[];

  /** `zoneOf(pfn)`: the index of the zone a page belongs to (MemoryNode.zoneIndexOf), of `zones` in all. */
  constructor(
    private readonly zoneOf: (pfn: number) => number = () => 0,
    zones = 1,
  ) {
    this.fileByZone = new Array<number>(zones).fill(0);
  }

  add(pfn: number, kind: number, owner: number): void {
    if (this.pages.has(pfn)) throw new Error(`pfn ${pfn} is already on the LRU`);
    const zone = this.zoneOf(pfn);
    this.pages.set(pfn, { kind, owner, zone, cleanAtNs: -1 });
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
    this.counts[e.kind]!--;
    if (e.kind !== LRU_ANON) this.fileByZone[e.zone]!--;
    return true;
  }

  has(pfn: number): boolean {
    return this.pages.has(pfn);
  }

  /** LRU_FILE, LRU_FILE_DIRTY or LRU_ANON; -1 when the page is not on the list. */
  kindOf(pfn: number): number {
    return this.pages.get(pfn)?.kind ?? -1;
  }

  /** Writebacks that have completed by now turn their pages clean. */
  advance(nowNs: number): void {
    let keep = 0;
    for (const pfn of this.writeback) {
      const e = this.pages.get(pfn);
      if (e === undefined) continue;
      if (e.cleanAtNs <= nowNs) {
        this.counts[e.kind]!--;
        e.kind = LRU_FILE;
        e.cleanAtNs = -1;
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
      if (e === undefined || e.kind === LRU_ANON) continue; // left the list (or re-added as anon)
      scanned++;
      if (e.kind === LRU_FILE) {
        this.delete(pfn);
        pfns.push(pfn);
        continue;
      }
      if (e.kind === LRU_FILE_DIRTY && mayWrite && e.cleanAtNs < 0) {
        e.cleanAtNs = nowNs + writebackNs;
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
      if (!owners.has(e.owner) || e.kind === LRU_ANON) continue;
      scanned++;
      if (e.kind === LRU_FILE) pfns.push(pfn);
    }
    for (const pfn of pfns) this.delete(pfn);
    return { pfns, scanned, writebacksStarted: 0 };
  }

  /** Pages a reclaimer could still get: clean and dirty file pages (should_reclaim_retry's "reclaimable"). */
  reclaimable(): number {
    return this.counts[LRU_FILE]! + this.counts[LRU_FILE_DIRTY]!;
  }
}
