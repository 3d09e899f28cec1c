#!/usr/bin/env node
// dynamics-ablation: what each of the kernel dynamics the model now has does to the flagship's figures - the
// nowait-starvation scenario under classic, spf-nowait and spf-nowait-literal, at 4 and 8 CPUs, 3 seeds - by
// turning one mechanism back to the engine's earlier behaviour per row: optimistic spinning off (every lock waiter
// sleeps at once), munmap holding mmap_lock for write through its zap, HZ=1000, page tables freed through RCU on
// every policy (a paravirt guest), the storm threads all in step, CFS in place of EEVDF where the run's kernel has
// EEVDF, and full preemption in place of voluntary; and the other way, the storm threads and the kernel work
// unpinned (wake placement within the last-level cache, balance.ts), at the default window and at 1 us. A sleeping
// lock waiter is woken to take the lock itself when it runs (lockWake 'wake'); a row hands it the lock at the release
// instead (the engine's earlier rule). The last column: how long the mmap_lock stayed granted to a woken waiter not
// yet on a CPU (under 'wake' only a handoff does that). Every row uses the same seeds. Prints a markdown table of
// means (the README's and CALIBRATION.md's).
// Usage (after a build): node scripts/dynamics-ablation.mjs [--cpus 4,8] [--seeds 3] [--duration 50ms] [--json F]
import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { EnginePool, runSimulation } from '../packages/engine/dist/index.js';
import { getScenario } from '../packages/scenarios/dist/index.js';
import { ABLATION_ROWS as ROWS } from './lib/ablation-rows.mjs';

const arg = (name, fallback) => {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1] : fallback;
};
const cpuList = arg('--cpus', '4,8').split(',').map(Number);
const seeds = Number(arg('--seeds', '3'));
const duration = arg('--duration', '50ms');
const jsonOut = arg('--json');
const POLICIES = ['classic', 'spf-nowait', 'spf-nowait-literal'];
const WOKEN = 'mmap_lock held by woken waiters (ms)';
const FIGURES = [
  'victim reclaim stall (ms)',
  'reclaimed by victims',
  'reclaimed by storm',
  'reclaimed by kswapd',
  'time below min (ms)',
  'OOM kills',
  WOKEN,
];

const s = getScenario('nowait-starvation');
const pool = new EnginePool();
const results = [];
const jobs = [];
for (const [row, patch, params] of ROWS)
  for (const cpus of cpuList)
    for (const policy of POLICIES)
      for (let k = 1; k <= seeds; k++) jobs.push({ row, patch, params, cpus, policy, seed: `faultline-${k}` });
let next = 0;
const worker = async () => {
  for (;;) {
    const j = jobs[next++];
    if (!j) return;
    const built = s.build({ policy: j.policy, cpus: j.cpus, workers: 1, seed: j.seed, duration, params: j.params });
    const r = await runSimulation(j.patch(built), { pool });
    if (r.error) throw new Error(`${j.row}, ${j.cpus} CPUs, ${j.policy}, seed ${j.seed}: ${r.error.message}`);
    // The mmap_lock held by a waiter a grant woke, until it had a CPU (a handoff, or every wake under lockWake 'grant';
    // the engine's lock-commit.ts).
    const wokenMs = r.tasks.reduce((a, t) => a + (t.locks['mm0.mmap_lock']?.wokenHeldNs ?? 0), 0) / 1e6;
    const figures = { ...s.figures(r, j.params), [WOKEN]: wokenMs };
    results.push({ row: j.row, cpus: j.cpus, policy: j.policy, seed: j.seed, figures });
    process.stderr.write(`\r${results.length} of ${jobs.length} runs`);
  }
};
await Promise.all(Array.from({ length: Math.max(1, Math.min(2, availableParallelism())) }, worker));
await pool.close();
process.stderr.write('\n');
if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ duration, seeds, results }, null, 1));

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const fmt = (x) => (Math.abs(x) >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(2));
const lines = [
  `| nowait-starvation, ${duration}, ${seeds} seeds, means: classic / spf-nowait / literal | CPUs | ${FIGURES.join(' | ')} |`,
  `|---|---|${FIGURES.map(() => '---').join('|')}|`,
];
for (const [row] of ROWS) {
  for (const cpus of cpuList) {
    const cell = (f) =>
      POLICIES.map((p) =>
        fmt(mean(results.filter((r) => r.row === row && r.cpus === cpus && r.policy === p).map((r) => r.figures[f]))),
      ).join(' / ');
    lines.push(`| ${row} | ${cpus} | ${FIGURES.map(cell).join(' | ')} |`);
  }
}
process.stdout.write(`${lines.join('\n')}\n`);
