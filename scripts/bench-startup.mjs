#!/usr/bin/env node
// bench-startup: what a run pays before and around its simulation (issue 27's aim: the flagship scenario's fixed
// cost under 0.5 s): the wall time of whole `faultline run nowait-starvation --duration 2us` processes (14 events:
// everything but the simulation), beside Node starting and exiting alone, and beside another build's CLI when
// given (a git worktree, built), interleaved; medians of N.
// Usage (after a build): node scripts/bench-startup.mjs [--runs 7] [--against /tmp/base]
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const runs = Number(arg('--runs', '7'));
const against = arg('--against', null);
const here = new URL('..', import.meta.url).pathname;
const cli = (root) => resolve(root, 'packages/cli/bin/faultline.mjs');
const RUN = ['run', 'nowait-starvation', '--duration', '2us'];
const sides = [
  ['node alone', [process.execPath, ['-e', '']]],
  ['this build', [process.execPath, [cli(here), ...RUN]]],
  ...(against ? [[`${against}`, [process.execPath, [cli(against), ...RUN]]]] : []),
];
const times = new Map(sides.map(([name]) => [name, []]));
const env = { ...process.env, FAULTLINE_NO_PROGRESS: '1' };
for (let i = 0; i < runs; i++) {
  const order = i % 2 === 0 ? sides : [...sides].reverse();
  for (const [name, [cmd, args]] of order) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 0) throw new Error(`${name}: exit ${r.status}: ${r.stderr}`);
    times.get(name).push(ms);
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const [name, xs] of times)
  console.log(`${name.padEnd(20)} median ${median(xs).toFixed(0)} ms  (${xs.map((x) => x.toFixed(0)).join(', ')})`);
