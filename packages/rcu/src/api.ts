// api: RCU for tasks and for other modules' kernel paths, on the CPU the task runs on. The module must be loaded in
// the run (`modules: [{ module: rcuModulePath }]`); these functions take its RcuCpu on the task's CPU from the
// engine (ctx.kernel(RCU): the state module.ts's attachCpu returns).
import type { TaskContext, TaskOp } from '@faultline/engine';
import { moduleState, parkOp } from '@faultline/engine/module';
import type { RcuReport } from './module.js';
import type { RcuCpu } from './rcu-cpu.js';

/** The rcu module: its state on a CPU, and its report (reportOf(result, RCU)). */
export const RCU = moduleState<RcuCpu, RcuReport>('rcu');

/** What these functions need of a task's context, or of a KernelCpu: the CPU's modules. */
type OnCpu = Pick<TaskContext, 'kernel'>;

function rcuOf(ctx: OnCpu): RcuCpu {
  return ctx.kernel(RCU);
}

/** rcu_read_lock(): nests; costs no simulated time. */
export function rcuReadLock(ctx: OnCpu & Pick<TaskContext, 'id'>): void {
  rcuOf(ctx).readLock(ctx.id);
}

export function rcuReadUnlock(ctx: OnCpu & Pick<TaskContext, 'id'>): void {
  rcuOf(ctx).readUnlock(ctx.id);
}

/** The task's rcu_read_lock nesting depth. */
export function rcuNesting(ctx: OnCpu & Pick<TaskContext, 'id'>): number {
  return rcuOf(ctx).nesting(ctx.id);
}

/** call_rcu(): `fn` runs on this CPU after a grace period that starts after now. */
export function callRcu(ctx: OnCpu, fn: () => void): void {
  rcuOf(ctx).queue(fn);
}

/** kfree_rcu() of a page (a page table, a VMA's page): freed on this CPU after a grace period. */
export function kfreeRcu(ctx: OnCpu, pfn: number): void {
  const rc = rcuOf(ctx);
  rc.queue(() => rc.cpu.freePage(pfn));
}

/** call_rcu() of a batch of pages freed together after a grace period: tlb_remove_table's batch (mm/mmu_gather.c,
 * tlb_table_flush -> call_rcu(&batch->rcu, tlb_remove_table_rcu), whose callback frees every table and then the
 * batch page itself). One callback for the batch, on this CPU; the pages are freed in the order given. The array
 * is copied: the caller may reuse it. */
export function kfreeRcuBatch(ctx: OnCpu, pfns: readonly number[]): void {
  const rc = rcuOf(ctx);
  const batch = pfns.slice();
  rc.queue(() => {
    for (const pfn of batch) rc.cpu.freePage(pfn);
  });
}

/** synchronize_rcu(): a kernel path that sleeps until a grace period has elapsed. `yield* synchronizeRcu(ctx)`. */
export function* synchronizeRcu(ctx: OnCpu & Pick<TaskContext, 'id'>): Generator<TaskOp, number, number> {
  const rc = rcuOf(ctx);
  const id = ctx.id;
  rc.queue(() => rc.cpu.wake(id, 0));
  return yield parkOp('a grace period (synchronize_rcu)');
}
