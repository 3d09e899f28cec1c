// PSI for the engine's tests: a module that hands tasks their CPU's psi_memstall_enter/leave, and tasks that stall.
import { defineKernelModule } from '../../dist/module-sdk.js';

const cpus = new Map(); // this worker's CPUs

export default defineKernelModule({
  name: 'psi-test',
  setup() {
    return {
      attachCpu(cpu) {
        cpus.set(cpu.cpu, cpu);
        return {};
      },
    };
  },
});

/** Computes args.beforeNs, then stalls on memory for args.stallNs (computing, as direct reclaim does), then idles. */
export function* stalled(ctx) {
  yield ctx.compute(ctx.args.beforeNs ?? 0);
  cpus.get(ctx.cpu).memstall(ctx.id, true);
  yield ctx.compute(ctx.args.stallNs);
  cpus.get(ctx.cpu).memstall(ctx.id, false);
  yield ctx.sleep(1e12);
}

/** Always runnable. */
export function* busy(ctx) {
  for (;;) yield ctx.compute(1_000);
}
