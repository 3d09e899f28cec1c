// kernel-machine: kernel paths as XState machines. A path's control flow is an XState machine (flat: atomic and
// final states, event transitions with named guards); each atomic state runs a step - a generator of engine
// operations that returns the event the machine takes next. The state's step is its `meta.step`, else its name.
// The path ends in a final state, whose name it returns to the caller.
// XState's own interpreter costs about 28 us a transition on this machine (its pure `transition` function), which
// a fault handler taking a million faults per simulated second cannot pay; so the machine is compiled once into a
// table and stepped here, with XState's semantics for that subset (test/kernel-machine.test.ts checks them against
// xstate's `transition` on random event sequences). Anything outside the subset is refused when compiling.
import type { AnyStateMachine } from 'xstate';
import type { TaskOp } from './task.js';

/** A step: kernel work for one state, returning the event type the machine takes next. */
export type MachineStep<C> = (ctx: C) => Generator<TaskOp, string, number>;
/** A guard, by the name the machine gives it: may the transition be taken? */
export type MachineGuard<C> = (ctx: C, event: string) => boolean;

interface CompiledTransition {
  readonly guard: string | null;
  readonly target: number;
}

interface CompiledState {
  readonly name: string;
  readonly step: string;
  readonly final: boolean;
  readonly on: ReadonlyMap<string, readonly CompiledTransition[]>;
}

export interface CompiledMachine {
  readonly id: string;
  readonly initial: number;
  readonly states: readonly CompiledState[];
  /** Step names the machine's atomic states use. */
  readonly steps: ReadonlySet<string>;
  readonly guards: ReadonlySet<string>;
}

/** At most this many transitions in one run of a path: a machine that loops without end is a bug to report. */
export const MACHINE_MAX_TRANSITIONS = 1_000_000;

function refuse(id: string, what: string): never {
  throw new Error(
    `kernel machine '${id}': ${what}; allowed: a flat machine of atomic and final states whose transitions are events with named guards (no nested states, entry/exit actions, invoke, delays, always, or transition actions)`,
  );
}

/** Compile an XState machine into the table runMachine steps. */
export function compileMachine(machine: AnyStateMachine): CompiledMachine {
  const root = machine.root;
  const id = root.id;
  const names = Object.keys(root.states);
  const index = new Map(names.map((n, i) => [n, i]));
  const steps = new Set<string>();
  const guards = new Set<string>();
  const states = names.map((name): CompiledState => {
    const sn = root.states[name]!;
    if (sn.type !== 'atomic' && sn.type !== 'final') refuse(id, `state '${name}' is ${sn.type}`);
    if (sn.entry.length || sn.exit.length) refuse(id, `state '${name}' has entry or exit actions`);
    if (sn.invoke.length || sn.after.length || (sn.always?.length ?? 0) > 0)
      refuse(id, `state '${name}' invokes, delays or has always-transitions`);
    const on = new Map<string, CompiledTransition[]>();
    for (const [event, ts] of sn.transitions) {
      on.set(
        event,
        ts.map((t) => {
          if (t.actions.length) refuse(id, `the '${event}' transition of '${name}' has actions`);
          const targets = t.target ?? [];
          if (targets.length !== 1 || targets[0]!.parent !== root)
            refuse(id, `the '${event}' transition of '${name}' must target one sibling state`);
          const g = t.guard as unknown;
          let guard: string | null = null;
          if (typeof g === 'string') guard = g;
          else if (
            g &&
            typeof g === 'object' &&
            typeof (g as { type?: unknown }).type === 'string' &&
            (g as { params?: unknown }).params === undefined
          )
            guard = (g as { type: string }).type;
          else if (g !== undefined) refuse(id, `the '${event}' transition of '${name}' has a guard that is not a name`);
          if (guard) guards.add(guard);
          return { guard, target: index.get(targets[0]!.key)! };
        }),
      );
    }
    const meta = sn.meta as { step?: unknown } | undefined;
    const step = typeof meta?.step === 'string' ? meta.step : name;
    if (sn.type === 'atomic') {
      if (on.size === 0) refuse(id, `atomic state '${name}' has no transitions (make it final)`);
      steps.add(step);
    }
    return { name, step, final: sn.type === 'final', on };
  });
  const initial = root.initial?.target?.[0];
  if (!initial) refuse(id, 'no initial state');
  return { id, initial: index.get(initial.key)!, states, steps, guards };
}

/** The guards a machine was given in XState (setup({ guards })), as the stepper calls them: one definition for
 * both. Guards with parameters are not supported (compileMachine refuses them). */
export function machineGuards<C>(machine: AnyStateMachine): Record<string, MachineGuard<C>> {
  const impl = (machine.implementations.guards ?? {}) as Record<string, unknown>;
  const out: Record<string, MachineGuard<C>> = {};
  for (const [name, fn] of Object.entries(impl)) {
    if (typeof fn !== 'function') continue;
    out[name] = (ctx, event) =>
      Boolean(
        (fn as (a: { context: C; event: { type: string } }, p: undefined) => unknown)(
          { context: ctx, event: { type: event } },
          undefined,
        ),
      );
  }
  return out;
}

/** Check that every step and guard the machine names is implemented. */
export function checkMachine<C>(
  m: CompiledMachine,
  steps: Readonly<Record<string, MachineStep<C>>>,
  guards: Readonly<Record<string, MachineGuard<C>>>,
): void {
  const missingSteps = [...m.steps].filter((s) => typeof steps[s] !== 'function');
  if (missingSteps.length)
    throw new Error(
      `kernel machine '${m.id}': no step for ${missingSteps.map((s) => `'${s}'`).join(', ')}; steps given: ${Object.keys(steps).join(', ')}`,
    );
  const missingGuards = [...m.guards].filter((g) => typeof guards[g] !== 'function');
  if (missingGuards.length)
    throw new Error(
      `kernel machine '${m.id}': no guard for ${missingGuards.map((g) => `'${g}'`).join(', ')}; guards given: ${Object.keys(guards).join(', ') || '(none)'}`,
    );
}

/** The state an event leads to from `state`, as XState chooses: the first transition whose guard passes; -1 if
 * none does (XState then stays where it is, which for a path means it is stuck). */
export function nextState<C>(
  m: CompiledMachine,
  state: number,
  event: string,
  ctx: C,
  guards: Readonly<Record<string, MachineGuard<C>>>,
): number {
  const ts = m.states[state]!.on.get(event);
  if (ts === undefined) return -1;
  for (const t of ts) if (t.guard === null || guards[t.guard]!(ctx, event)) return t.target;
  return -1;
}

/** Run the machine from its initial state as a kernel path; returns the name of the final state it reached. A
 * machine meant to run for ever (a kernel thread's) passes maxTransitions = Infinity. */
export function* runMachine<C>(
  m: CompiledMachine,
  steps: Readonly<Record<string, MachineStep<C>>>,
  guards: Readonly<Record<string, MachineGuard<C>>>,
  ctx: C,
  maxTransitions = MACHINE_MAX_TRANSITIONS,
): Generator<TaskOp, string, number> {
  let state = m.initial;
  for (let n = 0; n < maxTransitions; n++) {
    const s = m.states[state]!;
    if (s.final) return s.name;
    const event = yield* steps[s.step]!(ctx);
    const next = nextState(m, state, event, ctx, guards);
    if (next < 0)
      throw new Error(
        `kernel machine '${m.id}': state '${s.name}' has no transition for event '${event}' (step '${s.step}'); it handles: ${[...s.on.keys()].join(', ')}`,
      );
    state = next;
  }
  throw new Error(`kernel machine '${m.id}': more than ${maxTransitions} transitions in one run; a loop without end?`);
}
