// bench-flagship: issue 27's first aim, both sides in one run - the wall time of the flagship comparison
// (`faultline compare nowait-starvation`: 6 policies x 3 seeds, 50 ms at 4 CPUs each, on the CLI's pool of threads)
// against a 100 ms run of plain generator tasks (4 CPUs, two tasks each computing in 1 us steps: the engine with
// nothing of the model), whole processes, interleaved; medians of N. Aim: the comparison at most 5x the plain run.
// Usage (after a build): node scripts/bench-flagship.mjs [--runs 3]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'packages/cli/bin/faultline.mjs');
const argRuns = process.argv.indexOf('--runs');
const runs = argRuns > 0 ? Number(process.argv[argRuns + 1]) : 3;
if (!(Number.isInteger(runs) && runs >= 1)) throw new Error('--runs N: a whole number, 1 or more');

const dir = mkdtempSync(join(os.tmpdir(), 'faultline-flagship-'));
const plainTask = join(dir, 'plain.mjs');
writeFileSync(plainTask, 'export default function* plain(ctx) { for (;;) yield ctx.compute(1000); }\n');

const sides = {
  compare: ['compare', 'nowait-starvation'],
  plain: ['run', '--task', plainTask, '--cpus', '4', '--duration', '100ms', '--seed', 'plain'],
};
/** One whole process's wall time, ms; its output checked. */
function wall(args) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: dir, encoding: 'utf8' });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`faultline ${args.join(' ')}: exit ${r.status}\n${r.stderr}`);
  return ms;
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const times = { compare: [], plain: [] };
for (let i = 0; i < runs; i++) for (const [side, args] of Object.entries(sides)) times[side].push(wall(args));
const c = median(times.compare);
const p = median(times.plain);
console.log(
  `machine: ${os.cpus()[0]?.model ?? 'unknown'}, ${os.availableParallelism()} cores, Node ${process.version}`,
);
console.log(`compare nowait-starvation: median ${Math.round(c)} ms (${times.compare.map(Math.round).join(', ')})`);
console.log(`plain tasks, 100 ms at 4 CPUs: median ${Math.round(p)} ms (${times.plain.map(Math.round).join(', ')})`);
console.log(`ratio ${(c / p).toFixed(1)}x (aim: at most 5x)`);
