// throttle: reclaim's pacing, as mm/vmscan.c does it in 6.1. Two sleeps of the reclaiming task, each on a wait queue
// of the node, each a real sleep (the task leaves its CPU; ReclaimCpu.throttleSleep and the commit's wait queues):
//  - reclaim_throttle(pgdat, reason): VMSCAN_THROTTLE_NOPROGRESS (consider_reclaim_throttle: a direct reclaim that
//    got nothing by priority 1; a jiffy, woken early when a direct reclaimer reclaims more than an eighth of what it
//    scanned) and VMSCAN_THROTTLE_ISOLATED (shrink_inactive_list while too_many_isolated; HZ/50, woken when a
//    direct reclaimer's too_many_isolated finds the node below the limit: wake_throttle_isolated). Kernel threads
//    other than kswapd are never throttled (PF_KTHREAD: args.kthread in the model). Not modelled:
//    VMSCAN_THROTTLE_WRITEBACK (HZ/10: kswapd meeting pages marked for immediate reclaim still under writeback,
//    woken by __acct_reclaim_writeback; its timeout is here for when it is) and VMSCAN_THROTTLE_CONGESTED.
//  - throttle_direct_reclaim: a direct reclaimer that is not a kernel thread sleeps on pgdat->pfmemalloc_wait while
//    allow_direct_reclaim fails - the free pages of the zones up to ZONE_NORMAL that have reclaimable pages at or
//    below half their min watermarks summed - until kswapd's balance_pgdat finds it passing again (or is about to
//    sleep: prepare_kswapd_sleep wakes every waiter); without __GFP_FS at most HZ. Counted as
//    pgscan_direct_throttle.
// Timeouts are in jiffies of the run's HZ (config.hz; schedule_timeout ends at a tick).
import type { TaskOp } from '@faultline/engine';
import { parkOp } from '@faultline/engine/module';
import { __GFP_FS } from '@faultline/gfp';
import type { MemoryNode } from '@faultline/zone';
import {
  N_KSWAPD_FAILURES,
  N_LRU_DIRTY,
  N_LRU_FILE,
  N_LRU_FILE_ZONE,
  T_PFMEMALLOC_THROTTLED,
  T_RECLAIM_THROTTLED,
  T_THROTTLE_NS,
  THROTTLE_ISOLATED,
  THROTTLE_NOPROGRESS,
  THROTTLE_PFMEMALLOC,
  THROTTLE_PFMEMALLOC_TIMEOUT,
  THROTTLE_REASONS,
  THROTTLE_WRITEBACK,
} from './layout.js';
import type { ReclaimCpu } from './reclaim-cpu.js';

/** MAX_RECLAIM_RETRIES, as kswapd_failures is compared with it. */
const MAX_RECLAIM_RETRIES = 16;

type ThrottleCtx = {
  readonly id: number;
  now(): number;
  readonly tracing?: boolean;
  traceBegin?(name: string, args?: Readonly<Record<string, number | string>>): void;
  traceEnd?(args?: Readonly<Record<string, number | string>>): void;
};

/** reclaim_throttle's timeout for a reason, in jiffies ("pulled out of thin air", as its comment says). */
export function throttleTimeoutJiffies(reason: number, hz: number): number {
  if (reason === THROTTLE_WRITEBACK) return Math.floor(hz / 10);
  if (reason === THROTTLE_ISOLATED) return Math.floor(hz / 50);
  if (reason === THROTTLE_NOPROGRESS) return 1;
  if (reason === THROTTLE_PFMEMALLOC_TIMEOUT) return hz; // throttle_direct_reclaim without __GFP_FS
  return 0; // pfmemalloc_wait with __GFP_FS: until woken
}

/**
 * allow_direct_reclaim (mm/vmscan.c): true when the node is hopeless (kswapd_failures >= MAX_RECLAIM_RETRIES), or
 * when the free pages (NR_FREE_PAGES, unsynchronised) of its zones up to ZONE_NORMAL that have reclaimable pages
 * are above half their min watermarks summed, or when no zone counts. `reclaimable(i)`: zone i's
 * zone_reclaimable_pages (its page cache: there is no swap). Every zone the model has is at most ZONE_NORMAL.
 */
export function allowDirectReclaim(node: MemoryNode, reclaimable: (zone: number) => number, failures: number): boolean {
  if (failures >= MAX_RECLAIM_RETRIES) return true;
  let reserve = 0;
  let free = 0;
  node.zones.forEach((z, i) => {
    if (reclaimable(i) === 0) return;
    reserve += z.watermarks.minPages;
    free += z.freePages();
  });
  if (reserve === 0) return true;
  return free > Math.floor(reserve / 2);
}

/**
 * skip_throttle_noprogress (mm/vmscan.c): no NOPROGRESS sleep on a hopeless node, nor unless pages waiting for
 * writeback (NR_ZONE_WRITE_PENDING: dirty and under writeback) are more than half of the reclaimable ones. As 6.1
 * writes it (`if (2 * write_pending <= reclaimable) return true`), a node of mostly clean page cache never throttles
 * on NOPROGRESS, whatever the comment above it says.
 */
export function skipThrottleNoprogress(rc: ReclaimCpu): boolean {
  const m = rc.mem;
  if (m[N_KSWAPD_FAILURES]! >= MAX_RECLAIM_RETRIES) return true;
  const writePending = m[N_LRU_DIRTY]!;
  const reclaimable = m[N_LRU_FILE]! + writePending;
  return 2 * writePending <= reclaimable;
}

/**
 * reclaim_throttle (mm/vmscan.c): the reclaimer sleeps on the node's wait queue for `reason` until woken or its
 * timeout, TASK_UNINTERRUPTIBLE; kernel threads but kswapd return at once (cond_resched). A slice
 * mm_vmscan_throttled in the trace (the tracepoint's fields: usec_timeout, usec_delayed, reason). Returns whether
 * it slept.
 */
export function* reclaimThrottle(ctx: ThrottleCtx, rc: ReclaimCpu, reason: number): Generator<TaskOp, boolean, number> {
  if (ctx.id !== rc.kswapdTask && rc.kthreads.has(ctx.id)) return false;
  if (reason === THROTTLE_NOPROGRESS && skipThrottleNoprogress(rc)) return false;
  const timeout = throttleTimeoutJiffies(reason, rc.hz);
  const name = THROTTLE_REASONS[reason]!;
  const usecTimeout = (timeout * rc.jiffyNs) / 1e3;
  if (ctx.tracing) ctx.traceBegin!('mm_vmscan_throttled', { reason: name, usec_timeout: usecTimeout });
  const t0 = ctx.now();
  rc.throttleSleep(ctx.id, reason, timeout);
  yield parkOp(`reclaim_throttle: ${name}`);
  const slept = ctx.now() - t0;
  rc.mem[rc.taskCounter(ctx.id, T_RECLAIM_THROTTLED)]!++;
  rc.mem[rc.taskCounter(ctx.id, T_THROTTLE_NS)]! += slept;
  if (ctx.tracing) ctx.traceEnd!({ usec_delayed: Math.round(slept / 1e3) });
  return true;
}

/** allow_direct_reclaim as the task's CPU sees the node: the zones' counters, the LRU and kswapd_failures as the
 * last commit left them. */
export function allowDirectReclaimHere(rc: ReclaimCpu): boolean {
  const m = rc.mem;
  return allowDirectReclaim(rc.node, (z) => m[N_LRU_FILE_ZONE + z]!, m[N_KSWAPD_FAILURES]!);
}

/**
 * throttle_direct_reclaim (mm/vmscan.c), at try_to_free_pages' start: kernel threads go on (PF_KTHREAD); so do
 * all when the run has no kswapd to wake them (the kernel always has one). Otherwise while allow_direct_reclaim
 * fails, the task counts PGSCAN_DIRECT_THROTTLE once and sleeps on pfmemalloc_wait: wait_event_killable until
 * the condition holds when woken, or, without __GFP_FS, wait_event_interruptible_timeout for at most HZ. The
 * commit's check when it registers the wait is wait_event's own test before sleeping, and wakes kswapd if the
 * condition still fails (allow_direct_reclaim's wake_up_interruptible of kswapd_wait).
 */
export function* throttleDirectReclaim(
  ctx: ThrottleCtx,
  rc: ReclaimCpu,
  mask: number,
): Generator<TaskOp, void, number> {
  if (rc.kthreads.has(ctx.id) || !rc.hasKswapd || ctx.id === rc.kswapdTask) return;
  if (allowDirectReclaimHere(rc)) return;
  rc.mem[rc.taskCounter(ctx.id, T_PFMEMALLOC_THROTTLED)]!++;
  const fs = (mask & __GFP_FS) !== 0;
  const reason = fs ? THROTTLE_PFMEMALLOC : THROTTLE_PFMEMALLOC_TIMEOUT;
  const t0 = ctx.now();
  const deadline = fs ? Infinity : (Math.floor(t0 / rc.jiffyNs) + rc.hz) * rc.jiffyNs;
  if (ctx.tracing) ctx.traceBegin!('throttle_direct_reclaim', { gfp_fs: fs ? 1 : 0 });
  for (;;) {
    const left = deadline === Infinity ? 0 : Math.max(1, Math.round((deadline - ctx.now()) / rc.jiffyNs));
    rc.throttleSleep(ctx.id, reason, left);
    const woken = yield parkOp('throttle_direct_reclaim: pfmemalloc_wait');
    // wait_event: a wake-up re-tests the condition and sleeps again if it still fails; the timeout ends it.
    if (woken === 0 || ctx.now() >= deadline || allowDirectReclaimHere(rc)) break;
  }
  rc.mem[rc.taskCounter(ctx.id, T_THROTTLE_NS)]! += ctx.now() - t0;
  if (ctx.tracing) ctx.traceEnd!({});
}
