// vmstat: a run's counters under the names /proc/vmstat gives them (include/linux/vm_event_item.h, mm/vmstat.c),
// for the ones the model has, so that a run can be set beside `cat /proc/vmstat` of a real machine. pgalloc_<zone>
// counts the pages each zone granted (0 for a zone the machine lacks, as the kernel prints it). The model has no
// zone modifiers, so every allocation's class is ZONE_NORMAL and direct reclaim entries count as allocstall_normal
// (the kernel counts user pages' stalls, GFP_HIGHUSER_MOVABLE, as allocstall_movable: compare the sums). These are
// the zone's and reclaim's; @faultline/mm's vmstatOf adds pgfault from its own report. Counters it does not model
// are left out, not printed as 0.
import type { RunResult } from '@faultline/engine';
import { RECLAIM } from './api.js';
import type { ReclaimReport } from './report.js';

export const RECLAIM_VMSTAT_NAMES = [
  'pgalloc_dma',
  'pgalloc_dma32',
  'pgalloc_normal',
  'pgfree',
  'allocstall_normal',
  'pgscan_kswapd',
  'pgscan_direct',
  'pgsteal_kswapd',
  'pgsteal_direct',
  'pgscan_direct_throttle',
  'pageoutrun',
  'kswapd_low_wmark_hit_quickly',
  'kswapd_high_wmark_hit_quickly',
  'oom_kill',
] as const;
export type ReclaimVmstatName = (typeof RECLAIM_VMSTAT_NAMES)[number];

// The report is read from the result directly (reportOf's one line), not through reportOf: a value imported from
// @faultline/engine would make every worker that loads this module evaluate the engine's run face (its run
// options' schema, the driver, the pool), about 25 ms of every run's start (BENCHMARKS.md, "A run's fixed cost").
/** The run's /proc/vmstat counters that the zone and the reclaim module (when loaded) keep. */
export function reclaimVmstat(r: RunResult): Partial<Record<ReclaimVmstatName, number>> {
  const granted = (type: string) => r.zones.filter((z) => z.name === type).reduce((s, z) => s + z.pagesGranted, 0);
  const out: Partial<Record<ReclaimVmstatName, number>> = {
    pgalloc_dma: granted('DMA'),
    pgalloc_dma32: granted('DMA32'),
    pgalloc_normal: granted('Normal'),
    pgfree: r.owners.reduce((s, o) => s + (o.pagesFreed ?? 0), 0),
  };
  const rec = r.modules[RECLAIM.module] as ReclaimReport | undefined;
  if (rec) {
    out.allocstall_normal = rec.tasks.reduce((s, t) => s + t.directPasses, 0);
    out.pgscan_kswapd = rec.kswapd.scanned;
    out.pgscan_direct = rec.scanned - rec.kswapd.scanned;
    out.pgsteal_kswapd = rec.kswapd.pagesReclaimed;
    out.pgsteal_direct = rec.directReclaimed;
    // PGSCAN_DIRECT_THROTTLE: once per throttle_direct_reclaim that put its caller on pfmemalloc_wait.
    out.pgscan_direct_throttle = rec.tasks.reduce((s, t) => s + t.pfmemallocThrottled, 0);
    out.pageoutrun = rec.kswapd.balanceCalls;
    out.kswapd_low_wmark_hit_quickly = rec.kswapd.lowWmarkHitQuickly;
    out.kswapd_high_wmark_hit_quickly = rec.kswapd.highWmarkHitQuickly;
    out.oom_kill = rec.oomKills.length;
  }
  return out;
}
