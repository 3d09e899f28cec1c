// cpu-locking: a CPU's side of the locks and cache lines its tasks use (kernel/locking/: mutex.c, rwsem.c,
// qspinlock.c), between the scheduler (scheduler.ts) and the event loop (cpu.ts, which builds on this): taking,
// retrying, releasing and downgrading a lock, with what the task pays at once or waits for; atomics and reads on a
// line (ctx.atomic, ctx.readLine) and the line time the commit charges this CPU; the commit's answers (grants,
// wake-ups, spin stops); a task that stalls its CPU for an answer, and a task's failure.
import type { Costs, SchedulerKind } from './costs.js';
import type { RunLayout } from './layout.js';
import { LA_DEBT, LA_SPIN_STOP, LA_WAKE, LK_SPIN } from './layout.js';
import { CpuLocks, LOCK_TAKEN, LOCK_WAIT, type LockSpec } from './locks.js';
import { CpuScheduler, EV_RUN, EV_SPIN_STOP, EV_WAKE } from './scheduler.js';
import { TaskError, type LockCounts } from './task.js';
import { isEnded, type Task } from './task-struct.js';
import { TR_BEGIN, TR_END } from './trace-log.js';

/** What the locking side of a CPU is given (part of SimCpuInput). */
export interface CpuLockingInput {
  readonly id: number;
  readonly costs: Costs;
  readonly scheduler: SchedulerKind;
  readonly rings: Float64Array;
  readonly ctl: Int32Array;
  readonly layout: RunLayout;
  readonly locks: readonly LockSpec[];
  /** Whether lock words' and lines' cache lines are charged (RunConfig.coherence). */
  readonly coherence: 'lines' | 'off';
}

export class CpuLocking<I extends CpuLockingInput = CpuLockingInput> extends CpuScheduler {
  error: TaskError | null = null;
  /** The current task waits on this CPU for the commit's answer: nothing more runs here until it comes. */
  stalled = false;
  /** It stalled during the current round: the window runs again so it can catch up (window-loop.ts). */
  stalledThisRound = false;
  /** An operation's result, beside its cost (cpu.ts's operate). */
  protected opResult = 0;
  /** Time this CPU owes for lock words' cache lines (the commit's LA_DEBT), paid by its next compute or lock
   * operation, whichever comes first. */
  protected lineDebtNs = 0;
  protected readonly locks: CpuLocks;
  private readonly orphanLocks: Array<{ id: number; taskId: number; write: boolean }> = [];
  /** Waiters killed before the commit woke them: they leave the lock's queue as the next window begins. */
  private readonly orphanWaits: Array<{ id: number; taskId: number }> = [];

  /** What this CPU was given: each layer above reads its own part of it (SimCpuInput). */
  protected readonly x: I;

  constructor(x: I) {
    super(x.id, x.costs, x.scheduler);
    this.x = x;
    this.locks = new CpuLocks(x.locks, x.ctl, x.rings, x.layout, x.id);
  }

  /** As a window begins: locks granted to, and waits of, tasks killed meanwhile are given back. */
  protected releaseOrphans(startNs: number): void {
    this.locks.newWindow();
    for (const o of this.orphanLocks.splice(0)) this.locks.release(startNs, o.id, o.taskId, o.write);
    for (const o of this.orphanWaits.splice(0)) this.locks.cancel(startNs, o.id, o.taskId);
  }

  /** The current task waits on this CPU for the commit: the clock stops until resumeStalled. */
  protected stall(t: Task, state: 'spinning' | 'blocked-kernel', why: string): void {
    t.stats.state = state;
    t.waitingFor = why;
    t.blockedSinceNs = this.nowNs;
    this.stalled = true;
    this.stalledThisRound = true;
  }

  protected resumeStalled(t: Task, atNs: number, result: number): void {
    if (t.stats.state === 'spinning' && atNs > this.nowNs) this.stats.spinNs += atNs - this.nowNs;
    this.stalled = false;
    t.stats.state = 'running';
    t.waitingFor = '';
    this.heap.push(atNs, EV_RUN, t.id, result);
  }

  /** Ask the modules whether this task may sleep now (RCU: not inside a read-side critical section). */
  protected mayBlock(t: Task, state: string): void {
    for (const h of this.hooks) {
      const why = h.blocking?.(t.id, state, this.nowNs);
      if (typeof why === 'string') throw new Error(why);
    }
  }

  protected fail(t: Task, message: string): void {
    [t.stats.state, this.current, this.error] = [
      'failed',
      null,
      new TaskError(t.name, t.id, this.id, this.nowNs, message),
    ];
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

  protected lock(t: Task, id: number, write: boolean): number | null {
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
  protected retryLock(t: Task): void {
    t.lockRetry = false;
    const w = t.lockWait!;
    if (!this.locks.retry(this.nowNs, w.id, t.id, w.write)) {
      this.fail(t, this.lockRingFull());
      return;
    }
    this.stall(t, 'spinning', `${w.what} (trying again, woken)`);
  }

  protected unlock(t: Task, id: number): number {
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
  protected atomic(t: Task, id: number, read: boolean): number {
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
  protected payLineDebt(): number {
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

  protected downgrade(t: Task, id: number): number {
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

  /** The lock commit's answers to this CPU's tasks: grants (resumed at the grant time, or this CPU's clock if that
   * is later), wake-ups to try again, spin stops, and the lines' time it charged this CPU. */
  protected collectLockGrants(): void {
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
}
