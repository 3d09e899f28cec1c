// Workloads for reclaim's tests: page cache that fills memory, steady kernel work, a burst, a memory hog, and a
// GFP_NOWAIT allocator.
import { allocPages, lruAdd } from '../../dist/index.js';

export { kswapd } from '../../dist/index.js';

/** Reads `pages` pages of a file into the page cache (clean, or dirty with probability `dirty`), then exits. */
export function* pageCache(ctx) {
  const { pages = 1000, dirty = 0 } = ctx.args;
  for (let i = 0; i < pages; i++) {
    const pfn = yield* allocPages(ctx, 'GFP_KERNEL');
    if (pfn < 0) break;
    lruAdd(ctx, pfn, ctx.random() < dirty ? 'file-dirty' : 'file');
    yield ctx.compute(2_000);
  }
}

/** Kernel work: keeps about `hold` pages, allocating one and freeing the oldest every few microseconds. */
export function* kernelWork(ctx) {
  const { hold = 64, delayNs = 0 } = ctx.args;
  if (delayNs) yield ctx.sleep(delayNs);
  const held = [];
  for (;;) {
    const pfn = yield* allocPages(ctx, 'GFP_KERNEL');
    if (pfn >= 0) held.push(pfn);
    if (held.length > hold) yield ctx.free(held.shift());
    yield ctx.compute(3_000 + Math.floor(ctx.random() * 2_000));
  }
}

/** After `delayNs`, takes `pages` pages at once and keeps them. */
export function* burst(ctx) {
  yield ctx.sleep(ctx.args.delayNs ?? 0);
  for (let i = 0; i < ctx.args.pages; i++) {
    const pfn = yield* allocPages(ctx, 'GFP_KERNEL');
    if (pfn < 0) break;
    if (ctx.args.gapNs) yield ctx.compute(ctx.args.gapNs);
  }
  yield ctx.sleep(1e12);
}

/** Anonymous memory it never gives back, until the OOM killer takes it. */
export function* hog(ctx) {
  for (;;) {
    const pfn = yield* allocPages(ctx, 'GFP_KERNEL');
    if (pfn >= 0) lruAdd(ctx, pfn, 'anon');
    yield ctx.compute(1_000);
  }
}

/** Zeroed pages it never gives back (page tables, to the OOM killer: the kill frees none of them at once). */
export function* zeroHog(ctx) {
  for (;;) {
    yield* allocPages(ctx, 'GFP_KERNEL|__GFP_ZERO');
    yield ctx.compute(1_000);
  }
}

/** GFP_NOWAIT allocations, holding up to `hold` pages. */
export function* nowait(ctx) {
  const held = [];
  for (;;) {
    const pfn = yield* allocPages(ctx, 'GFP_NOWAIT|__GFP_NOWARN');
    if (pfn >= 0) held.push(pfn);
    if (held.length > (ctx.args.hold ?? 256)) yield ctx.free(held.shift());
    yield ctx.compute(1_000);
  }
}

/** After `delayNs`, takes up to `pages` pages with `mask` (GFP_ATOMIC by default: below min, into the reserves)
 * and keeps them. */
export function* reserveBurst(ctx) {
  const { delayNs = 0, pages = 1, mask = 'GFP_ATOMIC', gapNs = 0 } = ctx.args;
  if (delayNs) yield ctx.sleep(delayNs);
  for (let i = 0; i < pages; i++) {
    const pfn = yield* allocPages(ctx, mask);
    if (pfn < 0) break;
    if (gapNs) yield ctx.compute(gapNs);
  }
  yield ctx.sleep(1e12);
}

/** After `delayNs`, one allocation with `mask` (GFP_KERNEL by default) every `gapNs`, `count` in all, kept. */
export function* allocator(ctx) {
  const { delayNs = 0, count = 1, mask = 'GFP_KERNEL', gapNs = 1_000 } = ctx.args;
  if (delayNs) yield ctx.sleep(delayNs);
  for (let i = 0; i < count; i++) {
    yield* allocPages(ctx, mask);
    yield ctx.compute(gapNs);
  }
  yield ctx.sleep(1e12);
}
