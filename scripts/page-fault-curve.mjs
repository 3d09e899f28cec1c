#!/usr/bin/env node
// page-fault-curve: the pft scenario's fault rate (will-it-scale's page_fault shape: map, touch, unmap, again) per
// policy as the CPU count grows, as `faultline compare pft` measures it (3 seeds, 5 ms each), with each policy's
// change over classic. mmtests' pft-threads, the published curve's benchmark, is scripts/pft-curve.mjs. Each size's JSON goes to the output folder and is read, not run again, when it is there.
// Usage (after a build): node scripts/page-fault-curve.mjs [--cpus 1,2,4,8,16,32] [--out DIR]   (default out/pft)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const sizes = arg('--cpus', '1,2,4,8,16,32').split(',').map(Number);
const out = arg('--out', 'out/pft');
mkdirSync(out, { recursive: true });
const bin = new URL('../packages/cli/bin/faultline.mjs', import.meta.url).pathname;
const POLICIES = ['classic', 'per-vma-lock', 'spf-fallback'];
const lines = [
  '| CPUs | classic (k faults/s) | per-vma-lock | spf-fallback | classic mmap_lock wait (ms) | per-vma-lock fell back |',
  '|---|---|---|---|---|---|',
];
for (const cpus of sizes) {
  const file = join(out, `pft-${cpus}.json`);
  if (!existsSync(file)) {
    process.stderr.write(`running pft at ${cpus} CPUs\n`);
    execFileSync(
      process.execPath,
      [
        bin,
        'compare',
        'pft',
        '--policies',
        POLICIES.join(','),
        '--cpus',
        String(cpus),
        '--duration',
        '5ms',
        '--json',
        file,
      ],
      { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, FAULTLINE_NO_PROGRESS: '1' } },
    );
  }
  const s = JSON.parse(readFileSync(file, 'utf8')).summary;
  const rate = (p) => s[p]['faults/s (k)'];
  const rel = (p) =>
    `${Math.round(rate(p).mean)} (${rate(p).mean >= rate('classic').mean ? '+' : ''}` +
    `${((rate(p).mean / rate('classic').mean - 1) * 100).toFixed(1)}%)`;
  lines.push(
    `| ${cpus} | ${Math.round(rate('classic').mean)} ± ${Math.round(rate('classic').half ?? 0)} | ${rel('per-vma-lock')} | ` +
      `${rel('spf-fallback')} | ${s.classic['mmap_lock wait (ms)'].mean.toFixed(2)} | ${Math.round(s['per-vma-lock']['fell back'].mean)} |`,
  );
}
process.stdout.write(`${lines.join('\n')}\n`);
