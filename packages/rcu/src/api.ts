// api: RCU for tasks and for other modules' kernel paths, on the CPU the task runs on. The module must be loaded in
// the run (`modules: [{ module: rcuModulePath }]`); these functions find this worker's RcuCpu for the task's CPU.
import { parkOp, type TaskContext, type TaskOp } from '@faultline/engine';
import { rcuRegistry } from './module.js';
import type { RcuCpu } from './rcu-cpu.js';

function rcuOf(ctx: Pick<TaskContext, 'cpu'>): RcuCpu {
  const rc = rcuRegistry.get(ctx.cpu);
  if (rc === undefined)
    throw new Error(
      `RCU is not loaded on cpu ${ctx.cpu}: add @faultline/rcu's module (rcuModulePath) to the run's modules`,
    );
  return rc;
}

/** rcu_read_lock(): nests; costs no simulated time. */
export function rcuReadLock(ctx: Pick<TaskContext, 'cpu' | 'id'>): void {
  rcuOf(ctx).readLock(ctx.id);
}

export function rcuReadUnlock(ctx: Pick<TaskContext, 'cpu' | 'id'>): void {
  rcuOf(ctx).readUnlock(ctx.id);
}

/** The task's rcu_read_lock nesting depth. */
export function rcuNesting(ctx: Pick<TaskContext, 'cpu' | 'id'>): number {
  return rcuOf(ctx).nesting(ctx.id);
}

/** call_rcu(): `fn` runs on this CPU after a grace period that starts after now. */
export function callRcu(ctx: Pick<TaskContext, 'cpu'>, fn: () => void): void {
  rcuOf(ctx).queue(fn);
}

/** kfree_rcu() of a page (a page table, a VMA's page): freed on this CPU after a grace period. */
export function kfreeRcu(ctx: Pick<TaskContext, 'cpu'>, pfn: number): void {
  const rc = rcuOf(ctx);
  rc.queue(() => rc.cpu.freePage(pfn));
}

/** call_rcu() of a batch of pages freed together after a grace period: tlb_remove_table's batch (mm/mmu_gather.c,
 * tlb_table_flush -> call_rcu(&batch->rcu, tlb_remove_table_rcu), whose callback frees every table and then the
 * batch page itself). One callback for the batch, on this CPU; the pages are freed in the order given. The array
 * is copied: the caller may reuse it. */
export function kfreeRcuBatch(ctx: Pick<TaskContext, 'cpu'>, pfns: readonly number[]): void {
  const rc = rcuOf(ctx);
  const batch = pfns.slice();
  rc.queue(() => {
    for (const pfn of batch) rc.cpu.freePage(pfn);
  });
}

/** synchronize_rcu(): a kernel path that sleeps until a grace period has elapsed. `yield* synchronizeRcu(ctx)`. */
export function* synchronizeRcu(ctx: Pick<TaskContext, 'cpu' | 'id'>): Generator<TaskOp, number, number> {
  const rc = rcuOf(ctx);
  const id = ctx.id;
  rc.queue(() => rc.cpu.wake(id, 0));
  return yield parkOp('a grace period (synchronize_rcu)');
}
