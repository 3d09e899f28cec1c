// Workloads for the memcg tests: a task that charges pages and keeps them (with a sleeping or a non-blocking mask),
// optionally reading page cache into its own group first, and a task outside any group that does the same.
import { allocPages, lruAdd } from '../../dist/index.js';

/** Reads `cache` pages of page cache (charged to its group), then takes `pages` pages with `mask` and keeps them,
 * `gapNs` apart. Counts what it got in ctx.args-independent stats (the engine's per-mask counters). */
export function* hog(ctx) {
  const { cache = 0, pages = 1_000, mask = 'GFP_KERNEL|__GFP_ACCOUNT', gapNs = 1_000 } = ctx.args;
  for (let i = 0; i < cache; i++) {
    const pfn = yield* allocPages(ctx, 'GFP_KERNEL|__GFP_ACCOUNT');
    if (pfn >= 0) lruAdd(ctx, pfn, 'file');
    yield ctx.compute(500);
  }
  for (let i = 0; i < pages; i++) {
    yield* allocPages(ctx, mask);
    yield ctx.compute(gapNs);
  }
  yield ctx.sleep(1e12);
}
