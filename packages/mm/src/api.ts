// api: mmap and munmap for tasks - writers of an address space. Each takes mmap_lock for write (the engine's rwsem,
// so new faults queue behind it), marks the address space as being written (speculative faults that overlap abort),
// does its work for a cost in simulated time, and releases the lock. The changes land at the window's end.
import type { TaskContext, TaskOp } from '@faultline/engine';
import { K_MMAP, K_MUNMAP, K_WRITE_BEGIN, K_WRITE_END } from './layout.js';
import { PAGE_BYTES, mmRegistry, mmapLockName } from './module.js';
import type { MmCpu } from './mm-cpu.js';

type Path = Generator<TaskOp, void, number>;

function mmOf(ctx: Pick<TaskContext, 'cpu'>): MmCpu {
  const mc = mmRegistry.get(ctx.cpu);
  if (mc === undefined) throw new Error(`the mm module is not loaded on cpu ${ctx.cpu}: add it to the run (mmRunParts)`);
  return mc;
}

function* write(ctx: TaskContext, kind: number, start: number, pages: number, costNs: number): Path {
  if (!(Number.isSafeInteger(start) && start >= 0 && start % PAGE_BYTES === 0)) throw new RangeError(`start ${start}: expected a page-aligned address`);
  const mc = mmOf(ctx);
  const mm = Number(ctx.args.mm ?? 0);
  yield ctx.lock(mmapLockName(mm));
  mc.record(K_WRITE_BEGIN, ctx.id, mm, 0, 0, 0);
  yield ctx.compute(costNs);
  mc.record(kind, ctx.id, mm, start, pages, 0);
  mc.record(K_WRITE_END, ctx.id, mm, 0, 0, 0);
  yield ctx.unlock(mmapLockName(mm));
}

/** mmap(start, pages): a new anonymous VMA. `yield* mmap(ctx, 0x7f00_0000_0000, 512)`. */
export function mmap(ctx: TaskContext, start: number, pages: number, costNs = 2_000): Path {
  return write(ctx, K_MMAP, start, pages, costNs);
}

/** munmap of exactly one VMA: its pages freed, its page tables freed through RCU. The cost grows with its size. */
export function munmap(ctx: TaskContext, start: number, pages: number, costNs = 2_000 + pages * 20): Path {
  return write(ctx, K_MUNMAP, start, pages, costNs);
}
