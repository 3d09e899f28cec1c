// cpu: one simulated CPU. It owns an event heap, a run queue, the tasks placed on it, a mailbox and a trace hash,
// and during a window touches nothing shared but its own rings and its own per-CPU state in the zone. Scheduling:
// FIFO run queue, a context-switch cost when the task changes, preemption of a computing task at the end of its time
// slice when another waits, idle when nothing is runnable. Work that needs another CPU or the zone lock is queued in
// its rings and resolved between windows (see window-loop.ts).
import seedrandom from 'seedrandom';
import { ALLOC_DEFERRED, type CompiledPlan, type Zone } from '@faultline/zone';
import { formatGfp, parseGfp } from '@faultline/gfp';
import type { Costs } from './costs.js';
import { TraceHash } from './digest.js';
import { EventHeap } from './event-heap.js';
import {
  MSG_DST, MSG_F64, MSG_SEQ, MSG_TIME, MSG_VALUE, ZW_ALLOC, ZW_ARG, ZW_F64, ZW_FREE, ZW_GRANT, ZW_KIND, ZW_MASK,
  ZW_OWNER, ZW_RESULT, ZW_SEQ, ZW_TASK, ZW_TIME, type RunLayout,
} from './layout.js';
import {
  OP_ALLOC, OP_COMPUTE, OP_FREE, OP_NAMES, OP_RECV, OP_SEND, OP_SLEEP, OP_YIELD, type AllocCounts, type TaskContext,
  type TaskFunction, type TaskOp, type TaskStats,
} from './task.js';

export const EV_RUN = 1;
export const EV_WAKE = 2;
export const EV_DISPATCH = 3;
export const EV_MSG = 4;

/** A task threw, or did something the kernel would not allow. */
export class TaskError extends Error {
  override readonly name = 'TaskError';
  constructor(readonly task: string, readonly taskId: number, readonly cpu: number, readonly timeNs: number, message: string) {
    super(`task '${task}' (#${taskId}) on cpu ${cpu} at ${timeNs} ns: ${message}`);
  }
}

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
  /** Index of its pending zone work, or -1. */
  zoneWaitSinceNs: number;
  zoneWaitMask: string;
}

export interface TaskPlacement {
  readonly id: number;
  readonly name: string;
  readonly fn: TaskFunction;
  readonly args: Readonly<Record<string, unknown>>;
}

export interface CpuStats {
  readonly cpu: number;
  events: number;
  busyNs: number;
  idleNs: number;
  contextSwitches: number;
  messagesSent: number;
  messagesReceived: number;
  zoneDeferred: number;
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
  private idleSinceNs = 0;
  private readonly mailbox: number[] = [];
  private readonly recvWaiters: Task[] = [];
  private msgSeq = 0;
  private zwSeq = 0;
  private readonly plans = new Map<string, CompiledPlan>();
  private readonly masks = new Map<string, number>();

  constructor(
    readonly id: number,
    private readonly cpus: number,
    private readonly zone: Zone,
    private readonly costs: Costs,
    private readonly rings: Float64Array,
    private readonly layout: RunLayout,
    private readonly seed: string,
  ) {
    this.stats = { cpu: id, events: 0, busyNs: 0, idleNs: 0, contextSwitches: 0, messagesSent: 0, messagesReceived: 0, zoneDeferred: 0 };
  }

  // ---- placement -------------------------------------------------------------------------------------------------

  place(p: TaskPlacement): void {
    const rng = seedrandom.alea(`${this.seed}/task/${p.id}`);
    const self = this;
    const ctx: TaskContext = {
      id: p.id,
      name: p.name,
      cpu: this.id,
      cpus: this.cpus,
      args: p.args,
      random: () => rng(),
      now: () => self.nowNs,
      compute: (ns) => op(OP_COMPUTE, checkNs(ns, 'compute')),
      sleep: (ns) => op(OP_SLEEP, checkNs(ns, 'sleep')),
      alloc: (mask, order = 0) => ({ op: OP_ALLOC, a: order, b: 0, mask }),
      free: (pfn) => op(OP_FREE, pfn),
      send: (cpu, value) => op(OP_SEND, cpu, value),
      recv: () => op(OP_RECV, 0),
      yield: () => op(OP_YIELD, 0),
    };
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
      const e = heap.pop()!;
      this.advanceTo(e.timeNs);
      this.hash.add(e.timeNs, e.kind, e.taskId, e.value);
      this.stats.events++;
      switch (e.kind) {
        case EV_RUN:
          this.run(this.tasks[this.localIndex(e.taskId)]!, e.value);
          break;
        case EV_WAKE:
          this.wake(this.tasks[this.localIndex(e.taskId)]!, e.value);
          break;
        case EV_DISPATCH:
          this.dispatchQueued = false;
          this.dispatch();
          break;
        case EV_MSG:
          this.deliver(e.value);
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
    t.stats.state = 'failed';
    this.current = null;
    this.error = new TaskError(t.name, t.id, this.id, this.nowNs, message);
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
    const key = `${mask}/${o.a}`;
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
      t.zoneWaitMask = formatGfp(mask, this.zone.config.kernel);
      this.block(t, 'blocked-zone', `the zone lock for an order-${o.a} allocation`);
      return null;
    }
    countResult(counts, pfn);
    return pfn;
  }

  private allocCounts(t: Task, mask: number): AllocCounts {
    const name = formatGfp(mask, this.zone.config.kernel);
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
    const L = this.layout;
    const base = L.zoneWorkOffset + this.id * L.zoneWorkStride;
    const n = this.rings[base]!;
    if (n >= L.ringSlots) {
      this.fail(t, `more than ${L.ringSlots} zone operations in one window on this CPU; raise ringSlots or shorten the window`);
      return false;
    }
    const s = base + 8 + n * ZW_F64;
    const r = this.rings;
    r[s + ZW_TIME] = this.nowNs;
    r[s + ZW_SEQ] = this.zwSeq++;
    r[s + ZW_KIND] = kind;
    r[s + ZW_TASK] = t.id;
    r[s + ZW_MASK] = mask;
    r[s + ZW_ARG] = arg;
    r[s + ZW_OWNER] = owner;
    r[s + ZW_RESULT] = 0;
    r[s + ZW_GRANT] = 0;
    r[base] = n + 1;
    return true;
  }

  private send(t: Task, dst: number, value: number): boolean {
    if (!(Number.isInteger(dst) && dst >= 0 && dst < this.cpus)) {
      this.fail(t, `send to cpu ${dst}: allowed cpus 0 .. ${this.cpus - 1}`);
      return false;
    }
    const L = this.layout;
    const base = L.outboxOffset + this.id * L.outboxStride;
    const n = this.rings[base]!;
    if (n >= L.ringSlots) {
      this.fail(t, `more than ${L.ringSlots} messages in one window from this CPU; raise ringSlots or shorten the window`);
      return false;
    }
    const s = base + 8 + n * MSG_F64;
    this.rings[s + MSG_TIME] = this.nowNs;
    this.rings[s + MSG_SEQ] = this.msgSeq++;
    this.rings[s + MSG_DST] = dst;
    this.rings[s + MSG_VALUE] = value;
    this.rings[base] = n + 1;
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
    const L = this.layout;
    const r = this.rings;
    for (let src = 0; src < this.cpus; src++) {
      const base = L.outboxOffset + src * L.outboxStride;
      const n = r[base]!;
      for (let i = 0; i < n; i++) {
        const s = base + 8 + i * MSG_F64;
        if (r[s + MSG_DST] !== this.id) continue;
        const at = Math.max(r[s + MSG_TIME]! + this.costs.messageLatencyNs, windowEndNs);
        this.heap.push(at, EV_MSG, src, r[s + MSG_VALUE]!);
      }
    }
  }

  /** Wake the tasks whose zone work was applied: at the grant time, or the window's end if that is later. */
  collectZoneResults(windowEndNs: number): void {
    const L = this.layout;
    const r = this.rings;
    const base = L.zoneWorkOffset + this.id * L.zoneWorkStride;
    const n = r[base]!;
    for (let i = 0; i < n; i++) {
      const s = base + 8 + i * ZW_F64;
      if (r[s + ZW_KIND] !== ZW_ALLOC) continue;
      const taskId = r[s + ZW_TASK]!;
      const t = this.tasks[this.localIndex(taskId)]!;
      const at = Math.max(r[s + ZW_GRANT]!, windowEndNs);
      const result = r[s + ZW_RESULT]!;
      const counts = t.stats.allocs[t.zoneWaitMask]!;
      countResult(counts, result);
      counts.waitNs += at - t.zoneWaitSinceNs;
      this.heap.push(at, EV_WAKE, taskId, result);
    }
  }

  clearRings(): void {
    const L = this.layout;
    this.rings[L.outboxOffset + this.id * L.outboxStride] = 0;
    this.rings[L.zoneWorkOffset + this.id * L.zoneWorkStride] = 0;
  }

  pendingRingWork(): number {
    const L = this.layout;
    return this.rings[L.outboxOffset + this.id * L.outboxStride]! + this.rings[L.zoneWorkOffset + this.id * L.zoneWorkStride]!;
  }
}

function op(kind: number, a: number, b = 0): TaskOp {
  return { op: kind, a, b };
}

function checkNs(ns: number, what: string): number {
  if (!Number.isSafeInteger(ns) || ns < 0) throw new RangeError(`ctx.${what}(${ns}): expected a whole number of nanoseconds >= 0`);
  return ns;
}

function countResult(c: AllocCounts, pfn: number): void {
  if (pfn >= 0) c.granted++;
  else if (pfn === -1) c.failed++;
  else c.mayReclaim++;
}
