// The faultline command as a user runs it: the built bin, its output and its errors.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseGrid } from '../dist/commands/sweep.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const run = (...args: string[]) =>
  spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    cwd: root,
    env: { ...process.env, FAULTLINE_NO_PROGRESS: '1' },
  });

describe('faultline demo', () => {
  it('prints the band table for both kernels and the threaded counts, with every page accounted for', () => {
    const r = run('demo', '--cpus', '2', '--pages', '4096', '--ops', '20000', '--seed', 'cli-test');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('seed=cli-test');
    expect(r.stdout).toMatch(/GFP_KERNEL, realtime task\s+fast\s+fast\s+slow\s+slow\s+reclaim \/ slow/);
    expect(r.stdout).toMatch(/page tables, SPF mask\s+\d+/);
    expect(r.stdout).toMatch(/\(4096 in all; every page accounted for\)/);
    expect(r.stdout).toContain('after freeing everything: 4096 free, 0 allocated');
    // The SPF mask is refused somewhere below min while GFP_KERNEL would reclaim there instead.
    const spf = r.stdout.match(/page tables, SPF mask\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)/);
    expect(spf).not.toBeNull();
    expect(Number(spf![6])).toBeGreaterThan(0);
    expect(Number(spf![7])).toBe(0);
  });
  it('refuses a bad option with its name and the allowed range', () => {
    const r = run('demo', '--cpus', '0');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('--cpus must be an integer from 1 to 64');
    const p = run('demo', '--pages', '12x');
    expect(p.stderr).toContain("--pages must be an integer from 1024 to 4194304; got '12x'");
  });
  it('names an unknown command', () => {
    const r = run('frobnicate');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/unknown command 'frobnicate'/);
  });
});

describe("the machine's kernel configuration: --hz, --platform, --table-freeing", () => {
  const short = ['--cpus', '2', '--duration', '1ms'];
  it('scenario show heads the description with HZ, the jiffy, the platform and how page tables are freed', () => {
    const r = run('scenario', 'show', 'nowait-starvation');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(
      '# machine kernel under policy spf-nowait: HZ=250 (jiffy 4 ms)  platform=bare-metal  page tables freed ' +
        "through RCU: fault policy 'spf-nowait' walks page tables under RCU\n",
    );
    const s = run('scenario', 'show', 'pft', '--set', 'machine.hz=1000', '--set', 'machine.platform=paravirt');
    expect(s.status, s.stderr).toBe(0);
    expect(s.stdout).toContain(
      '# machine kernel under policy classic: HZ=1000 (jiffy 1 ms)  platform=paravirt  page tables freed through ' +
        'RCU: the paravirt platform\n',
    );
    expect(s.stdout).toMatch(
      /^machine:\n {2}memoryMiB: 256\n {2}layout: kernel\n {2}hz: 1000\n {2}platform: paravirt$/m,
    );
    // A machine mm would refuse under the policy is shown, and said so.
    const n = run('scenario', 'show', 'nowait-starvation', '--set', 'machine.tableFreeing=native');
    expect(n.status, n.stderr).toBe(0);
    expect(n.stdout).toMatch(
      /^# machine kernel: a run is refused: scenario nowait-starvation under policy spf-nowait: /m,
    );
  });
  it("run takes them, prints the machine kernel line from the run (mm's report), and replays them", () => {
    const r = run('run', 'pft', ...short, '--hz', '1000', '--platform', 'paravirt', '--json', '-');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(
      /^machine kernel: HZ=1000 \(jiffy 1 ms\) {2}platform=paravirt {2}page tables freed through RCU: the paravirt platform$/m,
    );
    const j = JSON.parse(r.stdout) as {
      spec: { machine: Record<string, unknown> };
      result: { config: Record<string, unknown>; modules: { mm: { tableFreeing: unknown } } };
    };
    expect(j.spec.machine).toMatchObject({ hz: 1000, platform: 'paravirt' });
    expect(j.result.config).toMatchObject({ hz: 1000, jiffyNs: 1_000_000, platform: 'paravirt', tableFreeing: 'rcu' });
    expect(j.result.modules.mm.tableFreeing).toEqual({ freeing: 'rcu', why: 'the paravirt platform' });
    expect(r.stderr).toMatch(/^replay: faultline run pft .*--set machine\.hz=1000 --set machine\.platform=paravirt /m);
    const spf = run('run', 'pft', ...short, '--policy', 'spf-nowait', '--hz', '300');
    expect(spf.status, spf.stderr).toBe(0);
    expect(spf.stdout).toContain(
      'machine kernel: HZ=300 (jiffy 3.333 ms)  platform=bare-metal  page tables freed through RCU: fault policy ' +
        "'spf-nowait' walks page tables under RCU\n",
    );
    const tasks = run('run', '--task', './examples/alloc-churn.ts', ...short, '--hz', '100', '--table-freeing', 'rcu');
    expect(tasks.status, tasks.stderr).toBe(0);
    expect(tasks.stdout).toContain(
      'machine kernel: HZ=100 (jiffy 10 ms)  platform=bare-metal  page tables freed through RCU: the run says so\n',
    );
  });
  it('refuses a bad value by option with what is allowed, for run, compare and sweep', () => {
    const hz = run('run', 'pft', '--hz', '200');
    expect(hz.status).toBe(1);
    expect(hz.stderr).toContain("--hz must be one of 100, 250, 300, 1000; got '200'");
    const platform = run('compare', 'pft', '--platform', 'kvm');
    expect(platform.status).toBe(1);
    expect(platform.stderr).toContain("--platform must be one of bare-metal, paravirt; got 'kvm'");
    const freeing = run('sweep', 'pft', '--table-freeing', 'lazy', '--out', mkdtempSync(join(tmpdir(), 'fl-')));
    expect(freeing.status).toBe(1);
    expect(freeing.stderr).toContain("--table-freeing must be one of native, rcu; got 'lazy'");
  });
  it('refuses native freeing under a policy that walks page tables under RCU before anything runs', () => {
    const r = run('run', 'pft', ...short, '--policy', 'spf-nowait', '--table-freeing', 'native');
    expect(r.status).toBe(1);
    expect(r.stdout).not.toContain('seed:');
    expect(r.stderr).toMatch(
      /scenario pft under policy spf-nowait: machine\.tableFreeing: fault policy 'spf-nowait' walks page tables under RCU alone, .*Allowed: tableFreeing 'rcu', platform 'paravirt', or leave tableFreeing unset/,
    );
    const c = run('compare', 'pft', ...short, '--policies', 'classic,spf-fallback', '--table-freeing', 'native');
    expect(c.status).toBe(1);
    expect(c.stderr).toMatch(/scenario pft under policy spf-fallback: machine\.tableFreeing: /);
    const out = mkdtempSync(join(tmpdir(), 'fl-'));
    const s = run(
      'sweep',
      'pft',
      ...short,
      '--policies',
      'classic,spf-nowait',
      '--grid',
      'table-freeing=rcu,native',
      '--out',
      out,
    );
    expect(s.status).toBe(1);
    expect(s.stderr).toMatch(/--grid point machine\.tableFreeing=native: scenario pft under policy spf-nowait: /);
  });
  it("compare prints each policy's page-table freeing where they differ", () => {
    const r = run(
      'compare',
      'pft',
      ...short,
      '--policies',
      'classic,spf-nowait,per-vma-lock',
      '--seeds',
      '1',
      '--hz',
      '1000',
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(
      [
        'machine kernel: HZ=1000 (jiffy 1 ms)  platform=bare-metal',
        '  classic, per-vma-lock: page tables freed natively, after the TLB flush: the bare-metal platform',
        "  spf-nowait: page tables freed through RCU: fault policy 'spf-nowait' walks page tables under RCU",
      ].join('\n'),
    );
  });
  it('sweep sweeps them by short name, each a typed column', () => {
    const axes = parseGrid(['hz=250,1000', 'platform=bare-metal,paravirt', 'table-freeing=native,rcu']);
    expect(axes.map((a) => [a.path, a.column])).toEqual([
      ['machine.hz', 'hz'],
      ['machine.platform', 'platform'],
      ['machine.tableFreeing', 'table_freeing'],
    ]);
    const out = mkdtempSync(join(tmpdir(), 'fl-'));
    const s = run(
      'sweep',
      'pft',
      ...short,
      '--policies',
      'classic',
      '--seeds',
      '1',
      '--grid',
      'hz=250,1000',
      '--out',
      out,
    );
    expect(s.status, s.stderr).toBe(0);
    const rows = (JSON.parse(readFileSync(join(out, 'sweep.json'), 'utf8')) as { rows: Array<Record<string, unknown>> })
      .rows;
    expect(rows.map((x) => x.hz)).toEqual([250, 1000]);
  });
});
