// sizing: the numbers the kernel derives from a zone's size (mm/page_alloc.c, mm/vmstat.c):
// min_free_kbytes, each zone's min/low/high, lowmem_reserve, the per-CPU list batch and high, and the vmstat
// fold thresholds. Pure functions of the sizes, so they can be checked against the kernel's own examples.
import type { Watermarks } from '@faultline/gfp';

export const PAGE_SIZE_BYTES = 4096;
export const PAGE_SIZE_KIB = 4;
export const MIN_FREE_KBYTES_MIN = 128;
export const MIN_FREE_KBYTES_MAX = 262_144;
export const WATERMARK_SCALE_FACTOR_DEFAULT = 10;
/** Per-zone-type lowmem_reserve ratios (sysctl_lowmem_reserve_ratio). */
export const LOWMEM_RESERVE_RATIO = { DMA: 256, DMA32: 256, Normal: 32 } as const;
export const ZONE_TYPES = ['DMA', 'DMA32', 'Normal'] as const;
export type ZoneType = (typeof ZONE_TYPES)[number];
export const STAT_THRESHOLD_MAX = 125;

function intSqrt(x: number): number {
  return Math.floor(Math.sqrt(x));
}

/** min_free_kbytes = sqrt(lowmem_kbytes * 16), clamped to 128 kB .. 256 MB (init_per_zone_wmark_min). */
export function minFreeKbytes(lowmemPages: number): number {
  const kb = intSqrt(lowmemPages * PAGE_SIZE_KIB * 16);
  return Math.min(MIN_FREE_KBYTES_MAX, Math.max(MIN_FREE_KBYTES_MIN, kb));
}

/** __setup_per_zone_wmarks for one zone: its share of pages_min, then delta = max(min/4, managed*factor/10000). */
export function zoneWatermarks(
  zonePages: number,
  lowmemPages: number,
  minFreeKb: number,
  scaleFactor = WATERMARK_SCALE_FACTOR_DEFAULT,
): Watermarks {
  const pagesMin = Math.floor(minFreeKb / PAGE_SIZE_KIB);
  const min = Math.floor((pagesMin * zonePages) / lowmemPages);
  const delta = Math.max(Math.floor(min / 4), Math.floor((zonePages * scaleFactor) / 10_000));
  return { minPages: min, lowPages: min + delta, highPages: min + 2 * delta };
}

/** setup_per_zone_lowmem_reserve: reserve[i][j] pages that zone i keeps from allocations that could use zone j > i. */
export function lowmemReserves(zones: ReadonlyArray<{ type: ZoneType; pages: number }>): number[][] {
  return zones.map((zi, i) => {
    let managed = 0;
    return zones.map((zj, j) => {
      if (j <= i) return 0;
      managed += zj.pages;
      return Math.floor(managed / LOWMEM_RESERVE_RATIO[zi.type]);
    });
  });
}

function roundDownPow2(x: number): number {
  return x < 1 ? 0 : 2 ** Math.floor(Math.log2(x));
}

/** zone_batchsize: about a quarter of a megabyte of pages per zone gigabyte, capped, then 2^n - 1 (63 for >= 1 GiB). */
export function pcpBatch(zonePages: number): number {
  let batch = Math.min(Math.floor(zonePages / 1024), (1024 * 1024) / PAGE_SIZE_BYTES);
  batch = Math.floor(batch / 4);
  if (batch < 1) batch = 1;
  return Math.max(1, roundDownPow2(batch + Math.floor(batch / 2)) - 1);
}

/** zone_highsize: the low watermark split across the node's CPUs, at least 4 batches. */
export function pcpHigh(lowPages: number, cpus: number, batch: number): number {
  return Math.max(Math.floor(lowPages / cpus), batch * 4);
}

function fls(x: number): number {
  return x <= 0 ? 0 : Math.floor(Math.log2(x)) + 1;
}

/** calculate_normal_threshold: how far a CPU's NR_FREE_PAGES delta may drift before it is folded. */
export function statThresholdNormal(zonePages: number, cpus: number): number {
  const mem = Math.floor(zonePages / ((128 * 1024 * 1024) / PAGE_SIZE_BYTES));
  return Math.min(STAT_THRESHOLD_MAX, 2 * fls(cpus) * (1 + fls(mem)));
}

/** calculate_pressure_threshold: the smaller threshold used while kswapd is awake. */
export function statThresholdPressure(w: Watermarks, cpus: number): number {
  return Math.min(STAT_THRESHOLD_MAX, Math.max(1, Math.floor((w.lowPages - w.minPages) / cpus)));
}
