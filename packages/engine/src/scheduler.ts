// scheduler: a CPU's run queue and time accounting, after CFS (kernel/sched/fair.c). Each task's virtual runtime
// is the CPU time it used; the runnable task with the least runs next (ties in queue order). A task that wakes is
// placed no further back than the CPU's min_vruntime less the sleeper credit (GENTLE_FAIR_SLEEPERS), and it
// preempts the running task when that one's vruntime is ahead of it by more than the wakeup granularity (the
// preemption takes effect at the running task's next compute boundary). A computing task is also preempted at the
// end of its time slice when another waits. A context switch costs contextSwitchNs when the task changes; the CPU
// idles when nothing is runnable. Kernel modules hear of context switches and idle here. Busy and idle time are charged as
// simulated time advances. The operations tasks run are in cpu.ts, which builds on this.
import type { TraceLog } from './trace-log.js';
import type { Costs } from './costs.js';
import { TraceHash } from './digest.js';
import { EventHeap } from './event-heap.js';
import type { CpuHooks } from './hooks.js';
import { PsiCpu } from './psi.js';
import type { CpuStats } from './stats.js';
import type { TaskContext, TaskOp, TaskStats } from './task.js';

export const EV_RUN = 1;
export const EV_WAKE = 2;
export const EV_DISPATCH = 3;
export const EV_MSG = 4;
export const EV_TIMER = 5;
/** A spinning lock waiter stops spinning and sleeps (the commit's LA_SPIN_STOP). */
export const EV_SPIN_STOP = 6;

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
  lockWait: { id: number; write: boolean; sinceNs: number } | null;
  /** It spins on a lock and the commit said when to stop: an EV_SPIN_STOP will put it to sleep. */
  lockSpinStop: boolean;
  /** Its last operation entered the kernel: the return-to-user hooks run before its code continues. */
  inKernel: boolean;
  /** In a memory stall (psi_memstall_enter): direct reclaim, memcg reclaim, memory.high throttling. */
  memstall: boolean;
  memstallSinceNs: number;
  /** Its memory stall is a return-to-user penalty sleep, which ends when it wakes. */
  penaltyStall: boolean;
}

/** Exited, failed or killed: it never runs again. */
export function isEnded(t: Task): boolean {
  const s = t.stats.state;
  return s === 'exited' || s === 'failed' || s === 'killed';
}

export class CpuScheduler {
  readonly heap = new EventHeap();
  readonly hash = new TraceHash();
  readonly stats: CpuStats;
  nowNs = 0;
  protected readonly tasks: Task[] = [];
  /** Runnable tasks in the order they were queued; dispatch takes the one with the least vruntime. */
  protected readonly runq: Task[] = [];
  protected minVruntimeNs = 0;
  protected current: Task | null = null;
  protected lastRan: Task | null = null;
  protected dispatchQueued = false;
  protected idleNotified = false;
  protected readonly hooks: CpuHooks[] = [];
  /** The CPU's trace when the run is traced (trace-log.ts), else null. */
  trace: TraceLog | null = null;
  /** Memory pressure stall accounting (psi.ts), and how many of this CPU's tasks are in a memory stall. */
  readonly psi = new PsiCpu();
  protected memstalls = 0;

  constructor(
    readonly id: number,
    protected readonly costs: Costs,
  ) {
    this.stats = {
      cpu: id,
      events: 0,
      busyNs: 0,
      idleNs: 0,
      contextSwitches: 0,
      messagesSent: 0,
      messagesReceived: 0,
      zoneDeferred: 0,
      lockWaits: 0,
      spinNs: 0,
      timers: 0,
    };
  }

  taskStats(): TaskStats[] {
    return this.tasks.map((t) => t.stats);
  }

  liveTasks(): number {
    let n = 0;
    for (const t of this.tasks) if (!isEnded(t)) n++;
    return n;
  }

  /** The tasks still waiting for a lock, for the end of a run that did not deadlock: which lock and since when. */
  lockWaiters(lockOf: (id: number) => { name: string; kind: string } | undefined): string[] {
    return this.tasks
      .filter((t) => !isEnded(t) && t.lockWait !== null)
      .map((t) => {
        const w = t.lockWait!;
        const since = `since ${w.sinceNs} ns (${this.nowNs - w.sinceNs} ns before the end)`;
        const l = lockOf(w.id);
        const mode = l?.kind === 'rwsem' ? (w.write ? ' for write' : ' for read') : '';
        return `task '${t.name}' (#${t.id}) on cpu ${this.id}: waits for ${l?.kind ?? 'lock'} '${l?.name ?? w.id}'${mode} ${since}`;
      });
  }

  /** What each live task waits for, for a deadlock report. */
  waits(): string[] {
    return this.tasks
      .filter((t) => !isEnded(t))
      .map(
        (t) =>
          `task '${t.name}' (#${t.id}) on cpu ${this.id}: ${t.stats.state}${t.waitingFor ? ` (${t.waitingFor})` : ''}`,
      );
  }

  protected advanceTo(t: number): void {
    if (t <= this.nowNs) return;
    const cur = this.current;
    // PSI: the state held since the last event (psi_group_change's test_state), for [now, t). The common case - a
    // busy CPU, nobody stalled, inside the current period - is one comparison and one addition.
    const psi = this.psi;
    if (this.memstalls === 0 && cur !== null && t <= psi.periodEndNs) psi.nonidleNs += t - this.nowNs;
    else if (cur !== null || this.runq.length > 0 || this.memstalls > 0) {
      const some = this.memstalls > 0;
      const full = some && (cur === null || cur.memstall) && this.runq.every((x) => x.memstall || isEnded(x));
      psi.account(this.nowNs, t, some, full, true);
    }
    if (cur === null) this.stats.idleNs += t - this.nowNs;
    else {
      this.stats.busyNs += t - this.nowNs;
      cur.stats.runNs += t - this.nowNs;
      cur.vruntimeNs += t - this.nowNs;
      if (cur.stats.state === 'spinning') this.stats.spinNs += t - this.nowNs;
    }
    this.nowNs = t;
  }

  protected task(taskId: number): Task {
    // Tasks are placed in id order; ids on one CPU are increasing, so a binary search finds the slot.
    const ts = this.tasks;
    let lo = 0;
    let hi = ts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (ts[mid]!.id < taskId) lo = mid + 1;
      else hi = mid;
    }
    return ts[lo]!;
  }

  // ---- scheduling ------------------------------------------------------------------------------------------------

  protected queueDispatch(): void {
    if (this.dispatchQueued) return;
    this.dispatchQueued = true;
    this.heap.push(this.nowNs, EV_DISPATCH, -1, 0);
  }

  protected dispatch(): void {
    if (this.current !== null) return;
    let best = -1;
    for (let i = 0; i < this.runq.length; i++) {
      const c = this.runq[i]!;
      if (isEnded(c)) {
        // killed while it waited in the run queue
        this.runq.splice(i--, 1);
        continue;
      }
      if (best < 0 || c.vruntimeNs < this.runq[best]!.vruntimeNs) best = i;
    }
    if (best < 0) {
      this.trace?.switchTo(-1, this.nowNs);
      if (!this.idleNotified) {
        this.idleNotified = true;
        for (const h of this.hooks) h.idle?.(this.nowNs);
      }
      return;
    }
    const t = this.runq.splice(best, 1)[0]!;
    if (t.vruntimeNs > this.minVruntimeNs) this.minVruntimeNs = t.vruntimeNs; // it was the leftmost
    const switched = this.lastRan !== null && this.lastRan !== t;
    if (switched) this.stats.contextSwitches++;
    if (switched || this.idleNotified)
      for (const h of this.hooks) h.contextSwitch?.(this.idleNotified ? -1 : this.lastRan!.id, t.id, this.nowNs);
    this.idleNotified = false;
    this.current = t;
    this.lastRan = t;
    if (t.held.length > 0) this.ownerMoved(t, true);
    this.trace?.switchTo(t.id, this.nowNs);
    t.stats.state = 'running';
    t.sliceLeftNs = this.costs.timeSliceNs;
    this.heap.push(this.nowNs + (switched ? this.costs.contextSwitchNs : 0), EV_RUN, t.id, t.pendingResult);
  }

  /** The least vruntime among the queued tasks, or `dflt` if none is queued. */
  private leftmostVruntime(dflt: number): number {
    let m = dflt;
    for (const c of this.runq) if (!isEnded(c) && c.vruntimeNs < m) m = c.vruntimeNs;
    return m;
  }

  /** psi_memstall_enter / _leave for task t, now; returns whether it was stalled before (for nesting). */
  protected setMemstall(t: Task, on: boolean): boolean {
    const was = t.memstall;
    if (on && !was) {
      t.memstall = true;
      t.memstallSinceNs = this.nowNs;
      this.memstalls++;
    } else if (!on && was) {
      t.memstall = false;
      t.stats.memstallNs += this.nowNs - t.memstallSinceNs;
      this.memstalls--;
    }
    return was;
  }

  protected wake(t: Task, result: number): void {
    if (isEnded(t)) return;
    if (t.penaltyStall) {
      t.penaltyStall = false;
      this.setMemstall(t, false);
    }
    t.stats.blockedNs += this.nowNs - t.blockedSinceNs;
    t.waitingFor = '';
    t.pendingResult = result;
    t.stats.state = 'runnable';
    // update_min_vruntime, then place_entity: a sleeper comes back at most the sleeper credit behind.
    const cur = this.current;
    const floor = this.leftmostVruntime(cur !== null ? cur.vruntimeNs : Infinity);
    if (floor !== Infinity && floor > this.minVruntimeNs) this.minVruntimeNs = floor;
    const placed = this.minVruntimeNs - this.costs.sleeperCreditNs;
    if (t.vruntimeNs < placed) t.vruntimeNs = placed;
    this.runq.push(t);
    if (cur === null) this.queueDispatch();
    else if (cur.vruntimeNs - t.vruntimeNs > this.costs.wakeupGranularityNs) cur.sliceLeftNs = 0; // check_preempt_wakeup
  }

  /** A task holding locks leaves its CPU (on = false) or gets it back; cpu.ts tells the lock commit (owner_on_cpu). */
  protected ownerMoved(_t: Task, _on: boolean): void {}

  protected block(t: Task, state: TaskStats['state'], waitingFor: string): void {
    if (t.held.length > 0) this.ownerMoved(t, false);
    t.stats.state = state;
    t.waitingFor = waitingFor;
    t.blockedSinceNs = this.nowNs;
    this.current = null;
    this.queueDispatch();
  }

  protected preemptOrContinue(t: Task): boolean {
    if (this.runq.length > 0) {
      if (t.held.length > 0) this.ownerMoved(t, false);
      t.stats.state = 'runnable';
      this.runq.push(t);
      this.current = null;
      this.queueDispatch();
      return true;
    }
    t.sliceLeftNs = this.costs.timeSliceNs;
    return false;
  }
}
