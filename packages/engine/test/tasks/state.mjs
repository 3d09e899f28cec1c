// A kernel module whose per-CPU state tasks reach with ctx.kernel(handle): each CPU's state counts the calls made
// on it and remembers the CPU; the report lists every CPU's count. And a task that asks for a module not loaded.
import { defineKernelModule, moduleState } from '../../dist/module-sdk.js';

export const TALLY = moduleState('tally');

export default defineKernelModule({
  name: 'tally',
  setup() {
    const states = [];
    return {
      attachCpu(cpu) {
        const state = { cpu: cpu.cpu, calls: 0, seenFromTimer: false };
        states.push(state);
        // Another module's path on this CPU reaches it the same way: KernelCpu.kernel.
        cpu.timer(1_000, () => {
          state.seenFromTimer = cpu.kernel(TALLY) === state;
        });
        return { state };
      },
      report: () => states.map((s) => ({ cpu: s.cpu, calls: s.calls, seenFromTimer: s.seenFromTimer })),
    };
  },
});

/** Calls its CPU's state `rounds` times; fails if the state is another CPU's. */
export function* caller(ctx) {
  const { rounds = 10 } = ctx.args;
  for (let i = 0; i < rounds; i++) {
    const s = ctx.kernel(TALLY);
    if (s.cpu !== ctx.cpu) throw new Error(`state of cpu ${s.cpu} on cpu ${ctx.cpu}`);
    s.calls++;
    yield ctx.compute(1_000);
  }
}

/** Asks for a module the run did not load. */
export function* stranger(ctx) {
  yield ctx.compute(100);
  ctx.kernel(moduleState('nowhere'));
}
