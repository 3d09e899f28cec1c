// `faultline run` with the README's custom task, as a user runs it: the same digest for 1 and 4 workers, the
// summary, and a clear error for a task module that does not exist.
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const bin = fileURLToPath(new URL('../bin/faultline.mjs', import.meta.url));
const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: root });

describe('faultline run', () => {
  it('prints the same digest for the README task on 1 and 4 workers, as its last line', () => {
    const args = ['run', '--task', './examples/alloc-churn.ts', '--cpus', '4', '--seed', '42', '--duration', '2ms'];
    const one = run(...args, '--workers', '1');
    const four = run(...args, '--workers', '4', '--no-follow-load');
    expect(one.status, one.stderr).toBe(0);
    expect(four.status, four.stderr).toBe(0);
    const digest = (s: string) => s.trimEnd().split('\n').at(-1);
    expect(digest(one.stdout)).toMatch(/^digest: [0-9a-f]{64}$/);
    expect(digest(four.stdout)).toBe(digest(one.stdout));
    // --no-follow-load: the 4 workers asked, however busy the host's cores (the suite's other files run beside it).
    expect(four.stdout).toContain('workers=4');
    expect(one.stdout).toContain('seed=42');
    expect(one.stdout).toMatch(/alloc-churn\/0\s+0\s+\w+\s+\d+/);
    expect(one.stdout).toMatch(/GFP_NOWAIT\|__GFP_NOMEMALLOC\s+\d+/);
  });
  it("runs the README's XState actor with a declared rwsem to the same digest on 1 and 4 workers", () => {
    const args = [
      'run',
      '--task',
      './examples/mmap-reader.ts',
      '--lock',
      'mmap_lock:rwsem',
      '--cpus',
      '4',
      '--seed',
      '42',
      '--duration',
      '2ms',
    ];
    const one = run(...args, '--workers', '1');
    const four = run(...args, '--workers', '4', '--no-follow-load');
    expect(one.status, one.stderr).toBe(0);
    const digest = (s: string) => s.trimEnd().split('\n').at(-1);
    expect(digest(four.stdout)).toBe(digest(one.stdout));
    expect(one.stdout).toMatch(/^seed: 42$/m);
    expect(one.stdout).toMatch(/mmap-reader\/0\s+mmap_lock\s+[1-9]\d*\s+\d+/);
  });
  it('names a bad --lock and lists the kinds', () => {
    const r = run('run', '--task', './examples/mmap-reader.ts', '--lock', 'mmap_lock:semaphore');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /--lock must be name:kind with kind one of spinlock, mutex, rwsem, line; got 'mmap_lock:semaphore'/,
    );
  });
  it('names a task module that cannot be loaded', () => {
    const r = run('run', '--task', './no/such/task.ts', '--cpus', '1', '--duration', '1ms');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/task module '.*no\/such\/task\.ts' could not be loaded/);
  });
  it('names an invalid option value', () => {
    const r = run('run', '--task', './examples/alloc-churn.ts', '--duration', 'forever');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/--duration must be a number with a unit \(ns, us, ms or s\), e\.g\. 10ms; got 'forever'/);
  });
});

describe('faultline list, run <scenario>, compare', () => {
  it('lists the scenarios and policies', () => {
    const r = run('list');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/nowait-starvation\s+a page-table fault storm/);
    expect(r.stdout).toMatch(/mmap-contention/);
    expect(r.stdout).toMatch(
      /policies: classic, spf-nowait, spf-nowait-literal, spf-nomemalloc-retry, spf-fallback, per-vma-lock/,
    );
    expect(r.stdout).toMatch(
      /kernel-storm policies \(its own; no others\): classic, spf-nowait-literal, spf-nowait, storm-off/,
    );
  });
  it('runs a scenario and names a wrong one with the choices', () => {
    const ok = run(
      'run',
      'mmap-contention',
      '--policy',
      'spf-fallback',
      '--cpus',
      '2',
      '--duration',
      '2ms',
      '--seed',
      '7',
    );
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^seed: 7$/m);
    expect(ok.stdout).toMatch(/faults\/s \(k\)\s+\d/);
    expect(ok.stdout.trimEnd().split('\n').at(-1)).toMatch(/^digest: [0-9a-f]{64}$/);
    const bad = run('run', 'nowhere');
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(
      /unknown scenario 'nowhere'; allowed: nowait-starvation, nowait-starvation-anon, nowait-starvation-memcg, mmap-contention, reclaim-calibration, pft/,
    );
  });
  it('a scenario run honours --window, --memory and --kernel, refuses what does not apply, and needs units', () => {
    const args = [
      'run',
      'mmap-contention',
      '--cpus',
      '2',
      '--duration',
      '2ms',
      '--seed',
      '7',
      '--window',
      '5us',
      '--memory',
      '512',
      '--kernel',
      'v5.18',
    ];
    const ok = run(...args);
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/window=5\.000us {2}memory=512 MiB {2}layout=kernel {2}thp=never {2}kernel=v5\.18/);
    // The header prints the run's own configuration; another window or memory size gives another run. (The kernel
    // changes only decisions under memory pressure, which this scenario does not reach.)
    const digest = (r: { stdout: string }) => r.stdout.trimEnd().split('\n').at(-1);
    const base = ['run', 'mmap-contention', '--cpus', '2', '--duration', '2ms', '--seed', '7'];
    const digests = [run(...base), run(...base, '--window', '5us'), run(...base, '--memory', '512')].map(digest);
    expect(new Set(digests).size).toBe(3);
    const lock = run('run', 'mmap-contention', '--lock', 'x:rwsem');
    expect(lock.status).toBe(1);
    expect(lock.stderr).toMatch(/--lock does not apply to a scenario run/);
    const policy = run('run', '--task', './examples/alloc-churn.ts', '--policy', 'classic');
    expect(policy.stderr).toMatch(/--policy does not apply to a run of your own tasks/);
    const unitless = run('run', 'mmap-contention', '--duration', '5');
    expect(unitless.status).toBe(1);
    expect(unitless.stderr).toMatch(/--duration must be a number with a unit \(ns, us, ms or s\)/);
    const kernel = run('compare', 'mmap-contention', '--kernel', 'v7');
    expect(kernel.stderr).toMatch(/--kernel must be one of v5\.18, v6\.4, v6\.3\+; got 'v7'/);
  });
  it('follows the conventions: --version, --json - on standard output, output paths checked before the run', () => {
    const v = run('--version');
    expect(v.status).toBe(0);
    expect(v.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    // --json -: the JSON alone on standard output; what a person reads goes to standard error.
    const j = run('run', 'mmap-contention', '--cpus', '2', '--duration', '1ms', '--json', '-');
    expect(j.status, j.stderr).toBe(0);
    const parsed = JSON.parse(j.stdout) as { schema: string; scenario: string; result: { digest: string } };
    expect(parsed.schema).toBe('faultline.run-scenario/1');
    expect(parsed.scenario).toBe('mmap-contention');
    expect(j.stderr).toContain(`digest: ${parsed.result.digest}`);
    // A path that cannot be written is refused before anything runs (no seed printed, no run started).
    const bad = run('run', 'mmap-contention', '--cpus', '2', '--duration', '1ms', '--json', '/nonexistent-dir/x.json');
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/--json \/nonexistent-dir\/x\.json: cannot write there/);
    expect(bad.stdout).not.toContain('seed:');
    // ... and so is one whose directory looks writable but takes no files (the check writes, it does not ask).
    const proc = run('run', 'mmap-contention', '--cpus', '2', '--duration', '1ms', '--html', '/proc/x.html');
    expect(proc.status).toBe(1);
    expect(proc.stderr).toMatch(/--html \/proc\/x\.html: cannot write there/);
    expect(proc.stdout).not.toContain('seed:');
  });
  it('compares policies over seeds in parallel, with confidence intervals', () => {
    const r = run(
      'compare',
      'mmap-contention',
      '--policies',
      'classic,spf-fallback',
      '--seeds',
      '2',
      '--cpus',
      '2',
      '--duration',
      '3ms',
      '--window',
      '10us',
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/window=10us {2}memory=256 MiB {2}layout=kernel {2}kernel=v6\.3\+/);
    expect(r.stdout).toMatch(/2 policies x 2 seeds \(faultline-1, faultline-2\)/);
    expect(r.stdout).toMatch(/figure \(mean ± 95% CI\)\s+classic \(baseline\)\s+spf-fallback/);
    // Beside each policy but the baseline, its difference from the baseline with Welch's significance.
    // (A value every seed agreed on is printed without its interval.)
    expect(r.stdout).toMatch(/faults\/s \(k\)\s+[\d.]+ ± [\d.]+\s+[\d.]+( ± [\d.]+)? \([+-][\d.]+%\**\)/);
    expect(r.stdout).toContain("(+x%: the difference from classic; * Welch's t-test p < 0.05, ** p < 0.01)");
    // A count every seed agreed on is printed as the count; two seeds come with a warning about the interval.
    expect(r.stdout).toMatch(/^speculative\s+0\s/m);
    expect(r.stdout).toMatch(/note: 2 seeds: each interval is 12\.7 standard errors wide/);
  });
  it("writes compare's JSON with its schema, each figure's mean, interval and seeds, and every run", () => {
    const r = run(
      'compare',
      'mmap-contention',
      '--policies',
      'classic',
      '--seeds',
      '3',
      '--cpus',
      '2',
      '--duration',
      '2ms',
      '--json',
      '-',
    );
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as {
      schema: string;
      seeds: string[];
      summary: Record<string, Record<string, { mean: number; half: number | null; n: number }>>;
      runs: Array<{ job: { spec: { policy: string; cpus: number } }; figures: Record<string, number> }>;
      spec: { scenario: string; cpus: number; duration: string };
    };
    expect(j.schema).toBe('faultline.compare/2');
    // The resolved scenario, and each run's with its policy.
    expect(j.spec).toMatchObject({ scenario: 'mmap-contention', cpus: 2, duration: '2ms' });
    expect(j.runs.every((x) => x.job.spec.policy === 'classic' && x.job.spec.cpus === 2)).toBe(true);
    expect(j.seeds).toEqual(['faultline-1', 'faultline-2', 'faultline-3']);
    const rate = j.summary.classic!['faults/s (k)']!;
    expect(rate.n).toBe(3);
    const xs = j.runs.map((x) => x.figures['faults/s (k)']!);
    expect(rate.mean).toBeCloseTo(xs.reduce((a, b) => a + b, 0) / 3, 9);
    expect(rate.half).toBeGreaterThan(0);
  });
  it('runs a scenario file with --set over it, prints its params and a replay line that needs no file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'faultline-cli-'));
    const file = join(dir, 'mine.yaml');
    writeFileSync(file, 'scenario: pft\ncpus: 2\nduration: 1ms\nparams:\n  regionPages: 64\n');
    const r = run('run', file, '--set', 'params.touchNs=150', '--seed', 'f');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('params: regionPages=64  touchNs=150');
    const replay = r.stdout.match(/^replay: faultline (.*)$/m)![1]!;
    expect(replay).toBe(
      'run pft --set cpus=2 --set duration=1ms --set params.regionPages=64 --set params.touchNs=150 --seed f',
    );
    const again = run(...replay.split(' '));
    const digest = (s: string) => s.match(/^digest: (\w+)$/m)![1];
    expect(digest(again.stdout)).toBe(digest(r.stdout));
    // scenario show prints the resolved description; run of that output is the same run.
    const shown = run('scenario', 'show', file, '--set', 'params.touchNs=150');
    expect(shown.status, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/^ {2}regionPages: 64$/m);
    writeFileSync(join(dir, 'shown.yaml'), shown.stdout);
    expect(digest(run('run', join(dir, 'shown.yaml'), '--seed', 'f').stdout)).toBe(digest(r.stdout));
    const bad = run('run', file, '--set', 'params.regionPages=0');
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain(`scenario file ${file}: params.regionPages: must be >= 1; got 0`);
    expect(run('run', '--task', file, '--set', 'cpus=2').stderr).toContain(
      '--set does not apply to a run of your own tasks',
    );
    const schema = JSON.parse(run('scenario', 'schema').stdout) as { title: string };
    expect(schema.title).toBe('faultline scenario (faultline.scenario/1)');
  });
  it('ends with an exit code per outcome, says why on stderr, and a deadlock is in the JSON too', () => {
    const bad = join(root, 'packages/engine/test/tasks/bad.mjs');
    const thrown = run('run', '--task', `${bad}#thrower`, '--cpus', '2', '--duration', '1ms');
    expect(thrown.status).toBe(3);
    expect(thrown.stderr).toMatch(/the run ended on an error: task 'bad\.thrower\/1'/);
    const dead = run('run', '--task', `${bad}#waiter`, '--cpus', '2', '--duration', '1s', '--json', '-');
    expect(dead.status).toBe(4);
    expect(dead.stderr).toMatch(/faultline: deadlock at [\d.]+ ms simulated: .*\(2 waiting; .*exit 4/);
    const j = JSON.parse(dead.stdout) as { result: { endReason: string; waits: string[] } };
    expect(j.result.endReason).toBe('deadlock');
    expect(j.result.waits[0]).toMatch(/blocked-recv/);
    const died = run(
      'run',
      '--task',
      `${bad}#quitter`,
      '--cpus',
      '4',
      '--workers',
      '2',
      '--no-follow-load',
      '--duration',
      '5ms',
    );
    expect(died.status).toBe(5);
    expect(died.stdout).toContain('lost: cpus 0, 1 went with their worker');
    expect(died.stdout).toMatch(/^2\s+\d+\s/m); // cpu 2's row: worker 1 reported
    expect(died.stderr).toContain("worker 0 died: exited with code 7, while cpu 1 ran task 'bad.quitter/1' (#1)");
    expect(run('run', '--task', `${bad}#thrower`, '--watchdog', '5').stderr).toContain(
      '--watchdog must be a number with a unit',
    );
  });
  it('Ctrl-C stops a run at the next window with its statistics and digest, and exits 130', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'faultline-int-'));
    writeFileSync(join(dir, 'loop.mjs'), 'export function* looper(ctx) { for (;;) yield ctx.compute(1000); }\n');
    const child = spawn(
      process.execPath,
      [
        bin,
        'run',
        '--task',
        `${join(dir, 'loop.mjs')}#looper`,
        '--cpus',
        '2',
        '--duration',
        '100s',
        '--json',
        join(dir, 'r.json'),
      ],
      { cwd: root },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    // Wait until it runs (the seed line is printed once the workers are up), then interrupt.
    while (!out.includes('seed:')) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 500));
    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    expect(code).toBe(130);
    expect(err).toContain("interrupted; stopping the run at the next window's end");
    expect(out).toMatch(/^ended: stopped at [\d.]+(us|ms|s) simulated/m);
    expect(out).toMatch(/^digest: [0-9a-f]{64}$/m);
    expect(
      (JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8')) as { result: { endReason: string } }).result.endReason,
    ).toBe('stopped');
  });
  it('loads a .ts task from an empty folder anywhere, and lets it import xstate and @faultline/* without installing', () => {
    // No package.json at all: Node would take a .ts file there for CommonJS; the engine loads it as an ES module.
    const dir = mkdtempSync(join(tmpdir(), 'faultline-ts-'));
    writeFileSync(
      join(dir, 'counter.ts'),
      [
        "import { defineTask, type TaskContext } from '@faultline/engine';",
        "import { createActor, setup } from 'xstate';",
        'const m = setup({}).createMachine({ initial: "a", states: { a: { on: { go: "b" } }, b: {} } });',
        'export default defineTask(function* (ctx: TaskContext) {',
        '  const a = createActor(m).start();',
        "  a.send({ type: 'go' });",
        "  ctx.count('state ' + String(a.getSnapshot().value));",
        '  for (let i = 0; i < 10; i++) yield ctx.compute(1000);',
        '});',
      ].join('\n'),
    );
    const r = run('run', '--task', join(dir, 'counter.ts'), '--cpus', '2', '--duration', '1ms', '--json', '-');
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { result: { tasks: Array<{ counters?: Record<string, number> }> } };
    expect(j.result.tasks.map((t) => t.counters)).toEqual([{ 'state b': 1 }, { 'state b': 1 }]);
  });

  it("loads a kernel module of the user's from an empty folder, written against @faultline/engine/module", () => {
    const dir = mkdtempSync(join(tmpdir(), 'faultline-kmod-'));
    writeFileSync(
      join(dir, 'ticks.ts'),
      [
        "import { defineKernelModule, moduleState } from '@faultline/engine/module';",
        'export const TICKS = moduleState<{ n: number }, { switches: number }>("ticks");',
        'export default defineKernelModule({',
        "  name: 'ticks',",
        '  setup() {',
        '    const states: Array<{ n: number }> = [];',
        '    return {',
        '      attachCpu() {',
        '        const s = { n: 0 };',
        '        states.push(s);',
        '        return { state: s, contextSwitch: () => void s.n++ };',
        '      },',
        '      report: () => ({ switches: states.reduce((a, s) => a + s.n, 0) }),',
        '    };',
        '  },',
        '});',
      ].join('\n'),
    );
    writeFileSync(
      join(dir, 'pair.ts'),
      [
        "import { defineTask } from '@faultline/engine';",
        "import { TICKS } from './ticks.ts';",
        'export default defineTask(function* (ctx) {',
        '  for (let i = 0; i < 20; i++) { yield ctx.compute(500); yield ctx.sleep(500); }',
        "  ctx.count('seen ' + String(ctx.kernel(TICKS).n > 0));",
        '});',
      ].join('\n'),
    );
    const r = run(
      'run',
      '--task',
      join(dir, 'pair.ts'),
      '--module',
      join(dir, 'ticks.ts'),
      '--cpus',
      '2',
      '--duration',
      '1ms',
      '--json',
      '-',
    );
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as {
      result: { modules: { ticks: { switches: number } }; tasks: Array<{ counters?: Record<string, number> }> };
    };
    expect(j.result.modules.ticks.switches).toBeGreaterThan(0);
    expect(j.result.tasks.map((t) => t.counters)).toEqual([{ 'seen true': 1 }, { 'seen true': 1 }]);
  });

  it('plugs in: a task outside the clone imports @faultline/*, a policy is named by path, each export is a group', () => {
    const dir = mkdtempSync(join(tmpdir(), 'faultline-plug-'));
    writeFileSync(
      join(dir, 'tasks.mjs'),
      [
        "import { defineTask } from '@faultline/engine';",
        "import { allocPages, lruAdd } from '@faultline/reclaim';",
        'export const reader = defineTask(function* reader(ctx) {',
        "  for (;;) { const pfn = yield* allocPages(ctx, 'GFP_KERNEL'); if (pfn >= 0) lruAdd(ctx, pfn, 'file'); yield ctx.compute(1000); }",
        '});',
        'export const idler = defineTask(function* idler(ctx) { for (;;) yield ctx.compute(5000); });',
      ].join('\n'),
    );
    const reclaim = join(root, 'packages/reclaim/dist/module.js');
    const html = join(dir, 'r.html');
    const r = run(
      'run',
      '--task',
      `${join(dir, 'tasks.mjs')}#reader`,
      `${join(dir, 'tasks.mjs')}#idler`,
      '--module',
      reclaim,
      '--cpus',
      '2',
      '--duration',
      '1ms',
      '--html',
      html,
    );
    expect(r.status, r.stderr).toBe(0);
    // The reader's pages went onto the LRU of the reclaim module the engine loaded: one instance, not a copy.
    expect(r.stdout).toMatch(/"lru":\{"file":(\d+)/);
    expect(Number(r.stdout.match(/"lru":\{"file":(\d+)/)![1])).toBeGreaterThan(500);
    expect(r.stdout).toMatch(/"freeMin":"\[\d+ values\]"/); // long series shortened in the text
    const groups = (readFileSync(html, 'utf8').match(/"group":"[^"]+"/g) ?? []).sort();
    expect([...new Set(groups)]).toEqual(['"group":"tasks.idler"', '"group":"tasks.reader"']);
    // A policy of your own by path, beside a built-in one; a missing file is named.
    const capped = 'packages/mm/test/tasks/capped-policy.mjs#capped';
    const c = run(
      'compare',
      'nowait-starvation',
      '--policies',
      `spf-nowait,${capped}`,
      '--cpus',
      '2',
      '--duration',
      '2ms',
      '--seeds',
      '1',
    );
    expect(c.status, c.stderr).toBe(0);
    expect(c.stdout).toMatch(new RegExp(`spf-nowait \\(baseline\\)\\s+${capped.replace(/[.#/]/g, (x) => `\\${x}`)}`));
    expect(run('run', 'pft', '--policy', './nope.ts').stderr).toMatch(/policy '\/.*\/nope\.ts': no such file/);
  });
  it('reports a lock never released by a task that still runs, in the text and the JSON', () => {
    const dir = mkdtempSync(join(tmpdir(), 'faultline-hog-'));
    writeFileSync(
      join(dir, 'hog.mjs'),
      [
        // Holding the lock, it computes for ever; cond_resched (ctx.yield) lets the waiter run: under voluntary
        // preemption, the default, a task holding a lock is not preempted otherwise.
        "export function* hog(ctx) { yield ctx.lock('m'); for (;;) { yield ctx.compute(1000); yield ctx.yield(); } }",
        "export function* waiter(ctx) { yield ctx.compute(5000); yield ctx.lock('m'); yield ctx.unlock('m'); }",
      ].join('\n'),
    );
    const r = run(
      'run',
      '--task',
      `${join(dir, 'hog.mjs')}#hog`,
      `${join(dir, 'hog.mjs')}#waiter`,
      '--lock',
      'm:mutex',
      '--cpus',
      '1',
      '--duration',
      '1ms',
      '--json',
      join(dir, 'r.json'),
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /still waiting at the end: task 'hog\.waiter\/1' \(#1\) on cpu 0: waits for mutex 'm' since \d+ ns \(\d+ ns before the end\)/,
    );
    expect(r.stdout).toContain("still waiting at the end: lock 'm': held for write by task #0, 1 waiting");
    const j = JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8')) as { result: { waits: string[] } };
    expect(j.result.waits).toHaveLength(2);
  });
});
