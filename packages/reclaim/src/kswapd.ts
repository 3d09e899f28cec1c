// kswapd: the node's reclaim thread as an XState machine (kernel-facts §6; mm/vmscan.c). It sleeps until the
// allocator wakes it (below low), reclaims 32 pages a pass until free memory is at or above high, and sleeps again;
// after 16 passes in a row that free nothing it gives up until woken again. Run one per node as a task:
// `{ module: kswapdTaskPath, export: 'kswapd', cpus: [0] }`.
import { compileMachine, machineGuards, parkOp, runMachine, type MachineGuard, type MachineStep, type TaskContext, type TaskOp } from '@faultline/engine';
import { setup } from 'xstate';
import { N_KSWAPD_GIVEUPS, N_KSWAPD_WAKES } from './layout.js';
import type { ReclaimCpu } from './reclaim-cpu.js';
import { MAX_RECLAIM_RETRIES, SWAP_CLUSTER_MAX, reclaimPassOf } from './slow-path.js';

export interface KswapdRun {
  readonly ctx: TaskContext;
  readonly rc: ReclaimCpu;
  /** Passes in a row that freed nothing since it woke. */
  failures: number;
}

export const kswapdMachine = setup({
  types: { context: {} as KswapdRun, input: {} as KswapdRun, events: {} as { type: string } },
  guards: { givingUp: ({ context }) => context.failures >= MAX_RECLAIM_RETRIES },
}).createMachine({
  id: 'kswapd', initial: 'sleeping', context: ({ input }) => input,
  states: {
    sleeping: { meta: { step: 'sleep' }, on: { woken: 'balanced' } },
    balanced: { meta: { step: 'checkBalanced' }, on: { yes: 'sleeping', no: 'reclaiming' } },
    reclaiming: { meta: { step: 'reclaimPass' }, on: { done: [{ guard: 'givingUp', target: 'givingUp' }, { target: 'balanced' }] } },
    givingUp: { meta: { step: 'giveUp' }, on: { done: 'sleeping' } },
  },
});

export function kswapdSteps(scanNsPerPage: () => number): Record<string, MachineStep<KswapdRun>> {
  return {
    *sleep(k) {
      k.rc.kswapdSleeps();
      yield parkOp('kswapd: sleeping until woken below the low watermark');
      k.rc.mem[N_KSWAPD_WAKES]!++;
      k.failures = 0;
      return 'woken';
    },
    *checkBalanced(k) {
      return k.rc.zone.freePages() >= k.rc.zone.watermarks.highPages ? 'yes' : 'no';
    },
    *reclaimPass(k) {
      const got = yield* reclaimPassOf(k.ctx, k.rc, scanNsPerPage(), SWAP_CLUSTER_MAX, true);
      k.failures = got > 0 ? 0 : k.failures + 1;
      return 'done';
    },
    *giveUp(k) {
      k.rc.mem[N_KSWAPD_GIVEUPS]!++;
      return 'done';
    },
  };
}

/** The machine's guards, as the stepper calls them. */
export const KSWAPD_GUARDS: Readonly<Record<string, MachineGuard<KswapdRun>>> = machineGuards(kswapdMachine);

const compiled = compileMachine(kswapdMachine);

/** The kswapd task: its machine, for ever. */
export function* runKswapd(ctx: TaskContext, rc: ReclaimCpu, scanNsPerPage: () => number): Generator<TaskOp, void, number> {
  rc.kswapdTask = ctx.id;
  yield* runMachine(compiled, kswapdSteps(scanNsPerPage), KSWAPD_GUARDS, { ctx, rc, failures: 0 }, Infinity);
}
