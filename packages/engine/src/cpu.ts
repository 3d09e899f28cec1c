// cpu: one simulated CPU's event loop: its window of events and the operations its tasks run. It builds on three
// layers, each a mechanism of its own: scheduler.ts (the run queue, time accounting; eevdf.ts), cpu-locking.ts (locks
// and cache lines) and cpu-kernel.ts (what kernel modules see and hook, memory operations); the event heap, the
// tasks placed on it and the trace hash are the scheduler's. It owns the event loop, the operations, the mailbox and
// its receive waiters, and during a window touches nothing shared but its own rings and its own per-CPU state in the
// zone. Work that needs another CPU, the zone lock or a lock held elsewhere is
// logged in its rings and resolved between windows (see window-loop.ts). Kernel modules' hooks (hooks.ts) are called
// at return to user space, faults and timers, and by the scheduler.
//
// Time: the CPU's clock is the time of the last event it ran; it is not pushed to the window's end. A task that
// must wait on the CPU for a cross-CPU answer (spinning on the zone lock or a spinlock, or kernel work in its own
// context that a module's commit answers) stalls the CPU: its clock stops there, and it resumes at the time the
// commit computed for the answer, catching up in the next window before anything later runs. A sleeping waiter
// (mutex, rwsem, a message, a module's wake) is woken at its answer's time, or at the CPU's clock if that is later.
import { ALLOC_DEFERRED } from '@faultline/zone';
import type { PreemptModel } from './costs.js';
import { CpuKernel, type CpuKernelInput } from './cpu-kernel.js';
import { CONTROL_HEADER_I32, CPU_PUB_STRIDE_I32, CPU_PUB_TASK } from './layout.js';
import { EV_DISPATCH, EV_MIGRATE, EV_MSG, EV_RUN, EV_SPIN_STOP, EV_TIMER, EV_WAKE } from './scheduler.js';
import {
  OP_ALLOC,
  OP_ATOMIC,
  OP_COMPUTE,
  OP_COND_RESCHED,
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
  TaskError,
  type TaskOp,
  type TaskPlacement,
} from './task.js';
import { makeTaskContext, type TaskHost } from './task-context.js';
import { isEnded, newTask, newTaskStats, type Task } from './task-struct.js';
import { TraceLog } from './trace-log.js';

export interface SimCpuInput extends CpuKernelInput {
  /** The run's preemption model (RunConfig.preempt); its fair scheduler is CpuLockingInput's. */
  readonly preempt: PreemptModel;
  /** Events to record for a trace (0: not traced). */
  readonly traceMaxEvents: number;
  readonly taskName: (id: number) => string;
}

export class SimCpu extends CpuKernel<SimCpuInput> {
  private windowEndNs = 0;
  private readonly mailbox: number[] = [];
  private readonly recvWaiters: Task[] = [];
  /** Its CPU_PUB_TASK word in the control block. */
  private readonly pubTask: number;
  /** This CPU's clock, for the contexts of the tasks it runs. */
  private readonly clock = () => this.nowNs;
  /** CONFIG_PREEMPT: any compute boundary is a preemption point, in the kernel too. */
  private readonly fullPreempt: boolean;

  constructor(x: SimCpuInput) {
    super(x);
    this.pubTask = CONTROL_HEADER_I32 + x.id * CPU_PUB_STRIDE_I32 + CPU_PUB_TASK;
    this.fullPreempt = x.preempt === 'full';
    if (x.traceMaxEvents > 0) this.trace = new TraceLog(x.id, x.traceMaxEvents, x.taskName);
  }

  // ---- placement and hooks ---------------------------------------------------------------------------------------

  place(p: TaskPlacement): void {
    const x = this.x;
    const stats = newTaskStats(p, this.id);
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
    const task = newTask(p, ctx, iter, stats, host, this.costs.timeSliceNs);
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
    this.releaseOrphans(startNs);
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
        case EV_TIMER:
          this.runTimer(value);
          break;
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
          if (pfn === ALLOC_DEFERRED) {
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
    this.collectLockGrants();
  }

  clearRings(): void {
    this.ring.clear();
    this.locks.clear();
  }
}
