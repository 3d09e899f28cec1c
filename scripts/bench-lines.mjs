#!/usr/bin/env node
// bench-lines: what charging cache lines costs a run (issue 24's aim: per event within 20% of the same run with
// lines off), run by run, interleaved, on 1 worker, medians of N: loop ns per simulated event with lines off and on,
// their ratio, and the loop time per simulated fault where the scenario counts faults (lines on, the CPUs wait on
// lines and do less in the same simulated time, so per event is the fair measure; both are printed).
// Usage (after a build): node scripts/bench-lines.mjs [--runs 5] [--json FILE]
import { writeFileSync } from 'node:fs';
import { runSimulation } from '../packages/engine/dist/index.js';
import { getScenario } from '../packages/scenarios/dist/index.js';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const runs = Number(arg('--runs', '5'));
const jsonOut = arg('--json', null);
const cases = [
  { scenario: 'pft-threads', policy: 'classic', cpus: 4, duration: '50ms' },
  { scenario: 'pft-threads', policy: 'per-vma-lock', cpus: 30, duration: '50ms' },
  { scenario: 'pft-threads', policy: 'classic', cpus: 128, duration: '50ms' },
  { scenario: 'pft', policy: 'classic', cpus: 8, duration: '2ms', placement: 'spread' },
  { scenario: 'nowait-starvation', policy: 'spf-nowait', cpus: 8, duration: '5ms' },
];
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const faultsOf = (r) => {
  const mm = r.modules.mm;
  return mm ? mm.tasks.reduce((s, t) => s + t.faults, 0) : 0;
};
const rows = [];
for (const c of cases) {
  const s = getScenario(c.scenario);
  const topology = { preset: 'icelake-2s', placement: c.placement ?? 'kernel' };
  const base = s.build({ policy: c.policy, cpus: c.cpus, workers: 1, seed: 'bench-lines', duration: c.duration });
  const lined = s.build({
    policy: c.policy,
    cpus: c.cpus,
    workers: 1,
    seed: 'bench-lines',
    duration: c.duration,
    topology,
    coherence: 'lines',
  });
  const off = [];
  const on = [];
  for (let i = 0; i < runs; i++) {
    for (const [opts, into] of i % 2 === 0
      ? [
          [{ ...base, topology }, off],
          [lined, on],
        ]
      : [
          [lined, on],
          [{ ...base, topology }, off],
        ]) {
      const r = await runSimulation(opts);
      if (r.error) throw new Error(`${c.scenario}: ${r.error.message}`);
      into.push({ loopMs: r.host.loopMs, events: r.events, faults: faultsOf(r) });
    }
  }
  const m = (xs, f) => median(xs.map(f));
  const row = {
    ...c,
    offNsPerEvent: m(off, (x) => (x.loopMs * 1e6) / x.events),
    onNsPerEvent: m(on, (x) => (x.loopMs * 1e6) / x.events),
    offEvents: off[0].events,
    onEvents: on[0].events,
    offNsPerFault: off[0].faults ? m(off, (x) => (x.loopMs * 1e6) / x.faults) : null,
    onNsPerFault: on[0].faults ? m(on, (x) => (x.loopMs * 1e6) / x.faults) : null,
  };
  rows.push(row);
  process.stderr.write(`${c.scenario} ${c.policy} ${c.cpus}: ${(row.onNsPerEvent / row.offNsPerEvent).toFixed(2)}x\n`);
}
const out = [
  `Lines off against lines on (icelake-2s), 1 worker, medians of ${runs}, interleaved; loop ns per event and per fault`,
  '',
  '| scenario | policy | CPUs | events off / on | ns per event off / on | ratio | ns per fault off / on | ratio |',
  '|---|---|---|---|---|---|---|---|',
];
for (const r of rows) {
  const f = r.offNsPerFault
    ? `${Math.round(r.offNsPerFault)} / ${Math.round(r.onNsPerFault)} | ${(r.onNsPerFault / r.offNsPerFault).toFixed(2)}x`
    : '- | -';
  out.push(
    `| ${r.scenario}${r.placement ? ` (${r.placement})` : ''} | ${r.policy} | ${r.cpus} | ${r.offEvents} / ${r.onEvents} | ` +
      `${Math.round(r.offNsPerEvent)} / ${Math.round(r.onNsPerEvent)} | ${(r.onNsPerEvent / r.offNsPerEvent).toFixed(2)}x | ${f} |`,
  );
}
process.stdout.write(`${out.join('\n')}\n`);
if (jsonOut) writeFileSync(jsonOut, `${JSON.stringify(rows, null, 2)}\n`);
