#!/usr/bin/env node
// hunt-worst: the README's "worst storm found" table - for each policy compared with classic in nowait-starvation,
// `faultline hunt` four times over the storm's shape and the seed (its threads per CPU, cycle, gap between faults,
// whether its threads are bound; seeds hunt-1..hunt-100; 4 CPUs, 20 ms, budget 24 each):
//   stall:    the largest excess of the victims' reclaim stall over classic's on the same candidate;
//   bound:    the same with the threads bound to their CPUs (the oracle's way);
//   failures: the largest excess of the victims' allocation failures over classic's, the victims allocating with a
//             mask that can fail (GFP_KERNEL|__GFP_NORETRY);
//   others:   a run in which the OOM killer ends a task outside the storm, over every param of the scenario.
// Each hunt is run by the CLI, its runs kept in out/hunt-worst/<policy>-<what>/ (a second run reads them back).
// Prints a markdown table and each hunt's command and replay line.
// Usage (after a build): node scripts/hunt-worst.mjs [--budget 24] [--policies a,b] [--out out/hunt-worst]
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const arg = (name, fallback) => {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1] : fallback;
};
const budget = arg('--budget', '24');
const policies = arg('--policies', 'spf-nowait,spf-nowait-literal,spf-fallback').split(',');
const outRoot = arg('--out', 'out/hunt-worst');
const bin = new URL('../packages/cli/dist/bin.js', import.meta.url).pathname;
const STALL = 'victim reclaim stall (ms)';
const SHAPE = 'stormThreadsPerCpu,stormCycle,stormGapNs';
const common = ['nowait-starvation', '--cpus', '4', '--duration', '20ms', '--seeds', '100', '--budget', budget];
const HUNTS = {
  stall: ['--maximize', STALL, '--against', 'classic', '--vary', `${SHAPE},threadsPinned`],
  bound: ['--maximize', STALL, '--against', 'classic', '--vary', SHAPE, '--set', 'params.threadsPinned=true'],
  failures: [
    ...['--maximize', '{victim failures} - {victim failures @ classic}', '--vary', `${SHAPE},threadsPinned`],
    ...['--set', 'params.victimMask=GFP_KERNEL|__GFP_NORETRY'],
  ],
  others: ['--until', '{others OOM-killed} > 0'],
};

const quote = (s) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", "'\\''")}'`);
const results = {};
const commands = [];
for (const policy of policies)
  for (const [what, extra] of Object.entries(HUNTS)) {
    const out = join(outRoot, `${policy}-${what}`);
    const args = ['hunt', ...common, '--policies', policy, ...extra, '--out', out];
    commands.push(`faultline ${args.map(quote).join(' ')}`);
    process.stderr.write(`hunt-worst: ${policy} ${what}\n`);
    const r = spawnSync(process.execPath, [bin, ...args], {
      encoding: 'utf8',
      env: { ...process.env, FAULTLINE_NO_PROGRESS: '1' },
    });
    if (r.status !== 0) throw new Error(`${commands.at(-1)} failed (${r.status}):\n${r.stderr}`);
    const doc = JSON.parse(readFileSync(join(out, 'hunt.json'), 'utf8'));
    const first = doc.tried[0];
    results[`${policy} ${what}`] = { doc, first };
  }

const fmt = (x) => (x === null || x === undefined ? '-' : Number(x.toPrecision(3)).toString());
/** The storm a find differs from the defaults by, in words. */
const storm = (doc) => {
  const b = doc.best;
  if (!b) return '-';
  const dflt = Object.fromEntries(doc.dimensions.map((d) => [d.path, d.values[d.at]]));
  const words = {
    'params.threadsPinned': (v) => (v ? 'threads bound' : 'threads unbound'),
    'params.stormThreadsPerCpu': (v) => `${v} a CPU`,
    'params.stormCycle': (v) => `cycle ${v.toLocaleString('en')}`,
    'params.stormGapNs': (v) => `gap ${v.toLocaleString('en')} ns`,
  };
  const changed = Object.entries(b.candidate.values)
    .filter(([k, v]) => v !== dflt[k])
    .map(([k, v]) => (words[k] ? words[k](v) : `${k.replace(/^params\./, '')} ${v}`));
  return `${changed.length ? changed.join(', ') : 'the default storm'}; seed hunt-${b.candidate.seed}`;
};

const lines = [
  "| policy | stall above `classic`'s: default storm (ms) | the worst found (ms) | its storm | the worst, threads bound (ms) | its storm | victims' failures above `classic`'s (`__GFP_NORETRY`): default | the worst found | its storm | a task outside the storm OOM-killed |",
  '|---|---|---|---|---|---|---|---|---|---|',
];
for (const policy of policies) {
  const s = results[`${policy} stall`];
  const b = results[`${policy} bound`];
  const f = results[`${policy} failures`];
  const o = results[`${policy} others`];
  const killed = o.doc.best
    ? `found (${o.doc.tried.length} tried): ${storm(o.doc)}`
    : `none in ${o.doc.tried.length} candidates`;
  lines.push(
    `| \`${policy}\` | ${fmt(s.first.objective)} | ${fmt(s.doc.best?.objective)} | ${storm(s.doc)} | ` +
      `${fmt(b.doc.best?.objective)} | ${storm(b.doc)} | ${fmt(f.first.objective)} | ` +
      `${fmt(f.doc.best?.objective)} | ${storm(f.doc)} | ${killed} |`,
  );
}
process.stdout.write(`${lines.join('\n')}\n\nCommands (budget ${budget}, search seed faultline):\n\n`);
for (const c of commands) process.stdout.write(`    ${c}\n`);
process.stdout.write('\nReplays:\n\n');
for (const [k, { doc }] of Object.entries(results)) process.stdout.write(`    ${k}: ${doc.replay ?? '-'}\n`);
