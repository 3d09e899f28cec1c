// api: reclaim for tasks and kernel paths - allocPages (the fast path, then the slow-path machine with direct
// reclaim, then the memcg charge), reclaim passes, LRU additions, and the kswapd task. Each runs in the calling
// task's context on its CPU; requests go to the commit and the task parks until the answer comes at the next
// window.
import type { TaskContext, TaskOp } from '@faultline/engine';
import { compileMachine, moduleState, runMachine } from '@faultline/engine/module';
import { parseGfp, __GFP_ACCOUNT, __GFP_DIRECT_RECLAIM, type GfpMask } from '@faultline/gfp';
import { ALLOC_MAY_RECLAIM } from '@faultline/zone';
import {
  K_LRU_ADD,
  K_LRU_DEL,
  K_MEMCG_OOM,
  K_RECLAIM,
  K_SYNC,
  LRU_KINDS,
  RECLAIM_MEMCG_BASE,
  T_ALLOC_FAILURES,
  T_LRU_ADDED,
  T_STALL_NS,
  type LruKind,
} from './layout.js';
import type { ReclaimCpu } from './reclaim-cpu.js';
import type { ReclaimReport } from './report.js';
import { chargePage, type ChargeSteps } from './memcg.js';
import { runKswapd } from './kswapd.js';
import {
  MAX_RECLAIM_RETRIES,
  SLOW_PATH_GUARDS,
  SWAP_CLUSTER_MAX,
  ask,
  directReclaimPass,
  reclaimPassOf,
  slowPathMachine,
  slowPathSteps,
  type SlowCtx,
} from './slow-path.js';

export { MAX_RECLAIM_RETRIES, SWAP_CLUSTER_MAX } from './slow-path.js';

type Ctx = SlowCtx;
type Path<T> = Generator<TaskOp, T, number>;
const slowPath = compileMachine(slowPathMachine);
const slowSteps = slowPathSteps((rc) => rc.scan.nsPerPage);

/** The reclaim module: its state on a CPU (module.ts's attachCpu returns it), and its report (reportOf(result,
 * RECLAIM)). */
export const RECLAIM = moduleState<ReclaimCpu, ReclaimReport>('reclaim');

function reclaimOf(ctx: Pick<TaskContext, 'kernel'>): ReclaimCpu {
  return ctx.kernel(RECLAIM);
}

/** Give a page to the LRU: page cache (clean or dirty) or anonymous memory. */
export function lruAdd(ctx: Pick<TaskContext, 'kernel' | 'id'>, pfn: number, kind: LruKind = 'file'): void {
  const k = LRU_KINDS.indexOf(kind);
  if (k < 0) throw new Error(`lruAdd: kind '${kind}'; allowed: ${LRU_KINDS.join(', ')}`);
  const rc = reclaimOf(ctx);
  rc.request(ctx.id, K_LRU_ADD, pfn, k);
  rc.mem[rc.taskCounter(ctx.id, T_LRU_ADDED)]!++;
}

/** Take a page off the LRU before its owner frees it (an anonymous page unmapped). */
export function lruDel(ctx: Pick<TaskContext, 'kernel' | 'id'>, pfn: number): void {
  reclaimOf(ctx).request(ctx.id, K_LRU_DEL, pfn, 0);
}

/** One reclaim pass by this task: scan (its cost in simulated time), then the commit frees what it found. Unless
 * `kswapd`, it is direct reclaim as try_to_free_pages does it (__perform_reclaim): a memory stall for PSI, and the
 * task's own pass, pages and stall time in the report, as the allocator's slow path counts its passes. */
export function* reclaimPass(
  ctx: Pick<Ctx, 'kernel' | 'id' | 'compute' | 'now'>,
  nr = SWAP_CLUSTER_MAX,
  kswapd = false,
): Path<number> {
  const rc = reclaimOf(ctx);
  if (kswapd) return yield* reclaimPassOf(ctx, rc, rc.scan.nsPerPage, nr, true);
  const start = ctx.now();
  const was = rc.cpu.memstall(ctx.id, true);
  try {
    return yield* directReclaimPass(ctx, rc, rc.scan.nsPerPage, nr);
  } finally {
    rc.mem[rc.taskCounter(ctx.id, T_STALL_NS)]! += ctx.now() - start;
    if (!was) rc.cpu.memstall(ctx.id, false);
  }
}

function chargeSteps(ctx: Ctx, rc: ReclaimCpu): ChargeSteps {
  return {
    sync: () => ask(rc, ctx.id, K_SYNC, 0, 0, 'memcg: waiting for the charge counter'),
    *groupReclaim(g) {
      // try_charge_memcg's reclaim is a memory stall for PSI.
      const was = rc.cpu.memstall(ctx.id, true);
      try {
        yield ctx.compute(SWAP_CLUSTER_MAX * rc.scan.nsPerPage);
        return yield* ask(rc, ctx.id, K_RECLAIM, SWAP_CLUSTER_MAX, RECLAIM_MEMCG_BASE + g, 'memcg reclaim pass');
      } finally {
        if (!was) rc.cpu.memstall(ctx.id, false);
      }
    },
    groupOom: (g) => ask(rc, ctx.id, K_MEMCG_OOM, g, 0, 'the memcg OOM killer'),
  };
}

/** Parsed masks by kernel, then text: a pooled worker may host runs of different kernels. */
const masks = new Map<string, Map<string, number>>();
function maskOf(mask: string | GfpMask, rc: ReclaimCpu): number {
  if (typeof mask === 'number') return mask;
  const kernel = rc.node.kernel;
  let byText = masks.get(kernel);
  if (byText === undefined) masks.set(kernel, (byText = new Map()));
  let m = byText.get(mask);
  if (m === undefined) byText.set(mask, (m = parseGfp(mask, kernel).mask));
  return m;
}

/**
 * Allocate like __alloc_pages: the engine's allocation (fast path, kswapd wake-up, min, emergency reserves), and
 * when it answers that the caller may reclaim: direct reclaim passes of 32 pages, a retry after each, a drain of
 * every CPU's list when the retry still fails, __GFP_NORETRY's single attempt, should_reclaim_retry's 16 passes
 * without progress, then the OOM killer (not for __GFP_RETRY_MAYFAIL or __GFP_NORETRY, which fail instead).
 * Returns a pfn, or -1. `yield* allocPages(ctx, 'GFP_KERNEL')`.
 */
export function* allocPages(ctx: Ctx, maskArg: string | GfpMask, order = 0): Path<number> {
  const t0 = ctx.now();
  try {
    // The engine's answer; only 'may reclaim' makes the slow path's generator.
    const first: number = yield ctx.alloc(maskArg, order);
    const pfn = first === ALLOC_MAY_RECLAIM ? yield* allocSlow(ctx, maskArg, order) : first;
    // kmem:mm_page_alloc (mm/page_alloc.c, __alloc_pages), an instant in the trace; a failure as pfn -1.
    if (ctx.tracing) ctx.traceInstant!('mm_page_alloc', { pfn, order, gfp_flags: String(maskArg) });
    if (pfn < 0) return pfn;
    const rc = reclaimOf(ctx);
    if (rc.groups.length === 0) return pfn; // no memcgs: nothing to charge
    const mask = maskOf(maskArg, rc);
    // __GFP_ACCOUNT: charge the task's memcg after the page is taken; a refused charge gives the page back.
    if ((mask & __GFP_ACCOUNT) === 0 || (yield* chargePage(ctx, rc, mask, chargeSteps(ctx, rc), MAX_RECLAIM_RETRIES)))
      return pfn;
    yield ctx.free(pfn);
    rc.mem[rc.taskCounter(ctx.id, T_ALLOC_FAILURES)]!++;
    return -1;
  } finally {
    reclaimOf(ctx).latencies.record(
      ctx.id,
      typeof maskArg === 'string' ? maskArg : `0x${maskArg.toString(16)}`,
      ctx.now() - t0,
    );
  }
}

/** The slow path, after the engine answered that the caller may reclaim: the machine runs, and the time it takes
 * is the task's reclaim stall. */
function* allocSlow(ctx: Ctx, maskArg: string | GfpMask, order: number): Path<number> {
  const rc = reclaimOf(ctx);
  const mask = maskOf(maskArg, rc);
  const m = rc.mem;
  if ((mask & __GFP_DIRECT_RECLAIM) === 0) {
    m[rc.taskCounter(ctx.id, T_ALLOC_FAILURES)]!++;
    return -1;
  }
  const run = { ctx, rc, maskArg, mask, order, result: ALLOC_MAY_RECLAIM as number, got: 0, noProgress: 0 };
  const stallStart = ctx.now();
  // __alloc_pages_slowpath's reclaim is a memory stall for PSI (psi_memstall_enter in __perform_reclaim).
  const wasStalled = rc.cpu.memstall(ctx.id, true);
  try {
    if ((yield* runMachine(slowPath, slowSteps, SLOW_PATH_GUARDS, run)) === 'granted') return run.result;
    m[rc.taskCounter(ctx.id, T_ALLOC_FAILURES)]!++;
    return -1;
  } finally {
    m[rc.taskCounter(ctx.id, T_STALL_NS)]! += ctx.now() - stallStart;
    if (!wasStalled) rc.cpu.memstall(ctx.id, false);
  }
}

/** kswapd: sleeps until the allocator wakes it below low; reclaims in batches of the zones' high watermarks until
 * free memory is above high; after 16 balance_pgdat runs in a row that reclaim nothing it gives up until woken
 * again (kswapd.ts has its machine). Run one per
 * node: `{ module: kswapdTaskPath, export: 'kswapd', cpus: [0] }`. */
export function kswapd(ctx: TaskContext): Generator<TaskOp, void, number> {
  const rc = reclaimOf(ctx);
  return runKswapd(
    ctx,
    rc,
    () => rc.scan.nsPerPage,
    () => rc.scan.perPage,
  );
}
