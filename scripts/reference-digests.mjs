#!/usr/bin/env node
// reference-digests: the digest of a short run of every scenario under each of its policies (by default 4 CPUs,
// 1 worker, seed 'ref', 8 ms). Run it before and after a refactor that should not change behaviour, and diff the two outputs.
// Usage (after a build): node scripts/reference-digests.mjs [--layout kernel|one-zone] [--cpus N] [--workers N]
//   [--duration T] > before.txt
import { runSimulation } from '../packages/engine/dist/index.js';
import { policiesOf, SCENARIOS } from '../packages/scenarios/dist/index.js';

const arg = (name, fallback) => {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1] : fallback;
};
const layout = arg('--layout') ? { memoryLayout: arg('--layout') } : {};
const cpus = Number(arg('--cpus', '4'));
const workers = Number(arg('--workers', '1'));
const duration = arg('--duration', '8ms');
for (const s of SCENARIOS) {
  for (const policy of policiesOf(s)) {
    const r = await runSimulation({
      ...s.build({ policy, cpus, workers, seed: 'ref', duration }),
      ...layout,
    });
    console.log(s.name, policy, r.digest.slice(0, 16), r.error?.message ?? '');
  }
}
