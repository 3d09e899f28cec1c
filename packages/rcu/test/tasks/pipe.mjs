// Workloads for RCU's tests, in the style of rcutorture: readers of various lengths (some nested, some preempted
// by the time slice), an updater that replaces pages and frees the old ones with kfree_rcu, synchronize_rcu
// callers, and a task that sleeps inside a read-side section.
import { callRcu, kfreeRcu, kfreeRcuBatch, rcuReadLock, rcuReadUnlock, synchronizeRcu } from '../../dist/index.js';

export function* reader(ctx) {
  const longNs = Number(ctx.args.longNs ?? 30_000);
  for (;;) {
    rcuReadLock(ctx);
    yield ctx.compute(500 + Math.floor(ctx.random() * longNs));
    if (ctx.random() < 0.3) {
      rcuReadLock(ctx); // nested
      yield ctx.compute(1_000);
      rcuReadUnlock(ctx);
    }
    rcuReadUnlock(ctx);
    yield ctx.compute(200 + Math.floor(ctx.random() * 2_000));
    if (ctx.random() < 0.05) yield ctx.sleep(Math.floor(ctx.random() * 200_000));
  }
}

export function* updater(ctx) {
  let current = -1;
  for (let i = 0; ; i++) {
    const pfn = yield ctx.alloc('GFP_KERNEL');
    if (pfn >= 0) {
      if (current >= 0) kfreeRcu(ctx, current);
      current = pfn;
    }
    if (i % 50 === 49) yield* synchronizeRcu(ctx);
    yield ctx.sleep(20_000 + Math.floor(ctx.random() * 50_000));
  }
}

export function* syncOnce(ctx) {
  yield ctx.compute(1_000);
  yield* synchronizeRcu(ctx);
  yield ctx.compute(1_000);
}

export function* sleepsInside(ctx) {
  yield ctx.compute(1_000);
  rcuReadLock(ctx);
  yield ctx.sleep(10_000);
}

/** Replaces its page every 20-70 us, freeing the old one with kfree_rcu; nothing else. */
export function* replacer(ctx) {
  let current = -1;
  for (;;) {
    const pfn = yield ctx.alloc('GFP_KERNEL');
    if (pfn >= 0) {
      if (current >= 0) kfreeRcu(ctx, current);
      current = pfn;
    }
    yield ctx.sleep(20_000 + Math.floor(ctx.random() * 50_000));
  }
}

/** Takes args.pages pages every 20-70 us and gives them to kfree_rcu as one batch (tlb_remove_table's way); the
 * array it passes is emptied at once, so the batch must have been copied. */
export function* batcher(ctx) {
  const n = Number(ctx.args.pages ?? 5);
  const held = [];
  for (;;) {
    for (let i = 0; i < n; i++) {
      const pfn = yield ctx.alloc('GFP_KERNEL');
      if (pfn >= 0) held.push(pfn);
    }
    kfreeRcuBatch(ctx, held);
    held.length = 0;
    yield ctx.sleep(20_000 + Math.floor(ctx.random() * 50_000));
  }
}

/** Queues a callback every 200 us and otherwise computes: its CPU never idles. */
export function* caller(ctx) {
  for (;;) {
    callRcu(ctx, () => {});
    yield ctx.compute(200_000);
  }
}

/** Computes for ever outside any read-side section: its CPU never idles, never switches. */
export function* spinner(ctx) {
  for (;;) yield ctx.compute(1_000_000);
}
