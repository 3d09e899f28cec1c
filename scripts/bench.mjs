#!/usr/bin/env node
// bench: run every benchmark in turn (plain scripts that print their figures beside the limits measured in the same
// run), the performance summary first. Usage: node scripts/bench.mjs [name ...]; names: performance (the engine and
// SimPy, each scenario per worker count, the flagship compare, memory per CPU), zone, engine, scenarios, mm.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const BENCHES = {
  performance: 'scripts/bench-performance.mjs',
  zone: 'packages/zone/bench/alloc-free.mjs',
  engine: 'packages/engine/bench/engine-scaling.mjs',
  scenarios: 'packages/scenarios/bench/scenario-rate.mjs',
  mm: 'packages/mm/bench/page-table-range.mjs',
};
const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
for (const name of wanted) {
  if (!(name in BENCHES)) {
    console.error(`bench: unknown benchmark '${name}'; known: ${Object.keys(BENCHES).join(', ')}`);
    process.exit(2);
  }
}
for (const [name, file] of Object.entries(BENCHES)) {
  if (wanted.length && !wanted.includes(name)) continue;
  console.log(`\n== ${name} (${file})`);
  const r = spawnSync(process.execPath, [join(root, file)], { stdio: 'inherit', cwd: root });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
