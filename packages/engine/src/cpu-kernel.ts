// cpu-kernel: what kernel modules see of a CPU and where they hook into it (hooks.ts), between the locking side
// (cpu-locking.ts) and the event loop (cpu.ts, which builds on this): the KernelCpu face (wake a parked task, a
// timer, kill, a memory stall, a free from kernel context, a module's per-CPU state), the hooks a fault and the
// return to user space call, and the CPU's memory operations and rings (cpu-memory.ts, cpu-rings.ts).
import type { MemoryNode } from '@faultline/zone';
import { CpuLocking, type CpuLockingInput } from './cpu-locking.js';
import { CpuMemory } from './cpu-memory.js';
import { CpuRings } from './cpu-rings.js';
import type { CpuHooks, KernelCpu, KernelPath, ModuleState } from './hooks.js';
import { EV_TIMER, EV_WAKE } from './scheduler.js';
import { TaskError, type TaskOp, type TaskStats } from './task.js';
import { isEnded, type Task } from './task-struct.js';

/** What the kernel side of a CPU is given (part of SimCpuInput). */
export interface CpuKernelInput extends CpuLockingInput {
  readonly cpus: number;
  readonly node: MemoryNode;
  readonly seed: string;
}

export class CpuKernel<I extends CpuKernelInput = CpuKernelInput> extends CpuLocking<I> {
  protected readonly ring: CpuRings;
  protected readonly memory: CpuMemory;
  private readonly timers = new Map<number, () => void>();
  private timerSeq = 0;
  /** Frees from kernel context are counted here, not under any task. */
  protected readonly kernelTask = {
    id: -1,
    stats: { frees: 0, allocs: {} } as unknown as TaskStats,
    zoneWaitSinceNs: 0,
    zoneWaitMask: '',
  };

  constructor(x: I) {
    super(x);
    this.ring = new CpuRings(x.rings, x.layout, x.id);
    this.memory = new CpuMemory(x.id, x.node, this.ring, x.layout.ringSlots);
  }

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
  protected readonly kernelState = (module: string): unknown => {
    const s = this.moduleStates.get(module);
    if (s === undefined)
      throw new Error(`the '${module}' kernel module is not loaded on cpu ${this.id}: add it to the run's modules`);
    return s;
  };

  /** A module's timer (KernelCpu.timer) is due. */
  protected runTimer(slot: number): void {
    const fn = this.timers.get(slot)!;
    this.timers.delete(slot);
    this.stats.timers++;
    fn();
  }

  protected kill(taskId: number, reason: string): void {
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

  /** The return-to-user hooks (memcg's penalty): true when the task was put to sleep before its code continues. */
  protected returnToUser(t: Task, result: number): boolean {
    let penaltyNs = 0;
    for (const h of this.hooks) if (h.returnToUser) penaltyNs += h.returnToUser(t.id, this.nowNs);
    if (!(penaltyNs > 0)) return false;
    // The only such penalty in the kernel is memory.high's throttling (mem_cgroup_handle_over_high), a memstall.
    if (!this.setMemstall(t, true)) t.penaltyStall = true;
    this.block(t, 'sleeping', `a return-to-user penalty of ${penaltyNs} ns`);
    this.heap.push(this.nowNs + Math.round(penaltyNs), EV_WAKE, t.id, result);
    return true;
  }

  protected touch(t: Task, address: number, write: boolean): number {
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
}
