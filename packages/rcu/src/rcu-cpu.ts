// rcu-cpu: RCU on one CPU - read-side sections of its tasks, quiescent states, and its callbacks (kernel/rcu/tree.c).
// Quiescent states: a context switch, a return to user space, or a scheduler tick with the running task outside
// any read-side section note one (rcu_qs: rdp->cpu_no_qs cleared). The tick's RCU softirq (rcu_sched_clock_irq ->
// rcu_core) is where the CPU notices a grace period's start or end (note_gp_changes), reports a noted quiescent state
// (rcu_check_quiescent_state -> rcu_report_qs_rdp), asks for a grace period its new callbacks need, and invokes ready
// callbacks: so a grace period spans ticks, as in the kernel. Idle is an extended quiescent state that the grace-
// period machine's force-quiescent-state scan picks up (the kernel's dynticks). A quiescent state counts for grace
// period g only if no task on this CPU is still inside a read-side section it entered before the CPU noticed g
// (preempted readers block the GP, as in preemptible RCU). Sleeping inside a read-side section fails the task.
// Callbacks wait for the first GP that starts after them (rcu_seq_snap of the global count) and run on this CPU in
// rcu_do_batch's batches (invokeReady says how many).
// With `expedited`, every grace period is driven as synchronize_rcu_expedited drives one (rcu_exp_handler: each CPU
// reports at the IPI, at once, unless a reader is inside), and CPUs notice starts and ends at each window's start.
import type { KernelCpu } from '@faultline/engine/module';
import {
  G_STARTED_AT_F64,
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
  /** Scheduler tick: a jiffy (1e9 / CONFIG_HZ; 4 ms at the default HZ=250). */
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
  /** Every grace period expedited (IPIs, no ticks): the kernel's rcupdate.rcu_expedited for all of them. */
  readonly expedited: boolean;
}

/** The batch limit while a flood of callbacks is worked down (DEFAULT_MAX_RCU_BLIMIT). */
export const DEFAULT_MAX_RCU_BLIMIT = 10_000;
/** __do_softirq restarts a pending softirq this many times before it leaves the rest to ksoftirqd. */
export const MAX_SOFTIRQ_RESTART = 10;

interface Reader {
  nesting: number;
  /** The GP number this CPU had noticed when the section began, and the system's completed count then. */
  gpSeen: number;
  completedAtLock: number;
}

export class RcuCpu {
  /** The GP this CPU has noticed (rdp->gp_seq), and the last completed GP it has noticed. */
  private knownStarted = 0;
  private knownCompleted = 0;
  /** The GP a quiescent state has been noted for and not yet reported (rdp->cpu_no_qs cleared), or 0. */
  private qsNoted = 0;
  /** The highest GP this CPU's callbacks need, to be asked for at the next softirq. */
  private needGp = 0;
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
      r = { nesting: 0, gpSeen: this.knownStarted, completedAtLock: this.mem[G_COMPLETED]! };
      this.readers.set(taskId, r);
    }
    r.nesting++;
  }

  readUnlock(taskId: number): void {
    const r = this.readers.get(taskId);
    if (r === undefined) throw new Error('rcu_read_unlock() without rcu_read_lock()');
    if (--r.nesting > 0) return;
    this.readers.delete(taskId);
    // rcutorture's pipe counts the GPs completed system-wide while the reader was inside (rcu_batches_completed).
    const elapsed = this.mem[G_COMPLETED]! - r.completedAtLock;
    this.mem[this.base + C_PIPE0 + Math.min(elapsed, 2)]!++;
    this.mem[this.base + C_READS]!++;
  }

  /** A task killed inside a read-side section leaves it (the kernel's victim would leave it before it dies). */
  dropReader(taskId: number): void {
    this.readers.delete(taskId);
  }

  nesting(taskId: number): number {
    return this.readers.get(taskId)?.nesting ?? 0;
  }

  // ---- quiescent states ------------------------------------------------------------------------------------------

  /** A quiescent state on this CPU now (rcu_qs): noted for the GP it has noticed unless an older reader is still
   * inside; reported at the next softirq (at once when expedited). */
  noteQs(): void {
    const g = this.knownStarted;
    if (g <= this.knownCompleted || this.mem[this.base + C_QS_GP]! >= g) return;
    if (!this.o.brokenIgnoreReaders) for (const r of this.readers.values()) if (r.gpSeen < g) return;
    if (this.o.expedited) this.mem[this.base + C_QS_GP] = g;
    else this.qsNoted = g;
  }

  noteIdle(): void {
    // Only an idle CPU with no task inside a section is quiescent (a reader may wait for the zone at a window's end).
    if (this.readers.size === 0 || this.o.brokenIgnoreReaders) this.mem[this.base + C_IDLE_ENTRIES]!++;
  }

  /**
   * rcu_sched_clock_irq: a tick outside any read-side section is a quiescent state; then the RCU softirq (rcu_core):
   * note_gp_changes, rcu_check_quiescent_state (report what was noted for the GP this CPU had noticed before this
   * tick; a GP noticed now needs a quiescent state after now), the request for the GP new callbacks need, and
   * rcu_do_batch. An idle CPU is reported by the FQS scan; its tick goes on only to run its callbacks (rcu_needs_cpu
   * keeps the tick of a CPU with callbacks).
   */
  private tick(): void {
    const cur = this.cpu.currentTask();
    if (cur !== -1 && this.nesting(cur) === 0) this.noteQs();
    const m = this.mem;
    if (
      this.qsNoted === this.knownStarted &&
      this.qsNoted > this.knownCompleted &&
      m[this.base + C_QS_GP]! < this.qsNoted
    )
      m[this.base + C_QS_GP] = this.qsNoted;
    this.noteGpChanges();
    this.requestAndInvoke();
  }

  /** rcu_core's end: the request for the GP new callbacks need, and rcu_do_batch. */
  private requestAndInvoke(): void {
    if (this.mem[this.base + C_NEED_GP]! < this.needGp) this.mem[this.base + C_NEED_GP] = this.needGp;
    this.invokeReady();
  }

  /** note_gp_changes: learn the GP counts as of this CPU's clock (a start or end later than its clock waits). */
  private noteGpChanges(): void {
    const now = this.cpu.now();
    if (this.mem[G_COMPLETED]! !== this.knownCompleted && this.globals[G_COMPLETED_AT_F64]! > now) return;
    if (this.mem[G_STARTED]! !== this.knownStarted && this.globals[G_STARTED_AT_F64]! > now) {
      this.knownCompleted = this.mem[G_COMPLETED]!;
      return;
    }
    this.knownStarted = this.mem[G_STARTED]!;
    this.knownCompleted = this.mem[G_COMPLETED]!;
  }

  // ---- callbacks -------------------------------------------------------------------------------------------------

  queue(fn: () => void): void {
    // rcu_seq_snap: the first GP that starts after now, from the global count (a GP in progress is not enough).
    const m = this.mem;
    const target = m[G_STARTED]! + 1;
    this.callbacks.push({ target, fn });
    if (this.needGp < target) this.needGp = target;
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

  private ipiPending = false;

  /** Expedited: every window's start is an IPI, handled at once, or at the GP's start or end if this CPU's clock lags
   * it. Otherwise GP changes wait for the tick. */
  windowStart(): void {
    if (!this.o.expedited || this.ipiPending) return;
    const at = Math.max(this.globals[G_STARTED_AT_F64]!, this.globals[G_COMPLETED_AT_F64]!);
    if (at <= this.cpu.now()) {
      this.ipi();
      return;
    }
    this.ipiPending = true;
    this.cpu.timer(at, () => {
      this.ipiPending = false;
      this.ipi();
    });
  }

  /** rcu_exp_handler: notice the GP and report at once unless a reader that began before is inside. */
  private ipi(): void {
    this.noteGpChanges();
    this.noteQs();
    this.requestAndInvoke();
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
