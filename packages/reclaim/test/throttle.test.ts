// Reclaim's pacing as mm/vmscan.c (6.1) does it: kswapd's batch of high-watermark pages per kswapd_shrink_node with
// the balance tested once per priority iteration; throttle_direct_reclaim's sleep on pfmemalloc_wait below half
// the min watermarks until kswapd's progress; reclaim_throttle's VMSCAN_THROTTLE_NOPROGRESS (a jiffy) and
// VMSCAN_THROTTLE_ISOLATED (too_many_isolated), each a sleep; kernel threads exempt.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { reportOf, runSimulation, type RunResult } from '@faultline/engine';
import { RECLAIM, reclaimModulePath, reclaimVmstat as vmstatOf, type ReclaimReport } from '../dist/index.js';

const mm = fileURLToPath(new URL('./tasks/mm.mjs', import.meta.url));
const report = (r: RunResult): ReclaimReport => reportOf(r, RECLAIM)!;
const PAGES = 16_384; // 64 MiB in one zone: min 256, low 320, high 384 pages
const base = { seed: 'throttle', memoryMiB: 64, memoryLayout: 'one-zone' as const, window: '20us' };
const reclaimArgs = (args: Record<string, unknown>) => ({ modules: [{ module: reclaimModulePath, args }] });
const row = (r: RunResult, prefix: string) => report(r).tasks.find((t) => t.name.startsWith(prefix))!;

describe('reclaim pacing', () => {
  it("kswapd_shrink_node asks for the zones' high watermarks in one go and balance_pgdat tests the balance once per iteration", async () => {
    // 256 MiB as the kernel lays it out (DMA and DMA32): a GFP_KERNEL burst takes the node below low.
    const r = await runSimulation({
      seed: 'throttle',
      memoryMiB: 256,
      window: '20us',
      cpus: 2,
      duration: '40ms',
      ...reclaimArgs({ prefillHeadroom: 1.5 }),
      tasks: [
        { module: mm, export: 'kswapd', cpus: [0] },
        { module: mm, export: 'burst', cpus: [1], args: { delayNs: 10_000_000, pages: 3_000, gapNs: 2_000 } },
      ],
    });
    expect(r.error).toBeNull();
    const k = report(r).kswapd;
    // sc->nr_to_reclaim: max(high_wmark_pages(zone), SWAP_CLUSTER_MAX) summed over the zones.
    const nr = r.zones.reduce((s, z) => s + Math.max(z.watermarks.highPages, 32), 0);
    expect(r.zones.length).toBe(2);
    expect(nr).toBeGreaterThan(32 * 12);
    expect(k.passes).toBeGreaterThan(0);
    expect(k.asked).toBe(k.passes * nr);
    // But each iteration scans only get_scan_count's lru_size >> priority: from priority 12 on ~50 k pages of page
    // cache, 12, 24, 48, 97 ... pages (clean page cache: every page scanned is reclaimed), and the run ends at the
    // first balanced test. So a run reclaims a few hundred pages, not nr_to_reclaim, over several iterations.
    expect(k.pagesReclaimed).toBe(k.scanned);
    expect(k.pagesReclaimed).toBeLessThan(k.asked / 4);
    expect(k.passes / k.runs).toBeGreaterThanOrEqual(2);
    expect(k.passes / k.runs).toBeLessThan(8);
    expect(k.pagesReclaimed / k.runs).toBeGreaterThan(12 + 24);
    expect(k.pagesReclaimed / k.runs).toBeLessThan(nr / 2);
  });

  it('throttle_direct_reclaim: below half the min watermark a GFP_KERNEL allocator sleeps on pfmemalloc_wait until kswapd makes progress', async () => {
    // GFP_ATOMIC takes the node into its reserves (below min/2 = 128), faster than a slow kswapd (2 us a page)
    // reclaims; then a GFP_KERNEL allocator enters direct reclaim. A kernel thread doing the same is not throttled.
    const run = (kthread: boolean) =>
      runSimulation({
        ...base,
        cpus: 3,
        duration: '12ms',
        ...reclaimArgs({ prefillFilePages: PAGES - 600, scanNsPerPage: 2_000 }),
        tasks: [
          { module: mm, export: 'kswapd', cpus: [0] },
          { module: mm, export: 'reserveBurst', cpus: [1], args: { delayNs: 5_000_000, pages: 560 } },
          {
            module: mm,
            export: 'allocator',
            name: 'alloc',
            cpus: [2],
            args: { delayNs: 5_200_000, count: 40, kthread },
          },
        ],
      });
    const [user, kthread] = await Promise.all([run(false), run(true)]);
    expect(user.error).toBeNull();
    const a = row(user, 'alloc');
    expect(a.pfmemallocThrottled).toBeGreaterThanOrEqual(1);
    expect(vmstatOf(user).pgscan_direct_throttle).toBe(a.pfmemallocThrottled);
    expect(report(user).throttled.pfmemalloc_wait).toBeGreaterThanOrEqual(1);
    // It slept (no timeout: GFP_KERNEL has __GFP_FS) until kswapd's first kswapd_shrink_node (384 pages at 2 us)
    // brought free pages back above half min: hundreds of microseconds, not a pass's few.
    expect(a.throttleNs).toBeGreaterThan(100_000);
    expect(a.throttleNs).toBeLessThan(384 * 2_000 + 200_000);
    expect(a.stallNs).toBeGreaterThanOrEqual(a.throttleNs);
    // The kernel thread reclaims for itself at once (PF_KTHREAD).
    expect(kthread.error).toBeNull();
    const k = row(kthread, 'alloc');
    expect(k.pfmemallocThrottled).toBe(0);
    expect(k.directPasses).toBeGreaterThan(a.directPasses);
  });

  it('VMSCAN_THROTTLE_NOPROGRESS: direct reclaim that frees nothing from mostly dirty page cache sleeps a jiffy', async () => {
    // Every page cache page is dirty and no kswapd writes them back: direct reclaim passes over them and makes no
    // progress; write_pending is more than half the reclaimable pages, so skip_throttle_noprogress does not skip.
    const run = (hz: number, kthread = false) =>
      runSimulation({
        ...base,
        hz,
        cpus: 2,
        duration: '200ms',
        ...reclaimArgs({ prefillFilePages: PAGES - 600, prefillDirtyEvery: 1 }),
        tasks: [
          { module: mm, export: 'allocator', name: 'alloc', cpus: [1], args: { count: 2_000, kthread } },
          { module: mm, export: 'hog', cpus: [0] },
        ],
      } as Parameters<typeof runSimulation>[0]);
    const [hz250, hz1000, kt] = await Promise.all([run(250), run(1000), run(250, true)]);
    for (const [r, jiffyNs] of [
      [hz250, 4_000_000],
      [hz1000, 1_000_000],
    ] as const) {
      expect(r.error).toBeNull();
      const rep = report(r);
      expect(rep.throttled.VMSCAN_THROTTLE_NOPROGRESS).toBeGreaterThanOrEqual(16);
      expect(rep.throttled.VMSCAN_THROTTLE_ISOLATED).toBe(0);
      const sleepers = rep.tasks.filter((t) => t.reclaimThrottled > 0);
      expect(sleepers.length).toBeGreaterThan(0);
      for (const t of sleepers) {
        // Each sleep ends at the next tick (schedule_timeout(1)): at most a jiffy; a pass lasts microseconds, so
        // the sleeps after the first are nearly a whole jiffy each.
        expect(t.throttleNs).toBeLessThanOrEqual(t.reclaimThrottled * jiffyNs);
        expect(t.throttleNs).toBeGreaterThan((t.reclaimThrottled - 1) * jiffyNs * 0.9);
      }
    }
    // A kernel thread is never throttled (reclaim_throttle: PF_KTHREAD but kswapd).
    expect(kt.error).toBeNull();
    expect(row(kt, 'alloc').reclaimThrottled).toBe(0);
  });

  it('VMSCAN_THROTTLE_ISOLATED: concurrent direct reclaimers over a small page cache wait while too many pages are isolated', async () => {
    // A few hundred pages of page cache; a burst pins the rest of memory; four allocators then reclaim at once,
    // each batch isolating 32 pages for 640 us (20 us a page): more isolated than an eighth of the list.
    const r = await runSimulation({
      ...base,
      cpus: 4,
      duration: '30ms',
      ...reclaimArgs({ prefillFilePages: 400, scanNsPerPage: 20_000 }),
      tasks: [
        { module: mm, export: 'burst', cpus: [0], args: { pages: PAGES - 400 - 300, delayNs: 0 } },
        ...[0, 1, 2, 3].map((c) => ({
          module: mm,
          export: 'allocator',
          name: `alloc${c}`,
          cpus: [c],
          args: { delayNs: 10_000_000, count: 200 },
        })),
      ],
    });
    expect(r.error).toBeNull();
    const rep = report(r);
    expect(rep.throttled.VMSCAN_THROTTLE_ISOLATED).toBeGreaterThanOrEqual(1);
    const sleepers = rep.tasks.filter((t) => t.name.startsWith('alloc') && t.reclaimThrottled > 0);
    expect(sleepers.length).toBeGreaterThan(0);
    // HZ/50 at most (5 jiffies at HZ=250), usually less: the next reclaimer that finds the node below the limit
    // wakes them.
    for (const t of sleepers) expect(t.throttleNs).toBeLessThanOrEqual(t.reclaimThrottled * 20_000_000);
  });
});
