// gp-machine: the grace-period kthread as an XState machine (kernel/rcu/tree.c rcu_gp_kthread). It runs on worker 0
// and is stepped once per window by the module's commit with a COMMIT event, so its transitions depend only on what
// the CPUs published - never on host timing. (A COMMIT no guard lets through is not sent: it would change nothing.) Its phase is published as rcu_state.gp_state in shared memory.
//   idle (WAIT_GPS) -> init (INIT: snapshot the CPUs that must report) -> waitFqs (WAIT_FQS)
//   waitFqs -> doingFqs (DOING_FQS: every fqsIntervalNs, idle CPUs count as quiescent) -> waitFqs
//   -> cleanup (CLEANUP: the GP completes, callbacks become ready) -> cleaned (CLEANED) -> init or idle
import { createActor, setup } from 'xstate';
import {
  RCU_GP_CLEANED,
  RCU_GP_CLEANUP,
  RCU_GP_DOING_FQS,
  RCU_GP_INIT,
  RCU_GP_WAIT_FQS,
  RCU_GP_WAIT_GPS,
} from './layout.js';

/** What the machine does to the shared state; implemented by the module's commit. */
export interface GpOps {
  /** Simulated time of the commit being stepped. */
  nowNs: number;
  /** Some CPU's callbacks need a GP that has not started. */
  needGp(): boolean;
  startGp(): void;
  allReported(): boolean;
  fqsDue(): boolean;
  fqsScan(): void;
  completeGp(): void;
  publish(state: number): void;
}

export interface GpMachineInput {
  readonly ops: GpOps;
}

export const gpMachine = setup({
  types: { input: {} as GpMachineInput, context: {} as GpMachineInput, events: {} as { type: 'COMMIT' } },
  actions: {
    publish: ({ context }, state: number) => context.ops.publish(state),
    startGp: ({ context }) => context.ops.startGp(),
    fqsScan: ({ context }) => context.ops.fqsScan(),
    completeGp: ({ context }) => context.ops.completeGp(),
  },
  guards: {
    needGp: ({ context }) => context.ops.needGp(),
    allReported: ({ context }) => context.ops.allReported(),
    fqsDue: ({ context }) => context.ops.fqsDue(),
  },
}).createMachine({
  id: 'rcu_gp_kthread',
  context: ({ input }) => input,
  initial: 'idle',
  states: {
    idle: {
      entry: { type: 'publish', params: RCU_GP_WAIT_GPS },
      on: { COMMIT: { guard: 'needGp', target: 'init' } },
    },
    init: {
      entry: [{ type: 'publish', params: RCU_GP_INIT }, 'startGp'],
      always: 'waitFqs',
    },
    waitFqs: {
      entry: { type: 'publish', params: RCU_GP_WAIT_FQS },
      on: {
        COMMIT: [
          { guard: 'allReported', target: 'cleanup' },
          { guard: 'fqsDue', target: 'doingFqs' },
        ],
      },
    },
    doingFqs: {
      entry: [{ type: 'publish', params: RCU_GP_DOING_FQS }, 'fqsScan'],
      always: [{ guard: 'allReported', target: 'cleanup' }, { target: 'waitFqs' }],
    },
    cleanup: {
      entry: [{ type: 'publish', params: RCU_GP_CLEANUP }, 'completeGp'],
      always: 'cleaned',
    },
    cleaned: {
      entry: { type: 'publish', params: RCU_GP_CLEANED },
      always: [{ guard: 'needGp', target: 'init' }, { target: 'idle' }],
    },
  },
});

/** Start the machine; step it with `step(nowNs)` once per commit. */
export function startGpMachine(ops: GpOps): { step(nowNs: number): void; phase(): string } {
  const actor = createActor(gpMachine, { input: { ops } });
  let error: unknown = null;
  actor.subscribe({
    error: (e) => {
      error = e;
    },
  });
  actor.start();
  return {
    step(nowNs: number) {
      ops.nowNs = nowNs;
      // A COMMIT that every guard of the state refuses changes nothing in XState (no transition, no action), and
      // sending it costs microseconds a window: ask the same (pure) guards first, in the machine's order.
      const at = actor.getSnapshot().value;
      if (at === 'idle' ? !ops.needGp() : at === 'waitFqs' && !ops.allReported() && !ops.fqsDue()) return;
      actor.send({ type: 'COMMIT' });
      if (error !== null) throw error;
    },
    phase: () => String(actor.getSnapshot().value),
  };
}
