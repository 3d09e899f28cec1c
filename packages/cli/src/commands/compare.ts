// compare: `faultline compare <scenario> --policies a,b --seeds K`: every (policy, seed) run in parallel with
// piscina, one simulation per pool thread, then a side-by-side table of each figure's mean and 95% confidence
// interval over the seeds. Seeds are `<seed>-1 .. <seed>-K`, printed, so any run can be replayed alone.
import os from 'node:os';
import { Piscina } from 'piscina';
import { WINDOW_DEFAULT } from '@faultline/engine';
import { renderReport } from '@faultline/report';
import { checkPolicy, getScenario } from '@faultline/scenarios';
import { formatInterval, interval, seedsWarning } from '../confidence.js';
import { machineFlags, machineRunOptions, type MachineCliOptions } from '../machine-options.js';
import { humanStream, JSON_SCHEMAS, writeOutput } from '../options.js';
import { watchProgress } from '../progress.js';
import { textTable } from '../text-table.js';
import type { CompareJob, CompareOutcome } from './compare-worker.js';

export interface CompareOptions extends MachineCliOptions {
  readonly policies?: string;
  readonly seeds: number;
  readonly seed: string;
  readonly cpus?: number;
  readonly duration?: string;
  readonly window?: string;
  readonly kernel?: 'v5.18' | 'v6.3+';
  readonly scanNsPerPage?: number;
  readonly threads?: number;
  readonly json?: string;
  readonly html?: string;
}

/** compare's JSON: per policy and figure the mean, the 95% half-width and the number of seeds (what the table
 * prints, unrounded), then every run's figures, digest and error. */
export function comparisonJson(c: Comparison): string {
  const summary = Object.fromEntries(c.policies.map((p) => {
    const mine = c.outcomes.filter((x) => x.job.policy === p);
    const labels = [...new Set(mine.flatMap((x) => Object.keys(x.figures)))];
    return [p, Object.fromEntries(labels.map((label) => {
      const i = interval(mine.filter((x) => label in x.figures).map((x) => x.figures[label]!));
      return [label, { mean: i.mean, half: Number.isNaN(i.half) ? null : i.half, n: i.n }];
    }))];
  }));
  const runs = c.outcomes.map(({ report: _, ...x }) => x);
  const { scenario, policies, seeds } = c;
  return JSON.stringify({ schema: JSON_SCHEMAS.compare, scenario, policies, seeds, summary, runs }, null, 2);
}

export interface Comparison {
  readonly scenario: string;
  readonly policies: string[];
  readonly seeds: string[];
  readonly outcomes: CompareOutcome[];
  readonly table: string;
}

export async function compareCommand(name: string, o: CompareOptions): Promise<Comparison> {
  const s = getScenario(name);
  // With --json - (or --html -) the file is standard output, and what a person reads goes to standard error.
  const say = humanStream(o);
  const policies = (o.policies ?? 'classic,spf-nowait,spf-nowait-literal,spf-nomemalloc-retry,spf-fallback,per-vma-lock').split(',').map((p) => checkPolicy(p.trim()));
  const seeds = Array.from({ length: o.seeds }, (_, i) => `${o.seed}-${i + 1}`);
  const jobs: CompareJob[] = policies.flatMap((policy) => seeds.map((seed) => ({
    scenario: name, policy, seed, cpus: o.cpus ?? s.defaults.cpus, workers: 1, duration: o.duration ?? s.defaults.duration, report: o.html !== undefined,
    window: o.window ?? WINDOW_DEFAULT, machine: { memoryMiB: 256, ...machineRunOptions(o) }, kernel: o.kernel ?? 'v6.3+',
    ...(o.scanNsPerPage !== undefined ? { scanNsPerPage: o.scanNsPerPage } : {}),
  })));
  const threads = Math.max(1, Math.min(o.threads ?? os.availableParallelism(), jobs.length));
  const j0 = jobs[0]!;
  say.write(`faultline compare ${name}: ${policies.length} policies x ${seeds.length} seeds (${seeds.join(', ')}), ${threads} runs at a time\n`);
  const m0 = j0.machine;
  say.write(`cpus=${j0.cpus}  duration=${j0.duration}  window=${j0.window}  memory=${m0.memoryMiB} MiB  ` +
    `layout=${m0.memoryLayout ?? 'kernel'}${m0.thp ? `  thp=${m0.thp}` : ''}  kernel=${j0.kernel}` +
    `${j0.scanNsPerPage !== undefined ? `  scan-ns-per-page=${j0.scanNsPerPage}` : ''}\n`);
  const pool = new Piscina({ filename: new URL('./compare-worker.js', import.meta.url).href, minThreads: threads, maxThreads: threads, atomics: 'disabled' });
  let done = 0;
  const stop = watchProgress('comparing', { fraction: () => done / jobs.length, label: () => `${done} of ${jobs.length} runs` });
  let outcomes: CompareOutcome[];
  try {
    outcomes = await Promise.all(jobs.map((j) => (pool.run(j) as Promise<CompareOutcome>).then((r) => { done++; return r; })));
  } finally {
    stop();
    await pool.destroy();
  }
  const failed = outcomes.filter((x) => x.error);
  const labels = Object.keys(outcomes.find((x) => Object.keys(x.figures).length > 0)?.figures ?? {});
  const rows = labels.map((label) => [label, ...policies.map((p) => {
    const xs = outcomes.filter((x) => x.job.policy === p && label in x.figures).map((x) => x.figures[label]!);
    return xs.length ? formatInterval(interval(xs)) : '-';
  })]);
  const table = textTable(['figure (mean ± 95% CI)', ...policies], rows);
  say.write(`${table}\n`);
  const warning = seedsWarning(seeds.length);
  if (warning) say.write(`note: ${warning}\n`);
  for (const f of failed) say.write(`run ${f.job.policy} seed ${f.job.seed} ended on an error: ${f.error}\n`);
  if (o.html) {
    const j = jobs[0]!;
    writeOutput(o.html, renderReport({
      title: `faultline compare ${name}`,
      command: `faultline compare ${name} --policies ${policies.join(',')} --seeds ${seeds.length} --seed ${o.seed} --cpus ${j.cpus} --duration ${j.duration} --window ${j.window} ${machineFlags({ mib: j.machine.memoryMiB!, layout: j.machine.memoryLayout ?? 'kernel', thp: j.machine.thp ?? null }, o)} --kernel ${j.kernel}${j.scanNsPerPage !== undefined ? ` --scan-ns-per-page ${j.scanNsPerPage}` : ''}`,
      table: { head: ['figure (mean ± 95% CI)', ...policies], rows },
      runs: outcomes.map((x) => x.report).filter((x): x is NonNullable<typeof x> => x !== null),
    }));
    if (o.html !== '-') say.write(`report: ${o.html}\n`);
  }
  return { scenario: name, policies, seeds, outcomes, table };
}
