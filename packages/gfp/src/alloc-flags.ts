// alloc-flags: from a GFP mask to the allocator's internal ALLOC_* flags (mm/page_alloc.c gfp_to_alloc_flags and
// __gfp_pfmemalloc_flags; mm/internal.h). The model gives ALLOC_HARDER (v5.18) and ALLOC_NON_BLOCK (v6.3+) separate
// bits, though the kernel reuses 0x10 for both, so that a formatted flag set is unambiguous.
import {
  __GFP_ATOMIC,
  __GFP_DIRECT_RECLAIM,
  __GFP_HIGH,
  __GFP_KSWAPD_RECLAIM,
  __GFP_MEMALLOC,
  __GFP_NOMEMALLOC,
  type GfpMask,
} from './flags.js';
import type { KernelBehaviour } from './kernel.js';

export const ALLOC_WMARK_MIN = 0x0;
export const ALLOC_WMARK_LOW = 0x1;
export const ALLOC_WMARK_HIGH = 0x2;
export const ALLOC_WMARK_MASK = 0x3;
export const ALLOC_NO_WATERMARKS = 0x4;
export const ALLOC_OOM = 0x8;
/** v5.18: __GFP_ATOMIC without __GFP_NOMEMALLOC, or a realtime task: min' -= min'/4. */
export const ALLOC_HARDER = 0x10;
/** __GFP_HIGH: ALLOC_HIGH in v5.18, ALLOC_MIN_RESERVE in v6.3+ (same bit, same effect: min' -= min'/2). */
export const ALLOC_MIN_RESERVE = 0x20;
export const ALLOC_HIGH = ALLOC_MIN_RESERVE;
export const ALLOC_CPUSET = 0x40;
export const ALLOC_HIGHATOMIC = 0x200;
export const ALLOC_KSWAPD = 0x800;
/** v6.3+: a caller that cannot direct-reclaim and did not say __GFP_NOMEMALLOC (kernel bit 0x10, see header). */
export const ALLOC_NON_BLOCK = 0x1000;

export const ALLOC_FLAG_NAMES: ReadonlyArray<readonly [string, number]> = [
  ['ALLOC_NO_WATERMARKS', ALLOC_NO_WATERMARKS],
  ['ALLOC_OOM', ALLOC_OOM],
  ['ALLOC_HARDER', ALLOC_HARDER],
  ['ALLOC_MIN_RESERVE', ALLOC_MIN_RESERVE],
  ['ALLOC_CPUSET', ALLOC_CPUSET],
  ['ALLOC_HIGHATOMIC', ALLOC_HIGHATOMIC],
  ['ALLOC_KSWAPD', ALLOC_KSWAPD],
  ['ALLOC_NON_BLOCK', ALLOC_NON_BLOCK],
];

/** Who is allocating: the task-side inputs of the kernel's decisions. */
export interface AllocContext {
  /** rt_task(current): a realtime task gets ALLOC_HARDER (v5.18) or ALLOC_MIN_RESERVE (v6.3+, blocking callers). */
  readonly realtime?: boolean;
  /** PF_MEMALLOC: kswapd, or a task inside direct reclaim: may ignore watermarks, must not recurse into reclaim. */
  readonly pfMemalloc?: boolean;
  /** An OOM victim (tsk_is_oom_victim): ALLOC_OOM. */
  readonly oomVictim?: boolean;
  /** In interrupt context: no realtime boost, no PF_MEMALLOC/OOM reserves. */
  readonly inInterrupt?: boolean;
}

/** gfp_to_alloc_flags: the flags of the slow path's first attempt (at the MIN watermark). */
export function gfpToAllocFlags(mask: GfpMask, order: number, kernel: KernelBehaviour, ctx: AllocContext = {}): number {
  let flags = ALLOC_WMARK_MIN | ALLOC_CPUSET;
  if (mask & __GFP_HIGH) flags |= ALLOC_MIN_RESERVE;
  if (mask & __GFP_KSWAPD_RECLAIM) flags |= ALLOC_KSWAPD;
  if (kernel === 'v5.18') {
    if (mask & __GFP_ATOMIC) {
      if (!(mask & __GFP_NOMEMALLOC)) flags |= ALLOC_HARDER;
      flags &= ~ALLOC_CPUSET;
    } else if (ctx.realtime && !ctx.inInterrupt) {
      flags |= ALLOC_HARDER;
    }
    return flags;
  }
  if (!(mask & __GFP_DIRECT_RECLAIM)) {
    if (!(mask & __GFP_NOMEMALLOC)) {
      flags |= ALLOC_NON_BLOCK;
      if (order > 0) flags |= ALLOC_HIGHATOMIC;
    }
    if (flags & ALLOC_MIN_RESERVE) flags &= ~ALLOC_CPUSET;
  } else if (ctx.realtime && !ctx.inInterrupt) {
    flags |= ALLOC_MIN_RESERVE;
  }
  return flags;
}

/** __gfp_pfmemalloc_flags: emergency access, first match wins; 0 when none. */
export function gfpPfmemallocFlags(mask: GfpMask, ctx: AllocContext = {}): number {
  if (mask & __GFP_NOMEMALLOC) return 0;
  if (mask & __GFP_MEMALLOC) return ALLOC_NO_WATERMARKS;
  if (!ctx.inInterrupt) {
    if (ctx.pfMemalloc) return ALLOC_NO_WATERMARKS;
    if (ctx.oomVictim) return ALLOC_OOM;
  }
  return 0;
}

/** The flags the slow path retries with once emergency access applies (they replace the first attempt's flags). */
export function reserveAllocFlags(firstFlags: number, reserveFlags: number, kernel: KernelBehaviour): number {
  if (reserveFlags === 0) return firstFlags;
  return kernel === 'v5.18' ? reserveFlags : reserveFlags | (firstFlags & ALLOC_KSWAPD);
}

/** The flags of __GFP_NOFAIL's last resort after reclaim failed (__alloc_pages_cpuset_fallback). */
export function nofailLastResortFlags(kernel: KernelBehaviour): number {
  return kernel === 'v5.18' ? ALLOC_HARDER : ALLOC_MIN_RESERVE;
}

export function formatAllocFlags(flags: number): string {
  const wm = ['ALLOC_WMARK_MIN', 'ALLOC_WMARK_LOW', 'ALLOC_WMARK_HIGH', '?'][flags & ALLOC_WMARK_MASK];
  const parts = flags & ALLOC_NO_WATERMARKS ? [] : [wm];
  for (const [name, bit] of ALLOC_FLAG_NAMES) if (flags & bit) parts.push(name);
  return parts.join('|');
}
