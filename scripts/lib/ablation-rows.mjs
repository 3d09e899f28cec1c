// ablation-rows: the kernel dynamics the model has, each as a row that turns one of them back to the engine's earlier
// behaviour (or, for the last two, turns on one the flagship leaves off): a name, what it changes in a scenario's
// built run options, and the scenario params it sets. scripts/dynamics-ablation.mjs measures what each row does to the
// flagship's figures, scripts/bench-fidelity.mjs what each costs on the host.
import { mmModulePath } from '../../packages/mm/dist/index.js';

const withMm = (o, args) => ({
  ...o,
  modules: o.modules.map((m) => (m.module === mmModulePath ? { ...m, args: { ...m.args, ...args } } : m)),
});

/** [name, patch of the built run options, scenario params]; the first row is the model as it is. */
export const ABLATION_ROWS = [
  ['all mechanisms (the model now)', (o) => o],
  ['no optimistic spinning (waiters sleep at once)', (o) => ({ ...o, costs: { ...o.costs, lockSpinMaxNs: 0 } })],
  ['woken lock waiter handed the lock at the release (lockWake grant)', (o) => ({ ...o, lockWake: 'grant' })],
  ['munmap holds mmap_lock for write through its zap', (o) => withMm(o, { munmapDowngrade: false })],
  ['HZ=1000 (1 ms jiffy)', (o) => ({ ...o, hz: 1000 })],
  ['tables through RCU on every policy (paravirt)', (o) => ({ ...o, platform: 'paravirt' })],
  ['storm threads in step (stormPhase false)', (o) => o, { stormPhase: false }],
  ['CFS instead of EEVDF', (o) => ({ ...o, scheduler: 'cfs' })],
  ['full preemption (inside the kernel too)', (o) => ({ ...o, preempt: 'full' })],
  // Not an ablation: a mechanism the flagship leaves off (its threads are bound, as the oracle's are), turned on.
  ['threads unpinned (threadsPinned false: wake placement)', (o) => o, { threadsPinned: false }],
  ['threads unpinned, window 1 us', (o) => ({ ...o, window: '1us' }), { threadsPinned: false }],
];
