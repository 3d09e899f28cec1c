// scheduler: a CPU's run queue and time accounting, after the fair class of kernel/sched/fair.c, as CFS (6.1) or
// EEVDF (6.12), the run's `scheduler`.
//
// CFS: each task's virtual runtime is the CPU time it used; the runnable task with the least runs next (ties in
// queue order). A task that wakes is placed no further back than the CPU's min_vruntime less the sleeper credit
// (GENTLE_FAIR_SLEEPERS), and it preempts the running task when that one's vruntime is ahead of it by more than the
// wakeup granularity (the preemption takes effect at the running task's next compute boundary). A computing task is
// also preempted at the end of its time slice when another waits.
//
// EEVDF (all tasks nice 0, so virtual time is CPU time): each task has a virtual deadline, its vruntime when its
// request began plus the base slice (update_deadline). V is the mean vruntime of the queued tasks and the running
// one (avg_vruntime); a task is eligible when its vruntime is at most V (vruntime_eligible), and the eligible task
// with the earliest deadline runs (pick_eevdf), except that the running task keeps the CPU while it is eligible and
// still on the request it was switched in with (RUN_TO_PARITY). When the running task reaches its deadline it gets a
// new one and the CPU picks again. A task that sleeps while eligible keeps its lag, V - vruntime clamped to
// lagLimitNs (update_entity_lag), and is placed that far left of V when it wakes, inflated for its own weight in V
// (place_entity, PLACE_LAG); one that sleeps while not eligible stays queued (DELAY_DEQUEUE) until it is picked
// (then it leaves with its lag clipped to 0, DELAY_ZERO) or woken (requeue_delayed_entity). A woken task preempts
// the running one when it is what pick_eevdf would now choose (check_preempt_wakeup_fair), at the running task's
// next compute boundary. Tasks placed at the start get half a slice (PLACE_DEADLINE_INITIAL); sched_yield pushes
// the deadline a slice out (yield_task_fair).
//
// A context switch costs contextSwitchNs when the task changes; the CPU idles when nothing is runnable. Kernel
// modules hear of context switches and idle here. Busy and idle time are charged as simulated time advances. EEVDF's
// arithmetic is in eevdf.ts; the task record in task-struct.ts; the operations tasks run are in cpu.ts, which
// builds on this.
import type { TraceLog } from './trace-log.js';
import type { Costs, SchedulerKind } from './costs.js';
import { TraceHash } from './digest.js';
import { EventHeap } from './event-heap.js';
import type { CpuHooks } from './hooks.js';
import { PsiCpu } from './psi.js';
import type { CpuStats } from './stats.js';
import type { TaskStats } from './task.js';
import { type CfsRq, Eevdf } from './eevdf.js';
import { isEnded, type Task } from './task-struct.js';

export const EV_RUN = 1;
export const EV_WAKE = 2;
export const EV_DISPATCH = 3;
export const EV_MSG = 4;
export const EV_TIMER = 5;
/** A spinning lock waiter stops spinning and sleeps (the commit's LA_SPIN_STOP). */
export const EV_SPIN_STOP = 6;
/** Not an event of the heap: a task moved between CPUs (balance.ts), in both CPUs' trace hashes. */
export const EV_MIGRATE = 7;

export class CpuScheduler {
  readonly heap = new EventHeap();
  readonly hash = new TraceHash();
  readonly stats: CpuStats;
  nowNs = 0;
  protected readonly tasks: Task[] = [];
  /** Runnable tasks in the order they were queued (CFS: dispatch takes the one with the least vruntime), and
   * min_vruntime. */
  protected readonly cfsRq: CfsRq = { runq: [], minVruntimeNs: 0 };
  protected readonly runq = this.cfsRq.runq;
  protected current: Task | null = null;
  protected lastRan: Task | null = null;
  protected dispatchQueued = false;
  protected idleNotified = false;
  protected readonly hooks: CpuHooks[] = [];
  /** Each module's state on this CPU, by module name (CpuHooks.state; KernelCpu.kernel). */
  protected readonly moduleStates = new Map<string, unknown>();
  /** The CPU's trace when the run is traced (trace-log.ts), else null. */
  trace: TraceLog | null = null;
  /** Memory pressure stall accounting (psi.ts), and how many of this CPU's tasks are in a memory stall. */
  readonly psi = new PsiCpu();
  protected memstalls = 0;
  /** EEVDF's arithmetic and picks (eevdf.ts), or null under CFS. */
  private readonly eevdf: Eevdf | null;

  constructor(
    readonly id: number,
    protected readonly costs: Costs,
    scheduler: SchedulerKind,
  ) {
    this.eevdf = scheduler === 'eevdf' ? new Eevdf(this.cfsRq, costs) : null;
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
      // EEVDF: the slice left is the way to the deadline, so a compute piece ends there (or at once if preempted).
      if (this.eevdf !== null) cur.sliceLeftNs = this.eevdf.needResched ? 0 : cur.deadlineNs! - cur.vruntimeNs;
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
    if (this.eevdf !== null) {
      const next = this.eevdf.next();
      if (next === null) this.goIdle();
      else this.switchIn(next, next.deadlineNs! - next.vruntimeNs);
      return;
    }
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
      this.goIdle();
      return;
    }
    const t = this.runq.splice(best, 1)[0]!;
    if (t.vruntimeNs > this.cfsRq.minVruntimeNs) this.cfsRq.minVruntimeNs = t.vruntimeNs; // it was the leftmost
    this.switchIn(t, this.costs.timeSliceNs);
  }

  private goIdle(): void {
    this.trace?.switchTo(-1, this.nowNs);
    if (!this.idleNotified) {
      this.idleNotified = true;
      for (const h of this.hooks) h.idle?.(this.nowNs);
    }
  }

  /** t, taken off the run queue, becomes the running task with sliceNs to compute before the slice check. */
  private switchIn(t: Task, sliceNs: number): void {
    const switched = this.lastRan !== null && this.lastRan !== t;
    if (switched) this.stats.contextSwitches++;
    if (switched || this.idleNotified)
      for (const h of this.hooks) h.contextSwitch?.(this.idleNotified ? -1 : this.lastRan!.id, t.id, this.nowNs);
    this.idleNotified = false;
    this.current = t;
    this.lastRan = t;
    t.wokenNs = -1;
    if (t.held.length > 0) this.ownerMoved(t, true);
    this.trace?.switchTo(t.id, this.nowNs);
    t.stats.state = 'running';
    t.sliceLeftNs = sliceNs;
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
    t.wokenNs = this.nowNs;
    if (this.eevdf !== null) {
      this.eevdf.wake(t, this.current);
      if (this.current === null) this.queueDispatch();
      return;
    }
    // update_min_vruntime, then place_entity: a sleeper comes back at most the sleeper credit behind.
    const cur = this.current;
    const floor = this.leftmostVruntime(cur !== null ? cur.vruntimeNs : Infinity);
    if (floor !== Infinity && floor > this.cfsRq.minVruntimeNs) this.cfsRq.minVruntimeNs = floor;
    const placed = this.cfsRq.minVruntimeNs - this.costs.sleeperCreditNs;
    if (t.vruntimeNs < placed) t.vruntimeNs = placed;
    this.runq.push(t);
    if (cur === null) this.queueDispatch();
    else if (cur.vruntimeNs - t.vruntimeNs > this.costs.wakeupGranularityNs) cur.sliceLeftNs = 0; // check_preempt_wakeup
  }

  /** A task holding locks leaves its CPU (on = false) or gets it back; cpu-locking.ts tells the lock commit
   * (owner_on_cpu). */
  protected ownerMoved(_t: Task, _on: boolean): void {}

  protected block(t: Task, state: TaskStats['state'], waitingFor: string): void {
    if (t.held.length > 0) this.ownerMoved(t, false);
    t.stats.state = state;
    t.waitingFor = waitingFor;
    t.blockedSinceNs = this.nowNs;
    this.eevdf?.dequeue(t);
    this.current = null;
    this.queueDispatch();
  }

  /** The running task's slice ended, another task's wake-up asked for the CPU (at a compute boundary, or at a
   * preemption point: resched), or it yielded (no compute left): true if it left the CPU, false if it goes on. */
  protected preemptOrContinue(t: Task, resched = false): boolean {
    if (this.eevdf === null) {
      if (this.runq.length === 0) {
        t.sliceLeftNs = this.costs.timeSliceNs;
        return false;
      }
      this.runq.push(t);
    } else if (!this.eevdf.schedule(t, resched)) return false; // which queued it when it leaves
    if (t.held.length > 0) this.ownerMoved(t, false);
    t.stats.state = 'runnable';
    this.current = null;
    this.queueDispatch();
    return true;
  }

  // ---- moving a queued task to another CPU (balance.ts) -----------------------------------------------------------

  /** Nothing runs or waits here (idle_cpu: rq->nr_running == 0, the delayed entities aside). */
  idleNow(): boolean {
    if (this.current !== null) return false;
    for (const c of this.runq) if (!isEnded(c)) return false;
    return true;
  }

  /** Tasks a wake-up queued here that still wait for the CPU and may move: unpinned, outside the kernel and any
   * lock, not in a memory stall; in queue order (detach_tasks takes the least recently run first). */
  wokenWaiting(): Task[] {
    return this.runq.filter(
      (t) =>
        t.wokenNs >= 0 &&
        !t.pinned &&
        !isEnded(t) &&
        t.stack.length === 0 &&
        t.held.length === 0 &&
        t.lockWait === null &&
        !t.memstall,
    );
  }

  /** Take queued task t off this CPU (deactivate_task on the source): returns its place relative to this queue -
   * CFS: vruntime less min_vruntime (migrate_task_rq_fair); EEVDF: its lag, V - vruntime (update_entity_lag). */
  detachQueued(t: Task): number {
    this.runq.splice(this.runq.indexOf(t), 1);
    this.tasks.splice(this.tasks.indexOf(t), 1);
    if (this.eevdf === null) return t.vruntimeNs - this.cfsRq.minVruntimeNs;
    return this.eevdf.detach(t, this.current);
  }

  /** Queue task t, detached from another CPU with `rel` (detachQueued), here at atNs (activate_task on the
   * destination): CFS puts it as far from this min_vruntime; EEVDF places it with its lag (place_entity, which
   * drops the lag when nothing else is queued, as on an idle CPU). */
  attachQueued(t: Task, rel: number, atNs: number): void {
    let i = this.tasks.length;
    while (i > 0 && this.tasks[i - 1]!.id > t.id) i--;
    this.tasks.splice(i, 0, t); // task() searches them in id order
    if (this.eevdf !== null) this.eevdf.attach(t, rel, this.current);
    else {
      t.vruntimeNs = this.cfsRq.minVruntimeNs + rel;
      this.runq.push(t);
    }
    if (!this.dispatchQueued && this.current === null) {
      this.dispatchQueued = true;
      this.heap.push(atNs, EV_DISPATCH, -1, 0);
    }
  }
}
