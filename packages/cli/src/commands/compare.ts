// compare: `faultline compare <scenario|file> --policies a,b --seeds K`: every (policy, seed) run in parallel with
// piscina, one simulation per pool thread, then a side-by-side table of each figure's mean and 95% confidence
// interval over the seeds. Seeds are `<seed>-1 .. <seed>-K`, printed, so any run can be replayed alone.
import os from 'node:os';
import { InvalidArgumentError } from 'commander';
import { renderReport } from '@faultline/report';
import {
  getScenario,
  hzPlatformText,
  policiesOf,
  resolveScenario,
  specMachineKernel,
  specTopologyLines,
  tableFreeingText,
  type MachineKernel,
  type ScenarioSpec,
} from '@faultline/scenarios';
import { runOnPool } from '../pool.js';
import { comparisonCell, headlines, interval, seedsWarning, verdicts, welch } from '../confidence.js';
import { humanStream, JSON_SCHEMAS, writeOutput } from '../options.js';
import { policyList, replayArgs, scenarioFields, type ScenarioCliOptions } from '../scenario-fields.js';
import { textTable } from '../text-table.js';
import type { CompareJob, CompareOutcome } from './compare-worker.js';

export interface CompareOptions extends ScenarioCliOptions {
  readonly policies?: string;
  readonly seeds: number;
  readonly seed: string;
  /** The policy the others are compared with (default: the first). */
  readonly baseline?: string;
  readonly threads?: number;
  readonly watchdog?: string;
  readonly json?: string;
  readonly html?: string;
}

/** One figure's samples (one per seed) under one policy. */
const samples = (outcomes: readonly CompareOutcome[], policy: string, label: string) =>
  outcomes.filter((x) => x.job.spec.policy === policy && label in x.figures).map((x) => x.figures[label]!);
const orNull = (x: number) => (Number.isNaN(x) ? null : x);

/** compare's JSON: per policy and figure the mean, the 95% half-width and the number of seeds (what the table
 * prints, unrounded) and, but for the baseline, the difference from it (percent, Welch's p), then every run's
 * figures, digest and error. */
export function comparisonJson(c: Comparison): string {
  const summary = Object.fromEntries(
    c.policies.map((p) => {
      const mine = c.outcomes.filter((x) => x.job.spec.policy === p);
      const labels = [...new Set(mine.flatMap((x) => Object.keys(x.figures)))];
      return [
        p,
        Object.fromEntries(
          labels.map((label) => {
            const xs = samples(c.outcomes, p, label);
            const i = interval(xs);
            const d = p === c.baseline ? null : welch(samples(c.outcomes, c.baseline, label), xs);
            const vs = d ? { vsBaseline: { pct: orNull(d.pct), p: orNull(d.p) } } : {};
            return [label, { mean: i.mean, half: orNull(i.half), n: i.n, ...vs }];
          }),
        ),
      ];
    }),
  );
  const runs = c.outcomes.map(({ report: _, ...x }) => x);
  const { scenario, spec, policies, baseline, seeds } = c;
  return JSON.stringify(
    { schema: JSON_SCHEMAS.compare, scenario, spec, policies, baseline, seeds, summary, runs },
    null,
    2,
  );
}

export interface Comparison {
  readonly scenario: string;
  /** The resolved scenario, policy aside (each run's is in its job). */
  readonly spec: ScenarioSpec;
  readonly policies: string[];
  readonly baseline: string;
  readonly seeds: string[];
  readonly outcomes: CompareOutcome[];
  readonly table: string;
  /** Ctrl-C ended it: outcomes has the runs that finished. */
  readonly interrupted: boolean;
}

/** The machine's kernel configuration: one line when every policy frees page tables alike, else a line per way
 * of freeing with the policies that get it (mm frees them through RCU for a policy walking them under RCU). */
export function kernelLines(kernels: ReadonlyArray<{ policy: string; kernel: MachineKernel }>): string {
  const head = `machine kernel: ${hzPlatformText(kernels[0]!.kernel)}`;
  const ways = new Map<string, string[]>();
  for (const { policy, kernel } of kernels) {
    const text = tableFreeingText(kernel.tableFreeing);
    ways.set(text, [...(ways.get(text) ?? []), policy]);
  }
  if (ways.size === 1) return `${head}  ${[...ways.keys()][0]!}`;
  return [head, ...[...ways].map(([text, ps]) => `  ${ps.join(', ')}: ${text}`)].join('\n');
}

export async function compareCommand(ref: string, o: CompareOptions): Promise<Comparison> {
  // With --json - (or --html -) the file is standard output, and what a person reads goes to standard error.
  const say = humanStream(o);
  const spec = resolveScenario(ref, { fields: scenarioFields(o), sets: o.set ?? [] });
  const name = spec.scenario;
  // A scenario with policies of its own (kernel-storm's modes) compares those, and takes no others.
  const scenario = getScenario(name);
  // A custom scenario that loads no mm runs one policy: never a fan-out of identical runs.
  const policies = policyList(spec, scenario, o.policies, policiesOf(scenario));
  const baseline = o.baseline ?? policies[0]!;
  if (!policies.includes(baseline))
    throw new InvalidArgumentError(`--baseline ${baseline}: not among the policies compared (${policies.join(', ')})`);
  // Each policy's machine, before anything runs: one mm refuses (tableFreeing native under an RCU walker) is named.
  const kernels = policies.map((policy) => ({ policy, kernel: specMachineKernel({ ...spec, policy }) }));
  const seeds = Array.from({ length: o.seeds }, (_, i) => `${o.seed}-${i + 1}`);
  const jobs: CompareJob[] = policies.flatMap((policy) =>
    seeds.map((seed) => ({
      spec: { ...spec, policy },
      seed,
      workers: 1,
      report: o.html !== undefined,
      ...(o.watchdog !== undefined ? { watchdog: o.watchdog } : {}),
    })),
  );
  const threads = Math.max(1, Math.min(o.threads ?? os.availableParallelism(), jobs.length));
  say.write(
    `faultline compare ${name}: ${policies.length} policies x ${seeds.length} seeds (${seeds.join(', ')}), ${threads} runs at a time\n`,
  );
  const m = spec.machine;
  say.write(
    `cpus=${spec.cpus}  duration=${spec.duration}  window=${spec.window}  memory=${m.memoryMiB} MiB  ` +
      `layout=${m.layout}${m.thp ? `  thp=${m.thp}` : ''}  kernel=${spec.kernel}  scan-ns-per-page=${spec.reclaim.scanNsPerPage}\n`,
  );
  say.write(`${kernelLines(kernels)}\n`);
  for (const l of specTopologyLines(spec)) say.write(`${l}\n`);
  say.write(
    `params: ${Object.entries(spec.params)
      .map(([k, v]) => `${k}=${String(v)}`)
      .join('  ')}\n`,
  );
  const { settled, interrupted } = await runOnPool(
    jobs,
    threads,
    'comparing',
    'no new run starts; the table is of the runs done',
  );
  const lost = settled.find((x): x is PromiseRejectedResult => x.status === 'rejected');
  if (lost && !interrupted) throw lost.reason;
  const outcomes = settled.flatMap((x) => (x.status === 'fulfilled' ? [x.value] : []));
  if (interrupted) say.write(`interrupted: ${outcomes.length} of ${jobs.length} runs done\n`);
  const failed = outcomes.filter((x) => x.error);
  const labels = Object.keys(outcomes.find((x) => Object.keys(x.figures).length > 0)?.figures ?? {});
  const rows = labels.map((label) => [
    label,
    ...policies.map((p) =>
      comparisonCell(p === baseline ? null : samples(outcomes, baseline, label), samples(outcomes, p, label)),
    ),
  ]);
  const head = ['figure (mean ± 95% CI)', ...policies.map((p) => (p === baseline ? `${p} (baseline)` : p))];
  const table = textTable(head, rows);
  say.write(`${table}\n`);
  say.write(`(+x%: the difference from ${baseline}; * Welch's t-test p < 0.05, ** p < 0.01)\n`);
  // The scenario's telling figures (who paid, who gained) when it names them, else every figure.
  const telling = scenario.headline?.filter((l) => labels.includes(l)) ?? labels;
  const headline = headlines(telling, policies, baseline, (p, label) => samples(outcomes, p, label), 3);
  for (const h of headline) say.write(`headline: ${h}\n`);
  const verdict = verdicts(telling, policies, baseline, (p, label) => samples(outcomes, p, label), 3);
  for (const v of verdict) say.write(`verdict: ${v}\n`);
  const warning = seedsWarning(seeds.length);
  if (warning) say.write(`note: ${warning}\n`);
  for (const f of failed) say.write(`run ${f.job.spec.policy} seed ${f.job.seed} ended on an error: ${f.error}\n`);
  if (o.html) {
    writeOutput(
      o.html,
      renderReport({
        title: `faultline compare ${name}`,
        command: `faultline compare ${replayArgs(spec, ['policy'])} --policies ${policies.join(',')} --seeds ${seeds.length} --seed ${o.seed}`,
        table: { head, rows },
        headline,
        verdict,
        runs: outcomes.map((x) => x.report).filter((x): x is NonNullable<typeof x> => x !== null),
      }),
    );
    if (o.html !== '-') say.write(`report: ${o.html}\n`);
  }
  return { scenario: name, spec, policies, baseline, seeds, outcomes, table, interrupted };
}
