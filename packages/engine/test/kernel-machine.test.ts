// Kernel machines: a flat XState machine compiled and stepped - its steps' operations come out in order, it ends in
// a final state and says which, and a step's event the state does not handle, or a loop without end, is an error
// that names the machine, the state and the event.
import { describe, expect, it } from 'vitest';
import { setup } from 'xstate';
import { compileMachine, runMachine, type MachineStep } from '../src/kernel-machine.js';
import type { TaskOp } from '../src/task.js';

const m = setup({ guards: { twice: ({ context }: { context: { n: number } }) => context.n >= 2 } }).createMachine({
  id: 'demo',
  initial: 'work',
  context: { n: 0 },
  states: {
    work: { on: { done: [{ guard: 'twice', target: 'finished' }, { target: 'work' }], odd: 'broken' } },
    broken: { meta: { step: 'work' }, on: { never: 'finished' } },
    finished: { type: 'final' },
  },
});

function drive(gen: Generator<TaskOp, string, number>): { ops: unknown[]; end: string } {
  const ops: unknown[] = [];
  let r = gen.next();
  while (!r.done) {
    ops.push(r.value);
    r = gen.next(0);
  }
  return { ops, end: r.value };
}

describe('kernel machines', () => {
  const c = compileMachine(m);
  const guards = { twice: (x: { n: number }) => x.n >= 2 };

  it('runs steps in order until a final state, with guards choosing between transitions', () => {
    const steps: Record<string, MachineStep<{ n: number; odd?: boolean }>> = {
      *work(x) {
        yield { op: 'compute', ns: ++x.n } as unknown as TaskOp;
        return x.odd ? 'odd' : 'done';
      },
    };
    const { ops, end } = drive(runMachine(c, steps, guards, { n: 0 }));
    expect(end).toBe('finished');
    expect(ops).toEqual([
      { op: 'compute', ns: 1 },
      { op: 'compute', ns: 2 },
    ]);
    expect(() => drive(runMachine(c, steps, guards, { n: 0, odd: true }))).toThrow(
      /kernel machine 'demo': state 'broken' has no transition for event 'odd' \(step 'work'\); it handles: never/,
    );
  });

  it('stops a machine that loops without end', () => {
    const steps = {
      *work() {
        return 'done';
      },
    } as Record<string, MachineStep<{ n: number }>>;
    expect(() => drive(runMachine(c, steps, { twice: () => false }, { n: 0 }, 100))).toThrow(
      /more than 100 transitions/,
    );
  });
});
