// Reclaim: kswapd wakes below low and sleeps at high; direct reclaim is charged to the task that ran it; GFP_NOWAIT
// never reclaims; the OOM killer takes the task holding the most memory; the same digest on 1 and 4 workers.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { reportOf, runSimulation, type RunOptions, type RunResult } from '@faultline/engine';
import { RECLAIM, reclaimModulePath, reclaimVmstat as vmstatOf, type ReclaimReport } from '../dist/index.js';

const mm = fileURLToPath(new URL('./tasks/mm.mjs', import.meta.url));
const report = (r: RunResult): ReclaimReport => reportOf(r, RECLAIM)!;
const PAGES = 16_384; // 64 MiB: min 256, low 320, high 384 pages
const base = {
  seed: 'reclaim',
  memoryMiB: 64,
  memoryLayout: 'one-zone',
  window: '20us',
  modules: [{ module: reclaimModulePath }],
};
const full = (pages: number) => ({
  ...base,
  modules: [{ module: reclaimModulePath, args: { prefillFilePages: pages } }],
});

describe('reclaim', () => {
  it('refuses a kswapd that may move between CPUs, by name', async () => {
    const r = runSimulation({
      ...full(PAGES - 600),
      cpus: 2,
      duration: '1ms',
      tasks: [{ module: mm, export: 'kswapd', cpus: [0], pinned: false }],
    });
    await expect(r).rejects.toThrow(/task 'mm\.kswapd\/0': kswapd must be pinned \(pinned: true, the default\)/);
  });

  it('kswapd wakes below low, reclaims page cache, and sleeps once free memory is back above high', async () => {
    // A burst of 800 pages, one every 3 us: slower than kswapd reclaims (32 pages per 8 us pass).
    const burst = (gapNs: number, pages = 800) =>
      runSimulation({
        ...full(PAGES - 600),
        cpus: 2,
        duration: '60ms',
        tasks: [
          { module: mm, export: 'kswapd', cpus: [0] },
          { module: mm, export: 'burst', cpus: [1], args: { delayNs: 20_000_000, pages, gapNs } },
        ],
      });
    const r = await burst(3_000);
    expect(r.error).toBeNull();
    const k = report(r).kswapd;
    const wm = r.node.watermarks;
    expect(k.wakes).toBeGreaterThanOrEqual(1);
    expect(k.pagesReclaimed).toBeGreaterThan(0);
    const kswapd = r.tasks.find((t) => t.name.startsWith('mm.kswapd'))!;
    expect(kswapd.state).toBe('blocked-kernel'); // asleep again
    // It went to sleep above high; what the burst took since leaves free memory above low, where nobody wakes it.
    expect(r.node.freePages + r.node.pcpPages).toBeGreaterThanOrEqual(wm.lowPages);
    // Nobody else had to reclaim: kswapd kept ahead of the burst.
    expect(report(r).directReclaimed).toBe(0);
    expect(report(r).prefilledPages).toBe(PAGES - 600);
  });

  it('kswapdWakeLatencyNs wakes kswapd that much later: the same burst then takes the node below min', async () => {
    // As a slow machine's kswapd (a TCG guest's vCPU threads): 5 ms between wakeup_kswapd and kswapd running.
    const run = (kswapdWakeLatencyNs: number) =>
      runSimulation({
        ...base,
        modules: [{ module: reclaimModulePath, args: { prefillFilePages: PAGES - 600, kswapdWakeLatencyNs } }],
        cpus: 2,
        duration: '60ms',
        tasks: [
          { module: mm, export: 'kswapd', cpus: [0] },
          { module: mm, export: 'burst', cpus: [1], args: { delayNs: 20_000_000, pages: 800, gapNs: 3_000 } },
        ],
      });
    const [now, late] = await Promise.all([run(0), run(5_000_000)]);
    expect(report(now).directReclaimed).toBe(0);
    // The burst's 800 pages in 2.4 ms outrun kswapd's 5 ms: the allocator reclaims for itself.
    expect(report(late).directReclaimed).toBeGreaterThan(0);
  });

  it('kswapd naps HZ/10 before it sleeps: a wake-up within the nap and a node unbalanced at its end are counted', async () => {
    // Burst 1 (20 ms) takes free memory below low: kswapd wakes, balances the node - lru_size >> priority a
    // kswapd_shrink_node, 4, 8, 16 ... pages, until just above high (384) - and naps. Burst 2 (30 ms, within the
    // nap) takes it below low again: kswapd_low_wmark_hit_quickly. Burst 3 (60 ms) takes free memory from just above
    // high to between low and high, which wakes nobody; at the nap's end (100 ms after it began) kswapd finds the
    // node unbalanced, counts kswapd_high_wmark_hit_quickly, and reclaims back above high on its own.
    const r = await runSimulation({
      ...full(PAGES - 600),
      cpus: 2,
      duration: '250ms',
      window: '50us',
      tasks: [
        { module: mm, export: 'kswapd', cpus: [0] },
        { module: mm, export: 'burst', cpus: [1], args: { delayNs: 20_000_000, pages: 320, gapNs: 3_000 } },
        { module: mm, export: 'burst', cpus: [1], args: { delayNs: 30_000_000, pages: 360, gapNs: 3_000 } },
      ],
    });
    expect(r.error).toBeNull();
    const k = report(r).kswapd;
    expect(k.lowWmarkHitQuickly).toBeGreaterThanOrEqual(1);
    const wm = r.node.watermarks;
    expect(r.node.freePages).toBeGreaterThan(wm.highPages);
    const late = await runSimulation({
      ...full(PAGES - 600),
      cpus: 2,
      duration: '250ms',
      window: '50us',
      tasks: [
        { module: mm, export: 'kswapd', cpus: [0] },
        { module: mm, export: 'burst', cpus: [1], args: { delayNs: 20_000_000, pages: 320, gapNs: 3_000 } },
        // Just enough to leave the node between low and high: nobody is woken.
        { module: mm, export: 'burst', cpus: [1], args: { delayNs: 60_000_000, pages: 50, gapNs: 3_000 } },
      ],
    });
    expect(late.error).toBeNull();
    const lk = report(late).kswapd;
    expect(lk.wakes).toBe(1);
    expect(lk.highWmarkHitQuickly).toBeGreaterThanOrEqual(1);
    expect(lk.runs).toBeGreaterThanOrEqual(2);
    expect(late.node.freePages).toBeGreaterThan(wm.highPages);
    const v = vmstatOf(late);
    expect([v.kswapd_low_wmark_hit_quickly, v.kswapd_high_wmark_hit_quickly]).toEqual([
      lk.lowWmarkHitQuickly,
      lk.highWmarkHitQuickly,
    ]);
  });

  it('without kswapd, the allocating task reclaims for itself and is charged for it; GFP_NOWAIT never reclaims', async () => {
    const opts = (workers: number): RunOptions => ({
      ...full(PAGES - 500),
      cpus: 4,
      workers,
      duration: '40ms',
      tasks: [
        { module: mm, export: 'pageCache', cpus: [0], args: { pages: 200 } },
        { module: mm, export: 'kernelWork', cpus: [1], args: { hold: 256, delayNs: 10_000_000 } },
        { module: mm, export: 'nowait', cpus: [2, 3] },
      ],
    });
    const [one, four] = await Promise.all([runSimulation(opts(1)), runSimulation(opts(4))]);
    expect(one.error).toBeNull();
    expect(four.digest).toBe(one.digest);
    const rows = report(one).tasks;
    const worker = rows.find((t) => t.name.startsWith('mm.kernelWork'))!;
    expect(worker.directPasses).toBeGreaterThan(0);
    expect(worker.pagesReclaimed).toBeGreaterThan(0);
    expect(worker.stallNs).toBeGreaterThan(0);
    for (const t of rows.filter((x) => x.name.startsWith('mm.nowait'))) {
      expect(t.directPasses).toBe(0);
      expect(t.allocFailures).toBeGreaterThan(0);
    }
    // Latency histograms (HDR, merged over workers): every allocPages call counted, the stalls in the tail.
    const lat = report(one).latency![String(worker.task)]!.GFP_KERNEL!;
    expect(lat.count).toBe(one.tasks[worker.task]!.allocs.GFP_KERNEL!.calls - worker.allocRetries);
    expect(lat.maxNs).toBeGreaterThan(lat.p50Ns);
    expect(lat.maxNs).toBeGreaterThan(32 * 200); // at least one direct-reclaim pass: 32 pages at 200 ns each
    expect(report(four).latency).toEqual(report(one).latency);
    // The zone's own accounting agrees on who reclaimed.
    expect(report(one).directReclaimed).toBe(rows.reduce((s, t) => s + t.pagesReclaimed, 0));
  });

  it('kswapd gives up on a hopeless node after 16 fruitless balance_pgdat runs, and ignores wake-ups until progress', async () => {
    // Nothing is reclaimable (no page cache, anonymous pages and no swap) and a GFP_NOWAIT allocator keeps memory
    // below low, waking kswapd again and again.
    const r = await runSimulation({
      ...base,
      cpus: 2,
      duration: '40ms',
      tasks: [
        { module: mm, export: 'kswapd', cpus: [0] },
        { module: mm, export: 'nowait', cpus: [1], args: { hold: PAGES } },
      ],
    });
    expect(r.error).toBeNull();
    const k = report(r).kswapd;
    expect(k.pagesReclaimed).toBe(0);
    expect(k.failures).toBeGreaterThanOrEqual(16);
    expect(k.giveUps).toBe(1); // once hopeless, never woken again: nothing made progress
    expect(k.passes).toBe(16 * 12); // each run spent its 12 priorities
    expect(k.runs).toBe(16);
    // pageoutrun counts every balance_pgdat call; each of the first 15 runs ended on an unbalanced node and went
    // straight into the next (kswapd_high_wmark_hit_quickly); the 16th made the node hopeless.
    expect(k.balanceCalls).toBe(16);
    expect(k.highWmarkHitQuickly).toBe(15);
    expect(k.scanned).toBe(0); // nothing on the LRU to scan
    expect(k.wakesRefused).toBeGreaterThan(0);
  });

  it('the OOM killer takes the task holding the most memory when nothing is reclaimable', async () => {
    const r = await runSimulation({
      ...base,
      cpus: 2,
      duration: '100ms',
      tasks: [
        { module: mm, export: 'hog', cpus: [0] },
        { module: mm, export: 'kernelWork', cpus: [1], args: { hold: 2000 } },
      ],
    });
    expect(r.error).toBeNull();
    const kills = report(r).oomKills;
    expect(kills.length).toBeGreaterThanOrEqual(1);
    expect(kills[0]!.name).toMatch(/^mm\.hog/);
    expect(kills[0]!.pages).toBeGreaterThan(PAGES / 2);
    const hog = r.tasks.find((t) => t.name.startsWith('mm.hog'))!;
    expect(hog.state).toBe('killed');
    expect(hog.killedBy).toMatch(/OOM killer/);
    // Its memory came back: the kernel work goes on.
    const work = r.tasks.find((t) => t.name.startsWith('mm.kernelWork'))!;
    expect(work.state).not.toBe('killed');
    expect(work.allocs.GFP_KERNEL!.granted).toBeGreaterThan(100);
    // should_reclaim_retry: with nothing reclaimable, free plus reclaimable pages cannot pass min, so the first fruitless
    // pass leads to the OOM killer (not the 17th); and a pass without progress is neither retried nor drained for.
    const rows = report(r).tasks.filter((t) => t.oomRequests > 0);
    expect(rows.length).toBeGreaterThan(0);
    for (const t of rows) expect(t.directPasses).toBeLessThanOrEqual(t.oomRequests * 2);
    expect(report(r).drains).toBe(0);
  });

  it('the OOM killer never picks a kernel thread', async () => {
    // Three tasks that never free, the same pages each: a kernel thread (the first: picked first on a tie, were it
    // killable), a process of zeroed pages (page tables to the killer, which the kill does not free), and another.
    // The kernel thread is spared (oom_unkillable_task: PF_KTHREAD) and the two processes are killed in turn.
    const r = await runSimulation({
      ...base,
      cpus: 3,
      duration: '60ms',
      tasks: [
        { module: mm, export: 'hog', cpus: [0], args: { kthread: true } },
        { module: mm, export: 'zeroHog', cpus: [1] },
        { module: mm, export: 'hog', cpus: [2] },
      ],
    });
    expect(r.error).toBeNull();
    const kills = report(r).oomKills;
    expect(kills.map((k) => k.name.split('/')[0])).toEqual(['mm.zeroHog', 'mm.hog']);
    expect(kills.every((k) => k.task !== 0)).toBe(true);
    expect(r.tasks[0]!.state).not.toBe('killed');
  });
});
