// fault-context: the FaultContext a policy runs with - the faulting task and address, and the address space as its
// CPU sees it (mm-cpu.ts's overlay on the committed tables). One object per task, reused for each of its faults (a
// task takes one fault at a time), so that a fault allocates no context and no closures: a storm takes a million
// faults a simulated second. A policy may not keep it past the fault it was given for.
import type { TaskContext } from '@faultline/engine';
import type { AddressSpace } from './address-space.js';
import { K_COPY, K_INSTALL, VMA_ANON_VMA, VMA_FILE, VMA_WRITE_LOCKED, installFlags } from './layout.js';
import type { MmCpu } from './mm-cpu.js';
import { LRU_LOCK_NAME, rssStatLineName, vmaLockLineName } from './lines.js';
import { pageTableKey } from './page-table.js';
import type { FaultContext } from './policies.js';

/** What every fault of the run shares: its costs and kernel behaviour. */
export interface FaultCosts {
  readonly ptlNs: number;
  readonly spfEntryNs: number;
  readonly vmaLockNs: number;
  readonly dataPageNs: number;
  readonly perVmaFileFaults: boolean;
  /** A per-VMA fault needs the VMA's anon_vma only where it prepares one (vmf_anon_prepare; 6.10 on): v6.3+. */
  readonly anonVmaAtPrepare: boolean;
  /** Whether the run charges cache lines (coherence 'lines'): the VMA lock's and rss_stat's lines are then updated
   * where the kernel updates them. */
  readonly lines: boolean;
  /** percpu_counter_batch: max(32, 2 x online CPUs) (lib/percpu_counter.c, compute_batch_value). */
  readonly rssBatch: number;
  /** Pages a CPU's lru_add batch holds before it moves them onto the LRU under lru_lock, and each one's cost there. */
  readonly lruBatch: number;
  readonly lruAddNs: number;
  /** Pages a memcg charge takes into a CPU's stock at once, and the page counters' lines it updates, from the task's
   * memcg up (lines.ts; none where the run does not charge lines). */
  readonly memcgBatch: number;
  readonly memcgLines: readonly string[];
  /** mm->pgd shares mmap_lock's count's line (mm_struct as in 6.2 and before). */
  readonly pgdOnLockLine: boolean;
}

export class TaskFault implements FaultContext {
  address = 0;
  write = false;
  readonly ptlNs: number;
  readonly spfEntryNs: number;
  readonly vmaLockNs: number;
  readonly dataPageNs: number;
  readonly perVmaFileFaults: boolean;
  readonly anonVmaAtPrepare: boolean;
  private readonly lines: boolean;
  private readonly rssBatch: number;
  private readonly lruBatch: number;
  private readonly memcgBatch: number;
  private readonly pgdOnLockLine: boolean;
  private readonly lruAddNs: number;
  readonly memcgLines: readonly string[];
  /** Line names, made once: each VMA slot's vm_lock, and the address space's rss_stat. */
  private readonly vmaLines: string[] = [];
  private readonly rssLine: string;

  constructor(
    readonly task: TaskContext,
    readonly mm: number,
    readonly mmapLock: string,
    private readonly mc: MmCpu,
    private readonly as: AddressSpace,
    private readonly m: Float64Array,
    costs: FaultCosts,
  ) {
    this.ptlNs = costs.ptlNs;
    this.spfEntryNs = costs.spfEntryNs;
    this.vmaLockNs = costs.vmaLockNs;
    this.dataPageNs = costs.dataPageNs;
    this.perVmaFileFaults = costs.perVmaFileFaults;
    this.anonVmaAtPrepare = costs.anonVmaAtPrepare;
    this.lines = costs.lines;
    this.rssBatch = costs.rssBatch;
    this.lruBatch = costs.lruBatch;
    this.lruAddNs = costs.lruAddNs;
    this.memcgBatch = costs.memcgBatch;
    this.memcgLines = costs.memcgLines;
    this.pgdOnLockLine = costs.pgdOnLockLine;
    this.rssLine = rssStatLineName(mm);
  }

  /** Ready for the task's next fault. */
  at(address: number, write: boolean): this {
    this.address = address;
    this.write = write;
    return this;
  }

  lookup(level: number): number {
    return this.mc.lookup(this.mm, pageTableKey(level, this.address));
  }
  vma(): [number, number] | null {
    const own = this.mc.vmaChange(this.mm, this.address);
    if (own !== undefined) return own.mapped ? [own.start, own.end] : null;
    return this.as.vmaOf(this.address);
  }
  fileBacked(): boolean {
    const own = this.mc.vmaChange(this.mm, this.address);
    return ((own !== undefined ? own.flags : this.as.vmaFlags(this.address)) & VMA_FILE) !== 0;
  }
  /** A VMA this CPU mapped in this window has no generation yet (-1), no write lock and no anon_vma. */
  vmaGen(): number {
    return this.mc.vmaChange(this.mm, this.address) !== undefined ? -1 : this.as.vmaGen(this.address);
  }
  vmaWriteLocked(): boolean {
    if (this.mc.vmaChange(this.mm, this.address) !== undefined) return false;
    return (this.as.vmaFlags(this.address) & VMA_WRITE_LOCKED) !== 0;
  }
  vmaHasAnonVma(): boolean {
    if (this.mc.vmaChange(this.mm, this.address) !== undefined) return false;
    return (this.as.vmaFlags(this.address) & VMA_ANON_VMA) !== 0;
  }
  vmaLockLine(): string | null {
    if (!this.lines || this.mc.vmaChange(this.mm, this.address) !== undefined) return null;
    const slot = this.as.vmaSlot(this.address);
    if (slot < 0) return null;
    return (this.vmaLines[slot] ??= vmaLockLineName(this.mm, slot));
  }
  pgdLine(): string | null {
    return this.lines && this.pgdOnLockLine ? this.mmapLock : null;
  }
  rssStatLine(): string | null {
    return this.lines && this.mc.rssAdd(this.mm, this.rssBatch) ? this.rssLine : null;
  }
  lruLock(): string | null {
    return this.lines && this.mc.lruAdd(this.lruBatch) ? LRU_LOCK_NAME : null;
  }
  lruBatchNs(): number {
    return this.lruBatch * this.lruAddNs;
  }
  memcgCharge(): boolean {
    return this.memcgLines.length > 0 && this.mc.memcgCharge(this.memcgBatch);
  }
  seq(): number {
    return this.as.seq;
  }
  writerActive(): boolean {
    return this.as.writer;
  }
  install(level: number, pfn: number, speculative: boolean, seqSeen: number, vmaGen = -1, copy = false): void {
    const key = pageTableKey(level, this.address);
    this.mc.see(this.mm, key, pfn);
    const kind = copy ? K_COPY : K_INSTALL;
    this.mc.record(kind, this.task.id, this.mm, key, pfn, installFlags(speculative, seqSeen, vmaGen));
  }
  count(word: number): void {
    this.m[this.mc.counter(this.task.id, word)]!++;
  }
}
