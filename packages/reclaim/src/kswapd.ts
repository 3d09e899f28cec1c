// kswapd: the node's reclaim thread as an XState machine (kernel-facts §6; mm/vmscan.c kswapd, balance_pgdat,
// kswapd_shrink_node, kswapd_try_to_sleep, prepare_kswapd_sleep). It sleeps until the allocator wakes it (below
// low). Awake, it runs balance_pgdat: from priority 12 (DEF_PRIORITY) down, each iteration first tests
// pgdat_balanced - some zone's free pages above its high watermark plus its lowmem reserve (zone_watermark_ok_safe's
// strict test) - and if not, calls kswapd_shrink_node, which asks for max(high_wmark_pages(zone), SWAP_CLUSTER_MAX)
// pages summed over the node's zones in one go (sc->nr_to_reclaim) and gets them from shrink_node in
// shrink_inactive_list's batches of SWAP_CLUSTER_MAX, freed as each batch ends, with no balance test between
// batches; the iteration ends when nr_to_reclaim pages are reclaimed, the list has nothing left to scan, or the
// iteration has scanned its target: get_scan_count's lru_size >> priority (the node's file LRU; the model has no
// active/inactive split), at most scanPerPage entries per page asked. So a run starts small - 12 pages at priority
// 12 on 256 MiB of page cache, doubling each time the priority drops - and stops at the first balanced test. Then
// it wakes pfmemalloc_wait's sleepers if allow_direct_reclaim holds, and lowers the priority only if the iteration
// scanned fewer pages than it asked for or reclaimed nothing (raise_priority); the run ends balanced or after
// priority 1. A run that reclaimed nothing counts as a failure of the node
// (pgdat->kswapd_failures; any reclaim progress, direct reclaim's too, resets it, in the commit). Then
// kswapd_try_to_sleep: prepare_kswapd_sleep wakes every pfmemalloc_wait sleeper; a hopeless node (16 failures)
// sends kswapd to sleep; a balanced one to a nap of HZ/10 that the allocator's wake-up cuts short
// (kswapd_low_wmark_hit_quickly), after which it sleeps until woken if the node is still balanced; an unbalanced
// node, when it tries to sleep or when the nap ends, sends it back to balance_pgdat (kswapd_high_wmark_hit_quickly).
// During a run every zone is ZONE_RECLAIM_ACTIVE, which caps every per-CPU list at four batches (pcp.ts).
// While the node is hopeless, wakeup_kswapd leaves kswapd asleep (reclaim-cpu.ts).
// Run one per node as a task: `{ module: kswapdTaskPath, export: 'kswapd', cpus: [0] }`.
import type { TaskContext, TaskOp } from '@faultline/engine';
import {
  compileMachine,
  machineGuards,
  parkOp,
  runMachine,
  type MachineGuard,
  type MachineStep,
} from '@faultline/engine/module';
import { setup } from 'xstate';
import {
  K_KSWAPD_RUN,
  K_KSWAPD_RUN_BEGIN,
  K_PFMEMALLOC_WAKE,
  N_BALANCE_CALLS,
  N_KSWAPD_ASKED,
  N_KSWAPD_BATCH_SCANNED,
  N_KSWAPD_PASSES,
  N_KSWAPD_GIVEUPS,
  N_KSWAPD_HIGH_WMARK_QUICKLY,
  N_KSWAPD_LOW_WMARK_QUICKLY,
  N_KSWAPD_WAKES,
  N_LRU_FILE,
} from './layout.js';
import type { MemoryNode } from '@faultline/zone';
import type { ReclaimCpu } from './reclaim-cpu.js';
import { MAX_RECLAIM_RETRIES, SWAP_CLUSTER_MAX, ask, reclaimPassOf } from './slow-path.js';

/** DEF_PRIORITY: a balance_pgdat run goes from priority 12 to 1. */
export const KSWAPD_PRIORITIES = 12;
/** kswapd_try_to_sleep's nap: schedule_timeout(HZ/10), in jiffies of the run's HZ. */
export const kswapdNapNs = (rc: Pick<ReclaimCpu, 'hz' | 'jiffyNs'>): number => Math.floor(rc.hz / 10) * rc.jiffyNs;

/** kswapd_shrink_node's sc->nr_to_reclaim: max(high_wmark_pages(zone), SWAP_CLUSTER_MAX) summed over the zones up
 * to the highest one the wakers asked for (every zone of the model's node: they are all at most ZONE_NORMAL). */
export function kswapdNrToReclaim(node: Pick<MemoryNode, 'zones'>): number {
  let nr = 0;
  for (const z of node.zones) nr += Math.max(z.watermarks.highPages, SWAP_CLUSTER_MAX);
  return nr;
}

export interface KswapdRun {
  readonly ctx: TaskContext;
  readonly rc: ReclaimCpu;
  /** The node's kswapd_failures, as the last run's answer gave it. */
  failures: number;
  /** This balance_pgdat run: sc.priority, kswapd_shrink_node calls made and pages reclaimed. */
  priority: number;
  passes: number;
  reclaimed: number;
}

export const kswapdMachine = setup({
  types: { context: {} as KswapdRun, input: {} as KswapdRun, events: {} as { type: string } },
  guards: {
    hopeless: ({ context }) => context.failures >= MAX_RECLAIM_RETRIES,
    prioritiesSpent: ({ context }) => context.priority < 1,
  },
}).createMachine({
  id: 'kswapd',
  initial: 'sleeping',
  context: ({ input }) => input,
  states: {
    sleeping: { meta: { step: 'sleep' }, on: { woken: 'balanced' } },
    // balance_pgdat's first test: a node already balanced goes straight to kswapd_try_to_sleep.
    balanced: { meta: { step: 'balanceStart' }, on: { yes: 'trySleep', no: 'reclaiming' } },
    reclaiming: { meta: { step: 'shrinkNode' }, on: { done: 'runBalanced' } },
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

/** A new balance_pgdat run: sc.priority = DEF_PRIORITY, nothing reclaimed yet. */
function restart(k: KswapdRun): void {
  k.priority = KSWAPD_PRIORITIES;
  k.passes = 0;
  k.reclaimed = 0;
}

export function kswapdSteps(
  scanNsPerPage: () => number,
  scanPerPage: () => number = () => 4,
): Record<string, MachineStep<KswapdRun>> {
  return {
    *sleep(k) {
      k.rc.kswapdSleeps();
      yield parkOp('kswapd: sleeping until woken below the low watermark');
      k.rc.mem[N_KSWAPD_WAKES]!++;
      restart(k);
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
      // prepare_kswapd_sleep, before the nap and after it: every pfmemalloc_wait sleeper is woken (it tests
      // allow_direct_reclaim again itself); unbalanced means balance_pgdat again at once.
      k.rc.request(k.ctx.id, K_PFMEMALLOC_WAKE, 1, 0);
      if (k.rc.node.balanced()) return 'balanced';
      k.rc.mem[N_KSWAPD_HIGH_WMARK_QUICKLY]!++;
      return 'again';
    },
    *nap(k) {
      k.rc.kswapdNaps(kswapdNapNs(k.rc));
      const woken = yield parkOp('kswapd: napping (HZ/10) before it sleeps');
      restart(k);
      if (woken === 0) return 'expired';
      k.rc.mem[N_KSWAPD_WAKES]!++;
      k.rc.mem[N_KSWAPD_LOW_WMARK_QUICKLY]!++;
      return 'woken';
    },
    *shrinkNode(k) {
      // kswapd_shrink_node: nr_to_reclaim pages in shrink_inactive_list's batches, no balance test between them.
      if (k.passes === 0) k.rc.request(k.ctx.id, K_KSWAPD_RUN_BEGIN, 0, 0);
      const m = k.rc.mem;
      const nr = kswapdNrToReclaim(k.rc.node);
      // get_scan_count: scan = lruvec_lru_size >> sc->priority (as of the last commit), within the scan budget.
      const budget = Math.min(nr * scanPerPage(), Math.floor(m[N_LRU_FILE]! / 2 ** k.priority));
      if (k.ctx.tracing) k.ctx.traceBegin('shrink_node', { nr_to_reclaim: nr, priority: k.priority });
      let got = 0;
      let scanned = 0;
      while (got < nr && scanned < budget) {
        const want = Math.min(SWAP_CLUSTER_MAX, nr - got, budget - scanned);
        got += yield* reclaimPassOf(k.ctx, k.rc, scanNsPerPage(), want, true);
        const s = m[N_KSWAPD_BATCH_SCANNED]!; // the commit's answer came with it
        scanned += s;
        if (s === 0) break; // nothing left on the list
      }
      if (k.ctx.tracing) k.ctx.traceEnd({ nr_reclaimed: got, nr_scanned: scanned });
      m[N_KSWAPD_PASSES]!++;
      m[N_KSWAPD_ASKED]! += nr;
      k.reclaimed += got;
      k.passes++;
      // balance_pgdat: wake pfmemalloc_wait's sleepers if allow_direct_reclaim now holds (the commit tests it).
      k.rc.request(k.ctx.id, K_PFMEMALLOC_WAKE, 0, 0);
      // raise_priority unless kswapd_shrink_node scanned at least nr_to_reclaim; and whenever nothing came back.
      if (scanned < nr || got === 0) k.priority--;
      return 'done';
    },
    *endRun(k) {
      k.failures = yield* ask(k.rc, k.ctx.id, K_KSWAPD_RUN, k.reclaimed, 0, 'kswapd: the end of a balance_pgdat run');
      restart(k);
      return 'done';
    },
    *giveUp(k) {
      // kswapd_try_to_sleep on a hopeless node: prepare_kswapd_sleep still wakes every pfmemalloc_wait sleeper.
      k.rc.request(k.ctx.id, K_PFMEMALLOC_WAKE, 1, 0);
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
  scanPerPage: () => number,
): Generator<TaskOp, void, number> {
  rc.kswapdTask = ctx.id;
  yield* runMachine(
    compiled,
    kswapdSteps(scanNsPerPage, scanPerPage),
    KSWAPD_GUARDS,
    { ctx, rc, failures: 0, priority: KSWAPD_PRIORITIES, passes: 0, reclaimed: 0 },
    Infinity,
  );
}
