#!/usr/bin/env node
// bench-warmup: what a scenario's event costs once the JIT has warmed up, against what it costs in a fresh worker,
// beside the engine's own event (plain generator tasks) measured the same way in the same process: each side on
// its own EnginePool worker (pool.ts), so that neither warms the other's code, interleaved run by run, the first
// run of each cold and the rest warm. Issue 27's aim
// (a scenario's events per loop-second per worker, at least 2 M) is read from the warm runs; the cold run is what a
// single `faultline run` pays, since each run's worker starts fresh. Loop time only (the window loop, start-up
// excluded). Usage (after a build): node scripts/bench-warmup.mjs [--runs 6] [--scenario nowait-starvation]
//   [--policy spf-nowait] [--cpus 4] [--duration 20ms]
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { EnginePool, runSimulation } from '../packages/engine/dist/index.js';
import { getScenario } from '../packages/scenarios/dist/index.js';

const arg = (name, fallback) => {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1] : fallback;
};
const runs = Number(arg('--runs', '6'));
if (!(Number.isInteger(runs) && runs >= 3)) throw new Error('--runs N: a whole number, 3 or more');
const scenario = arg('--scenario', 'nowait-starvation');
const policy = arg('--policy', 'spf-nowait');
const cpus = Number(arg('--cpus', '4'));
const duration = arg('--duration', '20ms');
const synthetic = fileURLToPath(new URL('../packages/engine/bench/tasks/synthetic.mjs', import.meta.url));

const sides = {
  scenario: () => ({
    ...getScenario(scenario).build({ policy, cpus, workers: 1, seed: 'warmup', duration }),
  }),
  // The engine alone: computes, every tenth event a page, 1% of events a message to another CPU.
  plain: () => ({
    cpus,
    workers: 1,
    seed: 'warmup',
    duration,
    window: '2us',
    memoryMiB: 64,
    memoryLayout: 'one-zone',
    tasks: [{ module: synthetic, args: { cross: 0.01 } }],
  }),
};

const pools = { scenario: new EnginePool(), plain: new EnginePool() };
const rows = { scenario: [], plain: [] };
try {
  for (let i = 0; i < runs; i++)
    for (const [side, options] of Object.entries(sides)) {
      const r = await runSimulation(options(), { pool: pools[side] });
      if (r.error) throw new Error(`${side}: ${r.error.message}`);
      rows[side].push({ ms: r.host.loopMs, events: r.events, digest: r.digest });
    }
} finally {
  await Promise.all(Object.values(pools).map((p) => p.close()));
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const nsPerEvent = (row) => (row.ms * 1e6) / row.events;
console.log(
  `machine: ${os.cpus()[0]?.model ?? 'unknown'}, ${os.availableParallelism()} cores, Node ${process.version}; ` +
    `${scenario} (${policy}) against plain tasks, ${cpus} CPUs, ${duration} each, a pooled worker each, ${runs} runs each`,
);
const summary = {};
for (const [side, rs] of Object.entries(rows)) {
  const cold = nsPerEvent(rs[0]);
  const warm = median(rs.slice(2).map(nsPerEvent)); // the second run still compiles; the rest are warm
  summary[side] = { cold, warm };
  const digests = new Set(rs.map((r) => r.digest)).size === 1 ? 'one digest' : 'DIGESTS DIFFER';
  const each = rs.map((r) => nsPerEvent(r).toFixed(0)).join(', ');
  console.log(
    `${side.padEnd(8)} ${rs[0].events} events a run; ns an event, run by run: ${each}; cold ${cold.toFixed(0)}, ` +
      `warm (median of runs 3-${runs}) ${warm.toFixed(0)}: ${(1e3 / warm).toFixed(2)} M events per loop-second; ` +
      digests,
  );
}
const s = summary.scenario;
const p = summary.plain;
console.log(
  `scenario against plain, warm: ${(s.warm / p.warm).toFixed(1)}x the engine's cost an event; cold against warm: ` +
    `scenario ${(s.cold / s.warm).toFixed(2)}x, plain ${(p.cold / p.warm).toFixed(2)}x; ` +
    `aim: at least 2 M scenario events per loop-second (${(1e3 / s.warm).toFixed(2)} M warm, ` +
    `${(1e3 / s.cold).toFixed(2)} M cold)`,
);
