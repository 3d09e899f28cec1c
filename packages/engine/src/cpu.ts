// cpu: one simulated CPU. It owns an event heap, a run queue, the tasks placed on it, a mailbox and a trace hash,
// and during a window touches nothing shared but its own rings and its own per-CPU state in the zone. Scheduling:
// FIFO run queue, a context-switch cost when the task changes, preemption of a computing task at the end of its time
// slice when another waits, idle when nothing is runnable. Work that needs another CPU or the zone lock is queued in
// its rings and resolved between windows (see window-loop.ts).
import { ALLOC_DEFERRED, type CompiledPlan, type Zone } from '@faultline/zone';
import { formatGfp, parseGfp } from '@faultline/gfp';
import type { Costs } from './costs.js';
import { TraceHash } from './digest.js';
import { EventHeap } from './event-heap.js';
import { CpuRings } from './cpu-rings.js';
import { countResult, type CpuStats } from './stats.js';
import { makeTaskContext } from './task-context.js';
import { ZW_ALLOC, ZW_FREE, type RunLayout } from './layout.js';
import {
  OP_ALLOC, OP_COMPUTE, OP_FREE, OP_NAMES, OP_RECV, OP_SEND, OP_SLEEP, OP_YIELD, TaskError, type AllocCounts,
  type TaskOp, type TaskPlacement, type TaskStats,
} from './task.js';

export const EV_RUN = 1;
export const EV_WAKE = 2;
export const EV_DISPATCH = 3;
export const EV_MSG = 4;

interface Task {
  readonly id: number;
  readonly name: string;
  readonly iter: Iterator<TaskOp, unknown, number>;
  readonly stats: TaskStats;
  computeLeftNs: number;
  sliceLeftNs: number;
  pendingResult: number;
  blockedSinceNs: number;
  waitingFor: string;
  /** When its pending zone work was queued, and under which mask name it is counted. */
  zoneWaitSinceNs: number;
  zoneWaitMask: string;
}

export class SimCpu {
  readonly heap = new EventHeap();
  readonly hash = new TraceHash();
  readonly stats: CpuStats;
  nowNs = 0;
  error: TaskError | null = null;
  private windowEndNs = 0;
  private readonly tasks: Task[] = [];
  private readonly runq: Task[] = [];
  private runqHead = 0;
  private current: Task | null = null;
  private lastRan: Task | null = null;
  private dispatchQueued = false;
  private readonly mailbox: number[] = [];
  private readonly recvWaiters: Task[] = [];
  private readonly ring: CpuRings;
  private readonly plans = new Map<number, CompiledPlan>();
  private readonly maskNames = new Map<number, string>();
  private readonly masks = new Map<string, number>();

  constructor(
    readonly id: number,
    private readonly cpus: number,
    private readonly zone: Zone,
    private readonly costs: Costs,
    rings: Float64Array,
    private readonly layout: RunLayout,
    private readonly seed: string,
  ) {
    this.ring = new CpuRings(rings, layout, id);
    this.stats = { cpu: id, events: 0, busyNs: 0, idleNs: 0, contextSwitches: 0, messagesSent: 0, messagesReceived: 0, zoneDeferred: 0 };
  }

  // ---- placement -------------------------------------------------------------------------------------------------

  place(p: TaskPlacement): void {
    const self = this;
    const ctx = makeTaskContext({ id: p.id, name: p.name, cpu: this.id, cpus: this.cpus, args: p.args, seed: this.seed, now: () => self.nowNs });
    const stats: TaskStats = { id: p.id, name: p.name, cpu: this.id, state: 'runnable', events: 0, runNs: 0, blockedNs: 0, allocs: {}, frees: 0, sent: 0, received: 0, exitedAtNs: null };
    let iter: Iterator<TaskOp, unknown, number>;
    try {
      iter = p.fn(ctx);
      if (!iter || typeof iter.next !== 'function') throw new Error('its function did not return an iterator; write it as function* (ctx) { ... }');
    } catch (e) {
      throw new TaskError(p.name, p.id, this.id, 0, `failed to start: ${(e as Error).message}`);
    }
    const task: Task = { id: p.id, name: p.name, iter, stats, computeLeftNs: 0, sliceLeftNs: this.costs.timeSliceNs, pendingResult: 0, blockedSinceNs: 0, waitingFor: '', zoneWaitSinceNs: 0, zoneWaitMask: '' };
    this.tasks.push(task);
    this.runq.push(task);
    this.queueDispatch();
  }

  taskStats(): TaskStats[] {
    return this.tasks.map((t) => t.stats);
  }

  liveTasks(): number {
    let n = 0;
    for (const t of this.tasks) if (t.stats.state !== 'exited' && t.stats.state !== 'failed') n++;
    return n;
  }

  /** What each live task waits for, for a deadlock report. */
  waits(): string[] {
    return this.tasks.filter((t) => t.stats.state !== 'exited' && t.stats.state !== 'failed').map((t) => `task '${t.name}' (#${t.id}) on cpu ${this.id}: ${t.stats.state}${t.waitingFor ? ` (${t.waitingFor})` : ''}`);
  }

  // ---- the window ------------------------------------------------------------------------------------------------

  runWindow(endNs: number): void {
    this.windowEndNs = endNs;
    const heap = this.heap;
    while (this.error === null && heap.peekTimeNs() < endNs) {
      // Copy the event out: the heap reuses its object on the next push.
      const e = heap.pop()!;
      const timeNs = e.timeNs;
      const kind = e.kind;
      const taskId = e.taskId;
      const value = e.value;
      this.advanceTo(timeNs);
      this.hash.add(timeNs, kind, taskId, value);
      this.stats.events++;
      switch (kind) {
        case EV_RUN:
          this.run(this.tasks[this.localIndex(taskId)]!, value);
          break;
        case EV_WAKE:
          this.wake(this.tasks[this.localIndex(taskId)]!, value);
          break;
        case EV_DISPATCH:
          this.dispatchQueued = false;
          this.dispatch();
          break;
        case EV_MSG:
          this.deliver(value);
          break;
      }
    }
    this.advanceTo(Math.max(this.nowNs, endNs));
  }

  private advanceTo(t: number): void {
    if (t <= this.nowNs) return;
    if (this.current === null) this.stats.idleNs += t - this.nowNs;
    else {
      this.stats.busyNs += t - this.nowNs;
      this.current.stats.runNs += t - this.nowNs;
    }
    this.nowNs = t;
  }

  private localIndex(taskId: number): number {
    // Tasks are placed in id order; ids on one CPU are increasing, so a binary search finds the slot.
    const ts = this.tasks;
    let lo = 0;
    let hi = ts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (ts[mid]!.id < taskId) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  // ---- scheduling ------------------------------------------------------------------------------------------------

  private queueDispatch(): void {
    if (this.dispatchQueued) return;
    this.dispatchQueued = true;
    this.heap.push(this.nowNs, EV_DISPATCH, -1, 0);
  }

  private dispatch(): void {
    if (this.current !== null) return;
    if (this.runqHead >= this.runq.length) return;
    const t = this.runq[this.runqHead++]!;
    if (this.runqHead > 1024 && this.runqHead * 2 > this.runq.length) {
      this.runq.splice(0, this.runqHead);
      this.runqHead = 0;
    }
    const cost = this.lastRan !== null && this.lastRan !== t ? this.costs.contextSwitchNs : 0;
    if (cost > 0) this.stats.contextSwitches++;
    this.current = t;
    this.lastRan = t;
    t.stats.state = 'running';
    t.sliceLeftNs = this.costs.timeSliceNs;
    this.heap.push(this.nowNs + cost, EV_RUN, t.id, t.pendingResult);
  }

  private wake(t: Task, result: number): void {
    if (t.stats.state === 'exited' || t.stats.state === 'failed') return;
    t.stats.blockedNs += this.nowNs - t.blockedSinceNs;
    t.waitingFor = '';
    t.pendingResult = result;
    t.stats.state = 'runnable';
    this.runq.push(t);
    if (this.current === null) this.queueDispatch();
  }

  private block(t: Task, state: TaskStats['state'], waitingFor: string): void {
    t.stats.state = state;
    t.waitingFor = waitingFor;
    t.blockedSinceNs = this.nowNs;
    this.current = null;
    this.queueDispatch();
  }

  private preemptOrContinue(t: Task): boolean {
    if (this.runqHead < this.runq.length) {
      t.stats.state = 'runnable';
      this.runq.push(t);
      this.current = null;
      this.queueDispatch();
      return true;
    }
    t.sliceLeftNs = this.costs.timeSliceNs;
    return false;
  }

  // ---- running a task --------------------------------------------------------------------------------------------

  /** Continue the current task at nowNs with `result`, running operations inline while nothing else is due. */
  private run(t: Task, result: number): void {
    for (;;) {
      if (t.computeLeftNs > 0) {
        if (t.sliceLeftNs <= 0 && this.preemptOrContinue(t)) return;
        const chunk = Math.min(t.computeLeftNs, t.sliceLeftNs);
        t.computeLeftNs -= chunk;
        t.sliceLeftNs -= chunk;
        this.heap.push(this.nowNs + chunk, EV_RUN, t.id, 0);
        return;
      }
      t.stats.events++;
      let r: IteratorResult<TaskOp, unknown>;
      try {
        r = t.iter.next(result);
      } catch (e) {
        this.fail(t, `threw: ${(e as Error)?.message ?? String(e)}`);
        return;
      }
      if (r.done) {
        t.stats.state = 'exited';
        t.stats.exitedAtNs = this.nowNs;
        this.current = null;
        this.queueDispatch();
        return;
      }
      const o = r.value;
      let cost: number;
      switch (o?.op) {
        case OP_COMPUTE:
          t.computeLeftNs = o.a;
          result = 0;
          continue;
        case OP_SLEEP:
          this.block(t, 'sleeping', `until ${this.nowNs + o.a} ns`);
          this.heap.push(this.nowNs + o.a, EV_WAKE, t.id, 0);
          return;
        case OP_ALLOC: {
          const res = this.alloc(t, o);
          if (res === null) return;
          result = res;
          cost = this.costs.allocNs;
          break;
        }
        case OP_FREE: {
          const res = this.free(t, o.a);
          if (res === null) return;
          result = res;
          cost = this.costs.freeNs;
          break;
        }
        case OP_SEND:
          if (!this.send(t, o.a, o.b)) return;
          result = 0;
          cost = this.costs.sendNs;
          break;
        case OP_RECV:
          if (this.mailbox.length === 0) {
            this.recvWaiters.push(t);
            this.block(t, 'blocked-recv', 'a message on its CPU');
            return;
          }
          result = this.mailbox.shift()!;
          t.stats.received++;
          cost = this.costs.recvNs;
          break;
        case OP_YIELD:
          result = 0;
          if (this.preemptOrContinue(t)) return;
          cost = 0;
          break;
        default:
          this.fail(t, `yielded ${JSON.stringify(o)}, which is not an operation; yield ctx.compute(), ctx.alloc(), ... (${OP_NAMES.slice(1).join(', ')})`);
          return;
      }
      // Inline fast path: run on while nothing else on this CPU is due before the operation completes.
      const next = this.nowNs + cost;
      if (next < this.windowEndNs && next < this.heap.peekTimeNs()) {
        this.advanceTo(next);
        this.hash.add(next, EV_RUN, t.id, result);
        this.stats.events++;
        continue;
      }
      this.heap.push(next, EV_RUN, t.id, result);
      return;
    }
  }

  private fail(t: Task, message: string): void {
    [t.stats.state, this.current, this.error] = ['failed', null, new TaskError(t.name, t.id, this.id, this.nowNs, message)];
  }

  private maskOf(mask: string | number): number {
    if (typeof mask === 'number') return mask;
    let m = this.masks.get(mask);
    if (m === undefined) {
      m = parseGfp(mask, this.zone.config.kernel).mask;
      this.masks.set(mask, m);
    }
    return m;
  }

  /** The allocation's result, or null when the task blocked (deferred to the zone) or failed. */
  private alloc(t: Task, o: TaskOp): number | null {
    let mask: number;
    try {
      mask = this.maskOf(o.mask ?? NaN);
    } catch (e) {
      this.fail(t, (e as Error).message);
      return null;
    }
    const key = mask * 16 + o.a; // mask < 2^23, order < 16: one number, no string per allocation
    let plan = this.plans.get(key);
    if (plan === undefined) {
      try {
        plan = this.zone.plan(mask, o.a);
      } catch (e) {
        this.fail(t, (e as Error).message);
        return null;
      }
      this.plans.set(key, plan);
    }
    const counts = this.allocCounts(t, mask);
    const owner = t.id % this.zone.config.owners;
    const pfn = this.zone.alloc(this.id, plan, owner);
    if (pfn === ALLOC_DEFERRED) {
      counts.deferred++;
      this.stats.zoneDeferred++;
      if (!this.queueZoneWork(t, ZW_ALLOC, mask, o.a, owner)) return null;
      t.zoneWaitSinceNs = this.nowNs;
      t.zoneWaitMask = this.maskName(mask);
      this.block(t, 'blocked-zone', `the zone lock for an order-${o.a} allocation`);
      return null;
    }
    countResult(counts, pfn);
    return pfn;
  }

  private maskName(mask: number): string {
    let name = this.maskNames.get(mask);
    if (name === undefined) {
      name = formatGfp(mask, this.zone.config.kernel);
      this.maskNames.set(mask, name);
    }
    return name;
  }

  private allocCounts(t: Task, mask: number): AllocCounts {
    const name = this.maskName(mask);
    let c = t.stats.allocs[name];
    if (c === undefined) {
      c = { calls: 0, granted: 0, failed: 0, mayReclaim: 0, deferred: 0, waitNs: 0 };
      t.stats.allocs[name] = c;
    }
    c.calls++;
    return c;
  }

  private free(t: Task, pfn: number): number | null {
    let r: number;
    try {
      r = this.zone.free(this.id, pfn);
    } catch (e) {
      this.fail(t, (e as Error).message);
      return null;
    }
    t.stats.frees++;
    if (r === ALLOC_DEFERRED) {
      if (!this.queueZoneWork(t, ZW_FREE, 0, pfn, -1)) return null;
      return 0;
    }
    return r;
  }

  private queueZoneWork(t: Task, kind: number, mask: number, arg: number, owner: number): boolean {
    if (this.ring.queueZoneWork(this.nowNs, kind, t.id, mask, arg, owner)) return true;
    this.fail(t, `more than ${this.layout.ringSlots} zone operations in one window on this CPU; raise ringSlots or shorten the window`);
    return false;
  }

  private send(t: Task, dst: number, value: number): boolean {
    if (!(Number.isInteger(dst) && dst >= 0 && dst < this.cpus)) {
      this.fail(t, `send to cpu ${dst}: allowed cpus 0 .. ${this.cpus - 1}`);
      return false;
    }
    if (!this.ring.send(this.nowNs, dst, value)) {
      this.fail(t, `more than ${this.layout.ringSlots} messages in one window from this CPU; raise ringSlots or shorten the window`);
      return false;
    }
    t.stats.sent++;
    this.stats.messagesSent++;
    return true;
  }

  private deliver(value: number): void {
    this.stats.messagesReceived++;
    const waiter = this.recvWaiters.shift();
    if (waiter !== undefined) {
      waiter.stats.received++;
      this.wake(waiter, value);
    } else {
      this.mailbox.push(value);
    }
  }

  // ---- between windows -------------------------------------------------------------------------------------------

  /** Take the messages addressed to this CPU from every CPU's outbox: by source CPU, then in send order. */
  collectMessages(windowEndNs: number): void {
    this.ring.incoming((src, timeNs, value) => this.heap.push(Math.max(timeNs + this.costs.messageLatencyNs, windowEndNs), EV_MSG, src, value));
  }

  /** Wake the tasks whose zone work was applied: at the grant time, or the window's end if that is later. */
  collectZoneResults(windowEndNs: number): void {
    this.ring.allocResults((taskId, result, grantNs) => {
      const t = this.tasks[this.localIndex(taskId)]!;
      const at = Math.max(grantNs, windowEndNs);
      const counts = t.stats.allocs[t.zoneWaitMask]!;
      countResult(counts, result);
      counts.waitNs += at - t.zoneWaitSinceNs;
      this.heap.push(at, EV_WAKE, taskId, result);
    });
  }

  clearRings(): void {
    this.ring.clear();
  }
}
