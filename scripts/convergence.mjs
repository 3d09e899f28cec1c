#!/usr/bin/env node
// convergence: how each built-in scenario's headline figures move with the window length, the engine's speed knob.
// A figure that moves with the window is a fact about the engine, not the kernel: this prints each figure's mean
// over the seeds at every window beside its deviation from the first window's value, marked * where Welch's t-test
// says it differs beyond the seeds' own spread (p < 0.05), and per window the worst and median deviation, over
// all figures and over the significant ones. Another seed moves a figure too: the deviation a window causes is
// only measured where it stands out from that.
// Usage (after a build): node scripts/convergence.mjs [--seeds N] [--windows 1,2,5,10,20,50,100] [--scenarios a,b]
//                        [--jobs N] [--json FILE]
// Every run is 4 CPUs on one worker thread; --jobs runs that many at once (default: the host's cores).
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { runSimulation } from '../packages/engine/dist/index.js';
import { getScenario } from '../packages/scenarios/dist/index.js';

// Student's t from jstat, the dependency the CLI's confidence intervals use.
const { jStat } = createRequire(new URL('../packages/cli/package.json', import.meta.url))('jstat');

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const seeds = Number(arg('--seeds', '3'));
const windows = arg('--windows', '1,2,5,10,20,50,100').split(',').map(Number);
const jobs = Number(arg('--jobs', String(os.availableParallelism())));
const jsonOut = arg('--json', null);

/** The headline figures of each scenario, the policies they are read under, and the run's length. */
const PLAN = {
  'nowait-starvation': {
    duration: '50ms',
    policies: ['classic', 'spf-nowait-literal'],
    figures: [
      'victim reclaim stall (ms)',
      'victim alloc p50 (us)',
      'victim alloc p99 (us)',
      'reclaimed by victims',
      'reclaimed by storm',
      'reclaimed by page cache',
      'reclaimed by kswapd',
      'time below min (ms)',
      'storm faults/s (k)',
      'irq GFP_ATOMIC p99 (us)',
    ],
  },
  'nowait-starvation-anon': {
    duration: '50ms',
    policies: ['classic', 'spf-nowait-literal'],
    figures: [
      'victim reclaim stall (ms)',
      'victim alloc p99 (us)',
      'reclaimed by victims',
      'reclaimed by storm',
      'reclaimed by kswapd',
      'time below min (ms)',
      'storm faults/s (k)',
    ],
  },
  'nowait-starvation-memcg': {
    duration: '50ms',
    policies: ['classic', 'spf-nowait-literal'],
    figures: ['victim reclaim stall (ms)', 'victim alloc p99 (us)', 'reclaimed by kswapd', 'storm faults/s (k)'],
  },
  'mmap-contention': {
    duration: '30ms',
    policies: ['classic', 'spf-fallback', 'per-vma-lock'],
    figures: ['faults/s (k)', 'aborted (%)'],
  },
};
const scenarios = arg('--scenarios', Object.keys(PLAN).join(',')).split(',');
for (const s of scenarios)
  if (!(s in PLAN)) {
    console.error(`convergence: unknown scenario '${s}'; allowed: ${Object.keys(PLAN).join(', ')}`);
    process.exit(2);
  }

const runs = [];
for (const name of scenarios)
  for (const policy of PLAN[name].policies)
    for (const w of windows) {
      for (let k = 1; k <= seeds; k++) runs.push({ name, policy, window: w, seed: `faultline-${k}` });
    }
console.log(
  `convergence: node ${process.version}, ${os.availableParallelism()} cores, ${runs.length} runs, ${jobs} at a time, ` +
    `seeds faultline-1..${seeds}, 4 CPUs, windows ${windows.join(', ')} us`,
);

const results = new Map();
const t0 = performance.now();
let next = 0;
async function worker() {
  while (next < runs.length) {
    const r = runs[next++];
    const s = getScenario(r.name);
    const res = await runSimulation(
      s.build({
        policy: r.policy,
        cpus: 4,
        workers: 1,
        seed: r.seed,
        duration: PLAN[r.name].duration,
        window: `${r.window}us`,
      }),
    );
    if (res.error) throw new Error(`${r.name} ${r.policy} ${r.window}us ${r.seed}: ${res.error.message}`);
    results.set(`${r.name}|${r.policy}|${r.window}|${r.seed}`, {
      figures: s.figures(res),
      subRounds: res.host.subRounds,
      lagCarried: res.host.lagCarried,
      hostMs: res.host.loopMs,
    });
  }
}
await Promise.all(Array.from({ length: jobs }, worker));
console.log(`(${((performance.now() - t0) / 1000).toFixed(0)} s)`);

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const variance = (xs) => {
  const m = mean(xs);
  return xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1);
};
/** Welch's two-sided t-test: the p-value that two samples share their mean. */
function welchP(a, b) {
  const va = variance(a) / a.length;
  const vb = variance(b) / b.length;
  if (va + vb === 0) return mean(a) === mean(b) ? 1 : 0;
  const t = (mean(a) - mean(b)) / Math.sqrt(va + vb);
  const df = (va + vb) ** 2 / (va ** 2 / (a.length - 1) + vb ** 2 / (b.length - 1));
  return 2 * (1 - jStat.studentt.cdf(Math.abs(t), df));
}
const samples = (name, policy, w, fig) =>
  Array.from({ length: seeds }, (_, k) => results.get(`${name}|${policy}|${w}|faultline-${k + 1}`).figures[fig]);
const table = [];
for (const name of scenarios) {
  const p = PLAN[name];
  console.log(`\n## ${name} (${p.duration}, mean of ${seeds} seeds; in brackets: deviation from the 1 us value)`);
  console.log(`| figure | policy | ${windows.map((w) => `${w} us`).join(' | ')} |`);
  console.log(`|---|---|${windows.map(() => '---').join('|')}|`);
  for (const fig of p.figures)
    for (const policy of p.policies) {
      const xs = windows.map((w) => samples(name, policy, w, fig));
      const at = xs.map(mean);
      const base = at[0];
      const devs = at.map((v) => (base === 0 ? (v === 0 ? 0 : Infinity) : (v - base) / Math.abs(base)));
      const ps = xs.map((x) => welchP(x, xs[0]));
      table.push({
        scenario: name,
        figure: fig,
        policy,
        windowsUs: windows,
        values: at,
        deviation: devs,
        p: ps,
        samples: xs,
      });
      const cell = (v, d, i) =>
        i === 0
          ? fmt(v)
          : `${fmt(v)} (${d === Infinity ? 'n/a' : `${d >= 0 ? '+' : ''}${(d * 100).toFixed(1)}%${ps[i] < 0.05 ? '*' : ''}`})`;
      console.log(`| ${fig} | ${policy} | ${at.map((v, i) => cell(v, devs[i], i)).join(' | ')} |`);
    }
  const lag = windows.map((w) =>
    p.policies.reduce(
      (s, policy) =>
        s +
        Array.from(
          { length: seeds },
          (_, k) => results.get(`${name}|${policy}|${w}|faultline-${k + 1}`).lagCarried,
        ).reduce((a, b) => a + b, 0),
      0,
    ),
  );
  console.log(`| windows whose lag carried over (all runs) | | ${lag.join(' | ')} |`);
  const host = windows.map((w) =>
    p.policies
      .flatMap((policy) =>
        Array.from({ length: seeds }, (_, k) => results.get(`${name}|${policy}|${w}|faultline-${k + 1}`).hostMs),
      )
      .sort((a, b) => a - b),
  );
  console.log(
    `| host seconds per run (median) | | ${host.map((h) => (h[Math.floor(h.length / 2)] / 1000).toFixed(2)).join(' | ')} |`,
  );
}

function fmt(v) {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a >= 100 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : v.toFixed(2);
}

// The worst deviation per window over every figure whose 1 us value is not negligible.
console.log(
  `\n## deviation from the ${windows[0]} us value, per window (figures whose ${windows[0]} us mean is 0 are left out)`,
);
console.log(`| | ${windows.map((w) => `${w} us`).join(' | ')} |`);
console.log(`|---|${windows.map(() => '---').join('|')}|`);
const nonzero = table.filter((t) => t.values[0] !== 0);
const stat = (i, rows, pick) => {
  const xs = rows.map((t) => Math.abs(t.deviation[i])).sort((a, b) => a - b);
  return xs.length === 0 ? 0 : pick === 'max' ? xs.at(-1) : xs[Math.floor(xs.length / 2)];
};
const pct = (d) => `${(d * 100).toFixed(1)}%`;
console.log(`| worst, all figures | ${windows.map((_, i) => pct(stat(i, nonzero, 'max'))).join(' | ')} |`);
console.log(`| median, all figures | ${windows.map((_, i) => pct(stat(i, nonzero, 'median'))).join(' | ')} |`);
console.log(
  `| figures that differ (p < 0.05) | ${windows.map((_, i) => `${nonzero.filter((t) => t.p[i] < 0.05).length} of ${nonzero.length}`).join(' | ')} |`,
);
console.log(
  `| worst of those | ${windows
    .map((_, i) =>
      pct(
        stat(
          i,
          nonzero.filter((t) => t.p[i] < 0.05),
          'max',
        ),
      ),
    )
    .join(' | ')} |`,
);
if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ seeds, windows, table }, null, 2));
