#!/usr/bin/env node
// bench-against: this build's window loop against another build of faultline (a git worktree at an older commit,
// built), run by run, interleaved, on 1 worker: medians of 5 and their ratio, with each side's digests (which should
// agree for a change meant to keep behaviour), and the per-event cost (loop ns per simulated event) of each side,
// which is the fair comparison when a change of the model changes how many events a run has. Usage (after a build
// of both):
//   git worktree add /tmp/base <commit> && (cd /tmp/base && pnpm install --offline && pnpm exec turbo run build)
//   node scripts/bench-against.mjs /tmp/base
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const other = process.argv[2];
if (!other) {
  console.error("usage: node scripts/bench-against.mjs <the other build's repository root>");
  process.exit(2);
}
const at = (root, pkg) => pathToFileURL(resolve(root, `packages/${pkg}/dist/index.js`)).href;
const here = new URL('..', import.meta.url).pathname;
const [baseE, baseS, newE, newS] = await Promise.all([
  import(at(other, 'engine')),
  import(at(other, 'scenarios')),
  import(at(here, 'engine')),
  import(at(here, 'scenarios')),
]);
const cases = [
  ['nowait-starvation', 'spf-nowait', 4, '20ms'],
  ['pft', 'classic', 4, '5ms'],
  ['mmap-contention', 'classic', 4, '10ms'],
];
const sides = { base: [baseE, baseS], now: [newE, newS] };
const ms = {};
for (let rep = 0; rep < 5; rep++) {
  for (const [name, policy, cpus, duration] of cases) {
    for (const side of rep % 2 ? ['base', 'now'] : ['now', 'base']) {
      const [E, S] = sides[side];
      const r = await E.runSimulation(S.getScenario(name).build({ policy, cpus, workers: 1, seed: 'perf', duration }));
      (ms[`${name} ${side}`] ??= []).push(r.host.loopMs ?? r.host.wallMs);
      (ms[`${name} ${side} per-event`] ??= []).push(((r.host.loopMs ?? r.host.wallMs) * 1e6) / r.events);
      (ms[`${name} ${side} digest`] ??= new Set()).add(r.digest.slice(0, 12));
    }
  }
}
const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const [name] of cases) {
  const b = med(ms[`${name} base`]);
  const n = med(ms[`${name} now`]);
  const pb = med(ms[`${name} base per-event`]);
  const pn = med(ms[`${name} now per-event`]);
  console.log(
    `${name}: loop ms median of 5, the other build ${b.toFixed(0)}, now ${n.toFixed(0)}, ratio ${(n / b).toFixed(3)}; ` +
      `ns per event ${pb.toFixed(0)} against ${pn.toFixed(0)}, ratio ${(pn / pb).toFixed(3)}; ` +
      `digests ${[...ms[`${name} base digest`]]} / ${[...ms[`${name} now digest`]]}`,
  );
}
