// rcu-cpu: RCU on one CPU - read-side sections of its tasks, quiescent states, and its callbacks.
// Quiescent states: a context switch, a return to user space, or a scheduler tick with the running task outside
// any read-side section (as for a task in user mode) report one directly; idle is an extended quiescent state that the grace-period machine's
// force-quiescent-state scan picks up (the kernel's dynticks). A quiescent state counts for grace period g only if
// no task on this CPU is still inside a read-side section it entered before the CPU learnt of g (preempted readers
// block the GP, as in preemptible RCU). Sleeping inside a read-side section fails the task.
// Callbacks are queued for the first GP that starts after them and invoked on this CPU, blimit at a time at each
// window's start (all at once past qhimark), as rcu_do_batch does per softirq run.
import type { KernelCpu } from '@faultline/engine';
import {
  C_BACKLOG, C_BACKLOG_MAX, C_CB_INVOKED, C_CB_QUEUED, C_IDLE_ENTRIES, C_IDLE_NOW, C_NEED_GP, C_PIPE0, C_QS_GP,
  C_READS, CPU_STRIDE_I32, G_COMPLETED, G_STARTED, GLOBAL_I32,
} from './layout.js';

export interface RcuOptions {
  /** Scheduler tick (HZ=1000: 1 ms). */
  readonly tickNs: number;
  /** Callbacks invoked per batch (rcu_do_batch's blimit, 10). */
  readonly blimit: number;
  /** Past this backlog every ready callback runs at once (qhimark, 10000). */
  readonly qhimark: number;
  /** For testing the checker: report quiescent states even inside read-side sections. Breaks RCU on purpose. */
  readonly brokenIgnoreReaders: boolean;
}

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

  constructor(readonly cpu: KernelCpu, private readonly mem: Int32Array, private readonly o: RcuOptions) {
    this.base = GLOBAL_I32 + cpu.cpu * CPU_STRIDE_I32;
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
  }

  /** Invoke ready callbacks: blimit of them, or all past qhimark. */
  invokeReady(): void {
    const backlog = this.callbacks.length - this.cbHead;
    let budget = backlog > this.o.qhimark ? backlog : this.o.blimit;
    while (budget-- > 0 && this.cbHead < this.callbacks.length && this.callbacks[this.cbHead]!.target <= this.knownCompleted) {
      const cb = this.callbacks[this.cbHead++]!;
      this.mem[this.base + C_CB_INVOKED]!++;
      cb.fn();
    }
    if (this.cbHead > 1024 && this.cbHead * 2 > this.callbacks.length) {
      this.callbacks.splice(0, this.cbHead);
      this.cbHead = 0;
    }
    this.mem[this.base + C_BACKLOG] = this.callbacks.length - this.cbHead;
  }

  // ---- windows ---------------------------------------------------------------------------------------------------

  windowStart(): void {
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
