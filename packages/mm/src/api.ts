// api: mmap and munmap for tasks - writers of an address space. Each takes mmap_lock for write (the engine's rwsem,
// so new faults queue behind it), marks the address space as being written (speculative faults that overlap abort),
// does its work for a cost in simulated time, and releases the lock. The changes land at the window's end.
// munmap frees page tables as x86 does (mm/mmu_gather.c, tlb_remove_table): into batches of MAX_TABLE_BATCH, each a
// page allocated with GFP_NOWAIT|__GFP_NOWARN and freed with its tables after a grace period (call_rcu); when that
// page cannot be had, each remaining table is freed at once after a synchronous IPI to every CPU
// (tlb_remove_table_one -> tlb_remove_table_sync_one).
import type { TaskContext, TaskOp } from '@faultline/engine';
import { allocPages } from '@faultline/reclaim';
import {
  K_MMAP,
  K_MUNMAP,
  K_TABLE_BATCH,
  K_WRITE_BEGIN,
  K_WRITE_END,
  MAX_TABLE_BATCH,
  MUNMAP_TABLES_NOW,
  VMA_FILE,
} from './layout.js';
import { PAGE_BYTES, mmRegistry, mmapLockName } from './module.js';
import type { MmCpu } from './mm-cpu.js';

type Path = Generator<TaskOp, void, number>;

function mmOf(ctx: Pick<TaskContext, 'cpu'>): MmCpu {
  const mc = mmRegistry.get(ctx.cpu);
  if (mc === undefined)
    throw new Error(`the mm module is not loaded on cpu ${ctx.cpu}: add it to the run (mmRunParts)`);
  return mc;
}

/** The work a writer does under mmap_lock before its cost: returns the change's flags. */
type Inside = (mc: MmCpu, mm: number) => Generator<TaskOp, number, number>;

function* write(
  ctx: TaskContext,
  kind: number,
  start: number,
  pages: number,
  costNs: number,
  flags = 0,
  inside?: Inside,
): Path {
  if (!(Number.isSafeInteger(start) && start >= 0 && start % PAGE_BYTES === 0))
    throw new RangeError(`start ${start}: expected a page-aligned address`);
  const mc = mmOf(ctx);
  const mm = Number(ctx.args.mm ?? 0);
  yield ctx.lock(mmapLockName(mm));
  mc.record(K_WRITE_BEGIN, ctx.id, mm, start, pages, 0);
  if (inside) flags = yield* inside(mc, mm);
  yield ctx.compute(costNs);
  mc.record(kind, ctx.id, mm, start, pages, flags);
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

/** What munmap costs: a fixed part, and zap_page_range's work for each entry it finds (data pages and tables). */
export const MUNMAP_BASE_NS = 2_000;
export const MUNMAP_ENTRY_NS = 20;

/** The mask of a tlb_remove_table batch page (__get_free_page(GFP_NOWAIT|__GFP_NOWARN) in tlb_remove_table), with
 * __GFP_ZERO added, which changes nothing else here: the OOM killer knows the address space's pages by it. */
export const GFP_TLB_BATCH = 'GFP_NOWAIT|__GFP_NOWARN|__GFP_ZERO';
/** What a synchronous IPI to every CPU costs the unmapping task (tlb_remove_table_sync_one): an assumption. */
export const TLB_SYNC_NS = 2_000;

/** munmap of exactly one VMA: its pages freed, its page tables freed through RCU in tlb_remove_table's batches.
 * The cost grows with what is mapped in it (as of the last commit), not with its size. */
export function munmap(ctx: TaskContext, start: number, pages: number, costNs?: number): Path {
  const end = start + pages * PAGE_BYTES;
  const tables = mmOf(ctx).spaces[Number(ctx.args.mm ?? 0)]!.tables;
  const cost = costNs ?? MUNMAP_BASE_NS + MUNMAP_ENTRY_NS * tables.countWithin(start, end);
  return write(ctx, K_MUNMAP, start, pages, cost, 0, function* (mc, mm) {
    // The batches the tables need, counted as of the last commit.
    let left = tables.countTablesWithin(start, end);
    while (left > 0) {
      const pfn = yield* allocPages(ctx, GFP_TLB_BATCH);
      if (pfn < 0) {
        yield ctx.compute(left * TLB_SYNC_NS);
        return MUNMAP_TABLES_NOW;
      }
      mc.record(K_TABLE_BATCH, ctx.id, mm, start, pfn, 0);
      left -= MAX_TABLE_BATCH;
    }
    return 0;
  });
}
