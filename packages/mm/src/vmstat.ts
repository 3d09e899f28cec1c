// vmstat: a run's counters under the names /proc/vmstat gives them, for the ones the model has: the zone's and
// reclaim's (@faultline/reclaim's reclaimVmstat: pgalloc_<zone>, pgfree, allocstall, pgscan, pgsteal, kswapd's,
// oom_kill) and pgfault, the faults of mm's report. Here, above both modules, where both reports are known.
// Counters it does not model are left out, not printed as 0.
import type { RunResult } from '@faultline/engine';
import { RECLAIM_VMSTAT_NAMES, reclaimVmstat } from '@faultline/reclaim';
import { MM, type MmReport } from './module.js';

export const VMSTAT_NAMES = [...RECLAIM_VMSTAT_NAMES.slice(0, -1), 'pgfault', 'oom_kill'] as const;
export type VmstatName = (typeof VMSTAT_NAMES)[number];

// The report is read from the result directly (reportOf's one line), not through reportOf: a value imported from
// @faultline/engine would make every worker that loads this module evaluate the engine's run face (its run
// options' schema, the driver, the pool), about 25 ms of every run's start (BENCHMARKS.md, "A run's fixed cost").
/** The run's /proc/vmstat counters that the model has (those of the modules that were loaded). */
export function vmstatOf(r: RunResult): Partial<Record<VmstatName, number>> {
  const out: Partial<Record<VmstatName, number>> = reclaimVmstat(r);
  const mm = r.modules[MM.module] as MmReport | undefined;
  if (mm) out.pgfault = mm.tasks.reduce((s, t) => s + t.faults, 0);
  return out;
}
