#!/usr/bin/env node
// bench-fidelity: what each kernel mechanism costs on the host (issue 27: the cost of fidelity, each mechanism on and
// off in one benchmark run). The flagship (nowait-starvation under spf-nowait, 4 CPUs) is run once per row of
// lib/ablation-rows.mjs - the model as it is, then each kernel dynamic turned back to the engine's earlier behaviour
// (or, for the last rows, one the flagship leaves off turned on) - and with cache lines charged on the Ice Lake
// preset; rows interleaved run by run, 1 worker, one run at a time, medians of N. Printed per row: the simulated
// events, the window loop's host ns per event, and its ratio to the model's row (a row that turns a mechanism off
// below 1.00x: the mechanism costs that much; a row that turns one on above 1.00x: it costs that much).
// Usage (after a build): node scripts/bench-fidelity.mjs [--runs 5] [--duration 20ms] [--cpus 4]
import os from 'node:os';
import { EnginePool, runSimulation } from '../packages/engine/dist/index.js';
import { getScenario } from '../packages/scenarios/dist/index.js';
import { ABLATION_ROWS } from './lib/ablation-rows.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const runs = Number(arg('--runs', '5'));
const duration = arg('--duration', '20ms');
const cpus = Number(arg('--cpus', '4'));
if (!(Number.isInteger(runs) && runs >= 1)) throw new Error('--runs N: a whole number, 1 or more');

const ROWS = [
  ...ABLATION_ROWS,
  ['cache lines charged (icelake-2s, coherence lines)', (o) => o, undefined, { topology: 'icelake-2s' }],
];
const s = getScenario('nowait-starvation');
const pool = new EnginePool();
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const samples = ROWS.map(() => ({ ns: [], events: new Set() }));
for (let k = 0; k < runs; k++)
  for (let i = 0; i < ROWS.length; i++) {
    const [name, patch, params, machine] = ROWS[i];
    const lines = machine ? { topology: machine.topology, coherence: 'lines' } : {};
    const built = s.build({ policy: 'spf-nowait', cpus, workers: 1, seed: 'fidelity', duration, params, ...lines });
    const r = await runSimulation(patch(built), { pool });
    if (r.error) throw new Error(`${name}: ${r.error.message}`);
    samples[i].ns.push((r.host.loopMs * 1e6) / r.events);
    samples[i].events.add(r.events);
    process.stderr.write(`\r${k * ROWS.length + i + 1} of ${runs * ROWS.length} runs`);
  }
await pool.close();
process.stderr.write('\n');
const base = median(samples[0].ns);
const out = [
  `machine: ${os.cpus()[0]?.model ?? 'unknown'}, ${os.availableParallelism()} cores, Node ${process.version}; ` +
    `nowait-starvation, spf-nowait, ${cpus} CPUs, ${duration}, 1 worker, medians of ${runs}`,
  '',
  '| row | events | host ns per event | against the model |',
  '|---|---|---|---|',
];
ROWS.forEach(([name], i) => {
  const ns = median(samples[i].ns);
  const events = [...samples[i].events].join(', ');
  out.push(`| ${name} | ${events} | ${Math.round(ns)} | ${(ns / base).toFixed(2)}x |`);
});
process.stdout.write(`${out.join('\n')}\n`);
