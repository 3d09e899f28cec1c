// hunt: `faultline hunt <scenario|file> --out DIR` and either `--maximize FIGURE|EXPR` (the worst a run can show
// under the first of --policies; an expression of figures, another policy's after @: hunt-expr.ts) or `--until
// PREDICATE` (a run that fails: 'error', 'FIGURE > N', an expression). It searches the space of hunt-space.ts - the
// scenario's params, the seed (and with it the storm threads' phase), and for a failure the CPU and worker counts -
// with fast-check: candidates sampled from its arbitraries by --search-seed; a failure found by fc.check and shrunk by
// it towards the defaults, the first seed, the fewest CPUs and one worker, then by halving the duration while it still
// fails; the worst walked to a grid step at a time around the best (--strategy refine), then shrunk back towards the
// defaults while it keeps --keep of its value. Every run is stored by its content key in DIR/runs (a sweep's format;
// hunt-runs.ts: the store, the pool and the queue), so a hunt stopped by Ctrl-C resumes where it was and never runs
// one twice. DIR/hunt.json and hunt.csv list every candidate tried; the last line replays the find.
import { mkdirSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError } from 'commander';
import fc from 'fast-check';
import seedrandom from 'seedrandom';
import { getScenario, resolveScenario, specKey, specMachineKernel, type ScenarioSpec } from '@faultline/scenarios';
import { parseDurationNs } from '@faultline/engine';
import { modelVersion } from '../model-version.js';
import { refusal } from '../queue.js';
import { humanStream } from '../options.js';
import { onInterrupt } from '../supervise.js';
import { policyList, scenarioFields, type ScenarioCliOptions } from '../scenario-fields.js';
import {
  type Candidate,
  candidateArb,
  type Dimension,
  dimensionsOf,
  neighbours,
  parseChoices,
  parseRange,
  type Value,
} from './hunt-space.js';
import { byPolicy, checkFigures, type Expr, meets, parseMeasure, parsePredicate } from './hunt-expr.js';
import { fmt, replayLine, signaturesOf, summary, writeOutputs } from './hunt-output.js';
import { type HuntJob, HuntRuns } from './hunt-runs.js';

export { HUNT_SCHEMA } from './hunt-output.js';

export interface HuntOptions extends ScenarioCliOptions {
  readonly maximize?: string;
  readonly until?: string;
  readonly policies?: string;
  readonly against?: string;
  readonly budget: number;
  readonly shrinkBudget: number;
  readonly seeds: number;
  readonly seed: string;
  readonly searchSeed: string;
  readonly vary?: string;
  readonly range?: string[];
  readonly values?: string[];
  readonly cpusList?: string;
  readonly workersList?: string;
  readonly keep: number;
  readonly out?: string;
  readonly threads?: number;
  readonly watchdog?: string;
  /** redis://host:port/name: run the candidates on a job queue, as `sweep --queue` does. */
  readonly queue?: string;
  /** --maximize's search: half the budget at random then a walk around the best (refine), or all at random. */
  readonly strategy?: 'refine' | 'random';
  /** A search of the caller's own for --maximize (the API only: a benchmark of another optimiser), in place of
   * --strategy; the shrinking after it is the hunt's. */
  readonly search?: (dims: readonly Dimension[], seeds: number, cpus: number) => Search;
  /** Where the progress and the summary go (the API; default standard output, as the command's). */
  readonly log?: NodeJS.WritableStream;
}

/** An ask/tell search: candidates to try next (none: it is done), then what they gave. */
export interface Search {
  ask(n: number): Candidate[];
  tell(tried: readonly Tried[]): void;
}

/** One run of a candidate under one policy, as stored. */
export interface RunOf {
  readonly policy: string;
  readonly key: string;
  readonly figures: Record<string, number>;
  readonly digest: string;
  readonly error: string | null;
}

/** A candidate tried, with its runs and what the hunt made of them. */
export interface Tried {
  readonly phase: 'search' | 'refine' | 'shrink';
  readonly candidate: Candidate;
  readonly durationNs: number;
  readonly runs: readonly RunOf[];
  /** --maximize: the figure (less --against's); --until: whether a run met the predicate. */
  readonly objective: number | null;
  readonly failed: boolean;
}

export interface Hunt {
  readonly mode: 'maximize' | 'until';
  readonly tried: readonly Tried[];
  readonly best: Tried | null;
  readonly replay: string | null;
  readonly computed: number;
  readonly reused: number;
  readonly interrupted: boolean;
  /** --until: the distinct failures seen, by signature (the message with its numbers blanked). */
  readonly signatures: ReadonlyArray<{ signature: string; count: number; example: string }>;
}

/** What the hunt judges, from the flags: a measure to maximize (--maximize, with --against the excess over another
 * policy) or a predicate to make true (--until); the flags that do not go together are refused. */
function objectiveOf(o: HuntOptions): { measure: Expr | null; predicate: Expr | null } {
  if ((o.maximize === undefined) === (o.until === undefined))
    throw new InvalidArgumentError(
      "give one of --maximize FIGURE and --until PREDICATE ('error', 'victim failures > 0')",
    );
  if (o.against !== undefined && o.maximize === undefined)
    throw new InvalidArgumentError('--against applies to --maximize (the excess over that policy on the same seed)');
  if (o.against !== undefined && o.maximize!.includes('{'))
    throw new InvalidArgumentError(
      `--against with an expression: write the other policy's figure in it ({FIGURE @ ${o.against}})`,
    );
  const measure: Expr | null =
    o.maximize === undefined
      ? null
      : parseMeasure(o.against === undefined ? o.maximize : `{${o.maximize}} - {${o.maximize} @ ${o.against}}`);
  const predicate: Expr | null = o.until !== undefined ? parsePredicate(o.until) : null;
  if (o.maximize !== undefined && (o.cpusList !== undefined || o.workersList !== undefined))
    throw new InvalidArgumentError('--cpus-list and --workers-list apply to --until; --maximize keeps --cpus');
  return { measure, predicate };
}

/** The CPU counts and worker counts a --until hunt tries each candidate at (--cpus-list, --workers-list), and what
 * a queue's worker would refuse (a policy or task module by path), refused before anything is queued. */
function machineLists(o: HuntOptions, base: ScenarioSpec, hunted: string, version: string) {
  const list = (s: string | undefined, flag: string, dflt: number) =>
    (s ?? String(dflt)).split(',').map((x) => {
      const n = Number(x);
      if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${flag} ${s}: want positive integers`);
      return n;
    });
  const cpus = list(o.cpusList, '--cpus-list', base.cpus);
  const workers = list(o.workersList, '--workers-list', 1);
  for (const w of workers)
    if (w > Math.min(...cpus))
      throw new InvalidArgumentError(`--workers-list ${o.workersList}: ${w} workers for ${Math.min(...cpus)} CPUs`);
  if (o.queue) {
    if (workers.some((w) => w > 1) || o.threads !== undefined || o.watchdog !== undefined)
      throw new InvalidArgumentError(
        '--queue with --workers-list above 1, --threads or --watchdog: a queued run is one engine worker, and the ' +
          "queue's workers set their own --concurrency",
      );
    const spec = { ...base, policy: hunted };
    const why = refusal(
      { id: specKey(spec, o.seed, version), data: { spec, seed: o.seed, version, point: {} } },
      version,
    );
    if (why) throw new InvalidArgumentError(`--queue: a queue's worker would refuse these runs: ${why}`);
  }
  return { cpus, workers };
}

/** Run (or read back) every candidate under every policy, all at once: the hunt's evaluate. Each result is judged
 * (the measure's value for the hunted policy, or whether the predicate holds) and kept in `tried`. */
function evaluator(x: {
  ref: string;
  o: HuntOptions;
  version: string;
  policies: readonly string[];
  hunted: string;
  measure: Expr | null;
  predicate: Expr | null;
  source: HuntRuns;
  tried: Tried[];
  durationNs: number;
}) {
  const { ref, o, version, policies, hunted, measure, predicate, source, tried, durationNs } = x;
  const specOf = (c: Candidate, policy: string, dNs: number): ScenarioSpec =>
    resolveScenario(ref, {
      fields: { ...scenarioFields(o), cpus: c.cpus, duration: `${dNs / 1000}us`, policy },
      sets: [...(o.set ?? []), ...Object.entries(c.values).map(([p, v]) => `${p}=${v}`)],
    });
  const seedOf = (c: Candidate) => `${o.seed}-${c.seed}`;

  return async (cs: readonly Candidate[], phase: Tried['phase'], dNs = durationNs): Promise<Tried[]> => {
    const jobs: HuntJob[] = cs.flatMap((c) =>
      policies.map((policy) => {
        const spec = specOf(c, policy, dNs);
        const seed = seedOf(c);
        const point = {
          ...Object.fromEntries(Object.entries(c.values).map(([k, v]) => [k, String(v)])),
          cpus: String(c.cpus),
          workers: String(c.workers),
        };
        const key = `${specKey(spec, seed, version)}${c.workers > 1 ? `-w${c.workers}` : ''}`;
        return { key, policy, spec, seed, workers: c.workers, point };
      }),
    );
    const got = await source.runAll(jobs);
    const runs = jobs.map((j) => ({ ...got.get(j.key)!, policy: j.policy }));
    return cs.map((c, i) => {
      const rs = runs.slice(i * policies.length, (i + 1) * policies.length);
      const t: Tried = {
        phase,
        candidate: c,
        durationNs: dNs,
        runs: rs,
        objective: measure ? measure.value(byPolicy(rs), hunted) : null,
        failed: predicate ? rs.some((r) => meets(predicate, rs, r.policy)) : false,
      };
      tried.push(t);
      return t;
    });
  };
}

/** The policy the replay line names: for a failure, the first policy whose run met the predicate. */
function replayPolicy(best: Tried, predicate: Expr | null, hunted: string): string {
  if (!best.failed || predicate === null) return hunted;
  return best.runs.find((r) => meets(predicate, best.runs, r.policy))?.policy ?? hunted;
}

export async function huntCommand(ref: string, o: HuntOptions): Promise<Hunt> {
  if (!o.out)
    throw new InvalidArgumentError('--out DIR: give the folder for the runs (a hunt run again with it resumes)');
  const { measure, predicate } = objectiveOf(o);
  const say = o.log ?? humanStream({});
  const version = modelVersion();
  const base = resolveScenario(ref, { fields: scenarioFields(o), sets: o.set ?? [] });
  const scenario = getScenario(base.scenario);
  const policies = policyList(base, scenario, o.policies, [base.policy]);
  for (const p of (measure ?? predicate)!.policies) if (!policies.includes(p)) policies.push(p);
  for (const p of policies) specMachineKernel({ ...base, policy: p });
  const hunted = policies[0]!;
  const dims = dimensionsOf(
    scenario.params,
    base.params as Record<string, Value>,
    o.vary?.split(',').map((x) => x.trim()),
    new Map((o.range ?? []).map(parseRange)),
    new Map((o.values ?? []).map(parseChoices)),
  );
  const { cpus, workers } = machineLists(o, base, hunted, version);
  const durationNs = parseDurationNs(base.duration);
  const runsDir = join(o.out, 'runs');
  mkdirSync(runsDir, { recursive: true });

  const tried: Tried[] = [];
  const threads = Math.max(1, Math.min(o.threads ?? os.availableParallelism(), 8));
  const source = new HuntRuns(runsDir, version, { ...o, threads });
  const quiet = onInterrupt(
    () => source.interrupt(),
    process.stderr,
    'no new run starts; the runs stored stay, and the same command resumes',
  );
  const evaluate = evaluator({ ref, o, version, policies, hunted, measure, predicate, source, tried, durationNs });

  let best: Tried | null = null;
  try {
    // The defaults first: their run says which figures there are, for the expression's names.
    const first = (await evaluate([defaultCandidate(dims, base.cpus)], 'search'))[0]!.runs[0]!;
    if (first.error === null || Object.keys(first.figures).length > 0)
      checkFigures((measure ?? predicate)!, Object.keys(first.figures), measure ? '--maximize' : '--until');
    if (measure) {
      best = await maximize(o, dims, evaluate, tried, say);
    } else {
      best = await findFailure(o, dims, cpus, workers, evaluate, say, predicate!);
      if (best) best = await shrinkDuration(best, evaluate, say);
    }
  } catch (e) {
    if (!source.interrupted) throw e;
  } finally {
    quiet();
    await source.close();
  }
  const replay = best ? replayLine(ref, o, best, replayPolicy(best, predicate, hunted)) : null;
  const signatures = predicate ? signaturesOf(tried, predicate) : [];
  const hunt: Hunt = {
    mode: o.maximize !== undefined ? 'maximize' : 'until',
    tried,
    best,
    replay,
    computed: source.computed,
    reused: source.reused,
    interrupted: source.interrupted,
    signatures,
  };
  writeOutputs(o.out, hunt, dims, o, policies);
  say.write(summary(hunt, o, hunted));
  return hunt;
}

function defaultCandidate(dims: readonly Dimension[], cpus: number): Candidate {
  return { values: Object.fromEntries(dims.map((d) => [d.path, d.values[d.at]!])), seed: 1, cpus, workers: 1 };
}

/** A number from the search seed's text, for fast-check. */
function fcSeed(s: string): number {
  return seedrandom(s).int32();
}

type Evaluate = (cs: readonly Candidate[], phase: Tried['phase'], dNs?: number) => Promise<Tried[]>;

async function maximize(
  o: HuntOptions,
  dims: readonly Dimension[],
  evaluate: Evaluate,
  tried: readonly Tried[],
  say: NodeJS.WritableStream,
): Promise<Tried | null> {
  const key = (c: Candidate) => JSON.stringify([c.values, c.seed, c.cpus, c.workers]);
  const seen = new Set(tried.map((t) => key(t.candidate)));
  const better = (a: Tried | null, b: Tried) =>
    b.objective !== null && (a === null || b.objective > a.objective!) ? b : a;
  let best = tried.reduce<Tried | null>(better, null);
  if (o.search) {
    const search = o.search(dims, o.seeds, tried[0]!.candidate.cpus);
    search.tell(tried);
    while (tried.length < o.budget) {
      const next = search
        .ask(Math.min(8, o.budget - tried.length))
        .filter((c) => !seen.has(key(c)) && seen.add(key(c)));
      if (next.length === 0) break;
      const got = await evaluate(next, 'search');
      for (const t of got) best = better(best, t);
      search.tell(got);
    }
    say.write(`hunt: ${tried.length} tried by the given search; worst so far ${fmt(best?.objective)}\n`);
  } else {
    const arb = candidateArb(dims, o.seeds, [tried[0]!.candidate.cpus], [1]);
    // Half the budget sampled at random (all of it with --strategy random), the rest a grid step at a time around the
    // best so far; where a step finds nothing better, random samples again until one does.
    const drawn = fc.sample(arb, { seed: fcSeed(o.searchSeed), numRuns: 2 * o.budget });
    let at = 0;
    const random = (n: number) => {
      const out: Candidate[] = [];
      while (out.length < n && at < drawn.length) {
        const c = drawn[at++]!;
        if (!seen.has(key(c)) && seen.add(key(c))) out.push(c);
      }
      return out;
    };
    const share = o.strategy === 'random' ? o.budget : Math.ceil(o.budget / 2);
    for (const t of await evaluate(random(share - tried.length), 'search')) best = better(best, t);
    say.write(`hunt: ${tried.length} tried at random; worst so far ${fmt(best?.objective)}\n`);
    let walking = o.strategy !== 'random';
    while (tried.length < o.budget && best) {
      const left = o.budget - tried.length;
      const next = walking
        ? neighbours(best.candidate, dims, o.seeds, 2).filter((c) => !seen.has(key(c)) && seen.add(key(c)))
        : random(Math.min(8, left));
      if (next.length === 0 && !walking) break;
      const before = best;
      for (const t of await evaluate(next.slice(0, left), walking ? 'refine' : 'search')) best = better(best, t);
      say.write(`hunt: ${tried.length} tried; worst so far ${fmt(best?.objective)}\n`);
      // A step that found nothing better: back to sampling; a sample that did: walk from it.
      if (o.strategy !== 'random') walking = best !== before;
    }
  }
  if (!best || best.objective === null || best.objective <= 0) return best;
  // Shrink: each field back to its default while the find keeps --keep of its excess.
  let shrinks = 0;
  for (const d of dims) {
    if (best.candidate.values[d.path] === d.values[d.at] || shrinks >= o.shrinkBudget) continue;
    shrinks++;
    const c = { ...best.candidate, values: { ...best.candidate.values, [d.path]: d.values[d.at]! } };
    const [t] = await evaluate([c], 'shrink');
    if (t!.objective !== null && t!.objective >= o.keep * best.objective!) best = t!;
  }
  return best;
}

async function findFailure(
  o: HuntOptions,
  dims: readonly Dimension[],
  cpus: readonly number[],
  workers: readonly number[],
  evaluate: Evaluate,
  say: NodeJS.WritableStream,
  predicate: Expr,
): Promise<Tried | null> {
  let calls = 0;
  let found = false;
  const byCandidate = new Map<string, Tried>();
  const arb = candidateArb(dims, o.seeds, cpus, workers);
  const r = await fc.check(
    fc.asyncProperty(arb, async (c) => {
      // Past the budget and the shrinking's, every candidate passes: fast-check stops shrinking there.
      if (calls >= o.budget + o.shrinkBudget) return true;
      calls++;
      const [t] = await evaluate([c], found ? 'shrink' : 'search');
      byCandidate.set(JSON.stringify(c), t!);
      found ||= t!.failed;
      if (calls % 10 === 0) say.write(`hunt: ${calls} tried${found ? ', a failure found, shrinking' : ''}\n`);
      return !t!.failed;
    }),
    { seed: fcSeed(o.searchSeed), numRuns: o.budget },
  );
  if (!r.failed || r.counterexample === null) return null;
  // fast-check's counterexample is the smallest failing candidate it reached, already run.
  say.write(`hunt: ${predicate.text} after ${r.numRuns} candidates, shrunk in ${r.numShrinks} steps\n`);
  return byCandidate.get(JSON.stringify(r.counterexample[0])) ?? (await evaluate([r.counterexample[0]], 'shrink'))[0]!;
}

/** Halve the run while it still fails (down to 100 us). */
async function shrinkDuration(found: Tried, evaluate: Evaluate, say: NodeJS.WritableStream): Promise<Tried> {
  let best = found;
  while (best.durationNs / 2 >= 100_000) {
    const [t] = await evaluate([best.candidate], 'shrink', Math.floor(best.durationNs / 2000) * 1000);
    if (!t!.failed) break;
    best = t!;
  }
  if (best !== found) say.write(`hunt: still fails in ${best.durationNs / 1e6} ms\n`);
  return best;
}
