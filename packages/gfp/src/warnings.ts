// warnings: GFP combinations the kernel warns about (WARN_ON_ONCE in mm/page_alloc.c). A warning never stops an
// allocation; it is returned so the caller can show it, as the kernel prints it once.
import {
  __GFP_ATOMIC,
  __GFP_DIRECT_RECLAIM,
  __GFP_MEMALLOC,
  __GFP_NOFAIL,
  __GFP_NOMEMALLOC,
  type GfpMask,
} from './flags.js';
import type { KernelBehaviour } from './kernel.js';

/** PAGE_ALLOC_COSTLY_ORDER: __GFP_NOFAIL above it is warned about. */
export const PAGE_ALLOC_COSTLY_ORDER = 3;

export const GFP_WARNING_CODES = [
  'nofail-without-direct-reclaim',
  'nofail-costly-order',
  'atomic-with-direct-reclaim',
  'memalloc-and-nomemalloc',
] as const;
export type GfpWarningCode = (typeof GFP_WARNING_CODES)[number];

export interface GfpWarning {
  readonly code: GfpWarningCode;
  readonly message: string;
}

/** What the kernel would warn about for this mask (and, if given, this order). */
export function gfpWarnings(mask: GfpMask, kernel: KernelBehaviour, order?: number): GfpWarning[] {
  const out: GfpWarning[] = [];
  const nofail = (mask & __GFP_NOFAIL) !== 0;
  if (nofail && (mask & __GFP_DIRECT_RECLAIM) === 0) {
    out.push({
      code: 'nofail-without-direct-reclaim',
      message:
        '__GFP_NOFAIL without __GFP_DIRECT_RECLAIM cannot be honoured: the kernel warns and the allocation may fail',
    });
  }
  if (nofail && order !== undefined && order > PAGE_ALLOC_COSTLY_ORDER) {
    out.push({
      code: 'nofail-costly-order',
      message: `__GFP_NOFAIL at order ${order} (above PAGE_ALLOC_COSTLY_ORDER=${PAGE_ALLOC_COSTLY_ORDER}): the kernel warns`,
    });
  }
  if (kernel === 'v5.18' && (mask & __GFP_ATOMIC) !== 0 && (mask & __GFP_DIRECT_RECLAIM) !== 0) {
    out.push({
      code: 'atomic-with-direct-reclaim',
      message:
        '__GFP_ATOMIC with __GFP_DIRECT_RECLAIM: the kernel warns and drops __GFP_ATOMIC (atomic reserves are for callers that cannot sleep)',
    });
  }
  if ((mask & __GFP_MEMALLOC) !== 0 && (mask & __GFP_NOMEMALLOC) !== 0) {
    out.push({
      code: 'memalloc-and-nomemalloc',
      message: '__GFP_MEMALLOC and __GFP_NOMEMALLOC together: __GFP_NOMEMALLOC wins, no emergency reserves',
    });
  }
  return out;
}

/** The mask the slow path actually uses: v5.18 drops __GFP_ATOMIC from a caller that may direct-reclaim. */
export function sanitizeGfp(mask: GfpMask, kernel: KernelBehaviour): GfpMask {
  if (kernel === 'v5.18' && (mask & __GFP_ATOMIC) !== 0 && (mask & __GFP_DIRECT_RECLAIM) !== 0)
    return mask & ~__GFP_ATOMIC;
  return mask;
}
