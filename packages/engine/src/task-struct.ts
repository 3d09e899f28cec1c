// task-struct: what the engine keeps of a placed task (the kernel's task_struct and its sched_entity, as far as the
// model has them): where its code is, its scheduling state, the locks it holds and waits for, its memory stall.
// scheduler.ts and eevdf.ts schedule it, cpu.ts runs it, balance.ts moves it between CPUs.
import type { TaskContext, TaskOp, TaskPlacement, TaskStats } from './task.js';
import type { TaskHost } from './task-context.js';

export interface Task {
  readonly id: number;
  readonly name: string;
  readonly ctx: TaskContext;
  /** The operations it runs now: its own, or a kernel path (a fault handler) on top of the stack. */
  iter: Iterator<TaskOp, unknown, number>;
  readonly stack: Array<Iterator<TaskOp, unknown, number>>;
  readonly stats: TaskStats;
  computeLeftNs: number;
  sliceLeftNs: number;
  /** CFS's vruntime: CPU time used, moved forward when it wakes from a long sleep. */
  vruntimeNs: number;
  pendingResult: number;
  blockedSinceNs: number;
  waitingFor: string;
  zoneWaitSinceNs: number;
  zoneWaitMask: string;
  /** Locks it holds: id * 2 + (1 for write). */
  readonly held: number[];
  /** Where it runs now (its context reads this): the CPU, its clock and its trace. */
  readonly host: TaskHost;
  /** It never leaves its CPU; else balance.ts may move it within its last-level cache. */
  readonly pinned: boolean;
  /** When a wake-up queued it here, while it still waits for the CPU; -1 once it ran, or when it was queued by a
   * preemption (balance.ts moves only woken tasks). */
  wokenNs: number;
  /** The lock it waits for, since when, and how the wait is described. */
  lockWait: { id: number; write: boolean; sinceNs: number; what: string } | null;
  /** The commit woke it to take the lock it waits for itself: when it next runs, it tries again (cpu-locking.ts
   * retryLock). */
  lockRetry: boolean;
  /** A grant woke it holding this lock (id), at lockWokenNs; -1 once it had its CPU back (cpu-locking.ts
   * ownerMoved). */
  lockWokenId: number;
  lockWokenNs: number;
  /** It spins on a lock and the commit said when to stop: an EV_SPIN_STOP will put it to sleep. */
  lockSpinStop: boolean;
  /** Its last operation entered the kernel: the return-to-user hooks run before its code continues. */
  inKernel: boolean;
  /** In a memory stall (psi_memstall_enter): direct reclaim, memcg reclaim, memory.high throttling. */
  memstall: boolean;
  memstallSinceNs: number;
  /** Its memory stall is a return-to-user penalty sleep, which ends when it wakes. */
  penaltyStall: boolean;
  // EEVDF only (eevdf.ts sets them at the first scheduling decision; never under CFS):
  /** Its virtual deadline (se->deadline). */
  deadlineNs?: number;
  /** The lag it keeps while off the queue (se->vlag). */
  vlagNs?: number;
  /** Its deadline when it was last switched in: RUN_TO_PARITY holds while this is still its deadline (the kernel
   * stashes it in se->vlag in set_next_entity). */
  pickedDeadlineNs?: number;
  /** It slept while not eligible and is still queued (se->sched_delayed). */
  delayed?: boolean;
  /** When it went into the queue, for deadline ties (the rb-tree puts an equal key after those already there). */
  queuedSeq?: number;
}

/** Exited, failed or killed: it never runs again. */
export function isEnded(t: Task): boolean {
  const s = t.stats.state;
  return s === 'exited' || s === 'failed' || s === 'killed';
}

/** A task's counters as it is placed on `cpu`. */
export function newTaskStats(p: TaskPlacement, cpu: number): TaskStats {
  return {
    id: p.id,
    name: p.name,
    cpu: cpu,
    migrations: 0,
    state: 'runnable',
    events: 0,
    runNs: 0,
    blockedNs: 0,
    allocs: {},
    frees: 0,
    touches: 0,
    locks: {},
    sent: 0,
    received: 0,
    exitedAtNs: null,
    killedBy: null,
    memstallNs: 0,
  };
}

/** The record of task p as it is placed, running `iter` (its function's iterator) in context ctx with a full slice. */
export function newTask(
  p: TaskPlacement,
  ctx: TaskContext,
  iter: Iterator<TaskOp, unknown, number>,
  stats: TaskStats,
  host: TaskHost,
  sliceNs: number,
): Task {
  return {
    id: p.id,
    name: p.name,
    ctx,
    iter,
    stack: [],
    stats,
    computeLeftNs: 0,
    sliceLeftNs: sliceNs,
    vruntimeNs: 0,
    pendingResult: 0,
    blockedSinceNs: 0,
    waitingFor: '',
    zoneWaitSinceNs: 0,
    zoneWaitMask: '',
    held: [],
    lockWait: null,
    lockRetry: false,
    lockWokenId: -1,
    lockWokenNs: -1,
    lockSpinStop: false,
    inKernel: false,
    memstall: false,
    memstallSinceNs: 0,
    penaltyStall: false,
    host,
    pinned: p.pinned ?? true,
    // A new task is placed as a woken one (wake_up_new_task's select_task_rq): an idle CPU of its LLC may take it.
    wokenNs: 0,
  };
}
