#!/usr/bin/env node
// sensitivity: the README's sensitivity table for the flagship question - nowait-starvation under classic,
// spf-nowait-literal and spf-fallback, three seeds each, at the defaults and with one thing changed per row (CPUs, memory,
// layout, window, seeds, reclaim cost) - as `faultline compare` prints it. Each row's JSON goes to the output
// folder; a row whose JSON is there already is read, not run again (delete the folder to start over).
// Usage (after a build): node scripts/sensitivity.mjs [--out DIR]   (default out/sensitivity; about 10 minutes on 2 cores)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const at = process.argv.indexOf('--out');
const out = at > 0 ? process.argv[at + 1] : 'out/sensitivity';
mkdirSync(out, { recursive: true });
const bin = new URL('../packages/cli/bin/faultline.mjs', import.meta.url).pathname;
const ROWS = [
  ['default', '(the defaults: 4 CPUs, 256 MiB, kernel layout, 2 us, 200 ns)', []],
  ['cpus2', '`--cpus 2`', ['--cpus', '2']],
  ['cpus8', '`--cpus 8`', ['--cpus', '8']],
  ['mem128', '`--memory 128`', ['--memory', '128']],
  ['mem1024', '`--memory 1024` (THP on: min_free_kbytes 45,056)', ['--memory', '1024']],
  ['mem4096', '`--memory 4096` (three zones)', ['--memory', '4096']],
  ['onezone', "`--layout one-zone` (one zone of 256 MiB, as before the kernel's layout)", ['--layout', 'one-zone']],
  ['win1', '`--window 1us`', ['--window', '1us']],
  ['seeds6', '`--seeds 6 --seed other`', ['--seeds', '6', '--seed', 'other']],
  ['scan250', '`--scan-ns-per-page 250` (the cost fitted on one zone)', ['--scan-ns-per-page', '250']],
  ['scan1000', '`--scan-ns-per-page 1000`', ['--scan-ns-per-page', '1000']],
  ['cpus8scan1000', '`--cpus 8 --scan-ns-per-page 1000`', ['--cpus', '8', '--scan-ns-per-page', '1000']],
];
const POLICIES = ['classic', 'spf-nowait-literal', 'spf-fallback'];

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const fmt = (x) => (Math.abs(x) >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(2));
const lines = [
  "| `faultline compare nowait-starvation --policies classic,spf-nowait-literal,spf-fallback` with | victims' stall, " +
    'classic -> spf-nowait-literal (ms) | storm reclaimed | kswapd reclaimed | time below min (ms) |',
  '|---|---|---|---|---|',
];
for (const [name, label, args] of ROWS) {
  const file = join(out, `${name}.json`);
  if (!existsSync(file)) {
    process.stderr.write(`running ${name}: faultline compare nowait-starvation ${args.join(' ')}\n`);
    execFileSync(
      process.execPath,
      [bin, 'compare', 'nowait-starvation', '--policies', POLICIES.join(','), ...args, '--json', file],
      { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, FAULTLINE_NO_PROGRESS: '1' } },
    );
  }
  const runs = JSON.parse(readFileSync(file, 'utf8')).runs;
  const fig = (policy, key) =>
    mean(runs.filter((r) => (r.job.spec?.policy ?? r.job.policy) === policy).map((r) => r.figures[key]));
  const pair = (key) => `${fmt(fig('classic', key))} -> ${fmt(fig('spf-nowait-literal', key))}`;
  lines.push(
    `| ${label} | ${pair('victim reclaim stall (ms)')} | ${pair('reclaimed by storm')} | ${pair('reclaimed by kswapd')} | ` +
      `${pair('time below min (ms)')} |`,
  );
}
process.stdout.write(`${lines.join('\n')}\n`);
