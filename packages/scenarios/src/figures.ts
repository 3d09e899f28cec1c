// figures: reading a finished run the way the discussion argues - who waited, who failed, who reclaimed, who took
// pages below min, how fast the storm faulted - from the reports of the reclaim and mm modules.
import { reportOf, type RunResult } from '@faultline/engine';
import { MM, type MmCounter, type MmTaskReport } from '@faultline/mm';
import { RCU } from '@faultline/rcu';
import { mergeEncoded, RECLAIM, type ReclaimReport } from '@faultline/reclaim';

export interface TaskGroup {
  readonly label: string;
  readonly match: (name: string) => boolean;
}

/** The reclaim module's report (the scenarios that ask for it load the module). */
export function reclaimOf(r: RunResult): ReclaimReport {
  return reportOf(r, RECLAIM)!;
}

/** OOM kills as events: a process (every task sharing its address space) killed at once counts once. */
export function oomKillEvents(rec: ReclaimReport): number {
  return new Set(rec.oomKills.map((k) => k.atNs)).size;
}

/** How many tasks outside a group the OOM killer ended: a storm's harm to others, at its worst. */
export function oomKilledOutside(rec: ReclaimReport, g: TaskGroup): number {
  return rec.oomKills.filter((k) => !g.match(k.name)).length;
}

export function mmTasks(r: RunResult): MmTaskReport[] {
  return reportOf(r, MM)!.tasks;
}

export function taskIds(r: RunResult, g: TaskGroup): number[] {
  return r.config.tasks.filter((t) => g.match(t.name)).map((t) => t.id);
}

/** Allocation latency of a group of tasks under one mask, their histograms merged. */
export function groupLatency(r: RunResult, g: TaskGroup, mask: string) {
  const hist = reclaimOf(r).latencyHistograms ?? {};
  const parts = taskIds(r, g)
    .map((id) => hist[String(id)]?.[mask])
    .filter((x): x is string => typeof x === 'string');
  return mergeEncoded(parts);
}

/** Allocation latency of a group of tasks over every mask they used, their histograms merged. */
export function mergeGroupLatency(r: RunResult, g: TaskGroup) {
  const hist = reclaimOf(r).latencyHistograms ?? {};
  const parts = taskIds(r, g).flatMap((id) =>
    Object.values(hist[String(id)] ?? {}).filter((x): x is string => typeof x === 'string'),
  );
  return mergeEncoded(parts);
}

/** Pages a group of tasks reclaimed in direct reclaim (they paid), and failures of their allocations. */
export function groupReclaim(
  r: RunResult,
  g: TaskGroup,
): { pagesReclaimed: number; directPasses: number; stallNs: number; allocFailures: number } {
  const ids = new Set(taskIds(r, g));
  const rows = reclaimOf(r).tasks.filter((t) => ids.has(t.task));
  return {
    pagesReclaimed: rows.reduce((s, t) => s + t.pagesReclaimed, 0),
    directPasses: rows.reduce((s, t) => s + t.directPasses, 0),
    stallNs: rows.reduce((s, t) => s + t.stallNs, 0),
    allocFailures: rows.reduce((s, t) => s + t.allocFailures, 0),
  };
}

/** Time a group's tasks spent in memory stalls, as PSI counts them (direct and memcg reclaim, memory.high throttling). */
export function groupMemstallNs(r: RunResult, g: TaskGroup): number {
  return r.tasks.filter((t) => g.match(t.name)).reduce((s, t) => s + t.memstallNs, 0);
}

/** A group's waits for lock `lock` (a contended acquisition each) and the time they waited, summed over its tasks. */
export function groupLockWaits(r: RunResult, g: TaskGroup, lock: string): { contended: number; waitNs: number } {
  let contended = 0;
  let waitNs = 0;
  for (const t of r.tasks) {
    if (!g.match(t.name)) continue;
    contended += t.locks[lock]?.contended ?? 0;
    waitNs += t.locks[lock]?.waitNs ?? 0;
  }
  return { contended, waitNs };
}

/** Pages a group took at or below the min watermark (who benefited from reserves and others' reclaim). */
export function groupBelowMin(r: RunResult, g: TaskGroup): number {
  return taskIds(r, g).reduce((s, id) => s + (r.owners[id]?.pagesGrantedBelowMin ?? 0), 0);
}

export function groupFaults(
  r: RunResult,
  g: TaskGroup,
): { faults: number; faultNs: number; aborted: number; fellBack: number; speculative: number; tablePages: number } {
  const rows = mmTasks(r).filter((t) => g.match(t.name));
  const sum = (k: MmCounter) => rows.reduce((s, t) => s + t[k], 0);
  return {
    faults: sum('faults'),
    faultNs: sum('faultNs'),
    aborted: sum('speculativeAborted'),
    fellBack: sum('fellBack'),
    speculative: sum('speculativeDone'),
    tablePages: sum('tablePages'),
  };
}

/** The machine's side of a run: time the zone spent below min and between min and low, pages granted out of the
 * reserves below min (callers with reserve access: GFP_ATOMIC, __GFP_HIGH, OOM victims) and with no watermarks at
 * all (PF_MEMALLOC, __GFP_MEMALLOC), grace-period durations and the largest RCU callback backlog on one CPU. */
export function systemFigures(r: RunResult): Record<string, number> {
  const band = reclaimOf(r).timeline?.timeInBandNs;
  const rcu = reportOf(r, RCU);
  return {
    'time below min (ms)': (band?.belowMin ?? NaN) / 1e6,
    'time min..low (ms)': (band?.minToLow ?? NaN) / 1e6,
    'reserve pages (below min)': r.owners.reduce((s, o) => s + (o.pagesGrantedBelowMin ?? 0), 0),
    'no-watermark pages': r.owners.reduce((s, o) => s + (o.grantsEmergency ?? 0), 0),
    'PSI memory some (ms)': r.psi.memory.some.totalUs / 1e3,
    'PSI memory full (ms)': r.psi.memory.full.totalUs / 1e3,
    'grace period p50 (ms)': (rcu?.gpDurationNs.p50 ?? NaN) / 1e6,
    'grace period max (ms)': (rcu?.gpDurationNs.max ?? NaN) / 1e6,
    'RCU callback backlog max': rcu?.backlogMax ?? NaN,
  };
}
