// task-actor: tasks as XState actors. The engine drives an actor through the same operations as a generator task:
//   - the actor is created with `input: { task }`, a TaskActorApi; an action requests one operation per step
//     (`task.alloc('GFP_KERNEL')`, `task.compute(500)`, ...);
//   - when the operation completes, the actor receives { type: 'task.result', op, result };
//   - the task exits when the actor reaches a final state; an actor that errors fails the task.
// Delayed events (`after`, delayed sendTo/raise) run on simulated time: the actor gets a SimulatedTaskClock, never
// the host's timers. XState's delays are in milliseconds, so `after: { 0.005: ... }` is 5 us of simulated time. A
// delayed event fires when its time has come and the actor waits for nothing else: after a step that requested no
// operation, the task sleeps until its earliest delayed event. XState's scheduler also reads Date.now() (a
// bookkeeping timestamp) and Math.random() (keys for unnamed delayed events); neither decides any order here:
// the clock orders timers by (due time, insertion sequence).
//
// `fromTaskGenerator(fn)` turns a generator task into XState actor logic, so straight-line code can be invoked or
// spawned from a machine like any other actor.
import { createActor, type AnyActorLogic, type ActorLogic, type Snapshot } from 'xstate';
import { OP_NAMES, OP_TIMER_WAIT, type TaskContext, type TaskFunction, type TaskOp } from './task.js';

export const TASK_RESULT = 'task.result';

export interface TaskResultEvent {
  readonly type: typeof TASK_RESULT;
  /** The operation that completed ('alloc', 'compute', ...). */
  readonly op: string;
  readonly result: number;
}

type OpMethods =
  | 'compute'
  | 'sleep'
  | 'alloc'
  | 'free'
  | 'send'
  | 'recv'
  | 'yield'
  | 'condResched'
  | 'lock'
  | 'lockRead'
  | 'unlock'
  | 'downgrade'
  | 'atomic'
  | 'readLine'
  | 'touch';

/** What an actor acts through: the context's information, and methods that request the step's operation. */
export type TaskActorApi = Omit<TaskContext, OpMethods> & {
  [K in OpMethods]: (...args: Parameters<TaskContext[K]>) => void;
} & {
  /** The generator-style context that builds operation objects, and a way to request one directly. */
  readonly ops: TaskContext;
  request(op: TaskOp): void;
};

export interface TaskActorInput {
  readonly task: TaskActorApi;
}

const NS_PER_MS = 1_000_000;

/** XState's clock on a task's simulated time. */
export class SimulatedTaskClock {
  private readonly timers: Array<{ id: number; dueNs: number; fn: () => void }> = [];
  private nextId = 1;
  constructor(private readonly nowNs: () => number) {}

  setTimeout(fn: () => void, timeoutMs: number): number {
    const id = this.nextId++;
    const dueNs = this.nowNs() + Math.max(0, Math.round(timeoutMs * NS_PER_MS));
    // Keep sorted by (due, id): insert after every timer due at or before this one.
    let i = this.timers.length;
    while (i > 0 && this.timers[i - 1]!.dueNs > dueNs) i--;
    this.timers.splice(i, 0, { id, dueNs, fn });
    return id;
  }

  clearTimeout(id: number): void {
    const i = this.timers.findIndex((t) => t.id === id);
    if (i >= 0) this.timers.splice(i, 1);
  }

  nextDueNs(): number {
    return this.timers.length ? this.timers[0]!.dueNs : Infinity;
  }

  /** Fire the earliest timer if it is due; true if one fired. */
  fireDue(): boolean {
    const t = this.timers[0];
    if (t === undefined || t.dueNs > this.nowNs()) return false;
    this.timers.shift();
    t.fn();
    return true;
  }
}

export function isActorLogic(x: unknown): x is AnyActorLogic {
  return (
    typeof x === 'object' &&
    x !== null &&
    typeof (x as AnyActorLogic).transition === 'function' &&
    typeof (x as AnyActorLogic).getInitialSnapshot === 'function'
  );
}

/** Run XState actor logic as a task: the engine's iterator over the operations the actor requests. */
export function actorTask(logic: AnyActorLogic): TaskFunction {
  return (ctx) => new ActorDriver(logic, ctx);
}

class ActorDriver implements Iterator<TaskOp, unknown, number> {
  private pending: TaskOp | null = null;
  private lastOp = '';
  private started = false;
  private error: unknown = null;
  private readonly clock: SimulatedTaskClock;
  private readonly actor: ReturnType<typeof createActor>;

  constructor(logic: AnyActorLogic, ctx: TaskContext) {
    this.clock = new SimulatedTaskClock(ctx.now);
    const request = (op: TaskOp) => {
      if (this.pending !== null) {
        throw new Error(
          `requested ${OP_NAMES[op.op]} while ${OP_NAMES[this.pending.op]} is already requested in this step; request one operation per step`,
        );
      }
      this.pending = op;
    };
    const task = {
      id: ctx.id,
      name: ctx.name,
      get cpu() {
        return ctx.cpu; // where it runs now: an unpinned task may move (balance.ts)
      },
      cpus: ctx.cpus,
      args: ctx.args,
      random: ctx.random,
      now: ctx.now,
      compute: (ns: number) => request(ctx.compute(ns)),
      sleep: (ns: number) => request(ctx.sleep(ns)),
      alloc: (mask: Parameters<TaskContext['alloc']>[0], order?: number) => request(ctx.alloc(mask, order)),
      free: (pfn: number) => request(ctx.free(pfn)),
      send: (cpu: number, value: number) => request(ctx.send(cpu, value)),
      recv: () => request(ctx.recv()),
      yield: () => request(ctx.yield()),
      condResched: () => request(ctx.condResched()),
      lock: (name: string) => request(ctx.lock(name)),
      lockRead: (name: string) => request(ctx.lockRead(name)),
      unlock: (name: string) => request(ctx.unlock(name)),
      downgrade: (name: string) => request(ctx.downgrade(name)),
      atomic: (name: string) => request(ctx.atomic(name)),
      readLine: (name: string) => request(ctx.readLine(name)),
      linesCharged: ctx.linesCharged,
      kernel: ctx.kernel,
      touch: (address: number, write?: boolean) => request(ctx.touch(address, write)),
      tracing: ctx.tracing,
      traceBegin: ctx.traceBegin,
      traceEnd: ctx.traceEnd,
      traceInstant: ctx.traceInstant,
      count: ctx.count,
      ops: ctx,
      request,
    } satisfies TaskActorApi;
    this.actor = createActor(logic, { input: { task } satisfies TaskActorInput, clock: this.clock });
    // An observer for errors: without one XState rethrows them on a host timer, outside the simulation.
    this.actor.subscribe({
      error: (e) => {
        this.error = e;
      },
    });
  }

  next(result: number): IteratorResult<TaskOp, unknown> {
    if (!this.started) {
      this.started = true;
      this.actor.start();
    } else if (this.lastOp !== '') {
      this.actor.send({ type: TASK_RESULT, op: this.lastOp, result } satisfies TaskResultEvent);
    }
    // Delayed events whose time has come fire while the actor waits for nothing else.
    while (
      this.pending === null &&
      this.error === null &&
      this.actor.getSnapshot().status === 'active' &&
      this.clock.fireDue()
    ) {
      /* fired one */
    }
    if (this.error !== null) throw this.error;
    const snap = this.actor.getSnapshot() as Snapshot<unknown>;
    const op = this.pending as TaskOp | null;
    this.pending = null;
    if (op !== null) {
      this.lastOp = OP_NAMES[op.op] ?? '';
      return { done: false, value: op };
    }
    if (snap.status === 'done') return { done: true, value: undefined };
    if (snap.status !== 'active') throw new Error(`the actor stopped (status ${snap.status})`);
    const due = this.clock.nextDueNs();
    if (due === Infinity) {
      throw new Error(
        `the actor requested no operation after '${this.lastOp || 'start'}' and has no delayed event: it would wait forever; end each step by requesting an operation (task.compute(), task.sleep(), ...) or reach a final state`,
      );
    }
    this.lastOp = '';
    return { done: false, value: { op: OP_TIMER_WAIT, a: due, b: 0 } };
  }
}

type GeneratorSnapshot = Snapshot<unknown> & {
  readonly iter: Iterator<TaskOp, unknown, number>;
  readonly api: TaskActorApi;
};

/**
 * XState actor logic that runs a generator task: each yielded operation is requested through the actor's task API,
 * each result resumes the generator. The engine runs generator tasks directly (faster); this is for composing them
 * inside machines, and for measuring XState's cost on the same work.
 */
export function fromTaskGenerator(fn: TaskFunction): ActorLogic<GeneratorSnapshot, TaskResultEvent, TaskActorInput> {
  const step = (snap: GeneratorSnapshot, result: number): GeneratorSnapshot => {
    const r = snap.iter.next(result);
    if (r.done) return { iter: snap.iter, api: snap.api, status: 'done', output: r.value, error: undefined };
    snap.api.request(r.value);
    return snap;
  };
  return {
    config: fn,
    transition: (snap, event) =>
      event.type === TASK_RESULT && snap.status === 'active' ? step(snap, event.result) : snap,
    getInitialSnapshot: (_scope, input) => {
      const api = input.task;
      return { status: 'active', output: undefined, error: undefined, iter: fn(api.ops), api };
    },
    start: (snap) => {
      step(snap, 0);
    },
    getPersistedSnapshot: (snap) =>
      ({ status: snap.status, output: snap.output, error: snap.error }) as Snapshot<unknown>,
  };
}
