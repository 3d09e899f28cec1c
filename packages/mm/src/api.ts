// api: mmap and munmap for tasks - writers of an address space. Each takes mmap_lock for write (the engine's rwsem,
// so new faults queue behind it), marks the address space as being written (speculative faults that overlap abort),
// does its work for a cost in simulated time, and releases the lock. The changes land at the window's end.
// munmap holds the lock for write only to detach the VMA, then downgrades it to read for the zap and the freeing of
// page tables (mm/mmap.c do_vmi_align_munmap -> mmap_write_downgrade, since 4.20): faults elsewhere in the address
// space go on meanwhile. It frees page tables as x86 does (mm/mmu_gather.c): with RCU table freeing
// (MMU_GATHER_RCU_TABLE_FREE: a paravirt guest, or a policy that walks tables under RCU) through tlb_remove_table's
// batches of MAX_TABLE_BATCH, each a page allocated with GFP_NOWAIT|__GFP_NOWARN and freed with its tables after a
// grace period (call_rcu), and when that page cannot be had each remaining table at once after a synchronous IPI to
// every CPU (tlb_remove_table_one -> tlb_remove_table_sync_one); natively (bare metal before CONFIG_PT_RECLAIM:
// native_tlb_remove_table -> tlb_remove_page) at once, after the TLB flush, with no batch page and no grace period.
import type { TaskContext, TaskOp } from '@faultline/engine';
import { allocPages } from '@faultline/reclaim';
import {
  K_MMAP,
  K_MUNMAP,
  K_MUNMAP_DETACH,
  K_TABLE_BATCH,
  K_WRITE_BEGIN,
  K_WRITE_END,
  MAX_TABLE_BATCH,
  MUNMAP_TABLES_NOW,
  VMA_FILE,
} from './layout.js';
import { MM, PAGE_BYTES, mmapLockName } from './module.js';
import type { MmCpu } from './mm-cpu.js';

type Path = Generator<TaskOp, void, number>;

function mmOf(ctx: Pick<TaskContext, 'kernel'>): MmCpu {
  return ctx.kernel(MM);
}

function checkStart(start: number): void {
  if (!(Number.isSafeInteger(start) && start >= 0 && start % PAGE_BYTES === 0))
    throw new RangeError(`start ${start}: expected a page-aligned address`);
}

function* write(ctx: TaskContext, kind: number, start: number, pages: number, costNs: number, flags = 0): Path {
  checkStart(start);
  const mc = mmOf(ctx);
  const mm = Number(ctx.args.mm ?? 0);
  yield ctx.lock(mmapLockName(mm));
  mc.record(K_WRITE_BEGIN, ctx.id, mm, start, pages, 0);
  yield ctx.compute(costNs);
  mc.record(kind, ctx.id, mm, start, pages, flags);
  if (kind === K_MMAP) mc.seeVma(mm, start, start + pages * PAGE_BYTES, flags, true);
  mc.record(K_WRITE_END, ctx.id, mm, 0, 0, 0);
  yield ctx.unlock(mmapLockName(mm));
}

export interface MmapOptions {
  /** A shared mapping of a resident file (tmpfs without swap): faults allocate page tables only. */
  readonly file?: boolean;
  readonly costNs?: number;
}

/** mmap(start, pages): a new VMA, anonymous unless `file`. `yield* mmap(ctx, 0x7f00_0000_0000, 512)`. */
export function mmap(ctx: TaskContext, start: number, pages: number, opts: MmapOptions = {}): Path {
  return write(ctx, K_MMAP, start, pages, opts.costNs ?? 2_000, opts.file ? VMA_FILE : 0);
}

/** What munmap costs: a fixed part, and zap_page_range's work for each entry it finds (data pages and tables). Of
 * the fixed part, MUNMAP_DETACH_NS is spent under the write lock (splitting and detaching the VMA: an assumption),
 * the rest under the downgraded read lock. */
export const MUNMAP_BASE_NS = 2_000;
export const MUNMAP_DETACH_NS = 1_000;
export const MUNMAP_ENTRY_NS = 20;

/** The mask of a tlb_remove_table batch page (__get_free_page(GFP_NOWAIT|__GFP_NOWARN) in tlb_remove_table), with
 * __GFP_ZERO added, which changes nothing else here: the OOM killer knows the address space's pages by it. */
export const GFP_TLB_BATCH = 'GFP_NOWAIT|__GFP_NOWARN|__GFP_ZERO';
/** What a synchronous IPI to every CPU costs the unmapping task (tlb_remove_table_sync_one): an assumption. */
export const TLB_SYNC_NS = 2_000;

/** munmap of exactly one VMA: detached under mmap_lock for write, then zapped and its page tables freed under the
 * downgraded read lock (natively, or through RCU in tlb_remove_table's batches: the run's table freeing). The cost
 * grows with what is mapped in it (as of the last commit), not with its size; `costNs` replaces the whole of it. */
export function* munmap(ctx: TaskContext, start: number, pages: number, costNs?: number): Path {
  checkStart(start);
  const end = start + pages * PAGE_BYTES;
  const mc = mmOf(ctx);
  const mm = Number(ctx.args.mm ?? 0);
  const tables = mc.spaces[mm]!.tables;
  const cost = costNs ?? MUNMAP_BASE_NS + MUNMAP_ENTRY_NS * tables.countWithin(start, end);
  const detachNs = Math.min(cost, MUNMAP_DETACH_NS);
  const lock = mmapLockName(mm);
  yield ctx.lock(lock);
  mc.record(K_WRITE_BEGIN, ctx.id, mm, start, pages, 0);
  yield ctx.compute(detachNs);
  mc.record(K_MUNMAP_DETACH, ctx.id, mm, start, pages, 0);
  mc.seeVma(mm, start, end, 0, false);
  if (mc.munmapDowngrade) {
    // mmap_write_downgrade: the VMA is gone from the tree; vma_end_write_all, and faults may take the lock for read.
    mc.record(K_WRITE_END, ctx.id, mm, 0, 0, 0);
    yield ctx.downgrade(lock);
  }
  let flags = 0;
  if (mc.tableFreeing === 'native') flags = MUNMAP_TABLES_NOW;
  else {
    // The batches the tables need, counted as of the last commit.
    let left = tables.countTablesWithin(start, end);
    while (left > 0) {
      const pfn = yield* allocPages(ctx, GFP_TLB_BATCH);
      if (pfn < 0) {
        yield ctx.compute(left * TLB_SYNC_NS);
        flags = MUNMAP_TABLES_NOW;
        break;
      }
      mc.record(K_TABLE_BATCH, ctx.id, mm, start, pfn, 0);
      left -= MAX_TABLE_BATCH;
    }
  }
  yield ctx.compute(cost - detachNs);
  mc.record(K_MUNMAP, ctx.id, mm, start, pages, flags);
  if (!mc.munmapDowngrade) mc.record(K_WRITE_END, ctx.id, mm, 0, 0, 0);
  yield ctx.unlock(lock);
}
