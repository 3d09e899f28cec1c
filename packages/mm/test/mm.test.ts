// Address spaces and fault policies: a speculative fault that finds every level allocates no table; a missing level
// under spf-fallback goes to mmap_lock; under spf-nomemalloc-retry no fault allocation dips below min; a munmap
// racing speculative faults aborts them; unknown policies are named with the choices; the same digest on 1 and 4
// workers.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runSimulation, type RunOptions, type RunResult } from '@faultline/engine';
import { kswapdTaskPath } from '@faultline/reclaim';
import { mmRunParts } from '../dist/index.js';

const faults = fileURLToPath(new URL('./tasks/faults.mjs', import.meta.url));
const BASE = 2 ** 44;
const GiB = 2 ** 30;
type Row = Record<string, number> & { name: string };
const rows = (r: RunResult) => (r.modules.mm as { tasks: Row[] }).tasks;
const mmArgs = (policy: string, pages = (64 * GiB) / 4096) => ({ policy, mms: [{ vmas: [{ start: BASE, pages }] }] });

const run = (policy: string, tasks: RunOptions['tasks'], extra: Partial<RunOptions> = {}, reclaimArgs = {}) =>
  runSimulation({
    cpus: 2,
    seed: 'faults',
    duration: '20ms',
    window: '20us',
    memoryMiB: 64,
    memoryLayout: 'one-zone',
    ...mmRunParts(mmArgs(policy), reclaimArgs),
    tasks,
    ...extra,
  });

describe('fault policies', () => {
  it('spf-fallback: a fault that finds every level is speculative and allocates no table', async () => {
    // 2048 consecutive pages: 4 PTE tables' worth under one PMD and one PUD.
    const r = await run('spf-fallback', [{ module: faults, export: 'toucher', cpus: [0], args: { count: 2048 } }]);
    expect(r.error).toBeNull();
    const t = rows(r)[0]!;
    expect(t.faults).toBe(2048);
    expect(t.dataPages).toBe(2048);
    expect(t.tablePages).toBe(1 + 1 + 4);
    expect(t.classic).toBe(4); // the first fault of each PTE table goes to mmap_lock
    expect(t.speculativeDone).toBe(2048 - 4);
    expect((r.modules.mm as { mms: Array<{ entries: Record<string, number> }> }).mms[0]!.entries).toEqual({
      pud: 1,
      pmd: 1,
      pte: 4,
      page: 2048,
    });
  });

  it('spf-fallback: a missing PMD retries under mmap_lock; spf-nowait allocates it speculatively instead', async () => {
    const tasks = [{ module: faults, export: 'toucher', cpus: [0], args: { count: 40, strideBytes: GiB } }];
    const fb = rows(await run('spf-fallback', tasks))[0]!;
    expect(fb.fellBack).toBe(40);
    expect(fb.speculativeDone).toBe(0);
    const nw = rows(await run('spf-nowait', tasks))[0]!;
    expect(nw.fellBack).toBe(0);
    expect(nw.speculativeDone).toBe(40);
    expect(nw.tablePages).toBe(fb.tablePages); // the same tables, allocated on another path
  });

  it('spf-nomemalloc-retry: under memory pressure no fault allocation dips below min; spf-nowait-style masks would', async () => {
    const tasks: RunOptions['tasks'] = [
      { module: kswapdTaskPath, export: 'kswapd', cpus: [0] },
      { module: faults, export: 'storm', cpus: [0, 1], perCpu: 2 },
    ];
    const r = await run('spf-nomemalloc-retry', tasks, { duration: '30ms' }, { prefillFilePages: 16_000 });
    expect(r.error).toBeNull();
    const storm = rows(r).filter((t) => t.name.startsWith('faults.storm'));
    expect(storm.reduce((s, t) => s + t.tablePages, 0)).toBeGreaterThan(100);
    for (const t of storm) expect(r.owners[t.task]!.pagesGrantedBelowMin).toBe(0);
  });

  it('spf-nowait: a failed GFP_NOWAIT table goes to the classic path in the same fault; spf-nowait-literal refaults', async () => {
    // Memory nearly full of page cache and no kswapd: the storm's GFP_NOWAIT table allocations fail.
    const tasks: RunOptions['tasks'] = [{ module: faults, export: 'storm', cpus: [0, 1] }];
    const [kernel, literal] = await Promise.all(
      ['spf-nowait', 'spf-nowait-literal'].map((p) =>
        run(p, tasks, { duration: '10ms' }, { prefillFilePages: 16_200 }),
      ),
    );
    const sum = (r: RunResult, k: string) => rows(r).reduce((a, t) => a + t[k]!, 0);
    for (const r of [kernel, literal]) {
      expect(r.error).toBeNull();
      expect(sum(r, 'tableAllocFailures')).toBeGreaterThan(0);
    }
    // The kernel's way: every failure is a VM_FAULT_RETRY into the mmap_lock fault, which allocates with sleeping
    // masks; no fault goes back to user space to start again.
    expect(sum(kernel, 'fellBack')).toBeGreaterThanOrEqual(sum(kernel, 'tableAllocFailures'));
    expect(sum(kernel, 'classic')).toBe(sum(kernel, 'fellBack'));
    expect(sum(kernel, 'retried')).toBe(0);
    // Taken literally: each failure refaults, speculatively again; the classic path is never taken.
    expect(sum(literal, 'retried')).toBe(sum(literal, 'tableAllocFailures'));
    expect(sum(literal, 'classic')).toBe(0);
  });

  it('spf-nowait-literal: each refault passes the return to user space, where a woken task preempts the storm', async () => {
    // No memory and no kswapd: the literal storm fails and refaults for the whole run. Its refault goes back to user
    // space (exit_to_user_mode checks need_resched), so a ticker on its CPU runs every time it wakes; were the
    // refault a loop inside the kernel, voluntary preemption would never take the CPU from the storm.
    const tasks: RunOptions['tasks'] = [
      { module: faults, export: 'storm', cpus: [0] },
      { module: faults, export: 'ticker', cpus: [0], args: { everyNs: 100_000 } },
    ];
    const r = await run('spf-nowait-literal', tasks, { duration: '10ms' }, { prefillFilePages: 16_200 });
    expect(r.error).toBeNull();
    expect(rows(r).reduce((a, t) => a + t.retried!, 0)).toBeGreaterThan(1000);
    const ticker = r.tasks.find((t) => t.name.includes('ticker'))!;
    // 10 ms / (100 us asleep + its wait for the refault's end and 1 us of work): about 95 rounds.
    expect(ticker.counters?.rounds ?? 0).toBeGreaterThan(80);
  });

  it('a munmap racing speculative faults aborts them, and the storm goes on', async () => {
    const r = await run('spf-nowait', [
      { module: faults, export: 'storm', cpus: [0] },
      { module: faults, export: 'churner', cpus: [1], args: { victimPages: (64 * GiB) / 4096, everyNs: 100_000 } },
    ]);
    expect(r.error).toBeNull();
    const storm = rows(r).find((t) => t.name.startsWith('faults.storm'))!;
    expect(storm.speculativeAborted).toBeGreaterThan(0);
    expect(storm.speculativeDone).toBeGreaterThan(storm.speculativeAborted);
    expect(r.locks!.grants).toBeGreaterThan(0);
  });

  it('per-vma-lock: a writer of another VMA does not disturb its faults; spf-nowait falls back while it writes', async () => {
    const tasks = (victimPages: number): RunOptions['tasks'] => [
      { module: faults, export: 'storm', cpus: [0] },
      { module: faults, export: 'churner', cpus: [1], args: { victimPages, everyNs: 20_000 } },
    ];
    const sum = (r: RunResult, k: string) => rows(r).filter((t) => t.name.startsWith('faults.storm'))[0]![k]!;
    const [vma, spf, own] = await Promise.all([
      run('per-vma-lock', tasks(0)),
      run('spf-nowait', tasks(0)),
      run('per-vma-lock', tasks((64 * GiB) / 4096)),
    ]);
    for (const r of [vma, spf, own]) expect(r.error).toBeNull();
    // Only the faults before the VMA had its anon_vma (the first window's) take mmap_lock; nothing is aborted.
    expect(sum(vma, 'speculativeAborted')).toBe(0);
    expect(sum(vma, 'fellBack')).toBeLessThan(100);
    // SPF's check is the address space's: every write to any VMA sends it to mmap_lock, or aborts its installs.
    expect(sum(spf, 'fellBack') + sum(spf, 'speculativeAborted')).toBeGreaterThan(10 * (sum(vma, 'fellBack') + 1));
    // A writer of the fault's own VMA (munmap of the storm's VMA) does disturb it.
    expect(sum(own, 'fellBack') + sum(own, 'speculativeAborted')).toBeGreaterThan(sum(vma, 'fellBack'));
  });

  it('per-vma-lock: a file-backed VMA falls back to mmap_lock on a v6.4 kernel, not on v6.3+ (6.7 and later)', async () => {
    const file = { policy: 'per-vma-lock', mms: [{ vmas: [{ start: BASE, pages: (64 * GiB) / 4096, file: true }] }] };
    const tasks = [{ module: faults, export: 'toucher', cpus: [0], args: { count: 200, strideBytes: 4096 } }];
    const go = (kernel: 'v6.4' | 'v6.3+') =>
      runSimulation({
        cpus: 1,
        seed: 'file-vma',
        duration: '5ms',
        window: '20us',
        memoryMiB: 64,
        memoryLayout: 'one-zone',
        kernel,
        ...mmRunParts(file),
        tasks,
      });
    const [old, now] = (await Promise.all([go('v6.4'), go('v6.3+')])).map((r) => rows(r)[0]!);
    expect(old!.faults).toBe(200);
    expect(old!.fellBack).toBe(200);
    expect(old!.classic).toBe(200);
    expect(now!.fellBack).toBe(0); // a shared file VMA needs no anon_vma
    expect(now!.speculativeDone).toBe(200);
  });

  it('a read maps the zero page and allocates nothing; a write to it copies it; a read of either does not fault', async () => {
    const go = (policy: string, write: boolean, workers = 1) =>
      run(policy, [{ module: faults, export: 'readThenWrite', cpus: [0], args: { count: 300, write } }], { workers });
    for (const policy of ['classic', 'spf-nowait', 'per-vma-lock']) {
      const [reads, both] = await Promise.all([go(policy, false), go(policy, true)]);
      const r = rows(reads)[0]!;
      const id = r.task!;
      // Reads: 300 faults, each mapping the zero page; the pages the task took are its page tables (a PUD, a PMD
      // and a PTE table), no data page; a second read of each page does not fault.
      expect(r.faults, policy).toBe(300);
      expect(r.zeroPages, policy).toBe(300);
      expect(r.dataPages, policy).toBe(0);
      expect(r.zeroPageCopies, policy).toBeUndefined();
      expect(reads.owners[id]!.pagesGranted, policy).toBe(r.tablePages);
      // Then writes: each faults once more and copies the zero page; the reads after them find the task's pages.
      const b = rows(both)[0]!;
      expect(b.faults, policy).toBe(600);
      expect(b.zeroPageCopies, policy).toBe(300);
      expect(b.dataPages, policy).toBe(300);
      expect(b.installRacesLost, policy).toBe(0);
      expect(both.owners[id]!.pagesGranted, policy).toBe(b.tablePages + 300);
      expect((both.modules.mm as { mms: Array<{ entries: Record<string, number> }> }).mms[0]!.entries.page).toBe(300);
    }
    // The zero page's entries leave no trace in a run without reads (no counters), and the same run on 2 workers.
    const plain = rows(
      await run('classic', [{ module: faults, export: 'toucher', cpus: [0], args: { count: 10 } }]),
    )[0]!;
    expect('zeroPages' in plain).toBe(false);
    expect((await go('classic', true, 2)).digest).toBe((await go('classic', true)).digest);
  });

  it("a write fault that finds another CPU's zero page installed first loses, as pte_none fails under the lock", async () => {
    // In one window: CPU 0 reads the page, CPU 1 writes it a little later without having seen the zero page. The
    // write's install finds the entry taken: its page is freed and nothing is copied (the kernel faults again).
    const r = await run('classic', [
      { module: faults, export: 'touchOnce', cpus: [0], args: { write: false } },
      { module: faults, export: 'touchOnce', cpus: [1], args: { write: true, delayNs: 500 } },
    ]);
    expect(r.error).toBeNull();
    const [reader, writer] = rows(r);
    expect(reader!.zeroPages).toBe(1);
    expect(writer!.dataPages).toBe(1);
    // Its tables lost too (the reader installed the same three levels first), and then its page.
    expect(writer!.tablePages).toBe(3);
    expect(writer!.installRacesLost).toBe(writer!.tablePages + 1);
    expect(writer!.zeroPageCopies).toBeUndefined();
    expect(r.owners[writer!.task]!.pagesFreed).toBeGreaterThanOrEqual(1);
    expect((r.modules.mm as { mms: Array<{ entries: Record<string, number> }> }).mms[0]!.entries.page).toBe(1);
  });

  it('per-vma-lock: read faults of a VMA without anon_vma fall back on v6.4, not on v6.3+ (vmf_anon_prepare)', async () => {
    const go = (kernel: 'v6.4' | 'v6.3+') =>
      run(
        'per-vma-lock',
        [{ module: faults, export: 'readThenWrite', cpus: [0], args: { count: 300, write: false } }],
        {
          kernel,
        },
      );
    const [old, now] = (await Promise.all([go('v6.4'), go('v6.3+')])).map((r) => rows(r)[0]!);
    // 6.4's lock_vma_under_rcu refuses an anonymous VMA without anon_vma, and read faults never prepare one.
    expect(old!.zeroPages).toBe(300);
    expect(old!.fellBack).toBe(300);
    expect(old!.classic).toBe(300);
    // From 6.10 only a fault that prepares one needs it: the zero page's do not.
    expect(now!.zeroPages).toBe(300);
    expect(now!.fellBack).toBe(0);
    expect(now!.speculativeDone).toBe(300);
  });

  it("munmap frees page tables in tlb_remove_table's batches of 509, each one RCU callback with its batch page", async () => {
    const r = await runSimulation({
      cpus: 1,
      seed: 'tlb-batch',
      duration: '20ms',
      window: '20us',
      memoryMiB: 64,
      memoryLayout: 'one-zone',
      platform: 'paravirt', // MMU_GATHER_RCU_TABLE_FREE through the paravirt hook
      ...mmRunParts({ policy: 'classic', mms: [{ vmas: [] }] }),
      tasks: [{ module: faults, export: 'mapTouchUnmap', cpus: [0], args: { count: 1200 } }],
    });
    expect(r.error).toBeNull();
    const t = rows(r)[0]!;
    // 1200 PTE tables 2 MiB apart: 3 PMD tables (1 GiB each) and a PUD; the 1203 wholly inside the VMA are freed
    // (the PUD covers 512 GiB and stays, as free_pgd_range's floor and ceiling keep it): 3 batches.
    expect(t.tablePages).toBe(1204);
    const rcu = r.modules.rcu as { callbacksQueued: number; callbacksInvoked: number };
    expect(rcu.callbacksQueued).toBe(3);
    expect(rcu.callbacksInvoked).toBe(3);
    // Everything came back: only the PGD and the PUD are in use (tables, data pages and the batch pages freed).
    expect(r.node.pages - r.node.freePagesExact - r.node.pcpPages).toBe(2);
  });

  it('frees page tables natively on bare metal, through RCU where a policy walks them under RCU, and refuses a mix', async () => {
    const opts = (policy: string, extra: Partial<RunOptions> = {}): RunOptions => ({
      cpus: 1,
      seed: 'tlb-native',
      duration: '20ms',
      window: '20us',
      memoryMiB: 64,
      memoryLayout: 'one-zone',
      ...extra,
      ...mmRunParts({ policy, mms: [{ vmas: [] }] }),
      tasks: [{ module: faults, export: 'mapTouchUnmap', cpus: [0], args: { count: 1200 } }],
    });
    type Report = { tableFreeing: { freeing: string; why: string } };
    const native = await runSimulation(opts('classic'));
    expect(native.error).toBeNull();
    expect((native.modules.mm as Report).tableFreeing).toEqual({ freeing: 'native', why: 'the bare-metal platform' });
    // native_tlb_remove_table: no batch page, no grace period; every table back at once.
    expect((native.modules.rcu as { callbacksQueued: number }).callbacksQueued).toBe(0);
    expect(native.node.pages - native.node.freePagesExact - native.node.pcpPages).toBe(2);
    const spf = await runSimulation(opts('spf-nowait'));
    expect((spf.modules.mm as Report).tableFreeing.freeing).toBe('rcu');
    expect((spf.modules.mm as Report).tableFreeing.why).toMatch(/spf-nowait' walks page tables under RCU/);
    expect((spf.modules.rcu as { callbacksQueued: number }).callbacksQueued).toBe(3);
    await expect(runSimulation(opts('spf-nowait', { tableFreeing: 'native' }))).rejects.toThrow(
      /fault policy 'spf-nowait' walks page tables under RCU alone, which needs tableFreeing 'rcu'; the run asks for 'native'/,
    );
  });

  it("munmap downgrades mmap_lock to read for its zap: others' faults go on meanwhile", async () => {
    const opts = (costNs: number, munmapDowngrade = true): RunOptions => ({
      cpus: 2,
      seed: 'downgrade',
      duration: '20ms',
      window: '2us',
      memoryMiB: 256,
      memoryLayout: 'one-zone',
      ...mmRunParts({
        policy: 'classic',
        munmapDowngrade,
        mms: [{ vmas: [{ start: BASE, pages: (64 * GiB) / 4096 }] }],
      }),
      tasks: [
        { module: faults, export: 'bigUnmap', cpus: [0], args: { start: BASE, count: 100, costNs } },
        // Faults in another part of the VMA, from before the munmap until after it.
        {
          module: faults,
          export: 'regionToucher',
          cpus: [1],
          args: { start: BASE + 32 * GiB, count: 4000, strideBytes: 4096, startNs: 150_000 },
        },
      ],
    });
    // A 2 ms zap: held for write throughout, the toucher's faults would wait ~2 ms; downgraded, only the 1 us detach.
    const r = await runSimulation(opts(2_000_000));
    expect(r.error).toBeNull();
    expect(r.tasks[1]!.locks['mm0.mmap_lock']!.waitNs).toBeLessThan(50_000);
    expect(r.tasks[0]!.locks['mm0.mmap_lock']!.acquired).toBeGreaterThan(100);
    // As before 4.20 (munmapDowngrade: false), the toucher waits out the whole zap.
    const held = await runSimulation(opts(2_000_000, false));
    expect(held.tasks[1]!.locks['mm0.mmap_lock']!.waitNs).toBeGreaterThan(1_500_000);
  });

  it('gives the same digest on 1 and 4 workers with a storm, a churner and kswapd', async () => {
    const opts = (workers: number): RunOptions => ({
      cpus: 4,
      workers,
      seed: 'mm-digest',
      duration: '10ms',
      window: '20us',
      memoryMiB: 64,
      memoryLayout: 'one-zone',
      ...mmRunParts(mmArgs('spf-nowait'), { prefillFilePages: 15_000 }),
      tasks: [
        { module: kswapdTaskPath, export: 'kswapd', cpus: [0] },
        { module: faults, export: 'storm', cpus: [1, 2, 3] },
        { module: faults, export: 'churner', cpus: [0] },
      ],
    });
    const [one, four] = await Promise.all([runSimulation(opts(1)), runSimulation(opts(4))]);
    expect(one.error).toBeNull();
    expect(four.digest).toBe(one.digest);
    expect(four.modules).toEqual(one.modules);
  });

  it('names an unknown policy and lists the choices', async () => {
    await expect(run('spf-yolo', [{ module: faults, export: 'toucher', cpus: [0] }])).rejects.toThrow(
      /unknown fault policy 'spf-yolo'; allowed: classic, spf-nowait, spf-nowait-literal, spf-nomemalloc-retry, spf-fallback, per-vma-lock/,
    );
  });
  it('a custom policy that throws is reported with the task, its CPU and the simulated time', async () => {
    const policy = fileURLToPath(new URL('./tasks/broken-policy.mjs', import.meta.url));
    const r = await runSimulation({
      cpus: 1,
      seed: 'faults',
      duration: '5ms',
      window: '20us',
      memoryMiB: 64,
      memoryLayout: 'one-zone',
      ...mmRunParts({ ...mmArgs('mine'), policies: [{ name: 'mine', module: policy, export: 'broken' }] }),
      tasks: [{ module: faults, export: 'toucher', name: 'user', cpus: [0], args: { count: 100 } }],
    });
    expect(r.error).not.toBeNull();
    expect(r.error!.message).toMatch(/my policy forgot the PMD/);
    expect(r.error!.message).toMatch(/user/);
    expect(r.error!.message).toMatch(/cpu 0/);
    expect(r.error!.message).toMatch(/\d+(\.\d+)? ?(ns|us|µs|ms)/);
    // What it gathered before the error is still there: nine faults handled.
    expect(rows(r)[0]!.faults).toBe(10);
  });
});
