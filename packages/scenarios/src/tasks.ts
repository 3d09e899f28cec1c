// tasks: the built-in task actors of the scenarios. Generators, for speed (BENCHMARKS.md: an XState step costs
// about 100x a generator step); each reads its knobs from ctx.args.
//   faultStorm       threads of one process touching addresses 1 GiB apart, so that each fault needs a new PMD and
//                    a new PTE table for its one data page; every `cycle` faults it unmaps its VMA and maps it
//                    again (its tables go back as the machine frees them). With `file`, the VMA maps a resident
//                    file and the faults allocate page tables only. With `phase`, a thread starts at a point of its
//                    cycle drawn from its own stream, as threads started one after another are out of step.
//   kernelAllocator  kernel work: allocations (GFP_KERNEL, or `mask`) and frees at a steady pace, holding about
//                    `hold` pages.
//   pageCacheReader  reads a file: page cache that fills memory and keeps reclaim busy.
//   mmapChurner      maps and unmaps a VMA of the storm's process: an mmap_lock writer.
//   atomicIrq        interrupt-time GFP_ATOMIC allocations, held briefly.
//   anonHog          a process that allocates and touches `pages` of anonymous memory, frees them, and again.
//   pftThread        will-it-scale's page_fault: maps its own region, writes every page, unmaps it, and again.
//   pftShareThread   mmtests' pft-threads: writes every page of its share of one mapping once, and exits.
// and, from kernel-storm-tasks.ts, kernel-storm's stormThread and stormVictim.
export { kswapd } from '@faultline/reclaim';
export { stormThread, stormVictim } from './kernel-storm-tasks.js';
import type { TaskContext, TaskOp } from '@faultline/engine';
import { mmap, munmap } from '@faultline/mm';
import { allocPages, lruAdd, lruDel } from '@faultline/reclaim';

type Task = Generator<TaskOp, void, number>;
const GiB = 2 ** 30;
/** Where the storm threads' VMAs start: thread k's at STORM_BASE + k * STORM_VMA_BYTES. */
export const STORM_BASE = 2 ** 44;
export const STORM_VMA_BYTES = 2 ** 40; // 1 TiB of address space each
export const STORM_VMA_PAGES = STORM_VMA_BYTES / 4096;

const num = (ctx: TaskContext, k: string, dflt: number): number => {
  const v = ctx.args[k];
  return typeof v === 'number' ? v : dflt;
};

export function* faultStorm(ctx: TaskContext): Task {
  const lane = num(ctx, 'lane', 0);
  const cycle = num(ctx, 'cycle', 1024);
  const gapNs = num(ctx, 'gapNs', 500);
  const strideBytes = num(ctx, 'strideBytes', GiB);
  const file = ctx.args.file === true;
  const base = STORM_BASE + lane * STORM_VMA_BYTES;
  // Out of step: the first cycle is cut short at a point drawn from the seed, so the threads' munmaps and mmaps
  // (mmap_lock writers) fall at different times and the seeds explore where.
  let first = ctx.args.phase === true ? Math.floor(ctx.random() * cycle) : 0;
  for (;;) {
    for (let i = first; i < cycle; i++) {
      // strideBytes apart: at 1 GiB a new PMD table and a new PTE table for each fault's one data page.
      yield ctx.touch(base + ((i * strideBytes) % STORM_VMA_BYTES) + Math.floor(ctx.random() * 512) * 4096);
      yield ctx.compute(gapNs);
    }
    first = 0;
    yield* munmap(ctx, base, STORM_VMA_PAGES);
    yield* mmap(ctx, base, STORM_VMA_PAGES, { file });
  }
}

export function* kernelAllocator(ctx: TaskContext): Task {
  const hold = num(ctx, 'hold', 128);
  const gapNs = num(ctx, 'gapNs', 5_000);
  const mask = typeof ctx.args.mask === 'string' ? ctx.args.mask : 'GFP_KERNEL';
  const held: number[] = [];
  for (;;) {
    const pfn = yield* allocPages(ctx, mask);
    if (pfn >= 0) held.push(pfn);
    if (held.length > hold) yield ctx.free(held.shift()!);
    // Kernel work is event-driven: a little CPU, then a wait for the next request.
    yield ctx.compute(1_000);
    yield ctx.sleep(gapNs + Math.floor(ctx.random() * gapNs));
  }
}

export function* pageCacheReader(ctx: TaskContext): Task {
  const gapNs = num(ctx, 'gapNs', 4_000);
  const dirtyEvery = num(ctx, 'dirtyEvery', 0);
  for (let i = 1; ; i++) {
    const pfn = yield* allocPages(ctx, 'GFP_KERNEL');
    if (pfn >= 0) lruAdd(ctx, pfn, dirtyEvery > 0 && i % dirtyEvery === 0 ? 'file-dirty' : 'file');
    yield ctx.compute(1_000); // copying the page
    yield ctx.sleep(gapNs); // waiting for the next read
  }
}

export function* mmapChurner(ctx: TaskContext): Task {
  const everyNs = num(ctx, 'everyNs', 1_000_000);
  const start = num(ctx, 'start', 2 ** 45);
  const pages = num(ctx, 'pages', 256);
  for (;;) {
    yield ctx.sleep(everyNs);
    yield* mmap(ctx, start, pages);
    yield* munmap(ctx, start, pages);
  }
}

export function* atomicIrq(ctx: TaskContext): Task {
  const everyNs = num(ctx, 'everyNs', 50_000);
  for (;;) {
    yield ctx.sleep(everyNs + Math.floor(ctx.random() * everyNs));
    const pfn = yield* allocPages(ctx, 'GFP_ATOMIC');
    yield ctx.compute(2_000);
    if (pfn >= 0) yield ctx.free(pfn);
  }
}

/** A thread of the contended process: touches pages of its slice densely (tables mostly exist), forever. */
export function* denseToucher(ctx: TaskContext): Task {
  const lane = num(ctx, 'lane', 0);
  const pages = num(ctx, 'pages', 4096);
  const base = STORM_BASE + lane * pages * 4096;
  for (let i = 0; ; i++) {
    yield ctx.touch(base + (i % pages) * 4096);
    const gapNs = num(ctx, 'gapNs', 1_000);
    yield ctx.compute(Math.floor(gapNs / 2 + ctx.random() * gapNs));
  }
}

/** A pft thread (mmtests' pft-threads, will-it-scale's page_fault): maps its own anonymous region, writes every
 * page of it once (a first-touch fault each: a data page, and the region's PTE table on the first), unmaps it, and
 * again. Regions are 2 MiB-aligned, so each has its own PTE table; neighbours share PMD tables, as one process's
 * mappings do. */
export function* pftThread(ctx: TaskContext): Task {
  const lane = num(ctx, 'lane', 0);
  const pages = num(ctx, 'pages', 512);
  const touchNs = num(ctx, 'touchNs', 100);
  const regionBytes = Math.ceil((pages * 4096) / (2 * 1024 * 1024)) * 2 * 1024 * 1024;
  const base = STORM_BASE + lane * regionBytes;
  for (;;) {
    yield* mmap(ctx, base, pages);
    for (let i = 0; i < pages; i++) {
      yield ctx.touch(base + i * 4096, true);
      yield ctx.compute(touchNs); // the write that faulted, and the loop
    }
    yield* munmap(ctx, base, pages);
  }
}

/** A pft-threads thread (pft.c's pft_loop): writes one byte of every page of its share [base, base + pages pages)
 * once, in ascending order, then exits; the mapping is made before it starts (the mm module's initial VMA). */
export function* pftShareThread(ctx: TaskContext): Task {
  const base = num(ctx, 'base', STORM_BASE);
  const pages = num(ctx, 'pages', 1024);
  const touchNs = num(ctx, 'touchNs', 100);
  for (let i = 0; i < pages; i++) {
    yield ctx.touch(base + i * 4096, true);
    yield ctx.compute(touchNs); // the write that faulted, the loop, the trap's entry and exit
  }
}

/** The mmap-contention writer: every `everyNs` maps and unmaps a small VMA; every `remapEvery`-th time it unmaps
 * the faulting threads' VMA and maps it again, so they fault afresh. */
export function* contentionChurner(ctx: TaskContext): Task {
  const everyNs = num(ctx, 'everyNs', 200_000);
  const remapEvery = num(ctx, 'remapEvery', 10);
  const start = num(ctx, 'start', STORM_BASE);
  const pages = num(ctx, 'pages', 4096);
  for (let i = 1; ; i++) {
    yield ctx.sleep(Math.floor(everyNs / 2 + ctx.random() * everyNs));
    if (i % remapEvery === 0) {
      yield* munmap(ctx, start, pages);
      yield* mmap(ctx, start, pages);
    } else {
      yield* mmap(ctx, 2 ** 46, 64);
      yield* munmap(ctx, 2 ** 46, 64);
    }
  }
}

export function* anonHog(ctx: TaskContext): Task {
  const pages = num(ctx, 'pages', 12_288);
  const touchNs = num(ctx, 'touchNs', 250);
  const held: number[] = [];
  for (;;) {
    while (held.length < pages) {
      const pfn = yield* allocPages(ctx, 'GFP_KERNEL');
      if (pfn < 0) break;
      lruAdd(ctx, pfn, 'anon');
      held.push(pfn);
      yield ctx.compute(touchNs); // the first touch of the page
    }
    // The process exits: its memory goes back.
    for (const pfn of held.splice(0)) {
      lruDel(ctx, pfn);
      yield ctx.free(pfn);
    }
  }
}
