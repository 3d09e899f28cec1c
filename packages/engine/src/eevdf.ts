// eevdf: the EEVDF side of a CPU's fair run queue (kernel/sched/fair.c, 6.12), for scheduler.ts, which owns the
// queue, the running task and what a switch does; this file owns the virtual-time arithmetic and the picks.
// Every task has weight NICE_0_LOAD, so calc_delta_fair is the identity and V is a plain mean. The kernel's tree is
// two arrays here: the scheduler's run queue (runnable) and delayedq (asleep but still queued); queuedSeq orders them
// as the tree would among equal deadlines. The running task is in neither, as `current` is not in the kernel's tree.
import type { Costs } from './costs.js';
import type { Task } from './task-struct.js';
import { isEnded } from './task-struct.js';

/** The parts of a CPU's cfs_rq the two fair classes share: its run queue and min_vruntime. */
export interface CfsRq {
  readonly runq: Task[];
  minVruntimeNs: number;
}

export class Eevdf {
  /** Tasks that slept while not eligible and are still queued (DELAY_DEQUEUE); they count in V and may be picked,
   * which dequeues them. Apart from runq, which holds runnable tasks only. */
  private readonly delayedq: Task[] = [];
  /** Both, the kernel's tree. */
  private readonly queues: Task[][];
  /** The running task is to leave the CPU at its next compute boundary (TIF_NEED_RESCHED). */
  needResched = false;
  private ready = false;
  private queueSeq = 0;
  /** avg_vruntime's terms, from average(): the entities counted, and the sum of their vruntimes less avgRefNs (any
   * one of them), which keeps the sum small. */
  private avgN = 0;
  private avgSumNs = 0;
  private avgRefNs = 0;

  constructor(
    private readonly rq: CfsRq,
    private readonly costs: Costs,
  ) {
    this.queues = [rq.runq, this.delayedq];
  }

  /** The tasks placed at the start join as new tasks do (wake_up_new_task: place_entity with ENQUEUE_INITIAL): at
   * V, which is min_vruntime (0) for all of them, with half a slice (PLACE_DEADLINE_INITIAL). Done at the first
   * scheduling decision, once every task is placed. */
  private init(): void {
    this.ready = true;
    const half = Math.floor(this.costs.baseSliceNs / 2);
    for (const t of this.rq.runq) {
      t.deadlineNs = t.vruntimeNs + half;
      t.vlagNs = 0;
      t.pickedDeadlineNs = -1;
      t.delayed = false;
      t.queuedSeq = ++this.queueSeq;
    }
  }

  /** avg_vruntime's terms over the queued tasks (runnable and delayed) and `cur`, the running one. */
  private average(cur: Task | null): void {
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
    return this.avgN === 0 ? this.rq.minVruntimeNs : this.avgRefNs + Math.floor(this.avgSumNs / this.avgN);
  }

  /** vruntime_eligible: vruntime <= V, compared without the division (sum >= (v - ref) * n). */
  private eligible(vruntimeNs: number): boolean {
    return this.avgSumNs >= (vruntimeNs - this.avgRefNs) * this.avgN;
  }

  /** entity_lag: V - vruntime, clamped to lagLimitNs either way (after average()). */
  private entityLag(t: Task): number {
    const lim = this.costs.lagLimitNs;
    return Math.min(lim, Math.max(-lim, this.avgVruntime() - t.vruntimeNs));
  }

  /** Tasks queued besides the running one (rq->nr_running > 1 when a task runs). */
  private othersQueued(): boolean {
    for (const c of this.rq.runq) if (!isEnded(c)) return true;
    for (const c of this.delayedq) if (!isEnded(c)) return true;
    return false;
  }

  /** update_min_vruntime: the least vruntime of `cur` and the queued tasks, never moving back. */
  private updateMinVruntime(cur: Task | null): void {
    let m = cur !== null ? cur.vruntimeNs : Infinity;
    for (const q of this.queues) for (const c of q) if (!isEnded(c) && c.vruntimeNs < m) m = c.vruntimeNs;
    if (m !== Infinity && m > this.rq.minVruntimeNs) this.rq.minVruntimeNs = m;
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
  private pick(cur: Task | null): Task | null {
    this.average(cur);
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
    this.average(cur);
    t.vlagNs = Math.min(0, this.entityLag(t));
    t.delayed = false;
    this.delayedq.splice(this.delayedq.indexOf(t), 1);
    this.updateMinVruntime(cur);
  }

  /** place_entity for a waking task (flags 0): at V less its lag, the lag inflated by (n + 1) / n for the n tasks
   * already queued so that it is its lag again once it counts in V (PLACE_LAG); a deadline a slice on. */
  private placeEntity(t: Task, cur: Task | null): void {
    this.average(cur);
    let lag = 0;
    if (this.avgN > 0 && t.vlagNs !== 0) lag = Math.trunc((t.vlagNs! * (this.avgN + 1)) / this.avgN); // div_s64
    t.vruntimeNs = this.avgVruntime() - lag;
    t.deadlineNs = t.vruntimeNs + this.costs.baseSliceNs;
  }

  // ---- what scheduler.ts asks ------------------------------------------------------------------------------------

  /** pick_next_task with no task running: the task to switch in, taken off the run queue, or null (idle). */
  next(): Task | null {
    if (!this.ready) this.init();
    let t: Task | null;
    for (;;) {
      for (const q of this.queues) {
        let w = 0;
        for (const c of q) if (!isEnded(c)) q[w++] = c; // killed while queued
        q.length = w;
      }
      t = this.pick(null);
      if (t === null || !t.delayed) break;
      this.finishDelayed(t, null);
    }
    if (t === null) return null;
    this.rq.runq.splice(this.rq.runq.indexOf(t), 1);
    t.pickedDeadlineNs = t.deadlineNs; // set_next_entity
    this.needResched = false;
    return t;
  }

  /** try_to_wake_up's enqueue (or requeue of a delayed task), then check_preempt_wakeup_fair against `cur`, the
   * running task (whose slice is cut to 0 when t should preempt it). */
  wake(t: Task, cur: Task | null): void {
    if (!this.ready) this.init();
    if (t.delayed) {
      // requeue_delayed_entity: still queued; with lag above 0 now (DELAY_ZERO) it is placed afresh at V.
      this.average(cur);
      const lag = this.entityLag(t);
      this.delayedq.splice(this.delayedq.indexOf(t), 1);
      t.delayed = false;
      if (lag > 0) {
        t.vlagNs = 0;
        this.placeEntity(t, cur);
        t.queuedSeq = ++this.queueSeq;
      } else t.vlagNs = lag;
      this.rq.runq.push(t);
    } else {
      if (cur !== null) this.updateCurr(cur); // enqueue_entity's update_curr
      this.placeEntity(t, cur);
      t.queuedSeq = ++this.queueSeq;
      this.rq.runq.push(t);
    }
    if (cur === null || this.needResched) return; // test_tsk_need_resched(curr)
    this.updateCurr(cur);
    // PREEMPT_SHORT needs a shorter slice than the running task's: every task has the base slice here.
    if (this.needResched || this.pick(cur) === t) {
      this.needResched = true;
      cur.sliceLeftNs = 0;
    }
  }

  /** dequeue_entity for the running task going to sleep: one not eligible stays queued (DELAY_DEQUEUE); one that
   * is leaves with its lag (update_entity_lag). */
  dequeue(t: Task): void {
    if (!this.ready) this.init();
    this.updateCurr(t);
    this.average(t);
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
   * true if it leaves the CPU, and then it is queued again. */
  schedule(t: Task, resched: boolean): boolean {
    if (!this.ready) this.init();
    // scheduler.ts's preemptOrContinue calls this (from cpu.ts) at a compute boundary with compute left, at a
    // preemption point (resched), or for ctx.yield() with neither.
    const yielding = !resched && t.computeLeftNs <= 0;
    this.updateCurr(t);
    if (yielding && this.othersQueued()) t.deadlineNs! += this.costs.baseSliceNs; // yield_task_fair
    this.needResched = false;
    let next: Task | null;
    for (;;) {
      next = this.pick(t);
      if (next === null || !next.delayed) break;
      this.finishDelayed(next, t);
    }
    if (next === t || next === null) {
      // Picked again: no set_next_entity, so RUN_TO_PARITY's stash keeps the deadline it was switched in with.
      t.sliceLeftNs = t.deadlineNs! - t.vruntimeNs;
      return false;
    }
    t.queuedSeq = ++this.queueSeq;
    this.rq.runq.push(t);
    return true;
  }

  /** Queued task t leaves for another CPU: its lag, V - vruntime (update_entity_lag), with `cur` running here. */
  detach(t: Task, cur: Task | null): number {
    if (!this.ready) this.init();
    this.average(cur);
    return this.entityLag(t);
  }

  /** Task t comes from another CPU with lag `lag`: placed with it (place_entity, which drops the lag when nothing
   * else is queued, as on an idle CPU), and queued. */
  attach(t: Task, lag: number, cur: Task | null): void {
    if (!this.ready) this.init();
    t.vlagNs = lag;
    this.placeEntity(t, cur);
    t.queuedSeq = ++this.queueSeq;
    this.rq.runq.push(t);
  }
}
