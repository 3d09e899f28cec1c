// api: mmap and munmap for tasks - writers of an address space. Each takes mmap_lock for write (the engine's rwsem,
// so new faults queue behind it), marks the address space as being written (speculative faults that overlap abort),
// does its work for a cost in simulated time, and releases the lock. The changes land at the window's end.
import type { TaskContext, TaskOp } from '@faultline/engine';
import { K_MMAP, K_MUNMAP, K_WRITE_BEGIN, K_WRITE_END, VMA_FILE } from './layout.js';
import { PAGE_BYTES, mmRegistry, mmapLockName } from './module.js';
import type { MmCpu } from './mm-cpu.js';

type Path = Generator<TaskOp, void, number>;

function mmOf(ctx: Pick<TaskContext, 'cpu'>): MmCpu {
  const mc = mmRegistry.get(ctx.cpu);
  if (mc === undefined)
    throw new Error(`the mm module is not loaded on cpu ${ctx.cpu}: add it to the run (mmRunParts)`);
  return mc;
}

function* write(ctx: TaskContext, kind: number, start: number, pages: number, costNs: number, flags = 0): Path {
  if (!(Number.isSafeInteger(start) && start >= 0 && start % PAGE_BYTES === 0))
    throw new RangeError(`start ${start}: expected a page-aligned address`);
  const mc = mmOf(ctx);
  const mm = Number(ctx.args.mm ?? 0);
  yield ctx.lock(mmapLockName(mm));
  mc.record(K_WRITE_BEGIN, ctx.id, mm, 0, 0, 0);
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

/** munmap of exactly one VMA: its pages freed, its page tables freed through RCU. The cost grows with what is
 * mapped in it (as of the last commit), not with its size. */
export function munmap(ctx: TaskContext, start: number, pages: number, costNs?: number): Path {
  const cost =
    costNs ??
    MUNMAP_BASE_NS +
      MUNMAP_ENTRY_NS *
        mmOf(ctx).spaces[Number(ctx.args.mm ?? 0)]!.tables.countWithin(start, start + pages * PAGE_BYTES);
  return write(ctx, K_MUNMAP, start, pages, cost);
}
