// mm-cpu: address spaces seen from one CPU. Lookups read the page tables as the last commit left them plus this
// CPU's own installs of the window (an overlay), so a thread sees its own work at once and other CPUs' at the
// window's end. Installs, mmap and munmap are logged for the commit; page tables that a munmap freed come back in
// a ring, batch by batch, and each batch is handed to RCU here (call_rcu of tlb_remove_table_rcu, which frees the
// tables and the batch page), on the CPU of the task that unmapped them.
import type { TableFreeing } from '@faultline/engine';
import { LOG_HEADER_F64, logAppend, type KernelCpu } from '@faultline/engine/module';
import { callRcu } from '@faultline/rcu';
import { AddressSpace } from './address-space.js';
import {
  batchPage,
  K_EXIT,
  L_F64,
  L_FLAGS,
  L_KEY,
  L_KIND,
  L_MM,
  L_PFN,
  L_TASK,
  L_TIME,
  TASK_F64,
  type MmLayout,
} from './layout.js';

export class MmCpu {
  readonly spaces: AddressSpace[];
  private readonly overlay: Array<Map<number, number>>;
  /** The address spaces whose overlay is not empty: the window's start clears those only (a 1024-CPU storm has
   * thousands of address spaces, and every CPU starts a window every few microseconds). */
  private readonly seen: number[] = [];
  private readonly log: number;
  private readonly rcuRing: number;
  /** Pages this CPU added to each address space's MM_ANONPAGES counter since its last fold (percpu_counter's
   * per-CPU s32: lib/percpu_counter.c, percpu_counter_add_batch). */
  private readonly rssPending: Int32Array;
  /** Pages in this CPU's lru_add folio_batch (cpu_fbatches.lru_add, mm/swap.c), and pages left in its memcg_stock
   * (mm/memcontrol.c): kept only where the run charges lines. */
  private lruPending = 0;
  private memcgStock = 0;

  constructor(
    readonly cpu: KernelCpu,
    readonly m: Float64Array,
    readonly L: MmLayout,
    /** How this run frees unmapped page tables (the machine's, or 'rcu' where a policy needs it: module.ts). */
    readonly tableFreeing: TableFreeing = 'rcu',
    /** munmap downgrades mmap_lock to read for its zap (the mm module's munmapDowngrade). */
    readonly munmapDowngrade = true,
  ) {
    this.spaces = Array.from({ length: L.mms }, (_, i) => new AddressSpace(m, L, i));
    this.overlay = this.spaces.map(() => new Map());
    this.rssPending = new Int32Array(L.mms);
    this.log = L.logOffset + cpu.cpu * L.logStride;
    this.rcuRing = L.rcuOffset + cpu.cpu * L.rcuStride;
  }

  /** One more anonymous page in `mm` on this CPU (add_mm_counter(MM_ANONPAGES, 1)): true when the per-CPU count
   * reaches the batch and folds into the shared count under its lock, once every `batch` pages. */
  rssAdd(mm: number, batch: number): boolean {
    if (++this.rssPending[mm]! < batch) return false;
    this.rssPending[mm] = 0;
    return true;
  }

  /** One more page into this CPU's lru_add batch (folio_add_lru): true when the batch is full and moves onto the
   * LRU under lru_lock (folio_batch_add_and_move), once every `batch` pages. */
  lruAdd(batch: number): boolean {
    if (++this.lruPending < batch) return false;
    this.lruPending = 0;
    return true;
  }

  /** One page charged to the task's memcg (try_charge_memcg): true when this CPU's stock had none left (consume_stock
   * failed), so that `batch` pages are charged to the page counters and the rest kept in the stock (refill_stock).
   * Simplified: one memcg, so the stock is never drained for another's (drain_stock). */
  memcgCharge(batch: number): boolean {
    if (this.memcgStock > 0) {
      this.memcgStock--;
      return false;
    }
    this.memcgStock = batch - 1;
    return true;
  }

  lookup(mm: number, key: number): number {
    return this.overlay[mm]!.get(key) ?? this.spaces[mm]!.tables.get(key);
  }

  record(kind: number, task: number, mm: number, key: number, pfn: number, flags: number): void {
    const m = this.m;
    const s = logAppend(m, this.log, this.L.slots, L_F64);
    if (s < 0)
      throw new Error(
        `more than ${this.L.slots} page-table changes in one window on cpu ${this.cpu.cpu}; raise the mm module's slots`,
      );
    m[s + L_TIME] = this.cpu.now();
    m[s + L_KIND] = kind;
    m[s + L_TASK] = task;
    m[s + L_MM] = mm;
    m[s + L_KEY] = key;
    m[s + L_PFN] = pfn;
    m[s + L_FLAGS] = flags;
  }

  /** This window's mmaps and munmaps by this CPU's tasks, newest last: a writer sees its own change at once (the
   * kernel's VMA tree is one), the other CPUs at the window's end, when the commit has applied it. */
  private readonly vmaChanges: Array<{ mm: number; start: number; end: number; flags: number; mapped: boolean }> = [];

  /** Note an mmap (mapped) or a munmap's detach in this CPU's view at once. */
  seeVma(mm: number, start: number, end: number, flags: number, mapped: boolean): void {
    this.vmaChanges.push({ mm, start, end, flags, mapped });
  }

  /** This window's own change covering the address, newest first, or undefined. */
  vmaChange(mm: number, address: number): { start: number; end: number; flags: number; mapped: boolean } | undefined {
    for (let i = this.vmaChanges.length - 1; i >= 0; i--) {
      const c = this.vmaChanges[i]!;
      if (c.mm === mm && address >= c.start && address < c.end) return c;
    }
    return undefined;
  }

  /** Note an install in this CPU's view at once; the commit decides whether it stands. */
  see(mm: number, key: number, pfn: number): void {
    const o = this.overlay[mm]!;
    if (o.size === 0) this.seen.push(mm);
    o.set(key, pfn);
  }

  /** Tasks killed between windows (the OOM killer's answer lands before the window's start clears the log). */
  private readonly exits: Array<[number, number]> = [];

  /** A task of address space `mm` was killed: logged for the commit, which tears the space down after its last. */
  exited(task: number, mm: number): void {
    this.exits.push([task, mm]);
  }

  counter(task: number, word: number): number {
    return this.L.taskOffset + task * TASK_F64 + word;
  }

  windowStart(): void {
    const m = this.m;
    // Emptied only when not empty: setting an array's length is a runtime call, and most windows have nothing here.
    if (this.seen.length > 0) {
      for (const mm of this.seen) this.overlay[mm]!.clear();
      this.seen.length = 0;
    }
    if (this.vmaChanges.length > 0) this.vmaChanges.length = 0;
    m[this.log] = 0;
    if (this.exits.length > 0) for (const [task, mm] of this.exits.splice(0)) this.record(K_EXIT, task, mm, 0, 0, 0);
    const n = m[this.rcuRing]!;
    if (n === 0) return;
    let batch: number[] = [];
    for (let i = 0; i < n; i++) {
      const v = m[this.rcuRing + LOG_HEADER_F64 + i]!;
      if (v >= 0) {
        batch.push(v);
        continue;
      }
      const page = batchPage(v);
      if (page >= 0) batch.push(page);
      const pfns = batch;
      const cpu = this.cpu;
      callRcu(cpu, () => {
        for (const pfn of pfns) cpu.freePage(pfn);
      });
      batch = [];
    }
    m[this.rcuRing] = 0;
  }
}
