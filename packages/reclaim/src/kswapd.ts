// kswapd: the node's reclaim thread as an XState machine (kernel-facts §6; mm/vmscan.c kswapd, balance_pgdat,
// kswapd_try_to_sleep, prepare_kswapd_sleep). It sleeps until the allocator wakes it (below low). Awake, it runs balance_pgdat: passes
// of 32 pages from priority 12 down, one priority a pass (the model's passes never scan their whole target, so the
// kernel would raise the priority each time), until the node is balanced - some zone's free pages above its high
// watermark plus its lowmem reserve (pgdat_balanced, zone_watermark_ok_safe's strict test) - or the 12 priorities
// are spent. A run that reclaimed
// nothing counts as a failure of the node (pgdat->kswapd_failures; any reclaim progress, direct reclaim's too,
// resets it, in the commit). Then kswapd_try_to_sleep: a hopeless node (16 failures) sends it to sleep; a balanced
// one to a nap of HZ/10 (100 ms) that the allocator's wake-up cuts short (kswapd_low_wmark_hit_quickly), after which
// it sleeps until woken if the node is still balanced; an unbalanced node, when it tries to sleep or when the nap
// ends, sends it back to balance_pgdat (kswapd_high_wmark_hit_quickly).
// During a run every zone is ZONE_RECLAIM_ACTIVE, which caps every per-CPU list at four batches (zone.ts).
// While the node is hopeless, wakeup_kswapd leaves kswapd asleep (reclaim-cpu.ts).
// Run one per node as a task: `{ module: kswapdTaskPath, export: 'kswapd', cpus: [0] }`.
import {
  compileMachine,
  machineGuards,
  parkOp,
  runMachine,
  type MachineGuard,
  type MachineStep,
  type TaskContext,
  type TaskOp,
} from '@faultline/engine';
import { setup } from 'xstate';
import {
  K_KSWAPD_RUN,
  K_KSWAPD_RUN_BEGIN,
  N_BALANCE_CALLS,
  N_KSWAPD_GIVEUPS,
  N_KSWAPD_HIGH_WMARK_QUICKLY,
  N_KSWAPD_LOW_WMARK_QUICKLY,
  N_KSWAPD_WAKES,
} from './layout.js';
import type { ReclaimCpu } from './reclaim-cpu.js';
import { MAX_RECLAIM_RETRIES, SWAP_CLUSTER_MAX, ask, reclaimPassOf } from './slow-path.js';

/** DEF_PRIORITY: a balance_pgdat run goes from priority 12 to 1. */
export const KSWAPD_PRIORITIES = 12;
/** kswapd_try_to_sleep's nap: schedule_timeout(HZ/10). */
export const KSWAPD_NAP_NS = 100_000_000;

export interface KswapdRun {
  readonly ctx: TaskContext;
  readonly rc: ReclaimCpu;
  /** The node's kswapd_failures, as the last run's answer gave it. */
  failures: number;
  /** This balance_pgdat run: passes made and pages reclaimed. */
  passes: number;
  reclaimed: number;
}

export const kswapdMachine = setup({
  types: { context: {} as KswapdRun, input: {} as KswapdRun, events: {} as { type: string } },
  guards: {
    hopeless: ({ context }) => context.failures >= MAX_RECLAIM_RETRIES,
    prioritiesSpent: ({ context }) => context.passes >= KSWAPD_PRIORITIES,
  },
}).createMachine({
  id: 'kswapd',
  initial: 'sleeping',
  context: ({ input }) => input,
  states: {
    sleeping: { meta: { step: 'sleep' }, on: { woken: 'balanced' } },
    // balance_pgdat's first test: a node already balanced goes straight to kswapd_try_to_sleep.
    balanced: { meta: { step: 'balanceStart' }, on: { yes: 'trySleep', no: 'reclaiming' } },
    reclaiming: { meta: { step: 'reclaimPass' }, on: { done: 'runBalanced' } },
    runBalanced: {
      meta: { step: 'checkBalanced' },
      on: { yes: 'runEnd', no: [{ guard: 'prioritiesSpent', target: 'runEnd' }, { target: 'reclaiming' }] },
    },
    runEnd: {
      meta: { step: 'endRun' },
      on: { done: [{ guard: 'hopeless', target: 'givingUp' }, { target: 'trySleep' }] },
    },
    givingUp: { meta: { step: 'giveUp' }, on: { done: 'sleeping' } },
    // kswapd_try_to_sleep: nap if prepare_kswapd_sleep says the node is balanced, else balance again at once.
    trySleep: { meta: { step: 'prepareSleep' }, on: { balanced: 'napping', again: 'balanced' } },
    napping: { meta: { step: 'nap' }, on: { woken: 'balanced', expired: 'afterNap' } },
    afterNap: { meta: { step: 'prepareSleep' }, on: { balanced: 'sleeping', again: 'balanced' } },
  },
});

export function kswapdSteps(scanNsPerPage: () => number): Record<string, MachineStep<KswapdRun>> {
  return {
    *sleep(k) {
      k.rc.kswapdSleeps();
      yield parkOp('kswapd: sleeping until woken below the low watermark');
      k.rc.mem[N_KSWAPD_WAKES]!++;
      k.passes = 0;
      k.reclaimed = 0;
      return 'woken';
    },
    *checkBalanced(k) {
      return k.rc.node.balanced() ? 'yes' : 'no';
    },
    *balanceStart(k) {
      // balance_pgdat: count_vm_event(PAGEOUTRUN) on every call, then pgdat_balanced.
      k.rc.mem[N_BALANCE_CALLS]!++;
      if (k.ctx.tracing) k.ctx.traceInstant('mm_vmscan_kswapd_wake', { balance_pgdat: k.rc.mem[N_BALANCE_CALLS]! });
      return k.rc.node.balanced() ? 'yes' : 'no';
    },
    *prepareSleep(k) {
      // prepare_kswapd_sleep, before the nap and after it: unbalanced means balance_pgdat again at once.
      if (k.rc.node.balanced()) return 'balanced';
      k.rc.mem[N_KSWAPD_HIGH_WMARK_QUICKLY]!++;
      return 'again';
    },
    *nap(k) {
      k.rc.kswapdNaps(KSWAPD_NAP_NS);
      const woken = yield parkOp('kswapd: napping (HZ/10) before it sleeps');
      k.passes = 0;
      k.reclaimed = 0;
      if (woken === 0) return 'expired';
      k.rc.mem[N_KSWAPD_WAKES]!++;
      k.rc.mem[N_KSWAPD_LOW_WMARK_QUICKLY]!++;
      return 'woken';
    },
    *reclaimPass(k) {
      if (k.passes === 0) k.rc.request(k.ctx.id, K_KSWAPD_RUN_BEGIN, 0, 0);
      if (k.ctx.tracing) k.ctx.traceBegin('shrink_node', { nr_to_reclaim: SWAP_CLUSTER_MAX });
      const got = yield* reclaimPassOf(k.ctx, k.rc, scanNsPerPage(), SWAP_CLUSTER_MAX, true);
      if (k.ctx.tracing) k.ctx.traceEnd({ nr_reclaimed: got });
      k.reclaimed += got;
      k.passes++;
      return 'done';
    },
    *endRun(k) {
      k.failures = yield* ask(k.rc, k.ctx.id, K_KSWAPD_RUN, k.reclaimed, 0, 'kswapd: the end of a balance_pgdat run');
      k.passes = 0;
      k.reclaimed = 0;
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
export function* runKswapd(
  ctx: TaskContext,
  rc: ReclaimCpu,
  scanNsPerPage: () => number,
): Generator<TaskOp, void, number> {
  rc.kswapdTask = ctx.id;
  yield* runMachine(
    compiled,
    kswapdSteps(scanNsPerPage),
    KSWAPD_GUARDS,
    { ctx, rc, failures: 0, passes: 0, reclaimed: 0 },
    Infinity,
  );
}
