#!/usr/bin/env node
// reference-digests: the digest of a short run of every scenario under every policy (4 CPUs, 1 worker, seed 'ref',
// 8 ms). Run it before and after a refactor that should not change behaviour, and diff the two outputs.
// Usage (after a build): node scripts/reference-digests.mjs [--layout kernel|one-zone] > before.txt
import { runSimulation } from '../packages/engine/dist/index.js';
import { POLICIES, SCENARIOS } from '../packages/scenarios/dist/index.js';

const at = process.argv.indexOf('--layout');
const layout = at > 0 ? { memoryLayout: process.argv[at + 1] } : {};
for (const s of SCENARIOS) {
  for (const policy of POLICIES) {
    const r = await runSimulation({
      ...s.build({ policy, cpus: 4, workers: 1, seed: 'ref', duration: '8ms' }),
      ...layout,
    });
    console.log(s.name, policy, r.digest.slice(0, 16), r.error?.message ?? '');
  }
}
