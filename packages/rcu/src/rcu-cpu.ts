// rcu-cpu: RCU on one CPU - read-side sections of its tasks, quiescent states, and its callbacks.
// Quiescent states: a context switch, a return to user space, or a scheduler tick with the running task outside
// any read-side section (as for a task in user mode) report one directly; idle is an extended quiescent state that the grace-period machine's
// force-quiescent-state scan picks up (the kernel's dynticks). A quiescent state counts for grace period g only if
// no task on this CPU is still inside a read-side section it entered before the CPU learnt of g (preempted readers
// block the GP, as in preemptible RCU). Sleeping inside a read-side section fails the task.
// Callbacks are queued for the first GP that starts after them and invoked on this CPU by the RCU softirq at each
// window's start, in rcu_do_batch's batches (invokeReady says how many).
import type { KernelCpu } from '@faultline/engine';
import {
  C_BACKLOG,
  C_BACKLOG_MAX,
  C_CB_INVOKED,
  C_CB_QUEUED,
  C_IDLE_ENTRIES,
  C_IDLE_NOW,
  C_NEED_GP,
  C_PIPE0,
  C_QS_GP,
  C_READS,
  CPU_STRIDE_I32,
  G_COMPLETED,
  G_COMPLETED_AT_F64,
  G_STARTED,
  GLOBAL_I32,
} from './layout.js';

export interface RcuOptions {
  /** Scheduler tick (HZ=1000: 1 ms). */
  readonly tickNs: number;
  /** Callbacks invoked per batch (rcu_do_batch's blimit, 10). */
  readonly blimit: number;
  /** Past this backlog the batch limit rises to DEFAULT_MAX_RCU_BLIMIT (qhimark, 10000)... */
  readonly qhimark: number;
  /** ... until the backlog is down to this (qlowmark, 100). */
  readonly qlowmark: number;
  /** A batch is at least the ready callbacks >> this (rcu_divisor, 7). */
  readonly divisor: number;
  /** For testing the checker: report quiescent states even inside read-side sections. Breaks RCU on purpose. */
  readonly brokenIgnoreReaders: boolean;
}

/** The batch limit while a flood of callbacks is worked down (DEFAULT_MAX_RCU_BLIMIT). */
export const DEFAULT_MAX_RCU_BLIMIT = 10_000;
/** __do_softirq restarts a pending softirq this many times before it leaves the rest to ksoftirqd. */
export const MAX_SOFTIRQ_RESTART = 10;

interface Reader {
  nesting: number;
  /** The GP number this CPU knew when the section began, and the completed count then. */
  gpSeen: number;
  completedAtLock: number;
}

export class RcuCpu {
  private knownStarted = 0;
  private knownCompleted = 0;
  private readonly readers = new Map<number, Reader>();
  private readonly callbacks: Array<{ target: number; fn: () => void }> = [];
  private cbHead = 0;
  private readonly base: number;
  /** rdp->blimit: o.blimit, or DEFAULT_MAX_RCU_BLIMIT while a flood of callbacks is worked down. */
  private blimit: number;

  private readonly globals: Float64Array;

  constructor(
    readonly cpu: KernelCpu,
    private readonly mem: Int32Array,
    private readonly o: RcuOptions,
  ) {
    this.globals = new Float64Array(mem.buffer, 0, GLOBAL_I32 / 2);
    this.base = GLOBAL_I32 + cpu.cpu * CPU_STRIDE_I32;
    this.blimit = o.blimit;
    const tick = () => {
      this.tick();
      cpu.timer(cpu.now() + o.tickNs, tick);
    };
    cpu.timer(o.tickNs, tick);
  }

  // ---- read side -------------------------------------------------------------------------------------------------

  readLock(taskId: number): void {
    let r = this.readers.get(taskId);
    if (r === undefined) {
      r = { nesting: 0, gpSeen: this.knownStarted, completedAtLock: this.knownCompleted };
      this.readers.set(taskId, r);
    }
    r.nesting++;
  }

  readUnlock(taskId: number): void {
    const r = this.readers.get(taskId);
    if (r === undefined) throw new Error('rcu_read_unlock() without rcu_read_lock()');
    if (--r.nesting > 0) return;
    this.readers.delete(taskId);
    const elapsed = this.knownCompleted - r.completedAtLock;
    this.mem[this.base + C_PIPE0 + Math.min(elapsed, 2)]!++;
    this.mem[this.base + C_READS]!++;
  }

  nesting(taskId: number): number {
    return this.readers.get(taskId)?.nesting ?? 0;
  }

  // ---- quiescent states ------------------------------------------------------------------------------------------

  /** A quiescent state on this CPU now: report it for the GP in progress unless an older reader is still inside. */
  noteQs(): void {
    const g = this.knownStarted;
    if (g <= this.knownCompleted || this.mem[this.base + C_QS_GP]! >= g) return;
    if (!this.o.brokenIgnoreReaders) for (const r of this.readers.values()) if (r.gpSeen < g) return;
    this.mem[this.base + C_QS_GP] = g;
  }

  noteIdle(): void {
    // Only an idle CPU with no task inside a section is quiescent (a reader may wait for the zone at a window's end).
    if (this.readers.size === 0 || this.o.brokenIgnoreReaders) this.mem[this.base + C_IDLE_ENTRIES]!++;
  }

  private tick(): void {
    // An idle CPU's tick is stopped (NO_HZ idle): idle is reported by the FQS scan, not here.
    const cur = this.cpu.currentTask();
    if (cur !== -1 && this.nesting(cur) === 0) this.noteQs();
    this.invokeReady();
  }

  // ---- callbacks -------------------------------------------------------------------------------------------------

  queue(fn: () => void): void {
    const target = this.knownStarted + 1;
    this.callbacks.push({ target, fn });
    const m = this.mem;
    if (m[this.base + C_NEED_GP]! < target) m[this.base + C_NEED_GP] = target;
    m[this.base + C_CB_QUEUED]!++;
    const backlog = this.callbacks.length - this.cbHead;
    m[this.base + C_BACKLOG] = backlog;
    if (backlog > m[this.base + C_BACKLOG_MAX]!) m[this.base + C_BACKLOG_MAX] = backlog;
    // __call_rcu_core: a flood of callbacks lifts the batch limit.
    if (backlog > this.o.qhimark) this.blimit = DEFAULT_MAX_RCU_BLIMIT;
  }

  /**
   * The RCU softirq: rcu_do_batch takes max(blimit, ready >> divisor) ready callbacks (on an idle CPU it goes on
   * past that), and while ready ones remain the softirq is raised again and __do_softirq restarts, up to
   * MAX_SOFTIRQ_RESTART times. Once the backlog is down to qlowmark the batch limit returns to blimit. Invocation
   * costs no simulated CPU time (a model simplification: the kernel charges it to the softirq).
   */
  invokeReady(): void {
    const idle = this.cpu.currentTask() === -1;
    for (let run = 0; run <= MAX_SOFTIRQ_RESTART; run++) {
      let ready = 0;
      while (
        this.cbHead + ready < this.callbacks.length &&
        this.callbacks[this.cbHead + ready]!.target <= this.knownCompleted
      )
        ready++;
      if (ready === 0) break;
      const bl = idle ? ready : Math.min(ready, Math.max(this.blimit, ready >> this.o.divisor));
      for (let i = 0; i < bl; i++) {
        const cb = this.callbacks[this.cbHead++]!;
        this.mem[this.base + C_CB_INVOKED]!++;
        cb.fn();
      }
      if (this.blimit >= DEFAULT_MAX_RCU_BLIMIT && this.callbacks.length - this.cbHead <= this.o.qlowmark)
        this.blimit = this.o.blimit;
    }
    if (this.cbHead > 1024 && this.cbHead * 2 > this.callbacks.length) {
      this.callbacks.splice(0, this.cbHead);
      this.cbHead = 0;
    }
    this.mem[this.base + C_BACKLOG] = this.callbacks.length - this.cbHead;
  }

  // ---- windows ---------------------------------------------------------------------------------------------------

  /** A completion this CPU will learn of when its clock reaches the completion's time. */
  private learnPending = false;

  windowStart(): void {
    // A CPU whose clock lags the window learns of a GP's end only at the time it ended: its callbacks must not run,
    // nor its readers count the GP as over, before then.
    const completedAt = this.globals[G_COMPLETED_AT_F64]!;
    if (this.mem[G_COMPLETED]! !== this.knownCompleted && completedAt > this.cpu.now()) {
      if (!this.learnPending) {
        this.learnPending = true;
        this.cpu.timer(completedAt, () => {
          this.learnPending = false;
          this.learn();
        });
      }
      return;
    }
    if (!this.learnPending) this.learn();
  }

  private learn(): void {
    this.knownStarted = this.mem[G_STARTED]!;
    this.knownCompleted = this.mem[G_COMPLETED]!;
    this.invokeReady();
  }

  windowEnd(): void {
    const idle = this.cpu.currentTask() === -1 && (this.readers.size === 0 || this.o.brokenIgnoreReaders);
    this.mem[this.base + C_IDLE_NOW] = idle ? 1 : 0;
  }

  blockingMessage(taskId: number, state: string): string | void {
    const n = this.nesting(taskId);
    if (n > 0) return `would sleep (${state}) inside an RCU read-side critical section (rcu_read_lock nesting ${n})`;
  }
}
