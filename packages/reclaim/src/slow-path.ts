// slow-path: __alloc_pages_slowpath from the first answer that the caller may reclaim, as an XState machine
// (kernel-facts §4; mm/page_alloc.c, 6.1): a direct-reclaim pass of 32 pages; only if it made progress, a retry,
// then a drain of every CPU's list and one more retry (__alloc_pages_direct_reclaim); __GFP_NORETRY fails there;
// should_reclaim_retry counts passes without progress and gives up when there have been more than 16, or when free
// plus reclaimable pages could not pass the min watermark anyway; each new loop starts with another freelist attempt;
// giving up, __GFP_RETRY_MAYFAIL fails and everyone else asks the OOM killer, and a kill starts the loop again with
// the count reset (a __GFP_NOFAIL caller goes on even when it finds no victim). The machine ends in `granted` or
// `failed`; its steps run in the allocating task's context.
import type { TaskContext, TaskOp } from '@faultline/engine';
import { machineGuards, parkOp, type MachineGuard, type MachineStep } from '@faultline/engine/module';
import type { GfpMask } from '@faultline/gfp';
import { __GFP_FS, __GFP_IO, __GFP_NOFAIL, __GFP_NORETRY, __GFP_RETRY_MAYFAIL } from '@faultline/gfp';
import { setup } from 'xstate';
import { ALLOC_FAILED } from '@faultline/zone';
import {
  ISOLATE_ASK,
  ISOLATE_IO_FS,
  ISOLATE_KSWAPD,
  K_DRAIN,
  K_ISOLATE,
  K_OOM,
  K_RECLAIM,
  N_LRU_FILE_ZONE,
  T_ALLOC_RETRIES,
  T_DIRECT_PASSES,
  T_DIRECT_RECLAIMED,
  T_OOM_REQUESTS,
  THROTTLE_ISOLATED,
  THROTTLE_NOPROGRESS,
} from './layout.js';
import type { ReclaimCpu } from './reclaim-cpu.js';
import { reclaimThrottle, throttleDirectReclaim } from './throttle.js';

/** SWAP_CLUSTER_MAX: pages a reclaim pass aims for. */
export const SWAP_CLUSTER_MAX = 32;
/** MAX_RECLAIM_RETRIES: more passes without progress than this and the OOM path comes. */
export const MAX_RECLAIM_RETRIES = 16;
/** PAGE_ALLOC_COSTLY_ORDER: above it, reclaim progress does not reset the count. */
export const PAGE_ALLOC_COSTLY_ORDER = 3;

export type SlowCtx = Pick<TaskContext, 'cpu' | 'kernel' | 'id' | 'now' | 'alloc' | 'compute' | 'free' | 'sleep'> &
  Partial<Pick<TaskContext, 'tracing' | 'traceBegin' | 'traceEnd' | 'traceInstant'>>;

/** One run of the slow path: the caller, its mask, and what the steps found. */
export interface SlowRun {
  readonly ctx: SlowCtx;
  readonly rc: ReclaimCpu;
  readonly maskArg: string | GfpMask;
  readonly mask: number;
  readonly order: number;
  /** The last allocation's answer: a pfn, ALLOC_FAILED or ALLOC_MAY_RECLAIM (@faultline/zone's allocate). */
  result: number;
  /** Pages the last reclaim pass freed. */
  got: number;
  noProgress: number;
}

export const slowPathMachine = setup({
  types: { context: {} as SlowRun, input: {} as SlowRun, events: {} as { type: string } },
  guards: {
    noretry: ({ context }) => (context.mask & __GFP_NORETRY) !== 0,
    retryMayfail: ({ context }) => (context.mask & __GFP_RETRY_MAYFAIL) !== 0 && (context.mask & __GFP_NOFAIL) === 0,
    nofail: ({ context }) => (context.mask & __GFP_NOFAIL) !== 0,
  },
}).createMachine({
  id: 'alloc-slowpath',
  initial: 'reclaim',
  context: ({ input }) => input,
  states: {
    reclaim: { meta: { step: 'directReclaim' }, on: { progress: 'retry', none: 'afterReclaim' } },
    retry: { meta: { step: 'allocate' }, on: { granted: 'granted', failed: 'failed', mayReclaim: 'drain' } },
    drain: { meta: { step: 'drainAll' }, on: { done: 'retryDrained' } },
    retryDrained: {
      meta: { step: 'allocate' },
      on: { granted: 'granted', failed: 'failed', mayReclaim: 'afterReclaim' },
    },
    afterReclaim: {
      meta: { step: 'noretryCheck' },
      on: { done: [{ guard: 'noretry', target: 'failed' }, { target: 'judge' }] },
    },
    judge: {
      meta: { step: 'shouldRetry' },
      on: { retry: 'loopStart', exhausted: [{ guard: 'retryMayfail', target: 'failed' }, { target: 'oom' }] },
    },
    loopStart: { meta: { step: 'allocate' }, on: { granted: 'granted', failed: 'failed', mayReclaim: 'reclaim' } },
    oom: {
      meta: { step: 'oomKill' },
      on: { killed: 'loopStart', none: [{ guard: 'nofail', target: 'loopStart' }, { target: 'failed' }] },
    },
    granted: { type: 'final' },
    failed: { type: 'final' },
  },
});

/** A request to the commit; the task waits on its CPU (the kernel does this work in the task's context) until the
 * answer, and resumes at the simulated time the answer resolved. */
export function* ask(
  rc: ReclaimCpu,
  taskId: number,
  kind: number,
  a: number,
  b: number,
  why: string,
): Generator<TaskOp, number, number> {
  rc.request(taskId, kind, a, b);
  return yield parkOp(why, { stall: true });
}

/** The mask reclaim runs with when the caller gives none (kswapd's sc.gfp_mask; GFP_KERNEL's __GFP_IO|__GFP_FS). */
const IO_FS = __GFP_IO | __GFP_FS;

/**
 * One reclaim batch by this task (shrink_inactive_list, mm/vmscan.c): a direct reclaimer first asks the commit
 * whether too many pages are isolated (too_many_isolated: NR_ISOLATED_FILE, every batch in flight on the node,
 * kswapd's too, above the inactive file pages - an eighth of them for a caller with __GFP_IO|__GFP_FS); if so it
 * sleeps VMSCAN_THROTTLE_ISOLATED once and, still too many, gives up the batch (0 pages). Then it isolates up to
 * `nr` pages, which count as isolated until its answer, scans (its cost in simulated time) and the commit frees
 * what it found. kswapd is never throttled here but its batches count as isolated.
 */
export function* reclaimPassOf(
  ctx: Pick<SlowCtx, 'id' | 'compute' | 'now' | 'tracing' | 'traceBegin' | 'traceEnd'>,
  rc: ReclaimCpu,
  scanNsPerPage: number,
  nr = SWAP_CLUSTER_MAX,
  kswapd = false,
  mask = IO_FS,
): Generator<TaskOp, number, number> {
  const ioFs = (mask & IO_FS) === IO_FS ? ISOLATE_IO_FS : 0;
  if (kswapd) rc.request(ctx.id, K_ISOLATE, nr, ISOLATE_KSWAPD | ioFs);
  else {
    let stalled = false;
    while ((yield* ask(rc, ctx.id, K_ISOLATE, nr, ISOLATE_ASK | ioFs, 'too_many_isolated')) === 1) {
      if (stalled) return 0;
      stalled = true;
      yield* reclaimThrottle(ctx, rc, THROTTLE_ISOLATED);
    }
  }
  yield ctx.compute(nr * scanNsPerPage);
  return yield* ask(rc, ctx.id, K_RECLAIM, nr, kswapd ? 1 : 0, kswapd ? 'kswapd reclaim pass' : 'direct reclaim pass');
}

/** A direct-reclaim pass of the task's own, counted as its pass and its pages (the caller makes it a stall). */
export function* directReclaimPass(
  ctx: Pick<SlowCtx, 'id' | 'compute' | 'now' | 'tracing' | 'traceBegin' | 'traceEnd'>,
  rc: ReclaimCpu,
  scanNsPerPage: number,
  nr = SWAP_CLUSTER_MAX,
  mask = IO_FS,
): Generator<TaskOp, number, number> {
  // mm_vmscan_direct_reclaim_begin .. _end (mm/vmscan.c, try_to_free_pages), a slice in the trace.
  if (ctx.tracing) ctx.traceBegin!('mm_vmscan_direct_reclaim_begin', { nr_to_reclaim: nr });
  const got = yield* reclaimPassOf(ctx, rc, scanNsPerPage, nr, false, mask);
  if (ctx.tracing) ctx.traceEnd!({ nr_reclaimed: got });
  rc.mem[rc.taskCounter(ctx.id, T_DIRECT_PASSES)]!++;
  rc.mem[rc.taskCounter(ctx.id, T_DIRECT_RECLAIMED)]! += got;
  return got;
}

/**
 * try_to_free_pages (mm/vmscan.c) for the allocator's slow path: throttle_direct_reclaim first (a sleep on
 * pfmemalloc_wait while the node is below half its min watermarks), then the pass (do_try_to_free_pages, one
 * batch: the model's pass stands for all its priorities), and consider_reclaim_throttle's verdict on it: nothing
 * reclaimed by priority 1 means VMSCAN_THROTTLE_NOPROGRESS (a jiffy, unless skip_throttle_noprogress). The kernel
 * sleeps at priority 1 and then scans at priority 0; the model's pass is done by then.
 */
export function* tryToFreePages(
  ctx: Pick<SlowCtx, 'id' | 'compute' | 'now' | 'tracing' | 'traceBegin' | 'traceEnd'>,
  rc: ReclaimCpu,
  scanNsPerPage: number,
  mask: number,
  nr = SWAP_CLUSTER_MAX,
): Generator<TaskOp, number, number> {
  yield* throttleDirectReclaim(ctx, rc, mask);
  const got = yield* directReclaimPass(ctx, rc, scanNsPerPage, nr, mask);
  if (got === 0) yield* reclaimThrottle(ctx, rc, THROTTLE_NOPROGRESS);
  return got;
}

export function slowPathSteps(scanNsPerPage: (rc: ReclaimCpu) => number): Record<string, MachineStep<SlowRun>> {
  return {
    *directReclaim(s) {
      const got = yield* tryToFreePages(s.ctx, s.rc, scanNsPerPage(s.rc), s.mask);
      s.got = got;
      // __alloc_pages_direct_reclaim: no progress, no retry and no drain.
      return got > 0 ? 'progress' : 'none';
    },
    *noretryCheck() {
      return 'done';
    },
    *allocate(s) {
      s.rc.mem[s.rc.taskCounter(s.ctx.id, T_ALLOC_RETRIES)]!++;
      s.result = yield s.ctx.alloc(s.maskArg, s.order);
      return s.result >= 0 ? 'granted' : s.result === ALLOC_FAILED ? 'failed' : 'mayReclaim';
    },
    *drainAll(s) {
      // The reclaimed pages sit on per-CPU lists, outside the free count: drain them all.
      yield* ask(s.rc, s.ctx.id, K_DRAIN, 0, 0, 'drain_all_pages');
      return 'done';
    },
    *shouldRetry(s) {
      // should_reclaim_retry: more than MAX_RECLAIM_RETRIES loops without progress means OOM; so does a node none
      // of whose zones could pass min even if all its reclaimable pages were freed (no swap: page cache only).
      s.noProgress = s.got > 0 && s.order <= PAGE_ALLOC_COSTLY_ORDER ? 0 : s.noProgress + 1;
      if (s.noProgress > MAX_RECLAIM_RETRIES) return 'exhausted';
      const m = s.rc.mem;
      return s.rc.node.couldPassMin(s.order, (z) => m[N_LRU_FILE_ZONE + z]!) ? 'retry' : 'exhausted';
    },
    *oomKill(s) {
      s.rc.mem[s.rc.taskCounter(s.ctx.id, T_OOM_REQUESTS)]!++;
      const victim = yield* ask(s.rc, s.ctx.id, K_OOM, 0, 0, 'the OOM killer');
      s.noProgress = 0;
      return victim >= 0 ? 'killed' : 'none';
    },
  };
}

/** The machine's guards, as the stepper calls them. */
export const SLOW_PATH_GUARDS: Readonly<Record<string, MachineGuard<SlowRun>>> = machineGuards(slowPathMachine);
