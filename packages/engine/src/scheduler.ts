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
// modules hear of context switches and idle here. Busy and idle time are charged as simulated time advances. The
// operations tasks run are in cpu.ts, which builds on this.
import type { TraceLog } from './trace-log.js';
import type { Costs, SchedulerKind } from './costs.js';
import { TraceHash } from './digest.js';
import { EventHeap } from './event-heap.js';
import type { CpuHooks } from './hooks.js';
import { PsiCpu } from './psi.js';
import type { CpuStats } from './stats.js';
import type { TaskContext, TaskOp, TaskStats } from './task.js';
import type { TaskHost } from './task-context.js';

export const EV_RUN = 1;
export const EV_WAKE = 2;
export const EV_DISPATCH = 3;
export const EV_MSG = 4;
export const EV_TIMER = 5;
/** A spinning lock waiter stops spinning and sleeps (the commit's LA_SPIN_STOP). */
export const EV_SPIN_STOP = 6;
/** Not an event of the heap: a task moved between CPUs (balance.ts), in both CPUs' trace hashes. */
export const EV_MIGRATE = 7;

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
  /** The commit woke it to take the lock it waits for itself: when it next runs, it tries again (cpu.ts). */
  lockRetry: boolean;
  /** A grant woke it holding this lock (id), at lockWokenNs; -1 once it had its CPU back (cpu.ts ownerMoved). */
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
  // EEVDF only (set on the first dispatch; never under CFS):
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
  /** Each module's state on this CPU, by module name (CpuHooks.state; KernelCpu.kernel). */
  protected readonly moduleStates = new Map<string, unknown>();
  /** The CPU's trace when the run is traced (trace-log.ts), else null. */
  trace: TraceLog | null = null;
  /** Memory pressure stall accounting (psi.ts), and how many of this CPU's tasks are in a memory stall. */
  readonly psi = new PsiCpu();
  protected memstalls = 0;
  /** EEVDF instead of CFS. */
  private readonly eevdf: boolean;
  /** EEVDF: tasks that slept while not eligible and are still queued (DELAY_DEQUEUE); they count in V and may be
   * picked, which dequeues them. Apart from runq, which holds runnable tasks only. */
  private readonly delayedq: Task[] = [];
  /** EEVDF: both, the kernel's tree. */
  private readonly queues = [this.runq, this.delayedq];
  /** EEVDF: the running task is to leave the CPU at its next compute boundary (TIF_NEED_RESCHED). */
  private needResched = false;
  private eevdfReady = false;
  private queueSeq = 0;
  /** EEVDF: avg_vruntime's terms, from eevdfAverage: the entities counted, and the sum of their vruntimes less
   * avgRefNs (any one of them), which keeps the sum small. */
  private avgN = 0;
  private avgSumNs = 0;
  private avgRefNs = 0;

  constructor(
    readonly id: number,
    protected readonly costs: Costs,
    scheduler: SchedulerKind,
  ) {
    this.eevdf = scheduler === 'eevdf';
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
      if (this.eevdf) cur.sliceLeftNs = this.needResched ? 0 : cur.deadlineNs! - cur.vruntimeNs;
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
    if (this.eevdf) {
      this.dispatchEevdf();
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
    if (t.vruntimeNs > this.minVruntimeNs) this.minVruntimeNs = t.vruntimeNs; // it was the leftmost
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
    if (this.eevdf) {
      this.wakeEevdf(t);
      return;
    }
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
    if (this.eevdf) this.dequeueEevdf(t);
    this.current = null;
    this.queueDispatch();
  }

  /** The running task's slice ended, another task's wake-up asked for the CPU (at a compute boundary, or at a
   * preemption point: resched), or it yielded (no compute left): true if it left the CPU, false if it goes on. */
  protected preemptOrContinue(t: Task, resched = false): boolean {
    if (this.eevdf) return this.scheduleEevdf(t, resched);
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
    if (!this.eevdf) return t.vruntimeNs - this.minVruntimeNs;
    if (!this.eevdfReady) this.initEevdf();
    this.eevdfAverage(this.current);
    return this.entityLag(t);
  }

  /** Queue task t, detached from another CPU with `rel` (detachQueued), here at atNs (activate_task on the
   * destination): CFS puts it as far from this min_vruntime; EEVDF places it with its lag (place_entity, which
   * drops the lag when nothing else is queued, as on an idle CPU). */
  attachQueued(t: Task, rel: number, atNs: number): void {
    let i = this.tasks.length;
    while (i > 0 && this.tasks[i - 1]!.id > t.id) i--;
    this.tasks.splice(i, 0, t); // task() searches them in id order
    if (this.eevdf) {
      if (!this.eevdfReady) this.initEevdf();
      t.vlagNs = rel;
      this.placeEntity(t, this.current);
      t.queuedSeq = ++this.queueSeq;
    } else t.vruntimeNs = this.minVruntimeNs + rel;
    this.runq.push(t);
    if (!this.dispatchQueued && this.current === null) {
      this.dispatchQueued = true;
      this.heap.push(atNs, EV_DISPATCH, -1, 0);
    }
  }

  // ---- EEVDF (kernel/sched/fair.c, 6.12) -------------------------------------------------------------------------
  // Every task has weight NICE_0_LOAD, so calc_delta_fair is the identity and V is a plain mean. The kernel's tree
  // is two arrays here: runq (runnable) and delayedq (asleep but still queued); queuedSeq orders them as the tree
  // would among equal deadlines. The running task is in neither, as `current` is not in the kernel's tree.

  /** The tasks placed at the start join as new tasks do (wake_up_new_task: place_entity with ENQUEUE_INITIAL): at
   * V, which is min_vruntime (0) for all of them, with half a slice (PLACE_DEADLINE_INITIAL). */
  private initEevdf(): void {
    this.eevdfReady = true;
    const half = Math.floor(this.costs.baseSliceNs / 2);
    for (const t of this.runq) {
      t.deadlineNs = t.vruntimeNs + half;
      t.vlagNs = 0;
      t.pickedDeadlineNs = -1;
      t.delayed = false;
      t.queuedSeq = ++this.queueSeq;
    }
  }

  /** avg_vruntime's terms over the queued tasks (runnable and delayed) and `cur`, the running one. */
  private eevdfAverage(cur: Task | null): void {
    let n = 0;
    let sum = 0;
    let ref = 0;
    if (cur !== null) {
      ref = cur.vruntimeNs;
      n = 1;
    }
    for (const q of this.queues)
      for (const c of q) {
        if (isEnded(c)) continue;
        if (n === 0) ref = c.vruntimeNs;
        sum += c.vruntimeNs - ref;
        n++;
      }
    this.avgN = n;
    this.avgSumNs = sum;
    this.avgRefNs = ref;
  }

  /** V (avg_vruntime): the mean vruntime rounded down, or min_vruntime when nothing is queued. */
  private avgVruntime(): number {
    return this.avgN === 0 ? this.minVruntimeNs : this.avgRefNs + Math.floor(this.avgSumNs / this.avgN);
  }

  /** vruntime_eligible: vruntime <= V, compared without the division (sum >= (v - ref) * n). */
  private eligible(vruntimeNs: number): boolean {
    return this.avgSumNs >= (vruntimeNs - this.avgRefNs) * this.avgN;
  }

  /** entity_lag: V - vruntime, clamped to lagLimitNs either way (after eevdfAverage). */
  private entityLag(t: Task): number {
    const lim = this.costs.lagLimitNs;
    return Math.min(lim, Math.max(-lim, this.avgVruntime() - t.vruntimeNs));
  }

  /** Tasks queued besides the running one (rq->nr_running > 1 when a task runs). */
  private othersQueued(): boolean {
    for (const c of this.runq) if (!isEnded(c)) return true;
    for (const c of this.delayedq) if (!isEnded(c)) return true;
    return false;
  }

  /** update_min_vruntime: the least vruntime of `cur` and the queued tasks, never moving back. */
  private updateMinVruntime(cur: Task | null): void {
    let m = cur !== null ? cur.vruntimeNs : Infinity;
    for (const q of this.queues) for (const c of q) if (!isEnded(c) && c.vruntimeNs < m) m = c.vruntimeNs;
    if (m !== Infinity && m > this.minVruntimeNs) this.minVruntimeNs = m;
  }

  /** update_curr for the running task t: at its deadline it gets a new one, a slice further (update_deadline), and
   * must reschedule if others are queued. */
  private updateCurr(t: Task): void {
    if (t.vruntimeNs >= t.deadlineNs!) {
      t.deadlineNs = t.vruntimeNs + this.costs.baseSliceNs;
      if (this.othersQueued()) this.needResched = true;
    }
    this.updateMinVruntime(t);
    t.sliceLeftNs = this.needResched ? 0 : t.deadlineNs! - t.vruntimeNs;
  }

  /** pick_eevdf, with `cur` the running task (or null): the eligible task with the earliest deadline, but `cur`
   * while it is eligible and still on the request it was switched in with (RUN_TO_PARITY). May be a delayed task,
   * which the caller dequeues and picks again (pick_next_entity). */
  private pickEevdf(cur: Task | null): Task | null {
    this.eevdfAverage(cur);
    if (this.avgN === 0) return null;
    let best: Task | null = null;
    if (this.avgN === 1) {
      if (cur !== null) return cur;
      for (const q of this.queues) for (const c of q) if (!isEnded(c)) return c;
    }
    let curr = cur;
    if (curr !== null && !this.eligible(curr.vruntimeNs)) curr = null;
    if (curr !== null && curr.pickedDeadlineNs === curr.deadlineNs) return curr;
    for (const q of this.queues)
      for (const c of q) {
        if (isEnded(c) || !this.eligible(c.vruntimeNs)) continue;
        if (
          best === null ||
          c.deadlineNs! < best.deadlineNs! ||
          (c.deadlineNs === best.deadlineNs && c.queuedSeq! < best.queuedSeq!)
        )
          best = c;
      }
    if (best === null || (curr !== null && curr.deadlineNs! < best.deadlineNs!)) best = curr;
    return best ?? cur;
  }

  /** A delayed task was picked: it leaves the queue now (dequeue_entity with DEQUEUE_DELAYED), keeping its lag
   * but none above 0 (DELAY_ZERO: it was picked, so it was owed service, and that debt is forgiven). */
  private finishDelayed(t: Task, cur: Task | null): void {
    this.eevdfAverage(cur);
    t.vlagNs = Math.min(0, this.entityLag(t));
    t.delayed = false;
    this.delayedq.splice(this.delayedq.indexOf(t), 1);
    this.updateMinVruntime(cur);
  }

  private dispatchEevdf(): void {
    if (!this.eevdfReady) this.initEevdf();
    let t: Task | null;
    for (;;) {
      for (const q of this.queues) {
        let w = 0;
        for (const c of q) if (!isEnded(c)) q[w++] = c; // killed while queued
        q.length = w;
      }
      t = this.pickEevdf(null);
      if (t === null || !t.delayed) break;
      this.finishDelayed(t, null);
    }
    if (t === null) {
      this.goIdle();
      return;
    }
    this.runq.splice(this.runq.indexOf(t), 1);
    t.pickedDeadlineNs = t.deadlineNs; // set_next_entity
    this.needResched = false;
    this.switchIn(t, t.deadlineNs! - t.vruntimeNs);
  }

  /** place_entity for a waking task (flags 0): at V less its lag, the lag inflated by (n + 1) / n for the n tasks
   * already queued so that it is its lag again once it counts in V (PLACE_LAG); a deadline a slice on. */
  private placeEntity(t: Task, cur: Task | null): void {
    this.eevdfAverage(cur);
    let lag = 0;
    if (this.avgN > 0 && t.vlagNs !== 0) lag = Math.trunc((t.vlagNs! * (this.avgN + 1)) / this.avgN); // div_s64
    t.vruntimeNs = this.avgVruntime() - lag;
    t.deadlineNs = t.vruntimeNs + this.costs.baseSliceNs;
  }

  /** try_to_wake_up: enqueue (or requeue a delayed task), then check_preempt_wakeup_fair. */
  private wakeEevdf(t: Task): void {
    if (!this.eevdfReady) this.initEevdf();
    const cur = this.current;
    if (t.delayed) {
      // requeue_delayed_entity: still queued; with lag above 0 now (DELAY_ZERO) it is placed afresh at V.
      this.eevdfAverage(cur);
      const lag = this.entityLag(t);
      this.delayedq.splice(this.delayedq.indexOf(t), 1);
      t.delayed = false;
      if (lag > 0) {
        t.vlagNs = 0;
        this.placeEntity(t, cur);
        t.queuedSeq = ++this.queueSeq;
      } else t.vlagNs = lag;
      this.runq.push(t);
    } else {
      if (cur !== null) this.updateCurr(cur); // enqueue_entity's update_curr
      this.placeEntity(t, cur);
      t.queuedSeq = ++this.queueSeq;
      this.runq.push(t);
    }
    if (cur === null) {
      this.queueDispatch();
      return;
    }
    if (this.needResched) return; // test_tsk_need_resched(curr)
    this.updateCurr(cur);
    // PREEMPT_SHORT needs a shorter slice than the running task's: every task has the base slice here.
    if (this.needResched || this.pickEevdf(cur) === t) {
      this.needResched = true;
      cur.sliceLeftNs = 0;
    }
  }

  /** dequeue_entity for the running task going to sleep: one not eligible stays queued (DELAY_DEQUEUE); one that
   * is leaves with its lag (update_entity_lag). */
  private dequeueEevdf(t: Task): void {
    if (!this.eevdfReady) this.initEevdf();
    this.updateCurr(t);
    this.eevdfAverage(t);
    if (!this.eligible(t.vruntimeNs)) {
      t.delayed = true;
      t.queuedSeq = ++this.queueSeq; // put_prev_entity puts it back into the tree
      this.delayedq.push(t);
      return;
    }
    t.vlagNs = this.entityLag(t);
    this.updateMinVruntime(null);
  }

  /** schedule() with the running task t still runnable (its slice check, a wake-up's preemption, or sched_yield):
   * true if it leaves the CPU. */
  private scheduleEevdf(t: Task, resched: boolean): boolean {
    if (!this.eevdfReady) this.initEevdf();
    // cpu.ts calls this at a compute boundary with compute left, at a preemption point (resched), or for
    // ctx.yield() with neither.
    const yielding = !resched && t.computeLeftNs <= 0;
    this.updateCurr(t);
    if (yielding && this.othersQueued()) t.deadlineNs! += this.costs.baseSliceNs; // yield_task_fair
    this.needResched = false;
    let next: Task | null;
    for (;;) {
      next = this.pickEevdf(t);
      if (next === null || !next.delayed) break;
      this.finishDelayed(next, t);
    }
    if (next === t || next === null) {
      // Picked again: no set_next_entity, so RUN_TO_PARITY's stash keeps the deadline it was switched in with.
      t.sliceLeftNs = t.deadlineNs! - t.vruntimeNs;
      return false;
    }
    if (t.held.length > 0) this.ownerMoved(t, false);
    t.stats.state = 'runnable';
    t.queuedSeq = ++this.queueSeq;
    this.runq.push(t);
    this.current = null;
    this.queueDispatch();
    return true;
  }
}
