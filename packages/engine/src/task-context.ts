// task-context: the object a task acts through. Its methods build the operations a task yields; its random stream
// is derived from the run's seed and the task's number alone, so it is the same on any worker.
import { TR_BEGIN, TR_END, TR_INSTANT, type TraceLog } from './trace-log.js';
import seedrandom from 'seedrandom';
import type { ModuleState } from './hooks.js';
import {
  LOCK_EXCLUSIVE,
  LOCK_SHARED,
  OP_ALLOC,
  OP_COMPUTE,
  OP_FREE,
  OP_LOCK,
  OP_RECV,
  OP_SEND,
  OP_SLEEP,
  OP_TOUCH,
  OP_UNLOCK,
  OP_ATOMIC,
  OP_DOWNGRADE,
  OP_YIELD,
  OP_COND_RESCHED,
  type TaskContext,
  type TaskOp,
} from './task.js';

/** Where a task runs now: its CPU, that CPU's clock and trace. The CPU that takes an unpinned task over
 * (balance.ts) points these at itself. */
export interface TaskHost {
  cpu: number;
  now: () => number;
  /** The CPU's trace, when the run is traced. */
  trace: TraceLog | null;
  /** A kernel module's state on that CPU, by the module's name (KernelCpu.kernel). */
  kernel: (module: string) => unknown;
}

export interface TaskContextInput {
  readonly id: number;
  readonly name: string;
  readonly host: TaskHost;
  readonly cpus: number;
  readonly args: Readonly<Record<string, unknown>>;
  readonly seed: string;
  /** Whether the run charges cache lines (RunConfig.coherence 'lines'): ctx.atomic then waits for its line. */
  readonly linesCharged: boolean;
  /** Lock names of the run, in id order, with their kinds. */
  readonly locks: ReadonlyArray<{ readonly name: string; readonly kind: string }>;
  /** Where ctx.count adds: the task's own statistics (it creates their counters on first use). */
  readonly stats: { counters?: Record<string, number> };
}

export function makeTaskContext(x: TaskContextInput): TaskContext {
  const rng = seedrandom.alea(`${x.seed}/task/${x.id}`);
  const host = x.host;
  const now = () => host.now();
  const lockIds = new Map(x.locks.map((l, i) => [l.name, i]));
  const lockId = (name: string, read: boolean): number => {
    const id = lockIds.get(name);
    if (id === undefined) {
      throw new Error(
        `no lock named '${name}'; the run declares: ${x.locks.map((l) => l.name).join(', ') || "none (add them to the run's locks)"}`,
      );
    }
    if (read && x.locks[id]!.kind !== 'rwsem')
      throw new Error(`lockRead('${name}'): it is a ${x.locks[id]!.kind}; only an rwsem has readers`);
    if (x.locks[id]!.kind === 'line')
      throw new Error(`'${name}' is a line, not a lock: ctx.atomic('${name}') updates it`);
    return id;
  };
  const lineId = (name: string): number => {
    const id = lockIds.get(name);
    if (id === undefined)
      throw new Error(
        `ctx.atomic('${name}'): no line or lock of that name; the run's lines (locks of kind 'line'): ` +
          `${
            x.locks
              .filter((l) => l.kind === 'line')
              .map((l) => l.name)
              .join(', ') || 'none'
          }`,
      );
    return id;
  };
  return {
    id: x.id,
    name: x.name,
    get cpu() {
      return host.cpu;
    },
    cpus: x.cpus,
    args: x.args,
    linesCharged: x.linesCharged,
    kernel: <S>(h: ModuleState<S>) => host.kernel(h.module) as S,
    random: () => rng(),
    now,
    tracing: host.trace !== null,
    traceBegin: (name, args) => host.trace?.add(now(), TR_BEGIN, x.id, name, args),
    traceEnd: (args) => host.trace?.add(now(), TR_END, x.id, '', args),
    traceInstant: (name, args) => host.trace?.add(now(), TR_INSTANT, x.id, name, args),
    count: (name, by = 1) => {
      if (!Number.isFinite(by)) throw new RangeError(`ctx.count('${name}', ${by}): expected a finite number`);
      const c = (x.stats.counters ??= {});
      c[name] = (c[name] ?? 0) + by;
    },
    compute: (ns) => op(OP_COMPUTE, checkNs(ns, 'compute')),
    sleep: (ns) => op(OP_SLEEP, checkNs(ns, 'sleep')),
    alloc: (mask, order = 0) => ({ op: OP_ALLOC, a: order, b: 0, mask }),
    free: (pfn) => op(OP_FREE, pfn),
    send: (cpu, value) => op(OP_SEND, cpu, value),
    recv: () => op(OP_RECV, 0),
    yield: () => op(OP_YIELD, 0),
    condResched: () => op(OP_COND_RESCHED, 0),
    lock: (name) => op(OP_LOCK, lockId(name, false), LOCK_EXCLUSIVE),
    lockRead: (name) => op(OP_LOCK, lockId(name, true), LOCK_SHARED),
    unlock: (name) => op(OP_UNLOCK, lockId(name, false)),
    downgrade: (name) => op(OP_DOWNGRADE, lockId(name, true)),
    atomic: (name) => op(OP_ATOMIC, lineId(name)),
    readLine: (name) => op(OP_ATOMIC, lineId(name), 1),
    touch: (address, write = true) => {
      if (!Number.isSafeInteger(address) || address < 0)
        throw new RangeError(`ctx.touch(${address}): expected an address, a whole number >= 0`);
      return op(OP_TOUCH, address, write ? 1 : 0);
    },
  };
}

function op(kind: number, a: number, b = 0): TaskOp {
  return { op: kind, a, b };
}

function checkNs(ns: number, what: string): number {
  if (!Number.isSafeInteger(ns) || ns < 0)
    throw new RangeError(`ctx.${what}(${ns}): expected a whole number of nanoseconds >= 0`);
  return ns;
}
