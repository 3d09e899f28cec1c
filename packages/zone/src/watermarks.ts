// watermarks: the zone's watermarks and lowmem reserve as its header holds them (zone->_watermark,
// zone->lowmem_reserve), read when a plan is bound to them (plan.ts) and written when a sysctl changes them:
// __setup_per_zone_wmarks after min_free_kbytes or watermark_scale_factor, setup_per_zone_lowmem_reserve after
// lowmem_reserve_ratio (mm/page_alloc.c). Each write bumps the version, so plans bound to the old values rebind on
// their next use. Safe from any thread; the limits are config.ts's.
import type { Watermarks } from '@faultline/gfp';
import { checkLowmemReservePages, checkWatermarks } from './config.js';
import { H_LOWMEM_RESERVE, H_WMARK_HIGH, H_WMARK_LOW, H_WMARK_MIN, H_WMARK_VERSION } from './layout.js';

export function zoneWatermarksOf(a: Int32Array): Watermarks {
  return {
    minPages: Atomics.load(a, H_WMARK_MIN),
    lowPages: Atomics.load(a, H_WMARK_LOW),
    highPages: Atomics.load(a, H_WMARK_HIGH),
  };
}

/** Set min, low and high: integers 0 <= min <= low <= high <= the zone's pages. */
export function setZoneWatermarks(a: Int32Array, w: Watermarks, pages: number): void {
  const { minPages, lowPages, highPages } = w;
  checkWatermarks(minPages, lowPages, highPages, pages);
  Atomics.store(a, H_WMARK_MIN, minPages);
  Atomics.store(a, H_WMARK_LOW, lowPages);
  Atomics.store(a, H_WMARK_HIGH, highPages);
  Atomics.add(a, H_WMARK_VERSION, 1);
}

export function zoneLowmemReserveOf(a: Int32Array): number {
  return Atomics.load(a, H_LOWMEM_RESERVE);
}

/** Set the reserve this zone keeps from allocations of the node's highest class. */
export function setZoneLowmemReserve(a: Int32Array, pages: number): void {
  checkLowmemReservePages(pages);
  Atomics.store(a, H_LOWMEM_RESERVE, pages);
  Atomics.add(a, H_WMARK_VERSION, 1);
}
