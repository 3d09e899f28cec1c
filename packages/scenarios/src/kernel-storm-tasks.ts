// kernel-storm-tasks: the kernel threads of flstorm, the module the real-kernel oracle loads into Debian's kernels
// (a page-table allocation storm beside GFP_KERNEL victims), as task generators, and the storm's modes (the masks
// it allocates with, and what a failure does). Each thread keeps flstorm's per-thread counts with ctx.count.
//   stormThread  storm_fn: `pagesPerFault` zeroed pages per "fault" with the mode's mask, then the fault's CPU
//                time; every `cycle` faults it "munmaps": every page goes back as tlb_remove_table frees page tables
//                (mm/mmu_gather.c), in batches freed after a grace period.
//   stormVictim  victim_fn: alloc_page(GFP_KERNEL), a FIFO of `hold` pages, CPU time, then usleep_range(gap, 2 gap).
//   readaheadReader  the guest's `cat` of a file larger than memory: page cache in readahead's batches.
import type { TaskContext, TaskOp } from '@faultline/engine';
import { GFP_TLB_BATCH, MAX_TABLE_BATCH } from '@faultline/mm';
import { kfreeRcuBatch } from '@faultline/rcu';
import { allocPages, lruAdd } from '@faultline/reclaim';

type Task = Generator<TaskOp, void, number>;

/** The storm's page-table mask under the kernel's rules: GFP_PGTABLE_USER (arch/x86/include/asm/pgalloc.h,
 * GFP_KERNEL|__GFP_ZERO|__GFP_ACCOUNT) less the memcg charge, which flstorm's alloc_page does not make. */
export const GFP_STORM_KERNEL = 'GFP_KERNEL|__GFP_ZERO';
/** The speculative fault's mask as first proposed: never sleeps, never reclaims, no reserves, no warning. */
export const GFP_STORM_NOWAIT = 'GFP_NOWAIT|__GFP_NOMEMALLOC|__GFP_NOWARN|__GFP_ZERO';

/** A storm mode: flstorm's `mode`, the mask of its table allocations (null: no storm), and the mask a failed one
 * falls back to (null: none; the allocation is tried again). */
export interface StormMode {
  readonly mode: 0 | 1 | 2 | 3;
  readonly mask: string | null;
  readonly fallbackMask: string | null;
}

/** flstorm's modes by the policy names the scenario gives them, the baseline first. */
export const STORM_MODES = {
  // mode 2: the mmap_lock fault (mm/memory.c, __pte_alloc -> pte_alloc_one), which may sleep and reclaim.
  classic: { mode: 2, mask: GFP_STORM_KERNEL, fallbackMask: null },
  // mode 1: the first proposal's rules taken literally: on failure, back to user space and fault again.
  'spf-nowait-literal': { mode: 1, mask: GFP_STORM_NOWAIT, fallbackMask: null },
  // mode 3: the kernel's speculative paths: VM_FAULT_RETRY into the mmap_lock fault, whose mask may reclaim.
  'spf-nowait': { mode: 3, mask: GFP_STORM_NOWAIT, fallbackMask: GFP_STORM_KERNEL },
  // mode 0: no storm threads.
  'storm-off': { mode: 0, mask: null, fallbackMask: null },
} as const satisfies Record<string, StormMode>;

/** The counters a storm thread keeps (ctx.count; result.tasks[i].counters), as flstorm's struct worker does. */
export const STORM_COUNTERS = {
  /** Table allocations with the mode's mask that failed (flstorm's fails). */
  fails: 'fails',
  /** Of those, the ones that fell back to the mode's fallback mask (fallback). */
  fallbacks: 'fallbacks',
  /** Tables freed at once because no batch page could be had (batch_fail). */
  batchFails: 'batchFails',
} as const;

const num = (ctx: TaskContext, k: string, dflt: number): number => {
  const v = ctx.args[k];
  return typeof v === 'number' ? v : dflt;
};

/** A storm thread (scripts/oracle/flstorm.c, storm_fn). args: mask, fallbackMask, pagesPerFault (2), faultNs (500),
 * cycle (1024), failNs (0: a failed attempt costs the model's allocator only), freeRcu (true: tlb_remove_table's
 * batches through RCU; false: each table freed at once, as native x86 frees a userspace fault's tables).
 * A failed allocation is counted; with a fallback mask one more allocation is made with it; when there is still
 * no page, cond_resched() (ctx.condResched: the thread leaves the CPU only if a reschedule is due) and the same
 * allocation again (a refault). After each fault's work, cond_resched() again, as flstorm's loop does. */
export function* stormThread(ctx: TaskContext): Task {
  const mask = String(ctx.args.mask ?? GFP_STORM_KERNEL);
  const fallbackMask = typeof ctx.args.fallbackMask === 'string' ? ctx.args.fallbackMask : null;
  const pagesPerFault = num(ctx, 'pagesPerFault', 2);
  const faultNs = num(ctx, 'faultNs', 500);
  const cycle = num(ctx, 'cycle', 1024);
  const failNs = num(ctx, 'failNs', 0);
  const held: number[] = [];
  for (;;) {
    for (let fault = 0; fault < cycle; fault++) {
      for (let page = 0; page < pagesPerFault; ) {
        let pfn = yield* allocPages(ctx, mask);
        if (pfn < 0) {
          ctx.count(STORM_COUNTERS.fails);
          // The failed attempt's own CPU in the kernel the model mirrors (the oracle measures it).
          if (failNs > 0) yield ctx.compute(failNs);
          if (fallbackMask !== null) {
            ctx.count(STORM_COUNTERS.fallbacks);
            pfn = yield* allocPages(ctx, fallbackMask);
          }
          if (pfn < 0) {
            // cond_resched() and the same allocation again.
            yield ctx.condResched();
            continue;
          }
        }
        held.push(pfn);
        page++;
      }
      // The fault's own work and flstorm's storm_us of busy CPU (udelay), then cond_resched.
      yield ctx.compute(faultNs);
      yield ctx.condResched();
    }
    if (ctx.args.freeRcu === false) {
      // Native x86 before the 6.14-era series (arch/x86/mm/pgtable.c, native_tlb_remove_table -> tlb_remove_page):
      // a table goes back once the TLB is flushed, not after a grace period. The userspace storm's tables in a
      // guest without a paravirt hook.
      for (const pfn of held) yield ctx.free(pfn);
    } else yield* removeTables(ctx, held);
    held.length = 0;
  }
}

/** The "munmap": every table freed as tlb_remove_table does (mm/mmu_gather.c), as flstorm's unmap_all does it. A
 * batch page comes from __get_free_page(GFP_NOWAIT|__GFP_NOWARN) (mm's GFP_TLB_BATCH, which adds __GFP_ZERO for
 * the OOM killer's bookkeeping of page tables) and holds MAX_TABLE_BATCH tables; a full batch, and the last one,
 * go to call_rcu (tlb_table_flush), whose callback (tlb_remove_table_rcu) frees its tables and then the batch page
 * after a grace period. When no batch page can be had, that table is
 * freed at once (tlb_remove_table_one; flstorm frees it with __free_page, without the kernel's IPI to every CPU) and
 * the next table tries for a batch page again. */
function* removeTables(ctx: TaskContext, tables: readonly number[]): Task {
  let batch: number[] = [];
  let batchPage = -1;
  for (const pfn of tables) {
    if (batchPage < 0) {
      batchPage = yield* allocPages(ctx, GFP_TLB_BATCH);
      if (batchPage < 0) {
        ctx.count(STORM_COUNTERS.batchFails);
        yield ctx.free(pfn);
        continue;
      }
    }
    batch.push(pfn);
    if (batch.length === MAX_TABLE_BATCH) {
      batch.push(batchPage);
      kfreeRcuBatch(ctx, batch);
      batch = [];
      batchPage = -1;
    }
  }
  if (batchPage >= 0) kfreeRcuBatch(ctx, [...batch, batchPage]);
}

/** A victim (scripts/oracle/flstorm.c, victim_fn): alloc_page(GFP_KERNEL); past `hold` pages the oldest is freed (a
 * FIFO); then `computeNs` of CPU and usleep_range(gap, 2 gap). args: hold (128), computeNs (1000), gapNs (4000). */
export function* stormVictim(ctx: TaskContext): Task {
  const hold = num(ctx, 'hold', 128);
  const computeNs = num(ctx, 'computeNs', 1_000);
  const gapNs = num(ctx, 'gapNs', 4_000);
  const held: number[] = [];
  for (;;) {
    const pfn = yield* allocPages(ctx, 'GFP_KERNEL');
    if (pfn >= 0) held.push(pfn);
    if (held.length > hold) yield ctx.free(held.shift()!);
    yield ctx.compute(computeNs);
    yield ctx.sleep(gapNs + Math.floor(ctx.random() * gapNs));
  }
}

/** Readahead's mask (mm/readahead.c, readahead_gfp_mask): the mapping's (GFP_HIGHUSER_MOVABLE, which on this
 * machine's zones is GFP_KERNEL's reclaim and I/O rights) with __GFP_NORETRY|__GFP_NOWARN: one reclaim pass, then
 * the batch stops short. */
export const GFP_READAHEAD = 'GFP_KERNEL|__GFP_NORETRY|__GFP_NOWARN';

/** The reader (the guest's `cat` of a sparse file larger than memory): a sequential read() misses the page cache
 * and readahead allocates the next window at once (mm/readahead.c, page_cache_ra_unbounded: `batchPages` folios with
 * readahead's mask, stopping at the first that fails); when none could be had, the read allocates its one page with
 * the mapping's mask, which may reclaim and retry (mm/filemap.c, filemap_create_folio). Each page then costs
 * `copyNs` of CPU and `gapNs` of waiting, so the mean pace is a page per copyNs + gapNs whatever the batch.
 * args: batchPages (32: read_ahead_kb 128), copyNs (1000), gapNs (4000). */
export function* readaheadReader(ctx: TaskContext): Task {
  const batchPages = num(ctx, 'batchPages', 32);
  const copyNs = num(ctx, 'copyNs', 1_000);
  const gapNs = num(ctx, 'gapNs', 4_000);
  for (;;) {
    let got = 0;
    while (got < batchPages) {
      const pfn = yield* allocPages(ctx, got === 0 && batchPages === 1 ? 'GFP_KERNEL' : GFP_READAHEAD);
      if (pfn < 0) break;
      lruAdd(ctx, pfn, 'file');
      got++;
    }
    if (got === 0) {
      const pfn = yield* allocPages(ctx, 'GFP_KERNEL');
      if (pfn >= 0) {
        lruAdd(ctx, pfn, 'file');
        got = 1;
      }
    }
    for (let i = 0; i < Math.max(1, got); i++) {
      yield ctx.compute(copyNs);
      if (gapNs > 0) yield ctx.sleep(gapNs);
    }
  }
}
