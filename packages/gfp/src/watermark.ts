// watermark: __zone_watermark_ok, with the kernel's integer arithmetic for the caller's reserve access
// (mm/page_alloc.c). A check passes when free - unusable > min' + lowmem_reserve, where min' is the watermark reduced
// by the caller's access to the min reserve; for order > 0 a free block of at least that order must also exist.
import {
  ALLOC_HARDER,
  ALLOC_HIGHATOMIC,
  ALLOC_MIN_RESERVE,
  ALLOC_NO_WATERMARKS,
  ALLOC_NON_BLOCK,
  ALLOC_OOM,
} from './alloc-flags.js';
import type { KernelBehaviour } from './kernel.js';

export const WATERMARKS = ['min', 'low', 'high'] as const;
export type WatermarkName = (typeof WATERMARKS)[number];

export interface Watermarks {
  readonly minPages: number;
  readonly lowPages: number;
  readonly highPages: number;
}

/** min': the watermark after the reductions the caller's flags allow. */
export function reservedMinPages(markPages: number, allocFlags: number, kernel: KernelBehaviour): number {
  let min = markPages;
  if (kernel === 'v5.18') {
    if (allocFlags & ALLOC_MIN_RESERVE) min -= Math.trunc(min / 2);
    if (allocFlags & (ALLOC_HARDER | ALLOC_OOM)) {
      if (allocFlags & ALLOC_OOM) min -= Math.trunc(min / 2);
      else min -= Math.trunc(min / 4);
    }
    return min;
  }
  if (allocFlags & (ALLOC_NON_BLOCK | ALLOC_MIN_RESERVE | ALLOC_HIGHATOMIC | ALLOC_OOM)) {
    if (allocFlags & ALLOC_MIN_RESERVE) {
      min -= Math.trunc(min / 2);
      if (allocFlags & ALLOC_NON_BLOCK) min -= Math.trunc(min / 4);
    }
    if (allocFlags & ALLOC_OOM) min -= Math.trunc(min / 2);
  }
  return min;
}

/** Whether the caller's flags make the highatomic reserve usable (else it counts as unusable free memory). */
export function mayUseHighatomic(allocFlags: number, kernel: KernelBehaviour): boolean {
  if (kernel === 'v5.18') return (allocFlags & (ALLOC_HARDER | ALLOC_OOM)) !== 0;
  return (allocFlags & (ALLOC_NON_BLOCK | ALLOC_MIN_RESERVE | ALLOC_HIGHATOMIC | ALLOC_OOM)) !== 0;
}

export interface WatermarkCheck {
  readonly freePages: number;
  readonly markPages: number;
  readonly order: number;
  readonly allocFlags: number;
  readonly kernel: KernelBehaviour;
  readonly lowmemReservePages?: number;
  readonly reservedHighatomicPages?: number;
  /** For order > 0: is there a free block of at least this order? Defaults to true. */
  readonly hasFreeBlock?: (order: number, mayUseHighatomic: boolean) => boolean;
}

/** The line a caller's free count must stay above: min' + lowmem_reserve. */
export function watermarkLinePages(
  markPages: number,
  allocFlags: number,
  kernel: KernelBehaviour,
  lowmemReservePages = 0,
): number {
  return reservedMinPages(markPages, allocFlags, kernel) + lowmemReservePages;
}

export function zoneWatermarkOk(c: WatermarkCheck): boolean {
  if (c.allocFlags & ALLOC_NO_WATERMARKS) return true;
  const highatomic = mayUseHighatomic(c.allocFlags, c.kernel);
  let free = c.freePages - ((1 << c.order) - 1);
  if (!highatomic) free -= c.reservedHighatomicPages ?? 0;
  if (free <= watermarkLinePages(c.markPages, c.allocFlags, c.kernel, c.lowmemReservePages ?? 0)) return false;
  if (c.order === 0) return true;
  return c.hasFreeBlock ? c.hasFreeBlock(c.order, highatomic) : true;
}
