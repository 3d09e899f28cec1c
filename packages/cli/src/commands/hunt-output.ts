// hunt-output: what a hunt says and writes - the summary, the replay line of its find, its failures grouped by
// signature, and DIR/hunt.json (faultline.hunt/1) and hunt.csv with every candidate tried.
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { isScenarioFile } from '@faultline/scenarios';
import { shellQuote } from '../scenario-fields.js';
import type { Hunt, HuntOptions, Tried } from './hunt.js';
import { type Expr, meets } from './hunt-expr.js';
import type { Dimension } from './hunt-space.js';

export const HUNT_SCHEMA = 'faultline.hunt/1';

/** The command that runs the find alone, to the same digest. */
export function replayLine(ref: string, o: HuntOptions, t: Tried, policy: string): string {
  const file = isScenarioFile(ref) ? resolve(ref) : ref;
  const c = t.candidate;
  const sets = [...(o.set ?? []), ...Object.entries(c.values).map(([p, v]) => `${p}=${v}`)];
  return [
    'faultline run',
    shellQuote(file),
    `--policy ${policy}`,
    `--seed ${shellQuote(`${o.seed}-${c.seed}`)}`,
    `--cpus ${c.cpus}`,
    `--workers ${c.workers}`,
    // The failure may need its worker count: a busy host must not run the replay on fewer.
    ...(c.workers > 1 ? ['--no-follow-load'] : []),
    `--duration ${t.durationNs / 1000}us`,
    ...sets.map((s) => `--set ${shellQuote(s)}`),
  ].join(' ');
}

/** Failures by what they say, numbers blanked: a thousand seeds that hit one bug are one line. */
export function signaturesOf(tried: readonly Tried[], p: Expr) {
  const by = new Map<string, { count: number; example: string }>();
  for (const t of tried)
    for (const r of t.runs) {
      if (!meets(p, t.runs, r.policy)) continue;
      const text = r.error ?? p.text;
      const sig = text.replace(/\d+(\.\d+)?/g, '#');
      const e = by.get(sig) ?? { count: 0, example: text };
      e.count++;
      by.set(sig, e);
    }
  return [...by].map(([signature, e]) => ({ signature, ...e })).sort((a, b) => b.count - a.count);
}

export const fmt = (x: number | null | undefined) =>
  x === null || x === undefined ? '-' : Number(x.toPrecision(4)).toString();

export function summary(h: Hunt, o: HuntOptions, hunted: string): string {
  const lines = [
    `hunt: ${h.tried.length} candidates, ${h.computed} runs computed, ` +
      `${h.reused} read back from ${join(o.out!, 'runs')}` +
      `${h.interrupted ? ' (interrupted: the same command resumes)' : ''}`,
  ];
  const b = h.best;
  if (h.mode === 'maximize') {
    lines.push(
      b
        ? `worst ${o.maximize}${o.against ? ` above ${o.against}'s` : ''} under ${hunted}: ${fmt(b.objective)} ` +
            `(seed ${o.seed}-${b.candidate.seed}${Object.entries(b.candidate.values)
              .map(([k, v]) => `, ${k}=${v}`)
              .join('')})`
        : 'no candidate gave the figure',
    );
  } else {
    lines.push(b ? `found: ${o.until}` : `not found in ${o.budget} candidates: ${o.until}`);
    for (const s of h.signatures.slice(0, 10)) lines.push(`  ${s.count} x ${s.example}`);
  }
  if (h.replay) lines.push(`replay: ${h.replay}`);
  return `${lines.join('\n')}\n`;
}

export function writeOutputs(
  out: string,
  h: Hunt,
  dims: readonly Dimension[],
  o: HuntOptions,
  policies: readonly string[],
) {
  const doc = {
    schema: HUNT_SCHEMA,
    mode: h.mode,
    ...(o.maximize !== undefined ? { maximize: o.maximize, against: o.against ?? null } : { until: o.until }),
    policies,
    searchSeed: o.searchSeed,
    budget: o.budget,
    dimensions: dims,
    best: h.best,
    replay: h.replay,
    signatures: h.signatures,
    tried: h.tried,
  };
  writeFileSync(join(out, 'hunt.json'), `${JSON.stringify(doc, null, 1)}\n`);
  const rows = h.tried.map((t, i) => ({
    n: i + 1,
    phase: t.phase,
    seed: `${o.seed}-${t.candidate.seed}`,
    cpus: t.candidate.cpus,
    workers: t.candidate.workers,
    duration_us: t.durationNs / 1000,
    ...Object.fromEntries(dims.map((d) => [d.path, String(t.candidate.values[d.path])])),
    objective: t.objective ?? '',
    failed: t.failed,
  }));
  writeFileSync(join(out, 'hunt.csv'), stringify(rows, { header: true }));
}
