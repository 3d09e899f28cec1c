// task: what a user's task is and the API it acts through. The engine runs a task as an iterator of operations
// (compute, sleep, alloc, free, touch, lock, unlock, send, recv, yield) that receives each one's result. A task
// module exports either a generator function of the context (straight-line code that reads as the kernel path it
// models) or an XState actor logic (task-actor.ts), which the engine drives through the same operations. The context
// gives a task its own seeded random stream, the simulated clock and its arguments.
import type { GfpMask } from '@faultline/gfp';
import type { ModuleState } from './hooks.js';

export const OP_COMPUTE = 1;
export const OP_SLEEP = 2;
export const OP_ALLOC = 3;
export const OP_FREE = 4;
export const OP_SEND = 5;
export const OP_RECV = 6;
export const OP_YIELD = 7;
export const OP_LOCK = 8;
export const OP_UNLOCK = 9;
export const OP_TOUCH = 10;
/** Internal: an XState task waits for its next delayed event (a = due time in ns). */
export const OP_TIMER_WAIT = 11;
/** A kernel path waits until a kernel module wakes the task (KernelCpu.wake); `why` says for what. */
export const OP_PARK = 12;
/** downgrade_write: turn this task's write hold of an rwsem into a read hold, without letting a writer in between. */
export const OP_DOWNGRADE = 13;
/** A preemption point: leave the CPU here if a reschedule is due (cond_resched, or exit_to_user_mode's check on the
 * way back to user space), though inside a kernel path. */
export const OP_COND_RESCHED = 14;
/** An atomic read-modify-write on a shared cache line declared in the run's locks as kind 'line', or on a lock's
 * word without taking it (line-server.ts); b = 1: a plain read of it. */
export const OP_ATOMIC = 15;
export const OP_NAMES = [
  '',
  'compute',
  'sleep',
  'alloc',
  'free',
  'send',
  'recv',
  'yield',
  'lock',
  'unlock',
  'touch',
  '',
  '',
  'downgrade',
  'condResched',
  'atomic',
] as const;
/** Lock modes (TaskOp.b of OP_LOCK). */
export const LOCK_EXCLUSIVE = 1;
export const LOCK_SHARED = 0;

/** One operation a task yields. Build them with the context's methods. */
export interface TaskOp {
  readonly op: number;
  readonly a: number;
  readonly b: number;
  readonly mask?: string | GfpMask;
  /** For OP_PARK: what the task waits for, shown in a deadlock report. */
  readonly why?: string;
}

/** The operation a kernel module's path yields to wait until the module wakes the task (its result: the wake's value).
 * By default the task sleeps and its CPU runs others. With `stall: true` the task keeps its CPU, as kernel work done
 * in the task's own context does (direct reclaim, the OOM killer, a drain): the CPU's clock stops at the park and
 * resumes at the time the module's answer gives (KernelCpu.wake's atNs), so no time passes that the kernel would
 * not spend. */
export function parkOp(why: string, opts?: { readonly stall?: boolean }): TaskOp {
  return { op: OP_PARK, a: 0, b: opts?.stall === true ? 1 : 0, why };
}

export interface TaskContext {
  /** Task number, unique in the run. */
  readonly id: number;
  readonly name: string;
  /** The simulated CPU it runs on. */
  readonly cpu: number;
  readonly cpus: number;
  /** The `args` of its task specification. */
  readonly args: Readonly<Record<string, unknown>>;
  /** Uniform in [0, 1), from a stream derived from the run's seed and the task's number. */
  random(): number;
  /** Simulated time now, in nanoseconds. */
  now(): number;
  /** Run on the CPU for this long (preempted at the end of the time slice if others wait). Result 0. */
  compute(ns: number): TaskOp;
  /** Block for this long, leaving the CPU to others. Result 0. */
  sleep(ns: number): TaskOp;
  /** Allocate 2^order pages with a GFP mask ("GFP_KERNEL|__GFP_NOWARN"). Result: a pfn, or -1 failed, -2 may reclaim. */
  alloc(mask: string | GfpMask, order?: number): TaskOp;
  /** Free a block this or another task allocated. Result: its order. */
  free(pfn: number): TaskOp;
  /** Send a number to a CPU's mailbox; it arrives no earlier than the next window. Result 0. */
  send(cpu: number, value: number): TaskOp;
  /** Take the next number from this CPU's mailbox, blocking until one arrives. */
  recv(): TaskOp;
  /** Let other runnable tasks run first. Result 0. */
  yield(): TaskOp;
  /** A preemption point inside a kernel path (cond_resched; a path that returns to user space and enters the
   * kernel again, as a refault does, passes exit_to_user_mode's): the task leaves the CPU if a reschedule is due -
   * an expired slice or a woken task's preemption - and holds no lock. Result 0. */
  condResched(): TaskOp;
  /** Take a lock declared in the run's `locks`: a spinlock or mutex, or an rwsem for write. Result 0. */
  lock(name: string): TaskOp;
  /** Take an rwsem for read. Result 0. */
  lockRead(name: string): TaskOp;
  /** Release a lock this task holds. Result 0. */
  unlock(name: string): TaskOp;
  /** downgrade_write: an rwsem this task holds for write becomes held for read, and the readers queued at the
   * head are let in with it (munmap does this before it zaps, mm/mmap.c). Result 0. */
  downgrade(name: string): TaskOp;
  /** An atomic read-modify-write on a shared cache line declared in the run's locks as `kind: 'line'` (a counter
   * every fault bumps, say), or an access to a lock's word that does not take the lock (a trylock's read of an
   * rwsem's count before its cmpxchg): with a topology and `coherence: 'lines'` it waits for the line as the lock
   * words' atomics do (line-server.ts); otherwise it costs nothing. Result 0. */
  atomic(name: string): TaskOp;
  /** A plain read of such a line (or lock word): free while this CPU holds a copy no other CPU has written since,
   * otherwise the line comes from its last writer's place (line-server.ts). Result 0. */
  readLine(name: string): TaskOp;
  /** Whether ctx.atomic costs anything in this run (a topology and `coherence: 'lines'`): a path that would only
   * yield atomics for their cost may skip them when it does not. */
  readonly linesCharged: boolean;
  /** A kernel module's state on the CPU the task runs on now (its handle: ModuleState, exported by the module;
   * the module's own functions, rcuReadLock(ctx) say, use it). An error names a module the run did not load. */
  kernel<S>(handle: ModuleState<S, unknown>): S;
  /** Touch a user address (write or read): the page-fault hook. Result: what the fault handler returns (0 without one). */
  touch(address: number, write?: boolean): TaskOp;
  /** Whether the run is traced (build trace arguments only then). */
  readonly tracing: boolean;
  /** A slice on this task's track in the run's Perfetto trace (--trace), from now until traceEnd; no-ops when the
   * run is not traced. Slices nest. Kernel paths use the kernel's tracepoint names. */
  traceBegin(name: string, args?: Readonly<Record<string, number | string>>): void;
  traceEnd(args?: Readonly<Record<string, number | string>>): void;
  /** An instant event on this task's track. */
  traceInstant(name: string, args?: Readonly<Record<string, number | string>>): void;
  /** Add `by` (default 1) to one of the task's own counters - what a kernel thread keeps in its own struct (a
   * module's per-thread fails, say) - reported in result.tasks[i].counters[name]. Costs no simulated time. */
  count(name: string, by?: number): void;
}

/** What a task module exports: a generator function of the context. */
export type TaskFunction = (ctx: TaskContext) => Iterator<TaskOp, unknown, number>;

/** A helper for typed task modules: `export default defineTask(function* (ctx) { ... })`. */
export function defineTask(fn: TaskFunction): TaskFunction {
  if (typeof fn !== 'function')
    throw new TypeError('defineTask: expected a generator function (function* (ctx) { ... })');
  return fn;
}

export const TASK_STATES = [
  'runnable',
  'running',
  'sleeping',
  'blocked-recv',
  'blocked-lock',
  'blocked-kernel',
  'spinning',
  'exited',
  'failed',
  'killed',
] as const;
export type TaskState = (typeof TASK_STATES)[number];

export interface AllocCounts {
  calls: number;
  granted: number;
  failed: number;
  mayReclaim: number;
  deferred: number;
  waitNs: number;
}

export interface LockCounts {
  acquired: number;
  /** Acquisitions that had to wait for another CPU or another task. */
  contended: number;
  waitNs: number;
  /** Grants to a sleeping writer or mutex waiter, and the time from each to its getting a CPU: held meanwhile,
   * where the kernel's woken waiter takes the lock only once it runs (rwsem_try_write_lock, __mutex_trylock) and a
   * spinner could take it first - the measure of that simplification (lock-commit.ts). */
  wokenHeld: number;
  wokenHeldNs: number;
}

export interface TaskStats {
  readonly id: number;
  readonly name: string;
  /** The CPU it is on: where it started, or the last one balance.ts moved it to. */
  cpu: number;
  /** Times it moved to another CPU (se.nr_migrations); 0 for a pinned task. */
  migrations: number;
  state: TaskState;
  events: number;
  runNs: number;
  blockedNs: number;
  allocs: Record<string, AllocCounts>;
  frees: number;
  touches: number;
  locks: Record<string, LockCounts>;
  sent: number;
  received: number;
  exitedAtNs: number | null;
  /** Why a kernel module killed it (the OOM killer), or null. */
  killedBy: string | null;
  /** Time it spent in memory stalls (PSI's memstall: direct reclaim, memcg reclaim, memory.high throttling). */
  memstallNs: number;
  /** The task's own counters (ctx.count), by name; absent when it kept none. */
  counters?: Record<string, number>;
}

/** A task threw, or did something the kernel would not allow. */
export class TaskError extends Error {
  override readonly name = 'TaskError';
  constructor(
    readonly task: string,
    readonly taskId: number,
    readonly cpu: number,
    readonly timeNs: number,
    message: string,
  ) {
    super(`task '${task}' (#${taskId}) on cpu ${cpu} at ${timeNs} ns: ${message}`);
  }
}

export interface TaskPlacement {
  readonly id: number;
  readonly name: string;
  readonly fn: TaskFunction;
  readonly args: Readonly<Record<string, unknown>>;
  /** It never leaves this CPU (default true); else balance.ts may move it within its last-level cache. */
  readonly pinned?: boolean;
}
