// hooks: kernel modules, the plug-in point for kernel mechanisms that sit above the engine (RCU, reclaim, memcg, the
// page-fault handler). A module is loaded by path in every worker, like a task. It may ask for shared memory (sized
// once by the main thread), attach hooks to each hosted CPU - context switch, idle, return to user space, the
// page-fault hook behind ctx.touch, window start and end, timers on simulated time - and, on worker 0 (or, for a
// module that declares parallelCommit, the worker the engine gives it: commit-channel.ts), commit between windows
// what the CPUs published, in an order that depends on simulated time and CPU numbers alone.
// The rule that keeps runs deterministic: during a window a hook reads only what changes between windows (the
// commit's output, the zone's free counts) or its own CPU's state - never a counter that other CPUs bump during the
// window (the zone's kswapd wake counter, say): other workers may already be in the next window. Snapshot such
// values in the commit instead.
import type { MemoryNode } from '@faultline/zone';
import type { z } from 'zod';
import type { RunConfig } from './config.js';
import type { TaskContext, TaskOp } from './task.js';

/** A module's handle: its per-CPU state S, as tasks and other modules reach it on a CPU - `ctx.kernel(handle)` (a
 * TaskContext's or a KernelCpu's) - and its report R in a run's result - `reportOf(result, handle)`. The module
 * exports the handle and returns the state from attachCpu (CpuHooks.state); the engine keeps it with the CPU for the
 * run. Looked up by the module's name, so that two copies of a package agree. */
export interface ModuleState<S, R = unknown> {
  readonly module: string;
  /** Carry the types only. */
  readonly __state?: S;
  readonly __report?: R;
}

/** The handle of module `module`, whose per-CPU state is an S and whose report an R. */
export function moduleState<S, R = unknown>(module: string): ModuleState<S, R> {
  return { module };
}

/** A module's report in a run's result (result.modules[name], merged over the workers), typed by its handle;
 * undefined when the run did not load it. */
export function reportOf<R>(result: { readonly modules: Record<string, unknown> }, h: ModuleState<unknown, R>) {
  return (result.modules[h.module] ?? undefined) as R | undefined;
}

/** What a module sees of one simulated CPU. */
export interface KernelCpu {
  readonly cpu: number;
  readonly cpus: number;
  readonly seed: string;
  /** Simulated time on this CPU, in nanoseconds. */
  now(): number;
  /** Call `fn` on this CPU at simulated time `atNs` (not earlier than now); timers at equal times run in the order set. */
  timer(atNs: number, fn: () => void): void;
  /** The task running now, or -1 when idle. */
  currentTask(): number;
  /** Wake a task of this CPU that parked (a kernel path yielded parkOp); its operation's result is `value`. It
   * resumes at `atNs` (the simulated time the answer resolved; default now), or now if that is later. A task
   * killed meanwhile is left alone. */
  wake(taskId: number, value: number, atNs?: number): void;
  /** psi_memstall_enter (on) or _leave for a task of this CPU: PSI counts it as stalled on memory meanwhile.
   * Returns whether it already was (restore that on leaving a nested stall). */
  memstall(taskId: number, on: boolean): boolean;
  /** Free a page from kernel context (an RCU callback, kswapd): on this CPU's list, charged to no task. */
  freePage(pfn: number): void;
  /** Kill a task of this CPU (the OOM killer): it never runs again and the locks it held are released. */
  kill(taskId: number, reason: string): void;
  /** A module's state on this CPU (its attachCpu's CpuHooks.state); an error names a module not loaded. */
  kernel<S>(handle: ModuleState<S, unknown>): S;
}

/** A kernel path run in a task's context: an iterator of operations whose return value is the operation's result. */
export type KernelPath = Iterator<TaskOp, number | void, number>;

export interface CpuHooks {
  /** The module's state on this CPU, which `kernel(handle)` hands to tasks and to other modules (ModuleState). */
  readonly state?: unknown;
  /** The CPU switches from one task to another (-1: from or to idle): an RCU quiescent state. */
  contextSwitch?(prevTaskId: number, nextTaskId: number, nowNs: number): void;
  /** The CPU found nothing to run. */
  idle?(nowNs: number): void;
  /** A task is about to sleep or block (not spin): a message fails the task with it (sleeping where it must not). */
  blocking?(taskId: number, state: string, nowNs: number): string | void;
  /** A task's kernel operation completed and it returns to its own code: the ns it must sleep first (a penalty), or 0. */
  returnToUser?(taskId: number, nowNs: number): number;
  /** A task touched an address: the kernel path that handles it, or null when nothing needs doing. */
  fault?(task: TaskContext, address: number, write: boolean): KernelPath | null;
  /** A task of this CPU was killed (the OOM killer): it never runs again; drop what it held (an RCU read-side
   * section, a share of an address space). */
  taskKilled?(taskId: number, nowNs: number): void;
  /** Before the CPU runs a window. */
  windowStart?(startNs: number): void;
  /** After the CPU ran a window, before the barrier: publish what the commit needs. */
  windowEnd?(endNs: number): void;
}

export interface KernelModuleSetup {
  readonly config: RunConfig;
  readonly worker: number;
  /** The module's shared memory: the same buffer in every worker (empty when it asked for none). */
  readonly shared: SharedArrayBuffer;
  readonly args: Readonly<Record<string, unknown>>;
  /** This worker's view of the memory node (its zones). During a window it defers what needs a zone lock; in
   * commit() on worker 0 it does not. */
  readonly node: MemoryNode;
  /** The worker that runs this module's commit(): 0, or for a module that declares parallelCommit another worker
   * when there are several (commit-channel.ts). Build the committing state where worker === commitWorker. */
  readonly commitWorker: number;
  /** How commit() frees pages: the node itself on worker 0; on another worker a log that worker 0 replays at the
   * module's place in the commit order. Only for use in commit(), on the commit worker. */
  readonly commitFrees: CommitFrees;
  /** The CPU a task is on now: where it started, or, for an unpinned task, where balance.ts moved it (a commit
   * answers a task there, e.g. the OOM killer's kill). */
  taskCpu(taskId: number): number;
}

/** Freeing pages from a commit (node.free's signature). */
export interface CommitFrees {
  free(cpu: number, pfn: number): void;
}

/** What worker 0 knows at a commit beyond the module's own logs. */
export interface CommitInfo {
  /** The earliest simulated time in the window at which an allocation woke kswapd (wakeup_kswapd), or Infinity. */
  readonly kswapdWakeNs: number;
  /** The least clock of any CPU: nothing any CPU logs from now on is earlier. */
  readonly horizonNs: number;
}

export interface KernelModuleInstance {
  attachCpu?(cpu: KernelCpu): CpuHooks;
  /** On the commit worker only (worker 0, or setup's commitWorker), between the barriers: apply what the CPUs
   * published for the window that ended. True: it left work for the next window, which then starts at once. */
  commit?(windowEndNs: number, info: CommitInfo): boolean | void;
  /** Every worker, at the end (or a pause): the module's figures as this worker has them. The main thread combines
   * them with the module's merge() (default: worker 0's) into result.modules[name], part of the run's digest. */
  report?(): unknown;
  /** Worker 0, at the end of a traced run: what the module adds to the trace (result.moduleTraces[name]), not part
   * of the digest. */
  traceReport?(): unknown;
}

export interface KernelModule {
  readonly name: string;
  /** Bytes of shared memory it needs for this run. */
  sharedBytes?(config: RunConfig, args: Readonly<Record<string, unknown>>): number;
  setup(x: KernelModuleSetup): KernelModuleInstance | Promise<KernelModuleInstance>;
  /** Its commit reads and writes only its own shared memory and the CPUs' logs in it, reads of `info` only
   * horizonNs (kswapdWakeNs adds the zone commit's wake-ups, known on worker 0 only), touches the node only
   * through setup's commitFrees, and reads nothing another commit writes in the same round (the zone's free
   * counts, other modules' memory). Then the engine may run it on another worker, at the same time as worker 0's
   * commits (commit-channel.ts); the run is the same. What its commit counts outside shared memory is then in the
   * commit worker's report(), not worker 0's: merge() must take it from there (mm's sums its mmap failures). */
  readonly parallelCommit?: boolean;
  /** On the main thread: combine the workers' reports (in worker order). It must not depend on how CPUs were spread
   * over workers (merge histograms, sum per-CPU counts). Default: worker 0's report. */
  merge?(reports: readonly unknown[]): unknown;
}

/** A helper for typed module files: `export default defineKernelModule({ name, setup })`. */
export function defineKernelModule(m: KernelModule): KernelModule {
  if (typeof m?.name !== 'string' || typeof m.setup !== 'function') {
    throw new TypeError('defineKernelModule: expected { name: string, setup(x) { ... }, sharedBytes?(config) }');
  }
  return m;
}

export function isKernelModule(x: unknown): x is KernelModule {
  return (
    typeof x === 'object' &&
    x !== null &&
    typeof (x as KernelModule).name === 'string' &&
    typeof (x as KernelModule).setup === 'function'
  );
}

/** Validate a module's `args` with a zod schema; the error names the module, each field and what is allowed. */
export function parseModuleArgs<S extends z.ZodType>(moduleName: string, schema: S, args: unknown): z.output<S> {
  const parsed = schema.safeParse(args ?? {});
  if (parsed.success) return parsed.data;
  throw new RangeError(
    `${moduleName} module args:\n  ${parsed.error.issues.map((i) => `${i.path.join('.') || '(args)'}: ${i.message}`).join('\n  ')}`,
  );
}
