#!/usr/bin/env node
// hunt-refind: how many candidates `faultline hunt` needs to find the README's worst storm again from scratch - the
// largest excess of the victims' reclaim stall over classic's under spf-nowait-literal (scripts/hunt-worst.mjs) -
// at three budgets and three search seeds, for the hunt's search (--strategy refine: half at random, then a walk
// around the best) and for random sampling alone (--strategy random); with --omg DIR also for optimization-js's
// OMGOptimizer (an ask/tell mutation search, installed in DIR: it is not a dependency of faultline, see the README),
// its Math.random drawn from the search seed while it asks. Then what shrinking removes (a failure found at up to 8
// CPUs and 20 ms, shrunk), and the host time of a hunt against a sweep of the same number of runs.
// Every run is kept in OUT/runs by its content key, shared by the hunts (a candidate two hunts try is run once).
// Usage (after a build, and after hunt-worst.mjs): node scripts/hunt-refind.mjs [--budgets 12,24,48]
//   [--search-seeds a,b,c] [--omg DIR] [--out out/hunt-refind] [--target out/hunt-worst/spf-nowait-literal-stall]
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Writable } from 'node:stream';
import { cpus as hostCpus } from 'node:os';
import { join, resolve } from 'node:path';
import { huntCommand } from '../packages/cli/dist/commands/hunt.js';
import { sweepCommand } from '../packages/cli/dist/commands/sweep.js';

const arg = (name, fallback) => {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1] : fallback;
};
const budgets = arg('--budgets', '12,24,48').split(',').map(Number);
const searchSeeds = arg('--search-seeds', 'refind-1,refind-2,refind-3').split(',');
const outRoot = resolve(arg('--out', 'out/hunt-refind'));
const targetDir = arg('--target', 'out/hunt-worst/spf-nowait-literal-stall');
const omgDir = arg('--omg');
const STALL = 'victim reclaim stall (ms)';
const target = JSON.parse(readFileSync(join(targetDir, 'hunt.json'), 'utf8')).best.objective;
const runs = join(outRoot, 'runs');
mkdirSync(runs, { recursive: true });

const base = {
  cpus: 4,
  duration: '20ms',
  set: [],
  seeds: 100,
  seed: 'hunt',
  keep: 0.9,
  shrinkBudget: 0,
  policies: 'spf-nowait-literal',
  maximize: STALL,
  against: 'classic',
  vary: 'stormThreadsPerCpu,stormCycle,stormGapNs,threadsPinned',
  range: [],
  values: [],
};

/** The hunts' own progress lines, kept out of this report. */
const quiet = new Writable({ write: (_chunk, _enc, done) => done() });

/** A hunt in its own folder whose runs/ is the shared one. */
async function hunt(name, o) {
  const out = join(outRoot, name);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  symlinkSync(runs, join(out, 'runs'));
  const t0 = performance.now();
  const h = await huntCommand('nowait-starvation', { ...base, out, log: quiet, ...o });
  return { h, ms: performance.now() - t0 };
}

/** optimization-js's OMGOptimizer over the grid indices and the seed, asking with Math.random from the search seed. */
function omgSearch(searchSeed) {
  const optjs = createRequire(join(resolve(omgDir), 'package.json'))('optimization-js');
  // seedrandom is the CLI's dependency, not the workspace root's.
  const seedrandom = createRequire(new URL('../packages/cli/package.json', import.meta.url))('seedrandom');
  return (dims, seeds, cpus) => {
    const rng = seedrandom(`${searchSeed}/omg`);
    const opt = optjs.OMGOptimizer([
      ...dims.map((d) => optjs.Integer(0, d.values.length - 1)),
      optjs.Integer(1, seeds),
    ]);
    const toCandidate = (x) => ({
      values: Object.fromEntries(dims.map((d, i) => [d.path, d.values[x[i]]])),
      seed: x[dims.length],
      cpus,
      workers: 1,
    });
    const toPoint = (c) => [...dims.map((d) => d.values.indexOf(c.values[d.path])), c.seed];
    return {
      ask(n) {
        const saved = Math.random;
        Math.random = rng;
        try {
          return Array.from({ length: n }, () => toCandidate(opt.ask()));
        } finally {
          Math.random = saved;
        }
      },
      tell(tried) {
        const told = tried.filter((t) => t.objective !== null);
        // A minimiser: the negated excess.
        opt.tell(
          told.map((t) => toPoint(t.candidate)),
          told.map((t) => -t.objective),
        );
      },
    };
  };
}

const strategies = { refine: { strategy: 'refine' }, random: { strategy: 'random' } };
if (omgDir) strategies.omg = 'omg';
const rows = [];
for (const [name, how] of Object.entries(strategies))
  for (const budget of budgets)
    for (const searchSeed of searchSeeds) {
      const o = how === 'omg' ? { search: omgSearch(searchSeed) } : how;
      process.stderr.write(`hunt-refind: ${name} budget ${budget} ${searchSeed}\n`);
      const { h } = await hunt(`${name}-${budget}-${searchSeed}`, { ...o, budget, searchSeed });
      const at = h.tried.findIndex((t) => t.objective !== null && t.objective >= 0.9 * target);
      rows.push({ name, budget, searchSeed, best: h.best?.objective ?? null, at: at < 0 ? null : at + 1 });
    }

const fmt = (x) => (x === null ? '-' : Number(x.toPrecision(3)).toString());
const out = [
  `The README's worst (spf-nowait-literal, victims' stall above classic's): ${fmt(target)} ms; found again: a ` +
    'candidate at 90% of it or more.',
  '',
  `| search | budget | ${searchSeeds.map((s) => `${s}: worst found (ms), candidates to find it again`).join(' | ')} | found again |`,
  `|---|---|${searchSeeds.map(() => '---').join('|')}|---|`,
];
for (const [name] of Object.entries(strategies))
  for (const budget of budgets) {
    const rs = rows.filter((r) => r.name === name && r.budget === budget);
    const cells = rs.map((r) => `${fmt(r.best)}, ${r.at === null ? 'not found' : r.at}`);
    out.push(
      `| ${name} | ${budget} | ${cells.join(' | ')} | ${rs.filter((r) => r.at !== null).length} of ${rs.length} |`,
    );
  }

// Shrinking: a failure the defaults do not show (the victims fail at least 5 times more than under classic, with a
// mask that can fail) looked for at 2, 4 and 8 CPUs and 20 ms, then shrunk.
process.stderr.write('hunt-refind: shrinking\n');
const SHRINK_UNTIL = '{victim failures} - {victim failures @ classic} >= 5';
const { h: f } = await hunt('shrink', {
  maximize: undefined,
  against: undefined,
  until: SHRINK_UNTIL,
  cpusList: '2,4,8',
  set: ['params.victimMask=GFP_KERNEL|__GFP_NORETRY'],
  budget: 24,
  shrinkBudget: 30,
  searchSeed: 'refind-shrink',
});
const firstFail = f.tried.find((t) => t.failed);
out.push(
  '',
  f.best
    ? `Shrinking a failure ('${SHRINK_UNTIL}', GFP_KERNEL|__GFP_NORETRY, --cpus-list 2,4,8, 20 ms): ` +
        `first found at ${firstFail.candidate.cpus} CPUs, ${firstFail.durationNs / 1e6} ms after ` +
        `${f.tried.indexOf(firstFail) + 1} candidates; shrunk to ${f.best.candidate.cpus} CPUs, ` +
        `${f.best.durationNs / 1e6} ms, ${Object.entries(f.best.candidate.values).filter(([k, v]) => v !== firstFail.candidate.values[k]).length} ` +
        `params moved back towards their defaults, in ${f.tried.length - f.tried.indexOf(firstFail) - 1} more runs.`
    : 'Shrinking: no failure found in 24 candidates.',
);

// Cost: a fresh hunt of 24 candidates (48 runs) against a sweep of 48 runs, both on this host's pool.
process.stderr.write('hunt-refind: cost\n');
const costDir = join(outRoot, 'cost');
rmSync(costDir, { recursive: true, force: true });
const t0 = performance.now();
const fresh = await huntCommand('nowait-starvation', {
  ...base,
  log: quiet,
  budget: 24,
  searchSeed: 'refind-cost',
  strategy: 'refine',
  out: join(costDir, 'hunt'),
});
const huntMs = performance.now() - t0;
const t1 = performance.now();
await sweepCommand('nowait-starvation', {
  cpus: 4,
  duration: '20ms',
  set: ['params.threadsPinned=true'],
  grid: ['params.stormCycle=128,215,362,609,1024,1722,2896,4871,8192,1000,2000,3000'],
  policies: 'spf-nowait-literal,classic',
  seeds: 2,
  seed: 'hunt',
  out: join(costDir, 'sweep'),
});
const sweepMs = performance.now() - t1;
out.push(
  '',
  `Cost on this host (${hostCpus().length} CPUs, ${hostCpus()[0]?.model ?? '?'}): a fresh hunt of 24 candidates ` +
    `(${fresh.computed} runs) took ${(huntMs / 1000).toFixed(1)} s, a sweep of 48 runs ${(sweepMs / 1000).toFixed(1)} s ` +
    `(ratio ${(huntMs / sweepMs).toFixed(2)}).`,
);
// The sweep prints its tables on stdout: the report also goes to a file of its own.
writeFileSync(join(outRoot, 'refind.md'), `${out.join('\n')}\n`);
process.stdout.write(`${out.join('\n')}\n\n(also in ${join(outRoot, 'refind.md')})\n`);
if (!existsSync(join(costDir, 'sweep', 'sweep.json'))) process.exitCode = 1;
