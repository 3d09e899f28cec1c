#!/usr/bin/env node
// pft-curve: mmtests' pft-threads in the model (the pft-threads scenario) at the published thread counts on a
// machine preset with cache lines charged, under classic and per-vma-lock, beside the published curve (mmtests
// pft-threads, Hmean faults/sec, a 2-socket Ice Lake 8336C, per-VMA locks v2, 2023). One run per point: the
// scenario draws no random numbers. Each point's JSON goes to the output folder and is read, not run again, when
// it is there.
// --layout is mm_struct's around mmap_lock (the scenario's mmStructLayout): v6.2, the published curve's kernel (pgd on
// mmap_lock's line), by default; v6.3 for today's.
// Usage (after a build): node scripts/pft-curve.mjs [--threads 1,4,7,12,21,30,48,79,110,128] [--topology icelake-2s]
//   [--placement kernel|spread|socket-first] [--layout v6.2|v6.3] [--window 2us] [--out DIR] [--json FILE]  (out/pft-threads)
// The line columns are classic's: line moves and line waits a fault (every line charged), and the waits a fault for
// lru_lock (a spinlock taken once a lru_add batch) and zone->lock (a pcp refill's).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const threads = arg('--threads', '1,4,7,12,21,30,48,79,110,128').split(',').map(Number);
const topology = arg('--topology', 'icelake-2s');
const placement = arg('--placement', 'kernel');
const windowArg = arg('--window', '2us');
const layout = arg('--layout', 'v6.2');
const out = arg('--out', 'out/pft-threads');
const jsonOut = arg('--json', null);
mkdirSync(out, { recursive: true });
const bin = new URL('../packages/cli/bin/faultline.mjs', import.meta.url).pathname;
// The published table (issue 24; mmtests pft-threads, Hmean faults/sec over its runs).
const PUBLISHED = {
  1: [898_782, 894_247],
  4: [2_965_589, 2_683_652],
  12: [4_969_514, 4_829_731],
  30: [6_153_685, 6_489_312],
  48: [6_197_953, 7_216_321],
  79: [6_167_135, 7_425_927],
  110: [6_264_768, 7_813_329],
  128: [6_460_728, 7_875_665],
};
const POLICIES = ['classic', 'per-vma-lock'];
const M = (x) => (x / 1e6).toFixed(2);
const pct = (a, b) => `${a >= b ? '+' : ''}${((a / b - 1) * 100).toFixed(1)}%`;
const rows = [];
for (const n of threads) {
  const row = { threads: n };
  for (const policy of POLICIES) {
    const file = join(out, `${topology}-${placement}-${layout}-${windowArg}-${policy}-${n}.json`);
    if (!existsSync(file)) {
      process.stderr.write(`pft-threads: ${policy} at ${n} threads\n`);
      execFileSync(
        process.execPath,
        [
          bin,
          'run',
          'pft-threads',
          '--policy',
          policy,
          '--cpus',
          String(n),
          '--window',
          windowArg,
          '--set',
          `machine.topology={"preset":"${topology}","placement":"${placement}"}`,
          '--set',
          'machine.coherence=lines',
          '--set',
          `params.mmStructLayout=${layout}`,
          '--json',
          file,
        ],
        { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, FAULTLINE_NO_PROGRESS: '1' } },
      );
    }
    const r = JSON.parse(readFileSync(file, 'utf8'));
    const f = r.figures;
    row[policy] = {
      faultsPerSec: f['faults/s (k)'] * 1e3,
      transfersPerFault: f['line transfers per fault'],
      stallPerFaultNs: f['line stall per fault (ns)'],
      lruWaitPerFaultNs: f['lru_lock wait per fault (ns)'] ?? 0,
      zoneWaitPerFaultNs: f['zone->lock wait per fault (ns)'] ?? 0,
      finished: f['threads finished'],
      hostSeconds: r.result?.host?.wallMs !== undefined ? r.result.host.wallMs / 1e3 : null,
    };
  }
  rows.push(row);
}
const lines = [
  `pft-threads on ${topology} (placement ${placement}, mm_struct ${layout}, window ${windowArg}), cache lines ` +
    'charged; M faults/s',
  '',
  '| threads | classic | published | per-vma-lock | published | per-VMA change | published | line moves a fault | ' +
    'line wait a fault (ns) | lru_lock wait (ns) | zone->lock wait (ns) |',
  '|---|---|---|---|---|---|---|---|---|---|---|',
];
for (const row of rows) {
  const c = row.classic.faultsPerSec;
  const v = row['per-vma-lock'].faultsPerSec;
  const p = PUBLISHED[row.threads];
  lines.push(
    `| ${row.threads} | ${M(c)} | ${p ? M(p[0]) : '-'} | ${M(v)} | ${p ? M(p[1]) : '-'} | ${pct(v, c)} | ` +
      `${p ? pct(p[1], p[0]) : '-'} | ${row.classic.transfersPerFault.toFixed(2)} | ` +
      `${Math.round(row.classic.stallPerFaultNs)} | ${Math.round(row.classic.lruWaitPerFaultNs)} | ` +
      `${Math.round(row.classic.zoneWaitPerFaultNs)} |`,
  );
}
process.stdout.write(`${lines.join('\n')}\n`);
if (jsonOut)
  writeFileSync(jsonOut, `${JSON.stringify({ topology, placement, layout, window: windowArg, rows }, null, 2)}\n`);
