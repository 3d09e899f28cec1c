// sweep-output: what a sweep writes and prints from its stored runs - the tidy table (sweep.csv, sweep.json: a row
// per run, snake_case columns with units, and a summary per point, policy and figure), a table per figure with the
// difference from the baseline, and the HTML report of each figure against each swept field.
import { join } from 'node:path';
import { InvalidArgumentError } from 'commander';
import { stringify } from 'csv-stringify/sync';
import { renderSweepReport, type SweepSeries } from '@faultline/report';
import { parseSet, type ScenarioSpec } from '@faultline/scenarios';
import { comparisonCell, interval, welch } from '../confidence.js';
import { textTable } from '../text-table.js';
import type { Sweep } from './sweep.js';
import { columnName, gridPoints } from './sweep-grid.js';
import { type StoredRun, writeAtomic } from './sweep-store.js';

export const SWEEP_SCHEMA = 'faultline.sweep/1';

/** A grid value as its field has it (a number for 1024, a string for kernel). */
const typed = (v: string): unknown => parseSet(`x=${v}`).value;
const typedPoint = (p: Record<string, string>) => Object.fromEntries(Object.entries(p).map(([k, v]) => [k, typed(v)]));

export const pointText = (p: Record<string, string>) =>
  Object.entries(p)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ') || '(the point)';

/** The figure labels in the order the runs give them. */
const labelsOf = (runs: readonly StoredRun[]) => [...new Set(runs.flatMap((r) => Object.keys(r.figures)))];

function chosenLabels(runs: readonly StoredRun[], figures?: string): string[] {
  const labels = labelsOf(runs);
  if (!figures) return labels;
  const wanted = figures.split(',').map((f) => f.trim());
  for (const w of wanted) {
    if (!labels.includes(w) && !labels.some((l) => columnName(l) === w)) {
      throw new InvalidArgumentError(
        `--figures: '${w}' is not a figure of this scenario; allowed: ${labels.map(columnName).join(', ')}`,
      );
    }
  }
  return labels.filter((l) => wanted.includes(l) || wanted.includes(columnName(l)));
}

function samplesAt(s: Sweep, point: Record<string, string>, policy: string, label: string): number[] {
  const key = JSON.stringify(point);
  return s.runs
    .filter((r) => r.policy === policy && JSON.stringify(r.point) === key && label in r.figures)
    .map((r) => r.figures[label]!);
}

export function summaryText(s: Sweep, figures?: string): string {
  const pts = gridPoints(s.axes);
  const out: string[] = [];
  for (const label of chosenLabels(s.runs, figures)) {
    const rows = pts.map((p) => [
      ...s.axes.map((a) => p[a.path]!),
      ...s.policies.map((policy) =>
        comparisonCell(
          policy === s.baseline ? null : samplesAt(s, p, s.baseline, label),
          samplesAt(s, p, policy, label),
        ),
      ),
    ]);
    out.push(`${label} (mean ± 95% CI; +x%: from ${s.baseline}, * p < 0.05, ** p < 0.01 by Welch's t-test)`);
    out.push(textTable([...s.axes.map((a) => a.path), ...s.policies], rows), '');
  }
  return `${out.join('\n')}\n`;
}

export function writeOutputs(dir: string, spec: ScenarioSpec, s: Sweep, version: string, command: string): void {
  const labels = labelsOf(s.runs);
  const rows = s.runs.map((r) => ({
    scenario: r.spec.scenario,
    policy: r.policy,
    seed: r.seed,
    ...Object.fromEntries(s.axes.map((a) => [a.column, typed(r.point[a.path]!)])),
    ...Object.fromEntries(labels.map((l) => [columnName(l), r.figures[l] ?? null])),
    digest: r.digest,
    error: r.error,
    host_ms: r.hostMs,
    key: r.key,
  }));
  const columns = [
    'scenario',
    'policy',
    'seed',
    ...s.axes.map((a) => a.column),
    ...labels.map(columnName),
    'digest',
    'error',
    'host_ms',
    'key',
  ];
  writeAtomic(join(dir, 'sweep.csv'), stringify(rows, { header: true, columns, cast: { number: (x) => String(x) } }));
  const summary = gridPoints(s.axes).flatMap((point) =>
    s.policies.flatMap((policy) =>
      labels.map((label) => {
        const xs = samplesAt(s, point, policy, label);
        const i = interval(xs);
        const d = policy === s.baseline ? null : welch(samplesAt(s, point, s.baseline, label), xs);
        const nan = (x: number) => (Number.isNaN(x) ? null : x);
        return {
          point: typedPoint(point),
          policy,
          figure: columnName(label),
          label,
          mean: nan(i.mean),
          half: nan(i.half),
          n: i.n,
          ...(d ? { vs_baseline_pct: nan(d.pct), vs_baseline_p: nan(d.p) } : {}),
        };
      }),
    ),
  );
  const { policies, baseline, seeds } = s;
  const json = {
    schema: SWEEP_SCHEMA,
    version,
    scenario: spec.scenario,
    command,
    base: spec,
    grid: s.axes,
    policies,
    baseline,
    seeds,
    columns,
    rows,
    summary,
  };
  writeAtomic(join(dir, 'sweep.json'), JSON.stringify(json, null, 2));
  const series: SweepSeries[] =
    s.axes.length === 0
      ? []
      : labels.flatMap((label) =>
          s.axes.map((axis) => ({
            figure: label,
            axis: axis.path,
            x: [...axis.values],
            lines: gridPoints(s.axes.filter((a) => a !== axis)).flatMap((rest) =>
              s.policies.map((policy) => ({
                label: [policy, ...Object.entries(rest).map(([k, v]) => `${k}=${v}`)].join(', '),
                policy,
                points: axis.values.map((v) => {
                  const i = interval(
                    samplesAt(
                      s,
                      { ...Object.fromEntries(s.axes.map((a) => [a.path, a === axis ? v : rest[a.path]!])) },
                      policy,
                      label,
                    ),
                  );
                  return { mean: Number.isNaN(i.mean) ? null : i.mean, half: Number.isNaN(i.half) ? null : i.half };
                }),
              })),
            ),
          })),
        );
  writeAtomic(
    join(dir, 'sweep.html'),
    renderSweepReport({
      title: `faultline sweep ${spec.scenario}`,
      command,
      baseline,
      seeds: seeds.length,
      series,
    }),
  );
}
