// balance: where a woken task runs when its own CPU is busy - the effect of select_idle_sibling
// (kernel/sched/fair.c: select_task_rq_fair -> select_idle_sibling -> select_idle_cpu), for unpinned tasks, within
// their last-level cache (sd_llc).
//
// The kernel picks the CPU at the wake-up: the task's previous CPU if it is idle, else an idle CPU of the LLC,
// scanned from the one after the target (for_each_cpu_wrap). Here a task wakes on the CPU it last ran on; if that
// CPU is busy, it waits in its queue, and at the end of the window (the engine's unit of cross-CPU knowledge: one
// CPU cannot see another's state within a window) each idle CPU of the LLC takes one such task, scanned from the
// CPU after the task's, in the order the tasks woke. The task starts there at the window's end: at most one window
// (2 us by default) after its wake-up, which the kernel spends on the wake-up IPI to the idle CPU and its exit from
// idle. A CPU that went idle later than the wake-up takes the task as newidle_balance would (a task woken while its
// CPU was busy has not run since it slept, so it is not cache hot: task_hot).
// Not modelled: wake_affine (the waker's CPU as the target), SIS_UTIL's bound on the scan, the periodic and
// newidle balancing of tasks that a preemption queued (cache hot for sysctl_sched_migration_cost, 500 us), and
// balancing between LLCs (NUMA, SMT siblings). One worker hosts each LLC (worker-placement.ts: workersKeepLlcs), so the
// decision reads only this worker's CPUs and is the same for any number of workers.
import type { SimCpu } from './cpu.js';
import type { Task } from './task-struct.js';

/** This worker's CPUs (in id order, whole LLCs) grouped by their LLC (`llcOf`, by CPU id), each group in id order. */
export function llcGroups(cpus: readonly SimCpu[], llcOf: readonly number[]): SimCpu[][] {
  const groups = new Map<number, SimCpu[]>();
  for (const c of cpus) {
    const g = groups.get(llcOf[c.id]!);
    if (g) g.push(c);
    else groups.set(llcOf[c.id]!, [c]);
  }
  return [...groups.values()];
}

/** Move woken, waiting, unpinned tasks to idle CPUs of their LLC (llcGroups), at atNs (the window's end). Returns
 * the number of tasks moved. */
export function balanceLlcs(llcs: readonly (readonly SimCpu[])[], atNs: number): number {
  let moved = 0;
  for (const g of llcs) moved += balanceLlc(g, atNs);
  return moved;
}

function balanceLlc(llc: readonly SimCpu[], atNs: number): number {
  const idle = llc.map((c) => !c.stalled && c.idleNow());
  if (!idle.includes(true)) return 0;
  const woken: Array<{ t: Task; src: number }> = [];
  llc.forEach((c, k) => {
    if (!idle[k]) for (const t of c.wokenWaiting()) woken.push({ t, src: k });
  });
  woken.sort((a, b) => a.t.wokenNs - b.t.wokenNs || a.t.id - b.t.id);
  let moved = 0;
  for (const { t, src } of woken) {
    let dst = -1;
    for (let d = 1; d < llc.length && dst < 0; d++) if (idle[(src + d) % llc.length]) dst = (src + d) % llc.length;
    if (dst < 0) break;
    idle[dst] = false;
    const from = llc[src]!;
    const to = llc[dst]!;
    to.migrateIn(t, from.id, from.migrateOut(t, to.id, atNs), atNs);
    moved++;
  }
  return moved;
}
