// api: reclaim for tasks and kernel paths - the allocator's slow path with direct reclaim (__alloc_pages_slowpath
// from the first failure on), LRU additions, and the kswapd thread. Each runs in the calling task's context on its
// CPU; requests go to the commit and the task parks until the answer comes at the next window.
import { parkOp, type TaskContext, type TaskOp } from '@faultline/engine';
import { parseGfp, __GFP_ACCOUNT, __GFP_DIRECT_RECLAIM, __GFP_NOFAIL, __GFP_NORETRY, __GFP_RETRY_MAYFAIL, type GfpMask } from '@faultline/gfp';
import {
  K_DRAIN, K_LRU_ADD, K_LRU_DEL, K_MEMCG_OOM, K_OOM, K_RECLAIM, K_SYNC, LRU_KINDS, RECLAIM_MEMCG_BASE, N_KSWAPD_GIVEUPS, N_KSWAPD_WAKES, T_ALLOC_FAILURES,
  T_ALLOC_RETRIES, T_DIRECT_PASSES, T_DIRECT_RECLAIMED, T_LRU_ADDED, T_OOM_REQUESTS, T_STALL_NS, type LruKind,
} from './layout.js';
import { latencies, reclaimOptions, reclaimRegistry } from './module.js';
import type { ReclaimCpu } from './reclaim-cpu.js';
import { chargePage, type ChargeSteps } from './memcg.js';

/** SWAP_CLUSTER_MAX: pages a reclaim pass aims for. */
export const SWAP_CLUSTER_MAX = 32;
/** MAX_RECLAIM_RETRIES: passes without progress before the OOM path. */
export const MAX_RECLAIM_RETRIES = 16;

type Ctx = Pick<TaskContext, 'cpu' | 'id' | 'now' | 'alloc' | 'compute' | 'free' | 'sleep'>;
type Path<T> = Generator<TaskOp, T, number>;

function reclaimOf(ctx: Pick<TaskContext, 'cpu'>): ReclaimCpu {
  const rc = reclaimRegistry.get(ctx.cpu);
  if (rc === undefined) throw new Error(`reclaim is not loaded on cpu ${ctx.cpu}: add @faultline/reclaim's module (reclaimModulePath) to the run's modules`);
  return rc;
}

function* ask(rc: ReclaimCpu, taskId: number, kind: number, a: number, b: number, why: string): Path<number> {
  rc.request(taskId, kind, a, b);
  return yield parkOp(why);
}

/** Give a page to the LRU: page cache (clean or dirty) or anonymous memory. */
export function lruAdd(ctx: Pick<TaskContext, 'cpu' | 'id'>, pfn: number, kind: LruKind = 'file'): void {
  const k = LRU_KINDS.indexOf(kind);
  if (k < 0) throw new Error(`lruAdd: kind '${kind}'; allowed: ${LRU_KINDS.join(', ')}`);
  const rc = reclaimOf(ctx);
  rc.request(ctx.id, K_LRU_ADD, pfn, k);
  rc.mem[rc.taskCounter(ctx.id, T_LRU_ADDED)]!++;
}

/** Take a page off the LRU before its owner frees it (an anonymous page unmapped). */
export function lruDel(ctx: Pick<TaskContext, 'cpu' | 'id'>, pfn: number): void {
  reclaimOf(ctx).request(ctx.id, K_LRU_DEL, pfn, 0);
}

/** One reclaim pass by this task: scan (its cost in simulated time), then the commit frees what it found. */
export function* reclaimPass(ctx: Ctx, nr = SWAP_CLUSTER_MAX, kswapd = false): Path<number> {
  const rc = reclaimOf(ctx);
  yield ctx.compute(nr * reclaimOptions.current.scanNsPerPage);
  return yield* ask(rc, ctx.id, K_RECLAIM, nr, kswapd ? 1 : 0, kswapd ? 'kswapd reclaim pass' : 'direct reclaim pass');
}

function chargeSteps(ctx: Ctx, rc: ReclaimCpu): ChargeSteps {
  return {
    sync: () => ask(rc, ctx.id, K_SYNC, 0, 0, 'memcg: waiting for the charge counter'),
    *groupReclaim(g) {
      yield ctx.compute(SWAP_CLUSTER_MAX * reclaimOptions.current.scanNsPerPage);
      return yield* ask(rc, ctx.id, K_RECLAIM, SWAP_CLUSTER_MAX, RECLAIM_MEMCG_BASE + g, 'memcg reclaim pass');
    },
    groupOom: (g) => ask(rc, ctx.id, K_MEMCG_OOM, g, 0, 'the memcg OOM killer'),
  };
}

const masks = new Map<string, number>();
function maskOf(mask: string | GfpMask, rc: ReclaimCpu): number {
  if (typeof mask === 'number') return mask;
  let m = masks.get(mask);
  if (m === undefined) masks.set(mask, (m = parseGfp(mask, rc.zone.config.kernel).mask));
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
    const pfn = yield* slowPath(ctx, maskArg, order);
    if (pfn < 0) return pfn;
    const rc = reclaimOf(ctx);
    const mask = maskOf(maskArg, rc);
    // __GFP_ACCOUNT: charge the task's memcg after the page is taken; a refused charge gives the page back.
    if ((mask & __GFP_ACCOUNT) === 0 || rc.groups.length === 0 || (yield* chargePage(ctx, rc, mask, chargeSteps(ctx, rc), MAX_RECLAIM_RETRIES))) return pfn;
    yield ctx.free(pfn);
    rc.mem[rc.taskCounter(ctx.id, T_ALLOC_FAILURES)]!++;
    return -1;
  } finally {
    latencies.record(ctx.id, typeof maskArg === 'string' ? maskArg : `0x${maskArg.toString(16)}`, ctx.now() - t0);
  }
}

function* slowPath(ctx: Ctx, maskArg: string | GfpMask, order: number): Path<number> {
  let r = yield ctx.alloc(maskArg, order);
  if (r !== -2) return r;
  const rc = reclaimOf(ctx);
  const mask = maskOf(maskArg, rc);
  const w = (k: number) => rc.taskCounter(ctx.id, k);
  const m = rc.mem;
  if ((mask & __GFP_DIRECT_RECLAIM) === 0) {
    m[w(T_ALLOC_FAILURES)]!++;
    return -1;
  }
  const stallStart = ctx.now();
  let noProgress = 0;
  try {
    for (;;) {
      const got = yield* reclaimPass(ctx);
      m[w(T_DIRECT_PASSES)]!++;
      m[w(T_DIRECT_RECLAIMED)]! += got;
      m[w(T_ALLOC_RETRIES)]!++;
      r = yield ctx.alloc(maskArg, order);
      if (r >= 0) return r;
      if (r === -1) break;
      // The reclaimed pages sit on per-CPU lists, outside the free count: drain them all and retry once.
      yield* ask(rc, ctx.id, K_DRAIN, 0, 0, 'drain_all_pages');
      m[w(T_ALLOC_RETRIES)]!++;
      r = yield ctx.alloc(maskArg, order);
      if (r >= 0) return r;
      if (r === -1 || (mask & __GFP_NORETRY) !== 0) break;
      noProgress = got > 0 ? 0 : noProgress + 1;
      if (noProgress < MAX_RECLAIM_RETRIES) continue;
      if ((mask & __GFP_RETRY_MAYFAIL) !== 0 && (mask & __GFP_NOFAIL) === 0) break;
      m[w(T_OOM_REQUESTS)]!++;
      const victim = yield* ask(rc, ctx.id, K_OOM, 0, 0, 'the OOM killer');
      if (victim < 0 && (mask & __GFP_NOFAIL) === 0) break;
      noProgress = 0;
    }
    m[w(T_ALLOC_FAILURES)]!++;
    return -1;
  } finally {
    m[w(T_STALL_NS)]! += ctx.now() - stallStart;
  }
}

/** kswapd: sleeps until the allocator wakes it below low; reclaims until free memory is above high; after 16
 * passes in a row that reclaim nothing it gives up until woken again. Run one per node: `{ module: kswapdTaskPath,
 * export: 'kswapd', cpus: [0] }`. */
export function* kswapd(ctx: TaskContext): Generator<TaskOp, void, number> {
  const rc = reclaimOf(ctx);
  rc.kswapdTask = ctx.id;
  const zone = rc.zone;
  for (;;) {
    rc.kswapdSleeps();
    yield parkOp('kswapd: sleeping until woken below the low watermark');
    rc.mem[N_KSWAPD_WAKES]!++;
    let failures = 0;
    while (zone.freePages() < zone.watermarks.highPages) {
      const got = yield* reclaimPass(ctx, SWAP_CLUSTER_MAX, true);
      failures = got > 0 ? 0 : failures + 1;
      if (failures >= MAX_RECLAIM_RETRIES) {
        rc.mem[N_KSWAPD_GIVEUPS]!++;
        break;
      }
    }
  }
}
