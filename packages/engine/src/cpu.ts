// cpu: one simulated CPU: its window of events and the operations its tasks run (scheduling is in scheduler.ts).
// It owns an event heap, the tasks placed on it, a mailbox and a trace hash, and during a window touches nothing
// shared but its own rings and its own per-CPU state in the zone. Work that needs another CPU, the zone lock or a
// lock held elsewhere is logged in its rings and resolved between windows (see window-loop.ts). Kernel modules'
// hooks (hooks.ts) are called at return to user space, faults and timers, and by the scheduler.
//
// Time: the CPU's clock is the time of the last event it ran; it is not pushed to the window's end. A task that
// must wait on the CPU for a cross-CPU answer (spinning on the zone lock or a spinlock, or kernel work in its own
// context that a module's commit answers) stalls the CPU: its clock stops there, and it resumes at the time the
// commit computed for the answer, catching up in the next window before anything later runs. A sleeping waiter
// (mutex, rwsem, a message, a module's wake) is woken at its answer's time, or at the CPU's clock if that is later.
import { TR_BEGIN, TR_END, TraceLog } from './trace-log.js';
import type { MemoryNode } from '@faultline/zone';
import type { Costs, PreemptModel, SchedulerKind } from './costs.js';
import { CpuMemory, MEM_DEFERRED } from './cpu-memory.js';
import { CpuRings } from './cpu-rings.js';
import type { CpuHooks, KernelCpu, KernelPath, ModuleState } from './hooks.js';
import { CpuLocks, LOCK_TAKEN, LOCK_WAIT, type LockSpec } from './locks.js';
import {
  CpuScheduler,
  EV_DISPATCH,
  EV_MSG,
  EV_RUN,
  EV_SPIN_STOP,
  EV_MIGRATE,
  EV_TIMER,
  EV_WAKE,
  isEnded,
  type Task,
} from './scheduler.js';
import { makeTaskContext, type TaskHost } from './task-context.js';
import {
  CONTROL_HEADER_I32,
  CPU_PUB_STRIDE_I32,
  CPU_PUB_TASK,
  LA_DEBT,
  LA_SPIN_STOP,
  LA_WAKE,
  LK_SPIN,
  type RunLayout,
} from './layout.js';
import {
  OP_ALLOC,
  OP_COMPUTE,
  OP_ATOMIC,
  OP_DOWNGRADE,
  OP_FREE,
  OP_LOCK,
  OP_NAMES,
  OP_PARK,
  OP_RECV,
  OP_SEND,
  OP_SLEEP,
  OP_TIMER_WAIT,
  OP_TOUCH,
  OP_UNLOCK,
  OP_YIELD,
  OP_COND_RESCHED,
  TaskError,
  type LockCounts,
  type TaskOp,
  type TaskPlacement,
  type TaskStats,
} from './task.js';

export interface SimCpuInput {
  readonly id: number;
  readonly cpus: number;
  readonly node: MemoryNode;
  readonly costs: Costs;
  /** The run's fair scheduler and preemption model (RunConfig.scheduler, .preempt). */
  readonly scheduler: SchedulerKind;
  readonly preempt: PreemptModel;
  readonly rings: Float64Array;
  readonly ctl: Int32Array;
  readonly layout: RunLayout;
  readonly seed: string;
  readonly locks: readonly LockSpec[];
  /** Whether lock words' and lines' cache lines are charged (RunConfig.coherence). */
  readonly coherence: 'lines' | 'off';
  /** Events to record for a trace (0: not traced). */
  readonly traceMaxEvents: number;
  readonly taskName: (id: number) => string;
}

export class SimCpu extends CpuScheduler {
  error: TaskError | null = null;
  /** The current task waits on this CPU for the commit's answer: nothing more runs here until it comes. */
  stalled = false;
  /** It stalled during the current round: the window runs again so it can catch up (window-loop.ts). */
  stalledThisRound = false;
  private windowEndNs = 0;
  /** Time this CPU owes for lock words' cache lines (the commit's LA_DEBT), paid by its next compute or lock
   * operation, whichever comes first. */
  private lineDebtNs = 0;
  private readonly mailbox: number[] = [];
  private readonly recvWaiters: Task[] = [];
  private readonly ring: CpuRings;
  private readonly memory: CpuMemory;
  private readonly locks: CpuLocks;
  private readonly timers = new Map<number, () => void>();
  private timerSeq = 0;
  private readonly orphanLocks: Array<{ id: number; taskId: number; write: boolean }> = [];
  /** Waiters killed before the commit woke them: they leave the lock's queue as the next window begins. */
  private readonly orphanWaits: Array<{ id: number; taskId: number }> = [];
  /** Frees from kernel context are counted here, not under any task. */
  private readonly kernelTask = {
    id: -1,
    stats: { frees: 0, allocs: {} } as unknown as TaskStats,
    zoneWaitSinceNs: 0,
    zoneWaitMask: '',
  };

  /** Its CPU_PUB_TASK word in the control block. */
  private readonly pubTask: number;
  /** This CPU's clock, for the contexts of the tasks it runs. */
  private readonly clock = () => this.nowNs;
  /** CONFIG_PREEMPT: any compute boundary is a preemption point, in the kernel too. */
  private readonly fullPreempt: boolean;

  constructor(private readonly x: SimCpuInput) {
    super(x.id, x.costs, x.scheduler);
    this.pubTask = CONTROL_HEADER_I32 + x.id * CPU_PUB_STRIDE_I32 + CPU_PUB_TASK;
    this.fullPreempt = x.preempt === 'full';
    if (x.traceMaxEvents > 0) this.trace = new TraceLog(x.id, x.traceMaxEvents, x.taskName);
    this.ring = new CpuRings(x.rings, x.layout, x.id);
    this.memory = new CpuMemory(x.id, x.node, this.ring, x.layout.ringSlots);
    this.locks = new CpuLocks(x.locks, x.ctl, x.rings, x.layout, x.id);
  }

  // ---- placement and hooks ---------------------------------------------------------------------------------------

  /** What a kernel module sees of this CPU. */
  kernelCpu(): KernelCpu {
    return {
      cpu: this.id,
      cpus: this.x.cpus,
      seed: this.x.seed,
      now: () => this.nowNs,
      currentTask: () => this.current?.id ?? -1,
      wake: (taskId, value, atNs) => {
        const t = this.task(taskId);
        if (t?.id === taskId && isEnded(t)) return; // killed while it waited
        if (t?.id !== taskId || t.stats.state !== 'blocked-kernel')
          throw new Error(`wake(${taskId}): no task of cpu ${this.id} parked with that number`);
        const at = atNs === undefined || !(atNs > this.nowNs) ? this.nowNs : atNs;
        if (this.current === t)
          this.resumeStalled(t, at, value); // it kept the CPU (a stalling park)
        else {
          t.stats.state = 'sleeping'; // woken: no second wake may find it parked
          this.heap.push(at, EV_WAKE, taskId, value);
        }
      },
      freePage: (pfn) => {
        this.memory.free(this.kernelTask, this.nowNs, pfn);
      },
      memstall: (taskId, on) => {
        const t = this.task(taskId);
        if (t?.id !== taskId) throw new Error(`memstall(${taskId}): no task of cpu ${this.id} with that number`);
        return this.setMemstall(t, on);
      },
      kill: (taskId, reason) => this.kill(taskId, reason),
      kernel: <S>(h: ModuleState<S>) => this.kernelState(h.module) as S,
      timer: (atNs, fn) => {
        if (!(atNs >= this.nowNs)) throw new RangeError(`timer at ${atNs} ns is in the past (now ${this.nowNs} ns)`);
        const slot = this.timerSeq++;
        this.timers.set(slot, fn);
        this.heap.push(atNs, EV_TIMER, -1, slot);
      },
    };
  }

  /** Module `module`'s hooks on this CPU; its state (CpuHooks.state) is what kernel(handle) hands out here. */
  addHooks(h: CpuHooks, module?: string): void {
    this.hooks.push(h);
    if (module !== undefined && h.state !== undefined) this.moduleStates.set(module, h.state);
  }

  /** A module's state on this CPU (ModuleState), or an error naming the module. */
  private readonly kernelState = (module: string): unknown => {
    const s = this.moduleStates.get(module);
    if (s === undefined)
      throw new Error(`the '${module}' kernel module is not loaded on cpu ${this.id}: add it to the run's modules`);
    return s;
  };

  place(p: TaskPlacement): void {
    const x = this.x;
    const stats: TaskStats = {
      id: p.id,
      name: p.name,
      cpu: this.id,
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
    const host: TaskHost = { cpu: this.id, now: this.clock, trace: this.trace, kernel: this.kernelState };
    const ctx = makeTaskContext({
      id: p.id,
      name: p.name,
      host,
      cpus: x.cpus,
      args: p.args,
      seed: x.seed,
      linesCharged: x.coherence === 'lines',
      locks: x.locks,
      stats,
    });
    let iter: Iterator<TaskOp, unknown, number>;
    try {
      iter = p.fn(ctx);
      if (!iter || typeof iter.next !== 'function')
        throw new Error('its function did not return an iterator; write it as function* (ctx) { ... }');
    } catch (e) {
      throw new TaskError(p.name, p.id, this.id, 0, `failed to start: ${(e as Error).message}`);
    }
    const task: Task = {
      id: p.id,
      name: p.name,
      ctx,
      iter,
      stack: [],
      stats,
      computeLeftNs: 0,
      sliceLeftNs: this.costs.timeSliceNs,
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
    this.x.ctl[this.x.layout.taskCpuOffset + p.id] = this.id;
    this.tasks.push(task);
    this.runq.push(task);
    this.queueDispatch();
  }

  // ---- moving between CPUs (balance.ts) ---------------------------------------------------------------------------

  /** Queued task t leaves this CPU for cpu `to` at atNs: returns its place in this queue (detachQueued). */
  migrateOut(t: Task, to: number, atNs: number): number {
    this.hash.add(atNs, EV_MIGRATE, t.id, to);
    return this.detachQueued(t);
  }

  /** Task t, detached from cpu `from` with `rel`, is queued here at atNs; its context now reads this CPU. */
  migrateIn(t: Task, from: number, rel: number, atNs: number): void {
    this.hash.add(atNs, EV_MIGRATE, t.id, -1 - from);
    t.host.cpu = this.id;
    t.host.now = this.clock;
    t.host.trace = this.trace;
    t.host.kernel = this.kernelState;
    t.stats.cpu = this.id;
    t.stats.migrations++;
    this.x.ctl[this.x.layout.taskCpuOffset + t.id] = this.id;
    this.attachQueued(t, rel, atNs);
  }

  // ---- the window ------------------------------------------------------------------------------------------------

  beginWindow(startNs: number): void {
    this.stalledThisRound = false;
    this.locks.newWindow();
    for (const o of this.orphanLocks.splice(0)) this.locks.release(startNs, o.id, o.taskId, o.write);
    for (const o of this.orphanWaits.splice(0)) this.locks.cancel(startNs, o.id, o.taskId);
    for (const h of this.hooks) h.windowStart?.(startNs);
  }

  endWindow(endNs: number): void {
    this.x.ctl[this.pubTask] = 0;
    for (const h of this.hooks) h.windowEnd?.(endNs);
  }

  runWindow(endNs: number): void {
    this.windowEndNs = endNs;
    const heap = this.heap;
    while (this.error === null && !this.stalled && heap.peekTimeNs() < endNs) {
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
          this.run(this.task(taskId), value);
          break;
        case EV_WAKE:
          this.wake(this.task(taskId), value);
          break;
        case EV_DISPATCH:
          this.dispatchQueued = false;
          this.dispatch();
          break;
        case EV_MSG:
          this.deliver(value);
          break;
        case EV_SPIN_STOP: {
          // The commit's answer to a spinning lock waiter: its spin ended now; it sleeps until the grant wakes it.
          const t = this.task(taskId);
          if (t.lockSpinStop && this.current === t) {
            t.lockSpinStop = false;
            this.block(t, 'blocked-lock', t.lockWait?.what ?? t.waitingFor);
          }
          break;
        }
        case EV_TIMER: {
          const fn = this.timers.get(value)!;
          this.timers.delete(value);
          this.stats.timers++;
          fn();
          break;
        }
      }
    }
  }

  /** At the run's end: charge the time up to `endNs` as busy or idle. Nothing runs. */
  settle(endNs: number): void {
    this.advanceTo(endNs);
    // Stalls still going on at the end count up to it.
    for (const t of this.tasks) {
      if (t.memstall) {
        t.stats.memstallNs += this.nowNs - t.memstallSinceNs;
        t.memstallSinceNs = this.nowNs;
      }
    }
  }

  /** The current task waits on this CPU for the commit: the clock stops until resumeStalled. */
  private stall(t: Task, state: 'spinning' | 'blocked-kernel', why: string): void {
    t.stats.state = state;
    t.waitingFor = why;
    t.blockedSinceNs = this.nowNs;
    this.stalled = true;
    this.stalledThisRound = true;
  }

  private resumeStalled(t: Task, atNs: number, result: number): void {
    if (t.stats.state === 'spinning' && atNs > this.nowNs) this.stats.spinNs += atNs - this.nowNs;
    this.stalled = false;
    t.stats.state = 'running';
    t.waitingFor = '';
    this.heap.push(atNs, EV_RUN, t.id, result);
  }

  // ---- running a task --------------------------------------------------------------------------------------------

  /** Continue the current task at nowNs with `result`, running operations inline while nothing else is due. */
  private run(t: Task, result: number): void {
    if (isEnded(t)) return;
    if (t.lockRetry) {
      this.retryLock(t);
      return;
    }
    // Where this CPU is, for a hang or a dying worker: two stores a step.
    this.x.ctl[this.pubTask] = t.id + 1;
    this.x.rings[this.x.layout.runningOffset + this.id] = this.nowNs;
    for (;;) {
      if (t.computeLeftNs > 0) {
        // The lock words' lines: a wait the commit charged this CPU is paid as soon as it computes (line-server.ts).
        if (this.lineDebtNs > 0) t.computeLeftNs += this.payLineDebt();
        // Voluntary preemption (Debian's): not inside the kernel - a kernel path running, or a lock held - so an
        // expired slice or a waking task waits for the section to end; the task computes on meanwhile.
        const preemptible = this.fullPreempt || (t.stack.length === 0 && t.held.length === 0);
        if (t.sliceLeftNs <= 0 && preemptible && this.preemptOrContinue(t)) return;
        const chunk = t.sliceLeftNs > 0 ? Math.min(t.computeLeftNs, t.sliceLeftNs) : t.computeLeftNs;
        t.computeLeftNs -= chunk;
        t.sliceLeftNs -= chunk;
        this.heap.push(this.nowNs + chunk, EV_RUN, t.id, 0);
        return;
      }
      if (t.inKernel && t.stack.length === 0) {
        t.inKernel = false;
        if (this.returnToUser(t, result)) return;
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
        if (t.stack.length > 0) {
          // A kernel path (a fault) finished: its return value is the result of the task's operation.
          t.iter = t.stack.pop()!;
          result = typeof r.value === 'number' ? r.value : 0;
          continue;
        }
        if (t.held.length > 0) {
          this.fail(t, `exited holding ${t.held.map((h) => `'${this.x.locks[h >> 1]!.name}'`).join(', ')}`);
          return;
        }
        t.stats.state = 'exited';
        t.stats.exitedAtNs = this.nowNs;
        this.current = null;
        this.queueDispatch();
        return;
      }
      const res = this.operate(t, r.value);
      if (res === null) return;
      if (res < 0) {
        // compute: loop to run it
        result = 0;
        continue;
      }
      result = this.opResult;
      // Inline fast path: run on while nothing else on this CPU is due before the operation completes.
      const next = this.nowNs + res;
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

  private opResult = 0;

  /** Start an operation: its cost in ns (its result in opResult), -1 for compute, or null when the task stopped running. */
  private operate(t: Task, o: TaskOp): number | null {
    const now = this.nowNs;
    const c = this.costs;
    try {
      switch (o?.op) {
        case OP_COMPUTE:
          t.computeLeftNs = o.a;
          return -1;
        case OP_SLEEP:
          t.inKernel = true;
          this.mayBlock(t, 'sleeping');
          this.block(t, 'sleeping', `until ${now + o.a} ns`);
          this.heap.push(now + o.a, EV_WAKE, t.id, 0);
          return null;
        case OP_PARK:
          t.inKernel = true;
          this.mayBlock(t, 'blocked-kernel');
          if (o.b === 1) this.stall(t, 'blocked-kernel', o.why ?? 'a kernel module');
          else this.block(t, 'blocked-kernel', o.why ?? 'a kernel module');
          return null;
        case OP_TIMER_WAIT:
          this.block(t, 'sleeping', `its next delayed event, at ${o.a} ns`);
          this.heap.push(Math.max(now, o.a), EV_WAKE, t.id, 0);
          return null;
        case OP_ALLOC: {
          t.inKernel = true;
          const pfn = this.memory.alloc(t, now, o.mask, o.a);
          if (pfn === MEM_DEFERRED) {
            // zone->lock is a spinlock taken with interrupts off: the CPU spins until the commit's grant.
            this.stats.zoneDeferred++;
            this.stall(t, 'spinning', `the zone lock for an order-${o.a} allocation`);
            return null;
          }
          this.opResult = pfn;
          return c.allocNs;
        }
        case OP_FREE:
          t.inKernel = true;
          this.opResult = this.memory.free(t, now, o.a);
          return c.freeNs;
        case OP_TOUCH:
          return this.touch(t, o.a, o.b === 1);
        case OP_LOCK:
          t.inKernel = true;
          return this.lock(t, o.a, o.b === 1);
        case OP_UNLOCK:
          t.inKernel = true;
          return this.unlock(t, o.a);
        case OP_DOWNGRADE:
          t.inKernel = true;
          return this.downgrade(t, o.a);
        case OP_ATOMIC:
          return this.atomic(t, o.a, o.b === 1);
        case OP_SEND:
          t.inKernel = true;
          this.send(t, o.a, o.b);
          this.opResult = 0;
          return c.sendNs;
        case OP_RECV:
          t.inKernel = true;
          if (this.mailbox.length === 0) {
            this.mayBlock(t, 'blocked-recv');
            this.recvWaiters.push(t);
            this.block(t, 'blocked-recv', 'a message on its CPU');
            return null;
          }
          this.opResult = this.mailbox.shift()!;
          t.stats.received++;
          return c.recvNs;
        case OP_YIELD:
          this.opResult = 0;
          return this.preemptOrContinue(t) ? null : 0;
        case OP_COND_RESCHED:
          // need_resched (a slice used up, or a woken task's preemption) and no lock held: schedule() here.
          this.opResult = 0;
          return t.sliceLeftNs <= 0 && t.held.length === 0 && this.preemptOrContinue(t, true) ? null : 0;
        default:
          this.fail(
            t,
            `yielded ${JSON.stringify(o)}, which is not an operation; yield ctx.compute(), ctx.alloc(), ... (${OP_NAMES.filter(Boolean).join(', ')})`,
          );
          return null;
      }
    } catch (e) {
      this.fail(t, (e as Error)?.message ?? String(e));
      return null;
    }
  }

  private kill(taskId: number, reason: string): void {
    const t = this.task(taskId);
    if (t?.id !== taskId) throw new Error(`kill(${taskId}): no such task on cpu ${this.id}`);
    if (isEnded(t)) return;
    if (t.stats.state !== 'runnable' && t.stats.state !== 'running' && t.stats.state !== 'spinning')
      t.stats.blockedNs += this.nowNs - t.blockedSinceNs;
    this.setMemstall(t, false);
    t.stats.state = 'killed';
    t.stats.killedBy = reason;
    t.stats.exitedAtNs = this.nowNs;
    for (const h of t.held.splice(0)) this.locks.release(this.nowNs, h >> 1, t.id, (h & 1) === 1);
    for (const h of this.hooks) h.taskKilled?.(t.id, this.nowNs);
    if (this.current === t) {
      this.stalled = false;
      this.current = null;
      this.queueDispatch();
    }
  }

  /** Ask the modules whether this task may sleep now (RCU: not inside a read-side critical section). */
  private mayBlock(t: Task, state: string): void {
    for (const h of this.hooks) {
      const why = h.blocking?.(t.id, state, this.nowNs);
      if (typeof why === 'string') throw new Error(why);
    }
  }

  /** The commit found that this task's free at `timeNs` was the second of a page (free-check.ts). */
  failFree(taskId: number, timeNs: number, message: string): void {
    const t = this.task(taskId);
    if (t?.id !== taskId) {
      this.error = new TaskError('(kernel)', taskId, this.id, timeNs, message); // a free from kernel context
      return;
    }
    if (!isEnded(t)) t.stats.state = 'failed';
    if (this.current === t) this.current = null;
    this.error = new TaskError(t.name, t.id, this.id, timeNs, message);
  }

  private fail(t: Task, message: string): void {
    [t.stats.state, this.current, this.error] = [
      'failed',
      null,
      new TaskError(t.name, t.id, this.id, this.nowNs, message),
    ];
  }

  /** The return-to-user hooks (memcg's penalty): true when the task was put to sleep before its code continues. */
  private returnToUser(t: Task, result: number): boolean {
    let penaltyNs = 0;
    for (const h of this.hooks) if (h.returnToUser) penaltyNs += h.returnToUser(t.id, this.nowNs);
    if (!(penaltyNs > 0)) return false;
    // The only such penalty in the kernel is memory.high's throttling (mem_cgroup_handle_over_high), a memstall.
    if (!this.setMemstall(t, true)) t.penaltyStall = true;
    this.block(t, 'sleeping', `a return-to-user penalty of ${penaltyNs} ns`);
    this.heap.push(this.nowNs + Math.round(penaltyNs), EV_WAKE, t.id, result);
    return true;
  }

  private touch(t: Task, address: number, write: boolean): number {
    t.stats.touches++;
    for (const h of this.hooks) {
      const path: KernelPath | null | undefined = h.fault?.(t.ctx, address, write);
      if (path) {
        // Run the handler in the task's context; its return value becomes the touch's result.
        t.inKernel = true;
        t.stack.push(t.iter);
        t.iter = path as Iterator<TaskOp, unknown, number>;
        this.opResult = 0;
        return 0;
      }
    }
    this.opResult = 0;
    return this.costs.touchNs;
  }

  private lockCounts(t: Task, id: number): LockCounts {
    return (t.stats.locks[this.x.locks[id]!.name] ??= {
      acquired: 0,
      contended: 0,
      waitNs: 0,
      wokenHeld: 0,
      wokenHeldNs: 0,
    });
  }

  private lock(t: Task, id: number, write: boolean): number | null {
    const spec = this.x.locks[id]!;
    if (t.held.includes(id * 2) || t.held.includes(id * 2 + 1))
      throw new Error(`takes '${spec.name}', which it already holds: that would deadlock`);
    // A mutex waiter and an rwsem writer spin while that pays, an rwsem reader waits for its answer (lock-commit.ts).
    const flags = this.locks.waitFlags(id, write, this.costs.lockSpinMaxNs > 0);
    // Charged only when taken at once: a waiter's line wait is the commit's to say.
    const charge = this.lineCharge(id);
    const r = this.locks.acquire(this.nowNs, id, t.id, write, flags, charge);
    if (r === LOCK_TAKEN) {
      t.held.push(id * 2 + (write ? 1 : 0));
      this.lockCounts(t, id).acquired++;
      this.opResult = 0;
      return this.costs.lockNs + this.settleLine(id, charge);
    }
    if (r !== LOCK_WAIT) throw new Error(this.lockRingFull());
    this.lockCounts(t, id).contended++;
    this.stats.lockWaits++;
    const what = `${spec.kind} '${spec.name}'${spec.kind === 'rwsem' ? (write ? ' for write' : ' for read') : ''}`;
    t.lockWait = { id, write, sinceNs: this.nowNs, what };
    // lock:contention_begin .. contention_end (kernel/locking/), a slice on the task's track in the trace.
    this.trace?.add(this.nowNs, TR_BEGIN, t.id, 'contention_begin', { lock: spec.name, write: write ? 1 : 0 });
    if (spec.kind === 'spinlock') {
      // A spinning waiter keeps its CPU: nothing else runs here until the lock is granted.
      this.stall(t, 'spinning', what);
    } else if (flags !== 0) {
      // might_sleep(): it may end up sleeping, so not inside an RCU read-side section either.
      this.mayBlock(t, 'blocked-lock');
      this.stall(t, 'spinning', `${what} (${flags === LK_SPIN ? 'spinning optimistically' : 'trying'})`);
    } else {
      this.mayBlock(t, 'blocked-lock');
      this.block(t, 'blocked-lock', what);
    }
    return null;
  }

  /** Woken by the commit, the waiter runs and tries the lock again; its CPU waits for the answer at this time. */
  private retryLock(t: Task): void {
    t.lockRetry = false;
    const w = t.lockWait!;
    if (!this.locks.retry(this.nowNs, w.id, t.id, w.write)) {
      this.fail(t, this.lockRingFull());
      return;
    }
    this.stall(t, 'spinning', `${w.what} (trying again, woken)`);
  }

  private unlock(t: Task, id: number): number {
    const i = t.held.findIndex((h) => h >> 1 === id);
    if (i < 0) throw new Error(`unlocks '${this.x.locks[id]!.name}', which it does not hold`);
    const write = (t.held[i]! & 1) === 1;
    t.held.splice(i, 1);
    const charge = this.lineCharge(id);
    if (!this.locks.release(this.nowNs, id, t.id, write, charge)) throw new Error(this.lockRingFull());
    this.opResult = 0;
    return this.costs.unlockNs + this.settleLine(id, charge);
  }

  /** ctx.atomic (or, `read`, ctx.readLine) on line `id`: logged and charged only when the run charges lines
   * (otherwise free). A read charges the line's expected wait as an atomic does; the replay settles it. */
  private atomic(t: Task, id: number, read: boolean): number {
    this.opResult = 0;
    if (this.x.coherence !== 'lines') return 0;
    const charge = this.lineCharge(id);
    if (!this.locks.atomic(this.nowNs, id, t.id, charge, read)) throw new Error(this.lockRingFull());
    return this.settleLine(id, charge);
  }

  /** What an atomic on lock `id`'s word would charge for its line: the word's expected wait (the last commit's),
   * less any credit this CPU has from waits it charged and did not have (0 when lines are not charged). */
  private lineCharge(id: number): number {
    const e = this.locks.lineWait(id);
    return this.lineDebtNs < 0 ? e - Math.min(e, -this.lineDebtNs) : e;
  }

  /** The atomic was done: the credit its charge used is spent, and any debt is paid now with it. */
  private settleLine(id: number, charge: number): number {
    this.lineDebtNs += this.locks.lineWait(id) - charge;
    return charge + this.payLineDebt();
  }

  /** The lines' wait the commit charged this CPU (line-server.ts), paid now (as a compute's or a lock operation's
   * time). */
  private payLineDebt(): number {
    if (this.lineDebtNs <= 0) return 0;
    const ns = this.lineDebtNs;
    this.lineDebtNs = 0;
    return ns;
  }

  /** The error of a CPU whose lock log is full. */
  private lockRingFull(): string {
    const slots = this.x.layout.ringSlots;
    return `more than ${slots} lock operations in one window on this CPU; raise ringSlots or shorten the window`;
  }

  private downgrade(t: Task, id: number): number {
    const i = t.held.indexOf(id * 2 + 1);
    if (i < 0) throw new Error(`downgrades '${this.x.locks[id]!.name}', which it does not hold for write`);
    t.held[i] = id * 2;
    const charge = this.lineCharge(id);
    if (!this.locks.downgrade(this.nowNs, id, t.id, charge)) throw new Error(this.lockRingFull());
    this.opResult = 0;
    return this.costs.unlockNs + this.settleLine(id, charge);
  }

  /** owner_on_cpu for the lock commit: an exclusive holder of a mutex or rwsem left its CPU or runs again. */
  protected override ownerMoved(t: Task, on: boolean): void {
    if (on && t.lockWokenNs >= 0) {
      // Back on a CPU after a grant woke it: the lock was held all the while it waited for one.
      const c = this.lockCounts(t, t.lockWokenId);
      c.wokenHeld++;
      c.wokenHeldNs += Math.max(0, this.nowNs - t.lockWokenNs);
      t.lockWokenNs = -1;
    }
    for (const h of t.held) {
      if ((h & 1) === 0 || this.x.locks[h >> 1]!.kind === 'spinlock') continue;
      if (!this.locks.ownerMoved(this.nowNs, h >> 1, t.id, on) && this.error === null)
        this.fail(t, this.lockRingFull());
    }
  }

  private send(t: Task, dst: number, value: number): void {
    if (!(Number.isInteger(dst) && dst >= 0 && dst < this.x.cpus))
      throw new Error(`send to cpu ${dst}: allowed cpus 0 .. ${this.x.cpus - 1}`);
    if (!this.ring.send(this.nowNs, dst, value)) {
      throw new Error(
        `more than ${this.x.layout.ringSlots} messages in one window from this CPU; raise ringSlots or shorten the window`,
      );
    }
    t.stats.sent++;
    this.stats.messagesSent++;
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

  /** A message addressed to this CPU, sent at timeNs by src (the window loop hands them over by source CPU, then
   * in send order). */
  receive(src: number, timeNs: number, value: number): void {
    this.heap.push(Math.max(timeNs + this.costs.messageLatencyNs, this.nowNs), EV_MSG, src, value);
  }

  /** Resume the tasks whose zone work was applied, or whose lock was granted: at the grant time, or this CPU's
   * clock if that is later (a sleeping waiter whose CPU ran others past it). */
  collectResults(): void {
    this.ring.allocResults((taskId, result, grantNs) => {
      const t = this.task(taskId);
      const at = Math.max(grantNs, this.nowNs);
      this.memory.completed(t, result, at);
      if (this.current === t && t.stats.state === 'spinning') this.resumeStalled(t, at, result);
    });
    this.locks.grants((taskId, lockId, grantNs, kind) => {
      if (kind === LA_DEBT) {
        // The lock words' lines: what this CPU waited beyond its charges (or a credit, below 0), settled later.
        this.lineDebtNs += grantNs;
        return;
      }
      const t = this.task(taskId);
      if (kind === LA_SPIN_STOP) {
        // It spins on until then (its CPU busy, interrupts served), and sleeps from then.
        if (!isEnded(t) && this.current === t && t.stats.state === 'spinning') {
          this.stalled = false;
          t.lockSpinStop = true;
          this.heap.push(Math.max(grantNs, this.nowNs), EV_SPIN_STOP, t.id, 0);
        }
        return;
      }
      if (kind === LA_WAKE) {
        // Woken to take the lock itself: it tries again when it runs (retryLock); a killed one leaves the queue.
        if (isEnded(t)) this.orphanWaits.push({ id: lockId, taskId });
        else {
          t.lockRetry = true;
          this.heap.push(Math.max(grantNs, this.nowNs), EV_WAKE, taskId, 0);
        }
        return;
      }
      if (isEnded(t)) {
        // Granted to a task killed while it waited: give it back as the next window begins.
        this.orphanLocks.push({ id: lockId, taskId, write: t.lockWait?.write ?? true });
        return;
      }
      const w = t.lockWait!;
      t.lockWait = null;
      t.held.push(lockId * 2 + (w.write ? 1 : 0));
      const at = Math.max(grantNs, this.nowNs);
      const counts = this.lockCounts(t, lockId);
      counts.acquired++;
      counts.waitNs += at - w.sinceNs;
      this.trace?.add(at, TR_END, t.id, '', { waited_ns: at - w.sinceNs });
      if (t.stats.state === 'spinning' && !t.lockSpinStop) this.resumeStalled(t, at + this.costs.lockNs, 0);
      else {
        this.heap.push(at + this.costs.lockNs, EV_WAKE, taskId, 0);
        if (w.write || this.x.locks[lockId]!.kind === 'mutex') [t.lockWokenId, t.lockWokenNs] = [lockId, at];
      }
    });
  }

  clearRings(): void {
    this.ring.clear();
    this.locks.clear();
  }
}
