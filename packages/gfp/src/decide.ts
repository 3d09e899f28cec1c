// decide: the allocator's path from a GFP mask to an outcome, up to where direct reclaim would start
// (__alloc_pages and __alloc_pages_slowpath in mm/page_alloc.c):
//   1. fast path: get_page_from_freelist at the LOW watermark;
//   2. slow path: flags from gfp_to_alloc_flags (MIN, with the caller's reserve access); wake kswapd if the mask
//      has __GFP_KSWAPD_RECLAIM; try again;
//   3. emergency access (__gfp_pfmemalloc_flags) replaces the flags; try again;
//   4. a caller that cannot direct-reclaim fails here (GFP_NOWAIT ends here), warning unless __GFP_NOWARN;
//      a PF_MEMALLOC task fails here too (no recursion into reclaim);
//   5. everyone else may direct-reclaim and retry: that is the reclaim package's business.
// planAllocation does the mask arithmetic once; decideAllocation is the per-allocation part and allocates nothing.
import {
  ALLOC_KSWAPD,
  ALLOC_NO_WATERMARKS,
  ALLOC_WMARK_LOW,
  gfpPfmemallocFlags,
  gfpToAllocFlags,
  nofailLastResortFlags,
  reserveAllocFlags,
  type AllocContext,
} from './alloc-flags.js';
import {
  __GFP_DIRECT_RECLAIM,
  __GFP_NOFAIL,
  __GFP_NORETRY,
  __GFP_NOWARN,
  __GFP_RETRY_MAYFAIL,
  __GFP_ACCOUNT,
  type GfpMask,
} from './flags.js';
import { assertKernelBehaviour, type KernelBehaviour } from './kernel.js';
import { gfpWarnings, sanitizeGfp, type GfpWarning } from './warnings.js';
import { watermarkLinePages, zoneWatermarkOk, type Watermarks } from './watermark.js';

/** MAX_ORDER - 1 in v5.18 terms: the largest buddy order (4 MiB blocks of 4 KiB pages). */
export const ORDER_MAX = 10;

export interface AllocPlan {
  readonly mask: GfpMask;
  readonly order: number;
  readonly kernel: KernelBehaviour;
  readonly ctx: AllocContext;
  /** Fast path flags: ALLOC_WMARK_LOW. */
  readonly fastFlags: number;
  /** The slow path's first attempt (gfp_to_alloc_flags). */
  readonly slowFlags: number;
  /** Emergency retry flags, or 0 when the caller has no emergency access. */
  readonly reserveFlags: number;
  /** __GFP_NOFAIL's last resort after reclaim failed. */
  readonly nofailFlags: number;
  readonly wakesKswapd: boolean;
  readonly canDirectReclaim: boolean;
  readonly nowarn: boolean;
  readonly nofail: boolean;
  readonly noretry: boolean;
  readonly retryMayfail: boolean;
  readonly accounted: boolean;
  readonly warnings: readonly GfpWarning[];
}

export function assertOrder(order: number): number {
  if (!Number.isInteger(order) || order < 0 || order > ORDER_MAX) {
    throw new RangeError(`order: ${order} is not an allocation order; allowed: integers 0..${ORDER_MAX}`);
  }
  return order;
}

export function planAllocation(
  mask: GfpMask,
  order: number,
  kernel: KernelBehaviour,
  ctx: AllocContext = {},
): AllocPlan {
  assertKernelBehaviour(kernel);
  assertOrder(order);
  const warnings = gfpWarnings(mask, kernel, order);
  const m = sanitizeGfp(mask, kernel);
  const slowFlags = gfpToAllocFlags(m, order, kernel, ctx);
  const pf = gfpPfmemallocFlags(m, ctx);
  return {
    mask,
    order,
    kernel,
    ctx,
    fastFlags: ALLOC_WMARK_LOW,
    slowFlags,
    reserveFlags: pf === 0 ? 0 : reserveAllocFlags(slowFlags, pf, kernel),
    nofailFlags: nofailLastResortFlags(kernel),
    wakesKswapd: (slowFlags & ALLOC_KSWAPD) !== 0,
    canDirectReclaim: (m & __GFP_DIRECT_RECLAIM) !== 0,
    nowarn: (m & __GFP_NOWARN) !== 0,
    nofail: (m & __GFP_NOFAIL) !== 0,
    noretry: (m & __GFP_NORETRY) !== 0,
    retryMayfail: (m & __GFP_RETRY_MAYFAIL) !== 0,
    accounted: (m & __GFP_ACCOUNT) !== 0,
    warnings,
  };
}

/** What the allocator sees of a zone at the moment of the decision. */
export interface ZoneView extends Watermarks {
  readonly freePages: number;
  readonly lowmemReservePages?: number;
  readonly reservedHighatomicPages?: number;
  readonly hasFreeBlock?: (order: number, mayUseHighatomic: boolean) => boolean;
}

export const ALLOC_STEPS = ['fast', 'slow', 'emergency'] as const;
export type AllocStep = (typeof ALLOC_STEPS)[number];
export const ALLOC_VERDICTS = ['granted', 'fail', 'reclaim'] as const;
export type AllocVerdict = (typeof ALLOC_VERDICTS)[number];

export interface AllocDecision {
  readonly verdict: AllocVerdict;
  /** The step that granted the page; null unless granted. */
  readonly step: AllocStep | null;
  /** The flags of the check that granted, or of the last check tried. */
  readonly allocFlags: number;
  readonly wakeKswapd: boolean;
  /** The kernel would print an allocation failure report (fail without __GFP_NOWARN). */
  readonly warnFailure: boolean;
}

function check(plan: AllocPlan, view: ZoneView, markPages: number, allocFlags: number): boolean {
  return zoneWatermarkOk({
    freePages: view.freePages,
    markPages,
    order: plan.order,
    allocFlags,
    kernel: plan.kernel,
    lowmemReservePages: view.lowmemReservePages ?? 0,
    reservedHighatomicPages: view.reservedHighatomicPages ?? 0,
    ...(view.hasFreeBlock ? { hasFreeBlock: view.hasFreeBlock } : {}),
  });
}

export function decideAllocation(plan: AllocPlan, view: ZoneView): AllocDecision {
  if (check(plan, view, view.lowPages, plan.fastFlags)) {
    return { verdict: 'granted', step: 'fast', allocFlags: plan.fastFlags, wakeKswapd: false, warnFailure: false };
  }
  const wakeKswapd = plan.wakesKswapd;
  if (check(plan, view, view.minPages, plan.slowFlags)) {
    return { verdict: 'granted', step: 'slow', allocFlags: plan.slowFlags, wakeKswapd, warnFailure: false };
  }
  if (plan.reserveFlags !== 0) {
    const ok =
      plan.reserveFlags & ALLOC_NO_WATERMARKS
        ? view.freePages >= 1 << plan.order && (view.hasFreeBlock ? view.hasFreeBlock(plan.order, true) : true)
        : check(plan, view, view.minPages, plan.reserveFlags);
    if (ok)
      return { verdict: 'granted', step: 'emergency', allocFlags: plan.reserveFlags, wakeKswapd, warnFailure: false };
  }
  const last = plan.reserveFlags || plan.slowFlags;
  if (!plan.canDirectReclaim || plan.ctx.pfMemalloc) {
    return { verdict: 'fail', step: null, allocFlags: last, wakeKswapd, warnFailure: !plan.nowarn };
  }
  return { verdict: 'reclaim', step: null, allocFlags: last, wakeKswapd, warnFailure: false };
}

/** The free-page line the grant step checked against, for auditing a grant (0 for NO_WATERMARKS). */
export function grantLinePages(decision: AllocDecision, plan: AllocPlan, view: ZoneView): number {
  if (decision.step === null || decision.allocFlags & ALLOC_NO_WATERMARKS) return 0;
  const mark = decision.step === 'fast' ? view.lowPages : view.minPages;
  return watermarkLinePages(mark, decision.allocFlags, plan.kernel, view.lowmemReservePages ?? 0);
}
