// data: what a report shows of a run, read from a finished RunResult - small, plain, JSON-safe, so that compare's
// pool threads can send it back and the page can embed it. Tasks are grouped by name without their instance and
// lane numbers ("fault-storm.3/7" and "kernel-work/2" are in "fault-storm" and "kernel-work"; each export of a task
// file is a group of its own); their latency histograms are merged, not averaged.
import { reportOf, type RunResult } from '@faultline/engine';
import { MM, vmstatOf, type MmCounter } from '@faultline/mm';
import { mergeEncoded, RECLAIM, type FreePagesTimeline } from '@faultline/reclaim';

export interface GroupRow {
  readonly group: string;
  readonly tasks: number;
  /** allocPages latency over every mask the group used, merged. */
  readonly allocs: number;
  readonly p50Us: number;
  readonly p99Us: number;
  readonly maxUs: number;
  /** Pages it reclaimed in direct reclaim (kswapd's own passes for kswapd): who paid. */
  readonly pagesReclaimed: number;
  readonly stallMs: number;
  /** Time its tasks spent in memory stalls as PSI counts them. */
  readonly memstallMs: number;
  /** Pages the zone granted it: who benefited. */
  readonly pagesTaken: number;
}

/** Faults by the path they took, over every faulting task. */
export const FAULT_PATHS = ['speculative', 'aborted', 'fell back', 'retried', 'classic'] as const;
export type FaultPath = (typeof FAULT_PATHS)[number];

export interface ReportRun {
  readonly policy: string;
  readonly seed: string;
  readonly cpus: number;
  readonly simulatedMs: number;
  readonly endReason: string;
  readonly error: string | null;
  readonly digest: string;
  readonly figures: Record<string, number>;
  readonly timeline: FreePagesTimeline | null;
  readonly groups: GroupRow[];
  readonly faultPaths: Record<FaultPath, number>;
  /** /proc/vmstat counters the model has, and /proc/pressure/memory. */
  readonly vmstat: Record<string, number>;
  readonly psi: { someMs: number; fullMs: number; someAvg10: number; fullAvg10: number };
}

/** A task's group: its name without the instance number the engine appends (/N) and a scenario's lane (.N), so
 * that "fault-storm.3/7" is in "fault-storm" and two exports of one file ("churn.fast/0", "churn.slow/1") stay
 * apart. */
const groupOf = (name: string) => name.replace(/\/\d+$/, '').replace(/\.\d+$/, '');

export function reportRun(r: RunResult, policy: string, figures: Record<string, number>): ReportRun {
  const reclaim = reportOf(r, RECLAIM);
  const mm = reportOf(r, MM);
  const names = [...new Set(r.config.tasks.map((t) => groupOf(t.name)))];
  const groups = names.map((group): GroupRow => {
    const ids = r.config.tasks.filter((t) => groupOf(t.name) === group).map((t) => t.id);
    const hist = reclaim?.latencyHistograms ?? {};
    const lat = mergeEncoded(ids.flatMap((id) => Object.values(hist[String(id)] ?? {})));
    const rows = (reclaim?.tasks ?? []).filter((t) => ids.includes(t.task));
    const kswapd = group === 'kswapd' ? (reclaim?.kswapd.pagesReclaimed ?? 0) : 0;
    return {
      group,
      tasks: ids.length,
      allocs: lat.count,
      p50Us: lat.p50Ns / 1e3,
      p99Us: lat.p99Ns / 1e3,
      maxUs: lat.maxNs / 1e3,
      pagesReclaimed: kswapd + rows.reduce((s, t) => s + t.pagesReclaimed, 0),
      stallMs: rows.reduce((s, t) => s + t.stallNs, 0) / 1e6,
      memstallMs: r.tasks.filter((t) => ids.includes(t.id)).reduce((s, t) => s + t.memstallNs, 0) / 1e6,
      pagesTaken: ids.reduce((s, id) => s + (r.owners[id]?.pagesGranted ?? 0), 0),
    };
  });
  const sum = (k: MmCounter) => (mm?.tasks ?? []).reduce((s, t) => s + t[k], 0);
  return {
    policy,
    seed: r.config.seed,
    cpus: r.config.cpus,
    simulatedMs: r.simulatedNs / 1e6,
    endReason: r.endReason ?? 'paused',
    error: r.error?.message ?? null,
    digest: r.digest,
    figures,
    timeline: reclaim?.timeline ?? null,
    groups,
    vmstat: vmstatOf(r) as Record<string, number>,
    psi: {
      someMs: r.psi.memory.some.totalUs / 1e3,
      fullMs: r.psi.memory.full.totalUs / 1e3,
      someAvg10: r.psi.memory.some.avg10,
      fullAvg10: r.psi.memory.full.avg10,
    },
    faultPaths: {
      speculative: sum('speculativeDone'),
      aborted: sum('speculativeAborted'),
      'fell back': sum('fellBack'),
      retried: sum('retried'),
      // classic counts every fault that ran the classic path, fallbacks included.
      classic: sum('classic') - sum('fellBack'),
    },
  };
}
