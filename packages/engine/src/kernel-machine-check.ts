// kernel-machine-check: for authors of kernel machines - walk a machine at random and check that the compiled
// stepper (kernel-machine.ts) takes exactly the transitions XState's own `transition` takes, guards included.
// Returns the first disagreement, or null; the built-in fault, slow-path and kswapd machines are checked with it.
import seedrandom from 'seedrandom';
import { transition, type AnyStateMachine } from 'xstate';
import { compileMachine, nextState, type MachineGuard } from './kernel-machine.js';

export interface CrossCheckOptions<C> {
  /** A fresh context for a walk (the machine's XState context is the same object). */
  readonly context: (rng: () => number) => C;
  /** Change the context between transitions, so that guards see both answers. */
  readonly perturb?: (ctx: C, rng: () => number) => void;
  readonly walks?: number;
  readonly steps?: number;
  readonly seed?: string;
}

export interface CrossCheckReport {
  readonly transitions: number;
  readonly disagreement: string | null;
}

export function crossCheckMachine<C extends object>(
  machine: AnyStateMachine,
  guards: Readonly<Record<string, MachineGuard<C>>>,
  o: CrossCheckOptions<C>,
): CrossCheckReport {
  const compiled = compileMachine(machine);
  const names = compiled.states.map((s) => s.name);
  const rng = seedrandom(o.seed ?? 'cross-check');
  let transitions = 0;
  for (let walk = 0; walk < (o.walks ?? 1_000); walk++) {
    const ctx = o.context(rng);
    let state = compiled.initial;
    for (let step = 0; step < (o.steps ?? 40) && !compiled.states[state]!.final; step++) {
      const events = [...compiled.states[state]!.on.keys()];
      // Mostly events the state handles, now and then one it does not (both must then stay put).
      const type = rng() < 0.9 ? events[Math.floor(rng() * events.length)]! : 'no-such-event';
      o.perturb?.(ctx, rng);
      // XState keeps its own snapshot: give it the context as it is now, in the state the stepper is in.
      const [snap] = transition(machine, machine.resolveState({ value: names[state]!, context: ctx }), { type });
      const next = nextState(compiled, state, type, ctx, guards);
      const expected = next < 0 ? names[state] : names[next];
      transitions++;
      if (snap.value !== expected)
        return {
          transitions,
          disagreement: `${compiled.id}: ${names[state]} --${type}--> XState: ${String(snap.value)}, stepper: ${expected}`,
        };
      if (snap.status === 'done' && !compiled.states[next < 0 ? state : next]!.final)
        return {
          transitions,
          disagreement: `${compiled.id}: XState finished in ${String(snap.value)}, the stepper did not`,
        };
      if (next >= 0) state = next;
    }
  }
  return { transitions, disagreement: null };
}
