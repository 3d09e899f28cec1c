#!/usr/bin/env node
// sensitivity: the README's sensitivity table for the flagship question - nowait-starvation under classic,
// spf-nowait, spf-nowait-literal and spf-fallback, three seeds each, at the defaults and with one thing changed per
// row (CPUs, memory, layout, window, seeds, reclaim cost, how page tables are freed, HZ) - as `faultline compare`
// prints it. Each row's JSON goes to the output
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
  ['cpus16', '`--cpus 16 --duration 20ms`', ['--cpus', '16', '--duration', '20ms']],
  ['mem128', '`--memory 128`', ['--memory', '128']],
  ['mem1024', '`--memory 1024` (THP on: min_free_kbytes 45,056)', ['--memory', '1024']],
  ['mem4096', '`--memory 4096` (three zones)', ['--memory', '4096']],
  ['onezone', "`--layout one-zone` (one zone of 256 MiB, as before the kernel's layout)", ['--layout', 'one-zone']],
  ['win1', '`--window 1us`', ['--window', '1us']],
  ['dur20', '`--duration 20ms`', ['--duration', '20ms']],
  ['seeds6', '`--seeds 6 --seed other`', ['--seeds', '6', '--seed', 'other']],
  ['scan250', '`--scan-ns-per-page 250` (the cost fitted on one zone)', ['--scan-ns-per-page', '250']],
  ['scan1000', '`--scan-ns-per-page 1000`', ['--scan-ns-per-page', '1000']],
  ['cpus8scan1000', '`--cpus 8 --scan-ns-per-page 1000`', ['--cpus', '8', '--scan-ns-per-page', '1000']],
  ['paravirt', '`--platform paravirt` (every policy frees tables through RCU)', ['--platform', 'paravirt']],
  ['hz1000', '`--hz 1000` (grace periods of 1-2 ms)', ['--hz', '1000']],
  ['paravirt8', '`--platform paravirt --cpus 8`', ['--platform', 'paravirt', '--cpus', '8']],
  [
    'masks',
    '`--platform paravirt --hz 1000` (the masks alone: every policy frees through RCU, grace periods of 1-2 ms)',
    ['--platform', 'paravirt', '--hz', '1000'],
  ],
  ['masks8', '`--platform paravirt --hz 1000 --cpus 8`', ['--platform', 'paravirt', '--hz', '1000', '--cpus', '8']],
];
const POLICIES = ['classic', 'spf-nowait', 'spf-nowait-literal', 'spf-fallback'];

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const fmt = (x) => (Math.abs(x) >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(2));
const lines = [
  '| `faultline compare nowait-starvation --policies classic,spf-nowait,spf-nowait-literal,spf-fallback` with | ' +
    "victims' stall, classic / spf-nowait / literal (ms) | victims reclaimed | storm reclaimed | kswapd reclaimed | " +
    'time below min (ms) | victim failures, OOM kills |',
  '|---|---|---|---|---|---|---|',
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
  const three = (key) => ['classic', 'spf-nowait', 'spf-nowait-literal'].map((p) => fmt(fig(p, key))).join(' / ');
  const sum = (key) => POLICIES.reduce((s, p) => s + fig(p, key), 0);
  lines.push(
    `| ${label} | ${three('victim reclaim stall (ms)')} | ${three('reclaimed by victims')} | ${three('reclaimed by storm')} | ` +
      `${three('reclaimed by kswapd')} | ${three('time below min (ms)')} | ${fmt(sum('victim failures'))}, ${fmt(sum('OOM kills'))} |`,
  );
}
process.stdout.write(`${lines.join('\n')}\n`);
