// sweep: `faultline sweep <scenario|file> --grid path=a,b,... --policies ... --seeds K --out DIR`: every point of the
// grid (the cartesian product of the --grid axes: sweep-grid.ts) under every policy and seed, on a local pool of
// threads (piscina, one simulation each, as compare runs them) or a job queue (sweep-queue.ts). Each run's result
// is stored in DIR/runs/<key>.json (sweep-store.ts), the key a hash of the resolved scenario, the seed and the
// model's version (specKey, modelVersion), so a sweep that stops - killed, or a run that failed - starts again
// where it was, and a result is never recomputed. Then the tidy table, a table per figure and the HTML report
// (sweep-output.ts).
import { mkdirSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError } from 'commander';
import { getScenario, resolveScenario, specKey, specMachineKernel, type ScenarioSpec } from '@faultline/scenarios';
import { seedsWarning } from '../confidence.js';
import { modelVersion } from '../model-version.js';
import { humanStream } from '../options.js';
import { runOnPool } from '../pool.js';
import { watchProgress } from '../progress.js';
import { onInterrupt } from '../supervise.js';
import { policyList, scenarioFields, setsFrom, type ScenarioCliOptions } from '../scenario-fields.js';
import type { CompareJob } from './compare-worker.js';
import { type Axis, gridPoints, parseGrid, parseShard } from './sweep-grid.js';
import { pointText, summaryText, writeOutputs } from './sweep-output.js';
import { queuedResult, runQueued } from './sweep-queue.js';
import { mergeRuns, readStored, type StoredRun, storeRun } from './sweep-store.js';

export { columnName, gridPoints, parseGrid, parseShard } from './sweep-grid.js';
export { SWEEP_SCHEMA } from './sweep-output.js';
export { SWEEP_RUN_SCHEMA } from './sweep-store.js';

/** The policies a sweep of a scenario without its own runs unless told: the discussion's four. */
export const SWEEP_POLICIES = ['classic', 'spf-nowait', 'spf-nowait-literal', 'spf-fallback'] as const;

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

/** The sweep's points, each resolved before anything runs (a bad value is named with its point), its policies
 * and baseline, and its seeds; a point's machine that mm refuses under a policy (tableFreeing native under an RCU
 * walker) is refused here too. */
function planSweep(ref: string, o: SweepOptions) {
  const axes = parseGrid(o.grid ?? []);
  const seeds = Array.from({ length: o.seeds }, (_, i) => `${o.seed}-${i + 1}`);
  const version = modelVersion();
  const points = gridPoints(axes).map((point) => {
    const sets = [...(o.set ?? []), ...Object.entries(point).map(([k, v]) => `${k}=${v}`)];
    const spec = resolveScenario(ref, { fields: scenarioFields(o), sets });
    return { point, spec };
  });
  // A scenario with policies of its own (kernel-storm's modes) sweeps those, and takes no others.
  const scenario = getScenario(points[0]!.spec.scenario);
  const policies = policyList(points[0]!.spec, scenario, o.policies, scenario.policies ?? SWEEP_POLICIES);
  const baseline = o.baseline ?? policies[0]!;
  if (!policies.includes(baseline))
    throw new InvalidArgumentError(`--baseline ${baseline}: not among the policies swept (${policies.join(', ')})`);
  for (const { point, spec } of points) {
    for (const policy of policies) {
      try {
        specMachineKernel({ ...spec, policy });
      } catch (e) {
        const at = axes.length > 0 ? `--grid point ${pointText(point)}: ` : '';
        throw new InvalidArgumentError(`${at}${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }
  return { axes, seeds, version, points, policies, baseline };
}

export async function sweepCommand(ref: string, o: SweepOptions): Promise<Sweep> {
  if (!o.out)
    throw new InvalidArgumentError(
      '--out DIR: give the folder for the results (a sweep started again with the same folder resumes)',
    );
  const say = humanStream({});
  const plan = planSweep(ref, o);
  const { axes, seeds, version, points, policies, baseline } = plan;
  const runsDir = join(o.out, 'runs');
  mkdirSync(runsDir, { recursive: true });
  if (o.shard && o.merge)
    throw new InvalidArgumentError('--shard and --merge: give one (a shard runs its share; a merge runs nothing)');
  if (o.queue && (o.shard || o.merge || o.threads !== undefined)) {
    throw new InvalidArgumentError(
      '--queue with --shard, --merge or --threads: the queue shares the runs out itself, and its workers set their own --concurrency',
    );
  }
  const jobs = sweepJobs(o, plan, runsDir);
  const { all, stored, missing, todo } = jobs;
  const threads = Math.max(1, Math.min(o.threads ?? os.availableParallelism(), todo.length));
  const spec0 = points[0]!.spec;
  say.write(sweepHeader(o, plan, jobs, threads, runsDir));
  const crashed: Crash[] = [];
  let interrupted = false;
  const store: StoreResult = (j, r) => {
    const run = storeRun(j.file, {
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
    });
    stored.set(j.key, run);
  };
  if (todo.length > 0 && o.queue) interrupted = await sweepOnQueue(todo, o.queue, version, say, store, crashed);
  else if (todo.length > 0) interrupted = await sweepOnPool(todo, threads, o.watchdog, store, crashed);
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
  say.write(sweepSummary(sweep, o));
  return sweep;
}

/** The sweep's runs (every point x policy x seed, in a fixed order, each with its key and file), this shard's share
 * of them, the runs a merge brought in, what is stored already, and what is left to run (nothing, for a merge). */
function sweepJobs(o: SweepOptions, plan: ReturnType<typeof planSweep>, runsDir: string) {
  const { points, policies, seeds, version } = plan;
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
  return { share, every, all, merged, stored, missing, todo };
}

/** What the terminal shows before a sweep runs: its size, what is stored already and what is left, the grid, and a
 * shard's share or a merge's result. */
function sweepHeader(
  o: SweepOptions,
  plan: ReturnType<typeof planSweep>,
  jobs: ReturnType<typeof sweepJobs>,
  threads: number,
  runsDir: string,
): string {
  const { points, policies, seeds, axes, version } = plan;
  const { share, every, all, todo, stored, merged, missing } = jobs;
  const spec0 = points[0]!.spec;
  const out: string[] = [];
  out.push(
    `faultline sweep ${spec0.scenario}: ${points.length} points x ${policies.length} policies x ` +
      `${seeds.length} seeds = ` +
      `${every.length} runs${share ? ` (this shard's: ${all.length})` : ''}; ` +
      `${all.filter((j) => stored.get(j.key) !== null).length} already in ${runsDir}, ${todo.length} to run` +
      `${o.merge ? ` (a merge runs none)` : `, ${o.queue ? 'on the queue' : `${threads} at a time`}`}\n`,
  );
  out.push(
    `grid: ${axes.map((a) => `${a.path}=${a.values.join(',')}`).join('  ') || '(none: one point)'}` +
      `   model ${version}\n`,
  );
  if (share) out.push(`shard ${share.k} of ${share.n}: ${all.length} of the sweep's ${every.length} runs\n`);
  if (o.merge) {
    out.push(`merged ${merged} runs from ${o.merge.join(', ')}; ${missing.length} of ${all.length} still missing\n`);
    for (const m of missing.slice(0, 20)) out.push(`  missing: ${pointText(m.point)} ${m.policy} seed ${m.seed}\n`);
  }
  return out.join('');
}

/** What the terminal shows after a sweep: the summary, the seeds' warning, each run that ended on an error or
 * failed, and where the results are. */
function sweepSummary(sweep: Sweep, o: SweepOptions): string {
  const out: string[] = [];
  out.push(summaryText(sweep, o.figures));
  const warning = seedsWarning(sweep.seeds.length);
  if (warning) out.push(`note: ${warning}\n`);
  for (const r of sweep.runs.filter((x) => x.error))
    out.push(`run ${pointText(r.point)} ${r.policy} seed ${r.seed} ended on an error: ${r.error}\n`);
  for (const c of sweep.crashed)
    out.push(
      `run ${pointText(c.point)} ${c.policy} seed ${c.seed} failed (not stored; run the sweep again): ${c.error}\n`,
    );
  out.push(
    `results: ${join(o.out!, 'sweep.csv')}, ${join(o.out!, 'sweep.json')}, report ${join(o.out!, 'sweep.html')}\n`,
  );
  return out.join('');
}

/** A run of the sweep to do: its grid point, policy and seed, the resolved scenario, its key and its file. */
interface SweepJob {
  readonly point: Record<string, string>;
  readonly policy: string;
  readonly seed: string;
  readonly spec: ScenarioSpec;
  readonly key: string;
  readonly file: string;
}
type Crash = Sweep['crashed'][number];
type StoreResult = (
  j: SweepJob,
  r: { figures: Record<string, number>; digest: string; error: string | null; hostMs: number },
) => void;

/** The runs on the job queue, taken by `faultline worker`s; each result stored as it comes back. Returns whether
 * Ctrl-C ended it (the runs stay queued). */
async function sweepOnQueue(
  todo: readonly SweepJob[],
  queue: string,
  version: string,
  say: NodeJS.WritableStream,
  store: StoreResult,
  crashed: Crash[],
): Promise<boolean> {
  let interrupted = false;
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
      queue,
      {
        done: (key, r) => {
          const j = byKey.get(key)!;
          const q = queuedResult(r);
          if ('refused' in q) crashed.push({ point: j.point, policy: j.policy, seed: j.seed, error: q.refused });
          else store(j, q);
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
  return interrupted;
}

/** The runs on a local pool of threads (one simulation each); each result stored as it comes, so that a sweep
 * stopped by any means keeps what finished. Returns whether Ctrl-C ended it. */
async function sweepOnPool(
  todo: readonly SweepJob[],
  threads: number,
  watchdog: string | undefined,
  store: StoreResult,
  crashed: Crash[],
): Promise<boolean> {
  const jobs: CompareJob[] = todo.map((j) => ({
    spec: j.spec,
    seed: j.seed,
    workers: 1,
    report: false,
    ...(watchdog !== undefined ? { watchdog } : {}),
  }));
  const fail = (i: number, error: string) => {
    const j = todo[i]!;
    crashed.push({ point: j.point, policy: j.policy, seed: j.seed, error });
  };
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
  const interrupted = r.interrupted;
  r.settled.forEach((x, i) => {
    if (x.status === 'rejected' && !interrupted)
      fail(i, x.reason instanceof Error ? x.reason.message : String(x.reason));
  });
  return interrupted;
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
