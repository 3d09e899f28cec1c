// `faultline hunt` as a user runs it: a race planted in a task module, met on a few seeds in a hundred, found by a
// bounded hunt, shrunk to the fewest CPUs, one worker and a short run, and replayed alone to its digest; a hunt run
// again reads every run back; the worst of a figure found by search; the search space's rules.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { meets, parseMeasure, parsePredicate } from '../src/commands/hunt-expr.js';
import { replayLine } from '../src/commands/hunt-output.js';
import { dimensionsOf, numericGrid } from '../src/commands/hunt-space.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const bin = fileURLToPath(new URL('../bin/faultline.mjs', import.meta.url));
const cli = (...args: string[]) =>
  spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    cwd: root,
    env: { ...process.env, FAULTLINE_NO_PROGRESS: '1' },
  });

/** Two tasks on two CPUs and a mutex: the setter throws when it finds the mutex held, which happens only when its
 * random moment falls inside the holder's 3 us hold in 100 us: on about 3 seeds in a hundred. */
const RACE = `
export function* setter(ctx) {
  yield ctx.sleep(Math.floor(ctx.random() * 100_000));
  const t0 = ctx.now();
  yield ctx.lock('m');
  const waited = ctx.now() - t0;
  yield ctx.unlock('m');
  if (waited > 100) throw new Error('lost update: the setter found the lock held (' + waited + ' ns)');
}
export function* holder(ctx) {
  yield ctx.sleep(Math.floor(ctx.random() * 100_000));
  yield ctx.lock('m');
  yield ctx.compute(3_000);
  yield ctx.unlock('m');
}
`;

interface HuntDoc {
  best: {
    candidate: { seed: number; cpus: number; workers: number };
    durationNs: number;
    failed: boolean;
    objective: number | null;
    runs: Array<{ digest: string; error: string | null }>;
  } | null;
  replay: string | null;
  signatures: Array<{ signature: string; count: number }>;
  tried: Array<{ failed: boolean; objective: number | null; phase: string }>;
}

describe('faultline hunt --until', () => {
  it('finds a planted race, shrinks it, and the replay line reproduces it to the digest', () => {
    const dir = mkdtempSync(join(tmpdir(), 'faultline-hunt-'));
    writeFileSync(join(dir, 'race.mjs'), RACE);
    const file = join(dir, 'race.yaml');
    writeFileSync(
      file,
      [
        'scenario: custom',
        'cpus: 2',
        'duration: 1ms',
        'tasks:',
        `  - { module: ${join(dir, 'race.mjs')}, export: setter, name: setter, cpus: [0] }`,
        `  - { module: ${join(dir, 'race.mjs')}, export: holder, name: holder, cpus: [1] }`,
        'locks: { m: mutex }',
      ].join('\n'),
    );
    const args = ['hunt', file, '--until', 'error', '--cpus-list', '2,4', '--workers-list', '1,2', '--out'];
    const h = cli(...args, join(dir, 'out'), '--budget', '100');
    expect(h.status, h.stderr).toBe(0);
    expect(h.stdout).toContain('found: error');
    const doc = JSON.parse(readFileSync(join(dir, 'out', 'hunt.json'), 'utf8')) as HuntDoc;
    // Most seeds pass: the race is rare.
    expect(doc.tried.filter((t) => t.failed).length).toBeLessThan(doc.tried.length / 2);
    // Shrunk: the fewest CPUs and workers offered, and a shorter run than the file's.
    const b = doc.best!;
    expect(b.failed).toBe(true);
    expect(b.candidate.cpus).toBe(2);
    expect(b.candidate.workers).toBe(1);
    expect(b.durationNs).toBeLessThan(1_000_000);
    // One signature for every failing run: the same bug, whatever the numbers in its message.
    expect(doc.signatures).toHaveLength(1);
    expect(doc.signatures[0]!.signature).toContain('lost update');
    // The replay line runs it alone: the same failure, the same digest.
    const replay = doc.replay!.replace(/^faultline /, '').split(' ');
    expect(doc.replay).toBe(
      h.stdout
        .trim()
        .split('\n')
        .at(-1)!
        .replace(/^replay: /, ''),
    );
    const r = cli(...replay);
    expect(r.stderr).toContain('lost update');
    expect(r.stdout).toContain(`digest: ${b.runs[0]!.digest}`);
    // Run again, the hunt reads every run back and computes none.
    const again = cli(...args, join(dir, 'out'), '--budget', '100');
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/ 0 runs computed, \d+ read back/);
    // Too small a budget: it says it did not find it.
    const small = cli(...args, join(dir, 'small'), '--budget', '2', '--search-seed', 'other');
    expect(small.status, small.stderr).toBe(0);
    expect(small.stdout).toContain('not found in 2 candidates: error');
  });
});

describe('faultline hunt --maximize', () => {
  it("searches a scenario's params for the worst of a figure, starting from its defaults", () => {
    const dir = mkdtempSync(join(tmpdir(), 'faultline-hunt-max-'));
    const h = cli(
      'hunt',
      'pft',
      '--maximize',
      'mmap_lock wait (ms)',
      '--vary',
      'regionPages',
      '--cpus',
      '2',
      '--duration',
      '1ms',
      '--budget',
      '6',
      '--out',
      dir,
    );
    expect(h.status, h.stderr).toBe(0);
    const doc = JSON.parse(readFileSync(join(dir, 'hunt.json'), 'utf8')) as HuntDoc;
    expect(doc.tried[0]!.phase).toBe('search');
    const all = doc.tried.map((t) => t.objective!);
    expect(doc.best!.objective).toBe(Math.max(...all));
    expect(doc.best!.objective).toBeGreaterThanOrEqual(all[0]!); // the defaults' run is the first tried
    // The whole budget is spent before shrinking (a walk that finds nothing better samples again).
    expect(doc.tried.filter((t) => t.phase !== 'shrink')).toHaveLength(6);
    expect(h.stdout).toMatch(
      /worst mmap_lock wait \(ms\) under classic: [\d.]+ \(seed hunt-\d+, params.regionPages=\d+\)/,
    );
    const bad = cli('hunt', 'pft', '--maximize', 'nope', '--budget', '2', '--out', join(dir, 'bad'));
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/--maximize nope: 'nope' is not a figure of this run; allowed: faults\/s \(k\), /);
    // An expression of two policies' figures on the same candidates: each candidate runs under both.
    const expr = '{faults/s (k)} / {faults/s (k) @ per-vma-lock}';
    const e = cli(
      ...['hunt', 'pft', '--maximize', expr, '--vary', 'regionPages', '--cpus', '2', '--duration', '1ms'],
      ...['--budget', '3', '--shrink-budget', '0', '--out', join(dir, 'expr')],
    );
    expect(e.status, e.stderr).toBe(0);
    const edoc = JSON.parse(readFileSync(join(dir, 'expr', 'hunt.json'), 'utf8')) as HuntDoc & { policies: string[] };
    expect(edoc.policies).toEqual(['classic', 'per-vma-lock']);
    for (const t of edoc.tried) {
      const [a, b] = (t as unknown as { runs: Array<{ figures: Record<string, number> }> }).runs;
      expect(t.objective).toBeCloseTo(a!.figures['faults/s (k)']! / b!.figures['faults/s (k)']!, 9);
    }
    // --strategy random: every candidate sampled, none walked to.
    const r = cli(
      ...['hunt', 'pft', '--maximize', 'faults/s (k)', '--vary', 'regionPages', '--cpus', '2', '--duration', '1ms'],
      ...['--budget', '4', '--shrink-budget', '0', '--strategy', 'random', '--out', join(dir, 'random')],
    );
    expect(r.status, r.stderr).toBe(0);
    const rdoc = JSON.parse(readFileSync(join(dir, 'random', 'hunt.json'), 'utf8')) as HuntDoc;
    expect(rdoc.tried.map((t) => t.phase)).toEqual(['search', 'search', 'search', 'search']);
    const both = cli('hunt', 'pft', '--maximize', expr, '--against', 'classic', '--out', join(dir, 'x'));
    expect(both.stderr).toContain('--against with an expression');
  });
});

describe("a search of the caller's own (the API)", () => {
  it('asks it for candidates within the budget and tells it what each gave', async () => {
    const { huntCommand } = (await import('../dist/commands/hunt.js')) as typeof import('../src/commands/hunt.js');
    const told: Array<number | null> = [];
    const asked: number[] = [];
    const dir = mkdtempSync(join(tmpdir(), 'faultline-hunt-search-'));
    const h = await huntCommand('pft', {
      ...{ cpus: 2, duration: '1ms', set: [], seeds: 5, seed: 'hunt', searchSeed: 'x', keep: 0.9, out: dir },
      ...{ budget: 3, shrinkBudget: 0, maximize: 'faults/s (k)', vary: 'regionPages' },
      search: (dims, seeds, cpus) => {
        expect(dims.map((d) => d.path)).toEqual(['params.regionPages']);
        const values = dims[0]!.values;
        let next = 0;
        return {
          ask: (n) => {
            asked.push(n);
            // Two candidates at the grid's ends, then nothing more: the search is done.
            const c = [values[0]!, values.at(-1)!].slice(next, next + n).map((v, i) => ({
              values: { 'params.regionPages': v },
              seed: Math.min(seeds, 2 + i),
              cpus,
              workers: 1,
            }));
            next += c.length;
            return c;
          },
          tell: (tried) => {
            for (const t of tried) told.push(t.objective);
          },
        };
      },
    });
    // The defaults' run first (told at the start), then the two asked; the budget of 3 spent.
    expect(asked[0]).toBe(2);
    expect(h.tried.map((t) => t.candidate.values['params.regionPages'])).toHaveLength(3);
    expect(told).toEqual(h.tried.map((t) => t.objective));
    expect(h.best!.objective).toBe(Math.max(...h.tried.map((t) => t.objective!)));
  });
});

describe('the replay line', () => {
  it('keeps a find of several workers on that many, however busy the host that replays it', () => {
    const tried = (workers: number) =>
      ({
        phase: 'shrink',
        candidate: { values: { 'params.regionPages': 64 }, seed: 3, cpus: 4, workers },
        durationNs: 200_000,
        runs: [],
        objective: null,
        failed: true,
      }) as const;
    const o = { seed: 'hunt', budget: 1 } as unknown as Parameters<typeof replayLine>[1];
    expect(replayLine('pft', o, tried(2), 'classic')).toBe(
      'faultline run pft --policy classic --seed hunt-3 --cpus 4 --workers 2 --no-follow-load --duration 200us ' +
        '--set params.regionPages=64',
    );
    expect(replayLine('pft', o, tried(1), 'classic')).not.toContain('--no-follow-load');
  });
});

describe('the search space', () => {
  it('centres each numeric grid on the default, inside the declared bounds', () => {
    const g = numericGrid(1024, 128, 8192, true);
    expect(g).toContain(1024);
    expect(g[0]).toBe(128);
    expect(g.at(-1)).toBe(8192);
    const dims = dimensionsOf(
      { cycle: { type: 'integer', min: 1, max: 2000, description: '' }, on: { type: 'boolean', description: '' } },
      { cycle: 1024, on: true },
      undefined,
      new Map(),
      new Map(),
    );
    expect(dims.map((d) => d.path)).toEqual(['params.cycle', 'params.on']);
    expect(Math.max(...(dims[0]!.values as number[]))).toBe(2000); // 8x the default, clipped to the bound
    expect(dims[1]!.values).toEqual([true, false]);
    expect(() =>
      dimensionsOf(
        { cycle: { type: 'integer', min: 1, max: 9, description: '' } },
        { cycle: 3 },
        ['nope'],
        new Map(),
        new Map(),
      ),
    ).toThrow(/nope: not a param of this scenario; allowed: cycle/);
  });
  it('reads a predicate as error, FIGURE OP NUMBER or an expression, and names what it allows', () => {
    const run = (policy: string, figures: Record<string, number>, error: string | null = null) => ({
      policy,
      figures,
      error,
    });
    const p = parsePredicate('victim failures > 0');
    expect(meets(p, [run('a', { 'victim failures': 2 })], 'a')).toBe(true);
    expect(meets(p, [run('a', { 'victim failures': 0 })], 'a')).toBe(false);
    expect(meets(p, [run('a', {}, 'died')], 'a')).toBe(false); // no figure: not met
    expect(meets(parsePredicate('error'), [run('a', {}, 'x')], 'a')).toBe(true);
    const either = parsePredicate('error || {others OOM-killed} > 0');
    expect(meets(either, [run('a', { 'others OOM-killed': 1 })], 'a')).toBe(true);
    expect(meets(either, [run('a', { 'others OOM-killed': 0 })], 'a')).toBe(false);
    expect(meets(either, [run('a', {}, 'x')], 'a')).toBe(true);
    expect(() => parsePredicate('victims fail')).toThrow(/want 'error', 'FIGURE OP NUMBER'/);
    expect(() => parsePredicate('{a} > b')).toThrow(/'b' is not known/);
    expect(() => parsePredicate('{a} > "b"')).toThrow(/"b" is not a number/);
    expect(() => parsePredicate('{a} = 1')).toThrow(/--until \{a\} = 1: .*allowed: figures in braces/);
  });
  it("measures a figure, or an expression of figures with another policy's after @", () => {
    const runs = [
      { policy: 'spf', figures: { stall: 3, n: 2 }, error: null },
      { policy: 'classic', figures: { stall: 1.5, n: 0 }, error: null },
    ];
    const by = new Map(runs.map((r) => [r.policy, r]));
    expect(parseMeasure('stall').value(by, 'spf')).toBe(3);
    const ratio = parseMeasure('{stall} / {stall @ classic}');
    expect(ratio.policies).toEqual(['classic']);
    expect(ratio.value(by, 'spf')).toBe(2);
    expect(parseMeasure('max({n}, 1) * abs(-{stall @ classic}) - 1').value(by, 'spf')).toBe(2);
    // A division by zero or a figure missing is no value, not a worst.
    expect(parseMeasure('{stall} / {n @ classic}').value(by, 'spf')).toBeNull();
    expect(parseMeasure('{stall @ other}').value(by, 'spf')).toBeNull();
    expect(() => parseMeasure('{stall} ** 2')).toThrow(/--maximize/);
    expect(() => parseMeasure('{ @ classic}')).toThrow(/an empty figure or policy/);
  });
});
