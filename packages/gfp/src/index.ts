// @faultline/gfp: the kernel's GFP flags and what they buy an allocation, for v5.18 and v6.3+.
export {
  ALLOCATOR_BEHAVIOURS,
  KERNEL_BEHAVIOURS,
  KERNEL_DEFAULT,
  isKernelBehaviour,
  assertKernelBehaviour,
} from './kernel.js';
export type { KernelBehaviour } from './kernel.js';
export {
  GFP_FLAG_BITS,
  GFP_KNOWN_BITS,
  gfpFlagNames,
  gfpKnownBits,
  hasFlags,
  __GFP_HIGH,
  __GFP_IO,
  __GFP_FS,
  __GFP_ZERO,
  __GFP_ATOMIC,
  __GFP_DIRECT_RECLAIM,
  __GFP_KSWAPD_RECLAIM,
  __GFP_RECLAIM,
  __GFP_NOWARN,
  __GFP_RETRY_MAYFAIL,
  __GFP_NOFAIL,
  __GFP_NORETRY,
  __GFP_MEMALLOC,
  __GFP_NOMEMALLOC,
  __GFP_ACCOUNT,
} from './flags.js';
export type { GfpFlagName, GfpMask } from './flags.js';
export { GFP_COMPOSITE_NAMES, gfpComposites } from './composites.js';
export type { GfpCompositeName } from './composites.js';
export { parseGfp, formatGfp, GfpParseError } from './parse.js';
export type { ParsedGfp } from './parse.js';
export { gfpWarnings, sanitizeGfp, PAGE_ALLOC_COSTLY_ORDER, GFP_WARNING_CODES } from './warnings.js';
export type { GfpWarning, GfpWarningCode } from './warnings.js';
export {
  ALLOC_WMARK_MIN,
  ALLOC_WMARK_LOW,
  ALLOC_WMARK_HIGH,
  ALLOC_WMARK_MASK,
  ALLOC_NO_WATERMARKS,
  ALLOC_OOM,
  ALLOC_HARDER,
  ALLOC_MIN_RESERVE,
  ALLOC_HIGH,
  ALLOC_CPUSET,
  ALLOC_HIGHATOMIC,
  ALLOC_KSWAPD,
  ALLOC_NON_BLOCK,
  gfpToAllocFlags,
  gfpPfmemallocFlags,
  reserveAllocFlags,
  nofailLastResortFlags,
  formatAllocFlags,
} from './alloc-flags.js';
export type { AllocContext } from './alloc-flags.js';
export { WATERMARKS, reservedMinPages, mayUseHighatomic, watermarkLinePages, zoneWatermarkOk } from './watermark.js';
export type { WatermarkName, Watermarks, WatermarkCheck } from './watermark.js';
export {
  ORDER_MAX,
  ALLOC_STEPS,
  ALLOC_VERDICTS,
  assertOrder,
  planAllocation,
  decideAllocation,
  grantLinePages,
} from './decide.js';
export type { AllocPlan, AllocDecision, AllocStep, AllocVerdict, ZoneView } from './decide.js';
export { GFP_TABLE_ROWS, watermarkBands, gfpBandTable, formatDecision } from './table.js';
export type { GfpTable, GfpTableRow, WatermarkBand } from './table.js';
