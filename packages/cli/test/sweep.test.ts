// `faultline sweep` as a user runs it: the grid, results stored by key and never computed twice, a sweep that
// resumes, the tidy table, the difference from the baseline, and a stored run that replays alone to its digest.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { columnName, gridPoints, parseGrid } from '../src/commands/sweep.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const bin = fileURLToPath(new URL('../bin/faultline.mjs', import.meta.url));
const run = (...args: string[]) =>
  spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    cwd: root,
    env: { ...process.env, FAULTLINE_NO_PROGRESS: '1' },
  });

describe('the grid', () => {
  it('is every combination, the last axis fastest, with short names for the machine', () => {
    const axes = parseGrid(['cpus=2,4', 'memory=256,1024']);
    expect(axes.map((a) => [a.path, a.column])).toEqual([
      ['cpus', 'cpus'],
      ['machine.memoryMiB', 'memory_mib'],
    ]);
    expect(gridPoints(axes)).toEqual([
      { cpus: '2', 'machine.memoryMiB': '256' },
      { cpus: '2', 'machine.memoryMiB': '1024' },
      { cpus: '4', 'machine.memoryMiB': '256' },
      { cpus: '4', 'machine.memoryMiB': '1024' },
    ]);
    expect(gridPoints([])).toEqual([{}]);
  });
  it('names figures as snake_case columns with their units', () => {
    expect(columnName('victim alloc p99 (us)')).toBe('victim_alloc_p99_us');
    expect(columnName('faults/s (k)')).toBe('faults_per_s_k');
    expect(columnName('aborted (%)')).toBe('aborted_pct');
    expect(columnName('params.stormThreadsPerCpu')).toBe('storm_threads_per_cpu');
  });
  it('refuses a malformed axis, a repeated one, and the policy', () => {
    expect(() => parseGrid(['cpus'])).toThrow(/--grid cpus: must be field=value,value,/);
    expect(() => parseGrid(['cpus=2', 'cpus=4'])).toThrow(/cpus is swept twice/);
    expect(() => parseGrid(['policy=classic'])).toThrow(/policies are swept with --policies/);
    expect(() => parseGrid(['cpus=2,2'])).toThrow(/a value is repeated/);
  });
});

describe('faultline sweep', () => {
  const out = mkdtempSync(join(tmpdir(), 'faultline-sweep-'));
  const args = [
    'sweep',
    'mmap-contention',
    '--grid',
    'cpus=1,2',
    '--policies',
    'classic,per-vma-lock',
    '--seeds',
    '2',
    '--duration',
    '1ms',
    '--threads',
    '2',
    '--out',
    out,
  ];

  it('runs the grid, stores each run by key, and writes the tidy table and the differences from the baseline', () => {
    const r = run(...args);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('2 points x 2 policies x 2 seeds = 8 runs; 0 already in');
    expect(r.stdout).toMatch(/faults\/s \(k\) \(mean ± 95% CI; \+x%: from classic/);
    expect(r.stdout).toMatch(/^2\s+\S.*\(([+-]\d+(\.\d)?%\**|=)\)\s*$/m);
    expect(readdirSync(join(out, 'runs')).filter((f) => f.endsWith('.json'))).toHaveLength(8);
    const csv = readFileSync(join(out, 'sweep.csv'), 'utf8').trim().split('\n');
    expect(csv).toHaveLength(9);
    expect(csv[0]!.split(',').slice(0, 5)).toEqual(['scenario', 'policy', 'seed', 'cpus', 'faults_per_s_k']);
    const j = JSON.parse(readFileSync(join(out, 'sweep.json'), 'utf8')) as {
      schema: string;
      rows: Array<Record<string, unknown>>;
      summary: Array<Record<string, unknown>>;
      command: string;
    };
    expect(j.schema).toBe('faultline.sweep/1');
    expect(j.rows[0]).toMatchObject({ scenario: 'mmap-contention', policy: 'classic', seed: 'faultline-1', cpus: 1 });
    expect(typeof j.rows[0]!.faults_per_s_k).toBe('number');
    const vs = j.summary.find((x) => x.policy === 'per-vma-lock' && x.figure === 'faults_per_s_k');
    expect(vs).toHaveProperty('vs_baseline_pct');
    expect(j.command).toBe(
      `faultline sweep mmap-contention --set duration=1ms --grid cpus=1,2 --policies classic,per-vma-lock --seeds 2 --seed faultline --out ${out}`,
    );
  });

  it('resumes: nothing is computed twice, and a lost result is computed again to the same digest', () => {
    const before = readFileSync(join(out, 'sweep.csv'), 'utf8');
    const again = run(...args);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toContain('8 already in');
    expect(again.stdout).toContain('0 to run');
    expect(readFileSync(join(out, 'sweep.csv'), 'utf8')).toBe(before);
    // A run lost, and one damaged (a sweep killed as it wrote): both are computed again, to the same results.
    const files = readdirSync(join(out, 'runs')).sort();
    const lost = JSON.parse(readFileSync(join(out, 'runs', files[0]!), 'utf8')) as { digest: string; figures: object };
    rmSync(join(out, 'runs', files[0]!));
    writeFileSync(join(out, 'runs', files[1]!), '{"schema": "faultline.sweep-run/1", "key"');
    const third = run(...args);
    expect(third.stdout).toContain('6 already in');
    expect(third.stdout).toContain('2 to run');
    const redone = JSON.parse(readFileSync(join(out, 'runs', files[0]!), 'utf8')) as {
      digest: string;
      figures: object;
    };
    expect(redone.digest).toBe(lost.digest);
    expect(redone.figures).toEqual(lost.figures);
    // Other code or another grid value is another key: a new point is computed, the old ones kept.
    const wider = run(...args.map((a) => (a === 'cpus=1,2' ? 'cpus=1,2,3' : a)));
    expect(wider.stdout).toContain('8 already in');
    expect(wider.stdout).toContain('4 to run');
  });

  it('stores what `faultline run` of that point and seed gives, to the digest', () => {
    const j = JSON.parse(readFileSync(join(out, 'sweep.json'), 'utf8')) as { rows: Array<Record<string, unknown>> };
    const row = j.rows.find((x) => x.cpus === 2 && x.policy === 'per-vma-lock' && x.seed === 'faultline-2')!;
    const one = run(
      'run',
      'mmap-contention',
      '--policy',
      'per-vma-lock',
      '--cpus',
      '2',
      '--duration',
      '1ms',
      '--seed',
      'faultline-2',
    );
    expect(one.stdout).toContain(`digest: ${String(row.digest)}`);
  });

  it('refuses bad input by name before anything runs', () => {
    const bad = run('sweep', 'pft', '--grid', 'cpus=1,0', '--out', join(out, 'x'));
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('scenario pft: cpus: must be >= 1; got 0');
    expect(run('sweep', 'pft', '--grid', 'cpus=1').stderr).toContain('--out DIR: give the folder for the results');
    expect(run('sweep', 'pft', '--policy', 'classic', '--out', out).stderr).toContain(
      '--policy does not apply to a sweep',
    );
    expect(run('sweep', 'pft', '--policies', 'classic', '--baseline', 'spf-nowait', '--out', out).stderr).toContain(
      '--baseline spf-nowait: not among the policies swept',
    );
  });
});

describe('a custom scenario file', () => {
  it('compares and sweeps like a built-in one, and reports only the figures it asks for', () => {
    const dir = mkdtempSync(join(tmpdir(), 'faultline-custom-'));
    const file = join(dir, 'mine.yaml');
    writeFileSync(
      file,
      [
        'scenario: custom',
        'duration: 1ms',
        'tasks:',
        `  - { module: ${join(root, 'examples/alloc-churn.ts')}, name: churn }`,
        `  - { module: ${join(root, 'packages/scenarios/dist/tasks.js')}, export: pageCacheReader, name: reader, cpus: [0] }`,
        'modules: [reclaim]',
        'figures: [churn allocations granted, reader alloc p99 (us)]',
      ].join('\n'),
    );
    const out = join(dir, 'sweep');
    const s = run('sweep', file, '--grid', 'cpus=1,2', '--policies', 'classic', '--seeds', '2', '--out', out);
    expect(s.status, s.stderr).toBe(0);
    const j = JSON.parse(readFileSync(join(out, 'sweep.json'), 'utf8')) as { rows: Array<Record<string, unknown>> };
    expect(Object.keys(j.rows[0]!).filter((k) => k.startsWith('churn') || k.startsWith('reader'))).toEqual([
      'churn_allocations_granted',
      'reader_alloc_p99_us',
    ]);
    // Twice the CPUs, about twice the churn: one churn task per CPU.
    const churn = (cpus: number) =>
      j.rows.filter((r) => r.cpus === cpus).map((r) => r.churn_allocations_granted as number);
    expect(Math.min(...churn(2))).toBeGreaterThan(1.5 * Math.max(...churn(1)));
    const bad = run('run', file, '--set', 'figures=[nope]');
    expect(bad.stderr).toMatch(/figures: nope not among this run's figures; allowed: churn allocations granted, /);
    // It loads no mm: compare runs its seeds under one policy, not six columns of identical runs, and refuses more.
    const c = run('compare', file, '--seeds', '2', '--json', '-');
    expect(c.status, c.stderr).toBe(0);
    expect((JSON.parse(c.stdout) as { policies: string[] }).policies).toEqual(['classic']); // the file's
    const many = run('compare', file, '--policies', 'classic,spf-nowait');
    expect(many.status).toBe(1);
    expect(many.stderr).toMatch(/--policies classic,spf-nowait: this scenario loads no mm module/);
    const sweepMany = run('sweep', file, '--policies', 'classic,spf-nowait', '--out', join(dir, 'many'));
    expect(sweepMany.status).toBe(1);
    expect(sweepMany.stderr).toMatch(/this scenario loads no mm module, so a fault policy changes nothing/);
  });
});

describe('static partitioning: --shard k/n and --merge', () => {
  it('splits the runs, and the merged shards are the local sweep run by run', () => {
    const dir = mkdtempSync(join(tmpdir(), 'faultline-shard-'));
    const a = [
      'sweep',
      'pft',
      '--grid',
      'cpus=1,2',
      '--policies',
      'classic,per-vma-lock',
      '--seeds',
      '2',
      '--duration',
      '1ms',
    ];
    const s1 = run(...a, '--shard', '1/3', '--out', join(dir, 's1'));
    expect(s1.status, s1.stderr).toBe(0);
    expect(s1.stdout).toContain("shard 1 of 3: 3 of the sweep's 8 runs");
    // The header counts the whole sweep, then the shard's share of it.
    expect(s1.stdout).toMatch(/= 8 runs \(this shard's: 3\); 0 already in .*, 3 to run, /);
    run(...a, '--shard', '2/3', '--out', join(dir, 's2'));
    const partial = run(...a, '--merge', join(dir, 's1'), join(dir, 's2'), '--out', join(dir, 'partial'));
    expect(partial.status).toBe(3);
    expect(partial.stdout).toMatch(/merged 6 runs from .*; 2 of 8 still missing/);
    // ... and a merge counts what it has, not the missing ones as already there.
    expect(partial.stdout).toMatch(/= 8 runs; 6 already in .*, 0 to run \(a merge runs none\)/);
    run(...a, '--shard', '3/3', '--out', join(dir, 's3'));
    const merged = run(
      ...a,
      '--merge',
      join(dir, 's1'),
      join(dir, 's2'),
      join(dir, 's3'),
      '--out',
      join(dir, 'merged'),
    );
    expect(merged.status, merged.stderr).toBe(0);
    expect(merged.stdout).toContain('0 of 8 still missing');
    const local = run(...a, '--out', join(dir, 'local'));
    const rows = (d: string) =>
      (
        JSON.parse(readFileSync(join(dir, d, 'sweep.json'), 'utf8')) as { rows: Array<Record<string, unknown>> }
      ).rows.map(({ host_ms: _, ...r }) => r);
    expect(local.status).toBe(0);
    expect(rows('merged')).toEqual(rows('local'));
    expect(run(...a, '--shard', '0/3', '--out', join(dir, 'x')).stderr).toContain(
      '--shard 0/3: must be k/n with 1 <= k <= n',
    );
    expect(run(...a, '--shard', '1/3', '--merge', join(dir, 's1'), '--out', join(dir, 'x')).stderr).toContain(
      'give one',
    );
  });
});
