// result: what a run returns - the RunResult shape, and its assembly on the main thread from the workers' reports
// (CPUs, tasks and hashes in CPU order, the modules' merged reports, the node's counters, PSI, the digest, and the
// host's figures: phases per worker, the critical path).
import type { LockCommitStats } from './lock-commit.js';
import type { AccountRow, MemoryNode, ZoneCounts } from '@faultline/zone';
import type { RunConfig } from './config.js';
import { runDigest } from './digest.js';
import type { HostLoad } from './host-load.js';
import type { KernelModule } from './hooks.js';
import { psiMemory, type PsiMemory } from './psi.js';
import type { CpuStats } from './stats.js';
import type { TaskStats } from './task.js';
import type { CpuTrace } from './trace-log.js';
import type { EndReason } from './window-loop.js';
import type { WorkerReport } from './worker.js';
import type { ZoneLockStats } from './zone-commit.js';

export interface RunResult {
  readonly config: RunConfig;
  /** null in the statistics of a paused run. */
  readonly endReason: EndReason | null;
  readonly simulatedNs: number;
  readonly windows: number;
  readonly cpus: CpuStats[];
  readonly tasks: TaskStats[];
  /** The memory node's totals (pages, free counts and watermarks summed over its zones). */
  readonly node: ZoneCounts;
  /** Each zone's counters, lowest first (DMA, DMA32, Normal; one Normal zone under memoryLayout 'one-zone'). */
  readonly zones: ZoneCounts[];
  /** The node's accounting per owner: index = task id; the last row is the kernel's own (page cache at start, ...). */
  readonly owners: AccountRow[];
  /** zone->lock's holds and waits; where the run charges lines, the holds that took its line from another CPU and
   * what those transfers cost (in heldNs). */
  readonly zoneLock: ZoneLockStats | null;
  readonly locks: LockCommitStats | null;
  /** Each kernel module's report, by name. */
  readonly modules: Record<string, unknown>;
  /** The task that failed, or the worker that died; null when the run ended normally. */
  readonly error: { message: string; task?: string; taskId?: number; cpu?: number; timeNs?: number } | null;
  /** For a deadlock: what each live task waits for. Otherwise: the tasks still waiting for a lock at the end (a
   * lock never released by a task that still runs), and who holds each such lock. */
  readonly waits: string[];
  /** CPUs whose worker died before reporting (their statistics and tasks are missing from cpus and tasks). */
  readonly lostCpus: number[];
  /** Each CPU's trace (RunOptions.trace), in CPU order; empty when the run was not traced. @faultline/trace turns
   * a result into a Perfetto trace. */
  readonly traces: CpuTrace[];
  /** What kernel modules add to the trace (the RCU module's grace periods), by module name. */
  readonly moduleTraces: Record<string, unknown>;
  /** /proc/pressure/memory for the run, as kernel/sched/psi.c computes it (psi.ts); per task, TaskStats.memstallNs. */
  readonly psi: { readonly memory: PsiMemory };
  readonly events: number;
  readonly digest: string;
  /** Host figures: wall time of the whole call, of the window loop alone (the slowest worker's), barrier waits. */
  readonly host: {
    workers: number;
    /** What the run's start saw of the host when it followed the load (RunHost.followLoad, host-load.ts): the
     * workers asked, other processes' runnable threads, the host's cores; `workers` is fewer than `asked` when the
     * others left fewer cores free. Null when it did not look: one worker asked, followLoad false (or left out with
     * an explicit count), a host that does not say (not Linux), a process confined to some of the host's CPUs. */
    load: HostLoad | null;
    wallMs: number;
    loopMs: number;
    barrierRounds: number;
    barrierMs: number;
    /** Rounds that repeated a window so that stalled CPUs could catch up, and windows that ended with one still
     * behind (its lag carried into the next window). */
    subRounds: number;
    lagCarried: number;
    /** Per worker, in worker order: host ms in the window loop, running its CPUs' windows, waiting at barriers,
     * and in its commit steps (worker 0's, and the lock replay and parallelCommit modules that the commit plan gave
     * other workers: commit-channel.ts), commitWaitMs of that waiting on another worker's step; the rest of the
     * loop is reading the round's summaries and taking messages and results. */
    phases: Array<{
      worker: number;
      loopMs: number;
      runMs: number;
      barrierMs: number;
      /** Barrier waits that outlasted the spin and slept, and the ms they waited after it (in barrierMs). */
      barrierSleeps: number;
      barrierSleptMs: number;
      commitMs: number;
      commitWaitMs: number;
    }>;
    /** Summed over rounds, the slowest worker's run phase and the most own commit work of any worker: the loop's
     * length if barriers and hand-offs were free. loopMs over their sum is what the split loses to them. */
    criticalPath: { runMs: number; commitMs: number };
  };
}

/** The run's result from what the workers reported (those that did), in worker and CPU order. */
export function assemble(
  config: RunConfig,
  kmods: readonly KernelModule[],
  node: MemoryNode,
  reports: WorkerReport[],
  died: string | null,
  wallMs: number,
  load: HostLoad | null,
  endOverride?: EndReason | null,
): RunResult {
  reports.sort((a, b) => a.worker - b.worker);
  const cpus = reports.flatMap((r) => r.cpus).sort((a, b) => a.cpu - b.cpu);
  const tasks = reports.flatMap((r) => r.tasks).sort((a, b) => a.id - b.id);
  const hashes = reports.flatMap((r) => r.hashes).sort((a, b) => a.cpu - b.cpu);
  const loop = reports[0]?.loop;
  const endReason: EndReason | null = died
    ? 'aborted'
    : endOverride !== undefined
      ? endOverride
      : (loop?.endReason ?? 'aborted');
  const failed =
    reports
      .map((r) => r.error)
      .filter((e) => e !== null)
      .sort((a, b) => a.timeNs - b.timeNs || a.cpu - b.cpu)[0] ?? null;
  const error = died ? { message: died } : failed;
  const zoneLock = reports.find((r) => r.zoneLock)?.zoneLock ?? null;
  const locks = reports.find((r) => r.locks)?.locks ?? null;
  const modules: Record<string, unknown> = {};
  if (reports[0]?.worker === 0) {
    for (const m of kmods) {
      const each = reports.map((r) => r.modules[m.name] ?? null);
      modules[m.name] = m.merge ? m.merge(each) : each[0];
    }
  }
  const counts = node.counts();
  const digestStats = {
    cpus,
    tasks,
    zone: counts.nrFree,
    zoneLock,
    locks,
    modules,
    endReason,
    simulatedNs: loop?.simulatedNs ?? 0,
  };
  return {
    config,
    endReason,
    simulatedNs: loop?.simulatedNs ?? 0,
    windows: loop?.windows ?? 0,
    cpus,
    tasks,
    node: counts,
    zones: node.zoneCounts(),
    owners: node.accountRows(),
    zoneLock,
    locks,
    modules,
    error,
    // Tasks' lines in CPU order (the workers' reports are), then the lock commit's, wherever it ran: the same list
    // for any number of workers.
    waits: [...reports.flatMap((r) => r.waits), ...reports.flatMap((r) => r.lockWaits)],
    lostCpus: Array.from({ length: config.cpus }, (_, c) => c).filter((c) => !cpus.some((x) => x.cpu === c)),
    traces: reports.flatMap((r) => r.traces).sort((a, b) => a.cpu - b.cpu),
    moduleTraces: reports.find((r) => r.worker === 0)?.moduleTraces ?? {},
    psi: {
      memory: psiMemory(
        reports
          .flatMap((r) => r.psi)
          .sort((a, b) => a.cpu - b.cpu)
          .map((p) => p.periods),
        loop?.simulatedNs ?? 0,
      ),
    },
    events: cpus.reduce((s, c) => s + c.events, 0),
    digest: runDigest(hashes, digestStats),
    host: {
      workers: config.workers,
      load,
      wallMs,
      loopMs: Math.max(0, ...reports.map((r) => r.hostMs)),
      barrierRounds: loop?.barrierRounds ?? 0,
      subRounds: loop?.subRounds ?? 0,
      lagCarried: loop?.lagCarried ?? 0,
      barrierMs: Math.max(0, ...reports.map((r) => r.loop.barrierNs / 1e6)),
      phases: [...reports]
        .sort((a, b) => a.worker - b.worker)
        .map((r) => ({
          worker: r.worker,
          loopMs: r.hostMs,
          runMs: r.loop.runNs / 1e6,
          barrierMs: r.loop.barrierNs / 1e6,
          barrierSleeps: r.barrierSleeps,
          barrierSleptMs: r.barrierSleptMs,
          commitMs: r.loop.commitNs / 1e6,
          commitWaitMs: r.loop.commitWaitNs / 1e6,
        })),
      criticalPath: { runMs: (loop?.criticalRunNs ?? 0) / 1e6, commitMs: (loop?.criticalCommitNs ?? 0) / 1e6 },
    },
  };
}
