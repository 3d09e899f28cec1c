// compare-worker: one run of a comparison, in a piscina worker thread: a whole simulation (which starts its own
// engine workers), returning the scenario's figures, the digest and, when a report is wanted, what it shows.
import { runSimulation } from '@faultline/engine';
import { reportRun, type ReportRun } from '@faultline/report';
import { getScenario, type ScenarioOptions } from '@faultline/scenarios';

export interface CompareJob {
  readonly scenario: string;
  readonly policy: string;
  readonly seed: string;
  readonly cpus: number;
  readonly workers: number;
  readonly duration: string;
  readonly window?: string;
  /** memoryMiB, memoryLayout, thp, vm: as ScenarioOptions has them. */
  readonly machine: Partial<ScenarioOptions>;
  readonly kernel?: 'v5.18' | 'v6.3+';
  readonly scanNsPerPage?: number;
  readonly report: boolean;
}

export interface CompareOutcome {
  readonly job: CompareJob;
  readonly figures: Record<string, number>;
  readonly digest: string;
  readonly error: string | null;
  readonly hostMs: number;
  readonly report: ReportRun | null;
}

export default async function run(job: CompareJob): Promise<CompareOutcome> {
  const s = getScenario(job.scenario);
  const r = await runSimulation(s.build({
    policy: job.policy, cpus: job.cpus, workers: job.workers, seed: job.seed, duration: job.duration,
    ...(job.window ? { window: job.window } : {}), ...job.machine, ...(job.kernel ? { kernel: job.kernel } : {}),
    ...(job.scanNsPerPage !== undefined ? { scanNsPerPage: job.scanNsPerPage } : {}),
  }));
  const figures = r.modules.reclaim || r.modules.mm ? s.figures(r) : {};
  return { job, figures, digest: r.digest, error: r.error?.message ?? null, hostMs: r.host.wallMs, report: job.report ? reportRun(r, job.policy, figures) : null };
}
