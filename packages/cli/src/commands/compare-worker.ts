// compare-worker: one run of a comparison or a sweep, in a piscina worker thread: a whole simulation (which starts
// its own engine workers) of a resolved scenario and a seed, returning the scenario's figures, the digest and, when
// a report is wanted, what it shows. The thread keeps its engine workers warm from run to run (EnginePool).
import { EnginePool, runSimulation } from '@faultline/engine';
import { reportRun, type ReportRun } from '@faultline/report';
import { customOf, getScenario, specOptions, type Scenario, type ScenarioSpec } from '@faultline/scenarios';
import type { RunResult } from '@faultline/engine';

export interface CompareJob {
  readonly spec: ScenarioSpec;
  readonly seed: string;
  readonly workers: number;
  readonly report: boolean;
  /** The run's watchdog (host supervision, not part of the result). */
  readonly watchdog?: string;
}

export interface CompareOutcome {
  readonly job: CompareJob;
  readonly figures: Record<string, number>;
  readonly digest: string;
  readonly error: string | null;
  /** How the run ended (aborted: a worker died or the watchdog ended it). */
  readonly endReason: string | null;
  readonly hostMs: number;
  readonly report: ReportRun | null;
}

/** This pool thread's engine workers, reused by each run it is given: the thread's own resource, as its heap is;
 * piscina's thread teardown ends them with it. */
const engines = new EnginePool();

export default async function run(job: CompareJob): Promise<CompareOutcome> {
  const s = getScenario(job.spec.scenario);
  const built = s.build(specOptions(job.spec, { seed: job.seed, workers: job.workers }));
  const options = { ...built, ...(job.watchdog !== undefined ? { watchdog: job.watchdog } : {}) };
  const r = await runSimulation(options, { pool: engines });
  const figures = figuresOf(s, r, job.spec);
  const report = job.report ? reportRun(r, job.spec.policy, figures) : null;
  return {
    job,
    figures,
    digest: r.digest,
    error: r.error?.message ?? null,
    endReason: r.endReason,
    hostMs: r.host.wallMs,
    report,
  };
}

/** A run's figures: none when it died before its modules reported (a custom scenario's come from the tasks too). */
export function figuresOf(s: Scenario, r: RunResult, spec: ScenarioSpec): Record<string, number> {
  if (spec.scenario === 'custom') return s.figures(r, spec.params, customOf(spec));
  return r.modules.reclaim || r.modules.mm ? s.figures(r, spec.params) : {};
}
