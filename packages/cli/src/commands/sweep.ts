// sweep: `faultline sweep <scenario|file> --grid path=a,b,... --policies ... --seeds K --out DIR`: every point of the
// grid (the cartesian product of the --grid axes) under every policy and seed, on a local pool of threads (piscina,
// one simulation each, as compare runs them). Each run's result is stored in DIR/runs/<key>.json, the key a hash of
// the resolved scenario, the seed and the model's version (specKey, modelVersion), so a sweep that stops - killed,
// or a run that failed - starts again where it was, and a result is never recomputed. Then one tidy table, a row
// per run (DIR/sweep.csv and sweep.json, snake_case columns with units), a table per figure with each point's mean
// and interval per policy and the difference from the baseline (Welch), and DIR/sweep.html, each figure plotted
// against each swept parameter with 95% bands.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError } from 'commander';
import { stringify } from 'csv-stringify/sync';
import { renderSweepReport, type SweepSeries } from '@faultline/report';
import { checkPolicy, parseSet, resolveScenario, specKey, type ScenarioSpec } from '@faultline/scenarios';
import { formatDifference, formatInterval, interval, seedsWarning, welch } from '../confidence.js';
import { modelVersion } from '../model-version.js';
import { humanStream } from '../options.js';
import { runOnPool } from '../pool.js';
import { watchProgress } from '../progress.js';
import { onInterrupt } from '../supervise.js';
import { scenarioFields, setsFrom, type ScenarioCliOptions } from '../scenario-fields.js';
import { textTable } from '../text-table.js';
import type { CompareJob } from './compare-worker.js';
import { runQueued } from './sweep-queue.js';

export const SWEEP_SCHEMA = 'faultline.sweep/1';
export const SWEEP_RUN_SCHEMA = 'faultline.sweep-run/1';

export interface SweepOptions extends ScenarioCliOptions {
  readonly grid?: string[];
  readonly policies?: string;
  readonly baseline?: string;
  readonly seeds: number;
  readonly seed: string;
  readonly out?: string;
  readonly threads?: number;
  readonly figures?: string;
  readonly watchdog?: string;
  /** `k/n`: run only the k-th of n shares of the sweep's runs (k from 1). */
  readonly shard?: string;
  /** Folders of shards (or of other sweeps) whose stored runs complete this one; nothing is computed. */
  readonly merge?: string[];
  /** redis://host:port/name: run on a job queue (BullMQ), taken by `faultline worker`s anywhere. */
  readonly queue?: string;
}

/** `--shard k/n`, k from 1 to n. */
export function parseShard(s: string): { k: number; n: number } {
  const m = /^(\d+)\/(\d+)$/.exec(s.trim());
  const k = Number(m?.[1]);
  const n = Number(m?.[2]);
  if (!m || n < 1 || k < 1 || k > n) {
    throw new InvalidArgumentError(`--shard ${s}: must be k/n with 1 <= k <= n, e.g. 2/8 (the second of eight shares)`);
  }
  return { k, n };
}

/** Short names a grid may use for a field. */
const ALIASES: Record<string, string> = {
  memory: 'machine.memoryMiB',
  layout: 'machine.layout',
  thp: 'machine.thp',
  'scan-ns-per-page': 'reclaim.scanNsPerPage',
  scanNsPerPage: 'reclaim.scanNsPerPage',
};

/** A swept field: its path in the description, its column in the table, its values. */
export interface Axis {
  readonly path: string;
  readonly column: string;
  readonly values: readonly string[];
}

/** A name as a tidy column: snake_case, units kept ('victim alloc p99 (us)' -> victim_alloc_p99_us). */
export function columnName(label: string): string {
  return label
    .replace(/machine\.memoryMiB/, 'memory_mib')
    .replace(/^(machine|params|reclaim)\./, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/\/s\b/g, ' per s')
    .replace(/%/g, 'pct')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_|_$/g, '');
}

export function parseGrid(specs: readonly string[]): Axis[] {
  const axes = specs.map((g) => {
    const eq = g.indexOf('=');
    const values = g
      .slice(eq + 1)
      .split(',')
      .map((v) => v.trim())
      .filter((v) => v !== '');
    if (eq <= 0 || values.length === 0) {
      throw new InvalidArgumentError(
        `--grid ${g}: must be field=value,value,... (e.g. cpus=2,4,8 or memory=256,1024 or params.stormThreadsPerCpu=1,2,4)`,
      );
    }
    const name = g.slice(0, eq).trim();
    const path = ALIASES[name] ?? name;
    if (path === 'policy') throw new InvalidArgumentError('--grid policy=...: policies are swept with --policies');
    if (new Set(values).size !== values.length) throw new InvalidArgumentError(`--grid ${g}: a value is repeated`);
    return { path, column: columnName(path), values };
  });
  const paths = axes.map((a) => a.path);
  const twice = paths.find((p, i) => paths.indexOf(p) !== i);
  if (twice) throw new InvalidArgumentError(`--grid: ${twice} is swept twice; give its values once, comma-separated`);
  return axes;
}

/** Every point of the grid: one value per axis, the last axis varying fastest. */
export function gridPoints(axes: readonly Axis[]): Array<Record<string, string>> {
  return axes.reduce<Array<Record<string, string>>>(
    (pts, a) => pts.flatMap((p) => a.values.map((v) => ({ ...p, [a.path]: v }))),
    [{}],
  );
}

interface StoredRun {
  readonly schema: typeof SWEEP_RUN_SCHEMA;
  readonly key: string;
  readonly version: string;
  readonly point: Record<string, string>;
  readonly policy: string;
  readonly seed: string;
  readonly spec: ScenarioSpec;
  readonly figures: Record<string, number>;
  readonly digest: string;
  readonly error: string | null;
  readonly hostMs: number;
}

function readStored(file: string, key: string): StoredRun | null {
  if (!existsSync(file)) return null;
  try {
    const r = JSON.parse(readFileSync(file, 'utf8')) as StoredRun;
    return r.schema === SWEEP_RUN_SCHEMA && r.key === key ? r : null;
  } catch {
    return null; // a damaged file: computed again
  }
}

/** Write then rename, so that a sweep killed mid-write leaves no half file to be taken for a result. */
function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

export interface Sweep {
  readonly axes: readonly Axis[];
  readonly policies: readonly string[];
  readonly baseline: string;
  readonly seeds: readonly string[];
  readonly runs: readonly StoredRun[];
  readonly computed: number;
  readonly reused: number;
  /** With --merge: runs no folder had (nothing is computed in a merge). */
  readonly missing: number;
  /** Ctrl-C ended it: runs has what was stored. */
  readonly interrupted: boolean;
  /** Runs whose pool thread failed (not stored: they are tried again next time). */
  readonly crashed: ReadonlyArray<{ point: Record<string, string>; policy: string; seed: string; error: string }>;
}

export async function sweepCommand(ref: string, o: SweepOptions): Promise<Sweep> {
  if (!o.out)
    throw new InvalidArgumentError(
      '--out DIR: give the folder for the results (a sweep started again with the same folder resumes)',
    );
  const say = humanStream({});
  const axes = parseGrid(o.grid ?? []);
  const policies = (o.policies ?? 'classic,spf-nowait,spf-nowait-literal,spf-fallback')
    .split(',')
    .map((p) => checkPolicy(p.trim()));
  const baseline = o.baseline ?? policies[0]!;
  if (!policies.includes(baseline))
    throw new InvalidArgumentError(`--baseline ${baseline}: not among the policies swept (${policies.join(', ')})`);
  const seeds = Array.from({ length: o.seeds }, (_, i) => `${o.seed}-${i + 1}`);
  const version = modelVersion();
  // Every point resolved before anything runs: a bad value is named with its point.
  const points = gridPoints(axes).map((point) => {
    const sets = [...(o.set ?? []), ...Object.entries(point).map(([k, v]) => `${k}=${v}`)];
    const spec = resolveScenario(ref, { fields: scenarioFields(o), sets });
    return { point, spec };
  });
  const runsDir = join(o.out, 'runs');
  mkdirSync(runsDir, { recursive: true });
  if (o.shard && o.merge)
    throw new InvalidArgumentError('--shard and --merge: give one (a shard runs its share; a merge runs nothing)');
  if (o.queue && (o.shard || o.merge || o.threads !== undefined)) {
    throw new InvalidArgumentError(
      '--queue with --shard, --merge or --threads: the queue shares the runs out itself, and its workers set their own --concurrency',
    );
  }
  const share = o.shard ? parseShard(o.shard) : null;
  const every = points.flatMap(({ point, spec }) =>
    policies.flatMap((policy) =>
      seeds.map((seed) => {
        const s = { ...spec, policy };
        const key = specKey(s, seed, version);
        return { point, policy, seed, spec: s, key, file: join(runsDir, `${key}.json`) };
      }),
    ),
  );
  // A shard's share: every n-th run of the sweep's fixed order, from the k-th; any machine computes the same split.
  const all = share ? every.filter((_, i) => i % share.n === share.k - 1) : every;
  let merged = 0;
  for (const from of o.merge ?? []) merged += mergeRuns(from, runsDir, new Set(all.map((j) => j.key)));
  const stored = new Map(all.map((j) => [j.key, readStored(j.file, j.key)]));
  const missing = o.merge ? all.filter((j) => stored.get(j.key) === null) : [];
  const todo = o.merge ? [] : all.filter((j) => stored.get(j.key) === null);
  const threads = Math.max(1, Math.min(o.threads ?? os.availableParallelism(), todo.length));
  const spec0 = points[0]!.spec;
  say.write(
    `faultline sweep ${spec0.scenario}: ${points.length} points x ${policies.length} policies x ${seeds.length} seeds = ` +
      `${all.length} runs; ${all.length - todo.length} already in ${runsDir}, ${todo.length} to run, ${o.queue ? 'on the queue' : `${threads} at a time`}\n`,
  );
  say.write(
    `grid: ${axes.map((a) => `${a.path}=${a.values.join(',')}`).join('  ') || '(none: one point)'}   model ${version}\n`,
  );
  if (share) say.write(`shard ${share.k} of ${share.n}: ${all.length} of the sweep's ${every.length} runs\n`);
  if (o.merge) {
    say.write(`merged ${merged} runs from ${o.merge.join(', ')}; ${missing.length} of ${all.length} still missing\n`);
    for (const m of missing.slice(0, 20)) say.write(`  missing: ${pointText(m.point)} ${m.policy} seed ${m.seed}\n`);
  }
  const crashed: Array<{ point: Record<string, string>; policy: string; seed: string; error: string }> = [];
  let interrupted = false;
  const store = (
    j: (typeof todo)[number],
    r: { figures: Record<string, number>; digest: string; error: string | null; hostMs: number },
  ) => {
    const run: StoredRun = {
      schema: SWEEP_RUN_SCHEMA,
      key: j.key,
      version,
      point: j.point,
      policy: j.policy,
      seed: j.seed,
      spec: j.spec,
      figures: r.figures,
      digest: r.digest,
      error: r.error,
      hostMs: r.hostMs,
    };
    writeAtomic(j.file, JSON.stringify(run, null, 2));
    stored.set(j.key, run);
  };
  if (todo.length > 0 && o.queue) {
    // On the queue: the same runs, taken by `faultline worker`s; each result stored here as it comes back.
    const byKey = new Map(todo.map((j) => [j.key, j]));
    let [done, running] = [0, 0];
    const began = performance.now();
    // The rest at the pace so far (host time; the progress line only).
    const eta = () =>
      done === 0 ? '?' : `${Math.round((((performance.now() - began) / done) * (todo.length - done)) / 1000)} s`;
    const stop = watchProgress('sweeping on the queue', {
      fraction: () => done / todo.length,
      label: () =>
        `${done - crashed.length} done, ${crashed.length} failed, ${running} running, ` +
        `${todo.length - done - running} waiting, ETA ${eta()}`,
    });
    const quiet = onInterrupt(
      () => void (interrupted = true),
      process.stderr,
      'the runs stay queued; the same command collects them',
    );
    try {
      const where = await runQueued(
        todo.map((j) => ({ key: j.key, data: { spec: j.spec, seed: j.seed, version, point: j.point } })),
        version,
        o.queue,
        {
          done: (key, r) => {
            const j = byKey.get(key)!;
            if (r.refused)
              crashed.push({
                point: j.point,
                policy: j.policy,
                seed: j.seed,
                error: `refused by a worker: ${r.refused}`,
              });
            else
              store(j, {
                figures: r.figures ?? {},
                digest: r.digest ?? '',
                error: r.error ?? null,
                hostMs: r.hostMs ?? 0,
              });
          },
          failed: (key, why) => {
            const j = byKey.get(key)!;
            crashed.push({ point: j.point, policy: j.policy, seed: j.seed, error: `failed on the queue: ${why}` });
          },
          stopped: () => interrupted,
          progress: (d, r) => void ([done, running] = [d, r]),
        },
      );
      say.write(`queue: ${where}\n`);
    } finally {
      quiet();
      stop();
    }
  } else if (todo.length > 0) {
    const jobs: CompareJob[] = todo.map((j) => ({
      spec: j.spec,
      seed: j.seed,
      workers: 1,
      report: false,
      ...(o.watchdog !== undefined ? { watchdog: o.watchdog } : {}),
    }));
    const fail = (i: number, error: string) => {
      const j = todo[i]!;
      crashed.push({ point: j.point, policy: j.policy, seed: j.seed, error });
    };
    // Each result is stored as it comes, so that a sweep stopped by any means keeps what finished.
    const r = await runOnPool(
      jobs,
      threads,
      'sweeping',
      'no new run starts; finished runs are stored and the same command resumes',
      (i, out) => {
        // A worker that died or hung may be the host's doing (memory, a slow machine): not a result to keep.
        if (out.endReason === 'aborted') fail(i, out.error ?? 'aborted');
        else store(todo[i]!, out);
      },
    );
    interrupted = r.interrupted;
    r.settled.forEach((x, i) => {
      if (x.status === 'rejected' && !interrupted)
        fail(i, x.reason instanceof Error ? x.reason.message : String(x.reason));
    });
  }
  const runs = all.map((j) => stored.get(j.key)).filter((r): r is StoredRun => r !== null && r !== undefined);
  const computed = runs.length - (all.length - todo.length);
  const sweep: Sweep = {
    axes,
    policies,
    baseline,
    seeds,
    runs,
    computed,
    reused: all.length - todo.length,
    crashed,
    interrupted,
    missing: missing.length,
  };
  if (interrupted) say.write(`interrupted: ${runs.length} of ${all.length} runs stored; the same command resumes\n`);
  writeOutputs(o.out, spec0, sweep, version, commandLine(spec0, axes, o));
  say.write(summaryText(sweep, o.figures));
  const warning = seedsWarning(seeds.length);
  if (warning) say.write(`note: ${warning}\n`);
  for (const r of runs.filter((x) => x.error))
    say.write(`run ${pointText(r.point)} ${r.policy} seed ${r.seed} ended on an error: ${r.error}\n`);
  for (const c of crashed)
    say.write(
      `run ${pointText(c.point)} ${c.policy} seed ${c.seed} failed (not stored; run the sweep again): ${c.error}\n`,
    );
  say.write(
    `results: ${join(o.out, 'sweep.csv')}, ${join(o.out, 'sweep.json')}, report ${join(o.out, 'sweep.html')}\n`,
  );
  return sweep;
}

/** A grid value as its field has it (a number for 1024, a string for kernel). */
const typed = (v: string): unknown => parseSet(`x=${v}`).value;
const typedPoint = (p: Record<string, string>) => Object.fromEntries(Object.entries(p).map(([k, v]) => [k, typed(v)]));

const pointText = (p: Record<string, string>) =>
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

function summaryText(s: Sweep, figures?: string): string {
  const pts = gridPoints(s.axes);
  const out: string[] = [];
  for (const label of chosenLabels(s.runs, figures)) {
    const rows = pts.map((p) => [
      ...s.axes.map((a) => p[a.path]!),
      ...s.policies.map((policy) => {
        const xs = samplesAt(s, p, policy, label);
        if (xs.length === 0) return '-';
        const d = policy === s.baseline ? '' : formatDifference(welch(samplesAt(s, p, s.baseline, label), xs));
        return `${formatInterval(interval(xs))}${d ? ` (${d})` : ''}`;
      }),
    ]);
    out.push(`${label} (mean ± 95% CI; +x%: from ${s.baseline}, * p < 0.05, ** p < 0.01 by Welch's t-test)`);
    out.push(textTable([...s.axes.map((a) => a.path), ...s.policies], rows), '');
  }
  return `${out.join('\n')}\n`;
}

function writeOutputs(dir: string, spec: ScenarioSpec, s: Sweep, version: string, command: string): void {
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

/** The sweep again, without the user's file: the scenario's name, a --set for each field that differs from its
 * built-in file (the swept ones and the policy aside), the grid, the policies and the seeds. */
function commandLine(spec: ScenarioSpec, axes: readonly Axis[], o: SweepOptions): string {
  const sets = setsFrom(spec, ['policy', ...axes.map((a) => a.path)]).map((x) => `--set ${x}`);
  return [
    'faultline sweep',
    spec.scenario,
    ...sets,
    ...axes.map((a) => `--grid ${a.path}=${a.values.join(',')}`),
    o.policies ? `--policies ${o.policies}` : '',
    o.baseline ? `--baseline ${o.baseline}` : '',
    `--seeds ${o.seeds}`,
    `--seed ${o.seed}`,
    `--out ${o.out}`,
  ]
    .filter((x) => x)
    .join(' ');
}

/** Copy into `runsDir` the stored runs of another folder that belong to this sweep (their key is one of `keys` and
 * their content says so); returns how many were new here. */
function mergeRuns(from: string, runsDir: string, keys: ReadonlySet<string>): number {
  const dir = join(from, 'runs');
  if (!existsSync(dir))
    throw new InvalidArgumentError(`--merge ${from}: no runs/ folder there (is it a sweep's --out?)`);
  let n = 0;
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.json'))) {
    const key = f.slice(0, -'.json'.length);
    if (!keys.has(key) || existsSync(join(runsDir, f))) continue;
    const r = readStored(join(dir, f), key);
    if (r === null) continue; // damaged, or not a run of this sweep
    writeAtomic(join(runsDir, f), JSON.stringify(r, null, 2));
    n++;
  }
  return n;
}
