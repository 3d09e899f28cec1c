// boot: the memory node the kernel builds at boot for an x86-64 machine of a given size and CPU count, as Debian's
// 6.1 kernel does under QEMU's pc machine (../shared/reference/real-kernel/ holds the captured boots this is checked
// against). It gives each zone's span and present pages (the e820 map), its managed pages after the boot-time
// reservations (a fitted rule, below), min_free_kbytes (mm/page_alloc.c calculate_min_free_kbytes, raised by
// khugepaged's set_recommended_min_free_kbytes when THP is on), the watermarks, lowmem_reserve (the zoneinfo
// "protection"), the per-CPU list high and batch, and the vmstat threshold - with every tunable the captured files
// list settable and validated. zoneinfo.ts prints it in /proc/zoneinfo's format.
//
// The reservation rule (pages; fitted to the nine captured boots, 256 MiB .. 4 GiB, 1 .. 4 CPUs; managed pages come
// out within 0.4% of the kernel's in every zone, exact to a page below 4 GiB):
// - DMA keeps 158 of its 3998 present pages reserved (the BIOS area, real-mode trampoline): 3840 managed.
// - The kernel image and fixed boot allocations, 11944 pages, come out of DMA32.
// - struct pages and the direct map's page tables, 4.375 pages per MiB of RAM, and the per-CPU areas, 62 pages per
//   CPU after the first, come out of the highest zone (memblock allocates top-down).
// - With RAM above 4 GiB the swiotlb bounce buffer, 64 MiB (16384 pages), comes out of DMA32.
// The watermarks are computed before the init sections and the initramfs (about 2500 pages of DMA32) are freed, so
// they see DMA32 2500 pages smaller than it ends up; lowmem_reserve is computed from the final counts. Both
// timings are what the captured numbers show.
import { ZoneConfigError } from './errors.js';
import {
  LOWMEM_RESERVE_RATIO,
  MIN_FREE_KBYTES_MAX,
  MIN_FREE_KBYTES_MIN,
  PAGE_SIZE_KIB,
  pcpBatch,
  statThresholdNormal,
  WATERMARK_SCALE_FACTOR_DEFAULT,
  ZONE_TYPES,
  type ZoneType,
} from './sizing.js';

export const THP_MODES = ['never', 'madvise', 'always'] as const;
/** The smallest machine the reservation rule describes: below it the fixed 46 MiB of boot reservations leave DMA32
 * too few pages for its watermarks (the captured boots start at 256 MiB). */
export const BOOT_MEMORY_MIB_MIN = 128;
export const BOOT_MEMORY_MIB_MAX = 65_536;
export type ThpMode = (typeof THP_MODES)[number];

/** The sysctls of /proc/sys/vm that shape the boot-time node, with the kernel's defaults. */
export interface VmTunables {
  /** vm.min_free_kbytes written by the user (else the kernel computes it). */
  readonly minFreeKbytes?: number;
  readonly watermarkScaleFactor: number;
  readonly watermarkBoostFactor: number;
  /** vm.lowmem_reserve_ratio, per zone type: DMA, DMA32, Normal. */
  readonly lowmemReserveRatio: readonly [number, number, number];
  /** vm.percpu_pagelist_high_fraction: 0 (the default) sizes pcp high from the low watermark. */
  readonly percpuPagelistHighFraction: number;
}

export const VM_TUNABLES_DEFAULT: VmTunables = {
  watermarkScaleFactor: WATERMARK_SCALE_FACTOR_DEFAULT,
  watermarkBoostFactor: 15_000,
  lowmemReserveRatio: [LOWMEM_RESERVE_RATIO.DMA, LOWMEM_RESERVE_RATIO.DMA32, LOWMEM_RESERVE_RATIO.Normal],
  percpuPagelistHighFraction: 0,
};

export interface BootOptions {
  readonly memoryMiB: number;
  readonly cpus: number;
  /** Default: what the kernel picks for the size ('always' with 512 MiB of managed memory or more, else 'never'). */
  readonly thp?: ThpMode;
  readonly tunables?: Partial<VmTunables>;
  /** Use these managed pages per zone (lowest first) instead of the reservation rule: to check the formulas alone. */
  readonly managedPages?: readonly number[];
}

export interface BootZone {
  readonly type: ZoneType;
  readonly startPfn: number;
  readonly spanned: number;
  readonly present: number;
  readonly managed: number;
  readonly minPages: number;
  readonly lowPages: number;
  readonly highPages: number;
  /** lowmem_reserve against allocations that could use each zone type (DMA, DMA32, Normal, Movable, Device). */
  readonly protection: readonly number[];
  readonly pcpHigh: number;
  readonly pcpBatch: number;
  readonly statThreshold: number;
}

export interface BootNode {
  readonly memoryMiB: number;
  readonly cpus: number;
  readonly thp: ThpMode;
  readonly minFreeKbytes: number;
  readonly tunables: VmTunables;
  readonly zones: readonly BootZone[];
}

/** Pages per MiB. */
const MIB = 256;
/** pageblock_order 9 on x86-64. */
const PAGEBLOCK_PAGES = 512;
/** MIGRATE_PCPTYPES: unmovable, movable, reclaimable. */
const MIGRATE_PCPTYPES = 3;
const DMA_SPANNED = 4095; // pfns 1 .. 4095: the first 16 MiB but page 0
const DMA_PRESENT = 3998; // less the hole between 640 KiB and 1 MiB
const DMA_MANAGED = 3840;
const E820_TOP_RESERVED = 32; // QEMU's e820 keeps the last 128 KiB of low RAM reserved
const FIXED_RESERVED = 11_944;
const RESERVED_PER_MIB = 4.375;
const RESERVED_PER_CPU = 62;
const SWIOTLB_PAGES = 16_384;
const FREED_AFTER_WMARKS = 2_500;
/** QEMU's pc machine puts RAM from 3.5 GiB up as 3 GiB below 4 GiB and the rest above (pc_init1). */
const LOW_RAM_SPLIT_MIB = 3584;
const LOW_RAM_MAX_MIB = 3072;
/** hugepage_init: THP is left off when RAM is under 512 MiB. */
const THP_MIN_PAGES = 512 * MIB;

function check(field: string, v: number, min: number, max: number): void {
  if (!(Number.isInteger(v) && v >= min && v <= max)) {
    throw new ZoneConfigError(field, `${v}; allowed: integers ${min} .. ${max}`);
  }
}

/** The node the kernel builds for this machine. */
export function bootNode(o: BootOptions): BootNode {
  check('memoryMiB', o.memoryMiB, BOOT_MEMORY_MIB_MIN, BOOT_MEMORY_MIB_MAX);
  check('cpus', o.cpus, 1, 1024);
  const t: VmTunables = { ...VM_TUNABLES_DEFAULT, ...o.tunables };
  check('watermark_scale_factor', t.watermarkScaleFactor, 1, 3000); // the sysctl's own bounds
  check('watermark_boost_factor', t.watermarkBoostFactor, 0, 2 ** 31 - 1);
  if (t.percpuPagelistHighFraction !== 0) {
    check('percpu_pagelist_high_fraction', t.percpuPagelistHighFraction, 8, 2 ** 31 - 1);
  }
  if (!Array.isArray(t.lowmemReserveRatio) || t.lowmemReserveRatio.length !== 3) {
    throw new ZoneConfigError('lowmem_reserve_ratio', 'expected three ratios: DMA, DMA32, Normal');
  }
  for (const [i, r] of t.lowmemReserveRatio.entries()) check(`lowmem_reserve_ratio[${i}]`, r, 0, 2 ** 31 - 1);
  if (t.minFreeKbytes !== undefined) check('min_free_kbytes', t.minFreeKbytes, 0, 2 ** 31 - 1);

  // e820: low RAM, and RAM above 4 GiB when the machine is big enough to split.
  const lowMiB = o.memoryMiB >= LOW_RAM_SPLIT_MIB ? LOW_RAM_MAX_MIB : o.memoryMiB;
  const highPages = (o.memoryMiB - lowMiB) * MIB;
  const spans: Array<{ type: ZoneType; start: number; spanned: number; present: number }> = [
    { type: 'DMA', start: 1, spanned: DMA_SPANNED, present: DMA_PRESENT },
    {
      type: 'DMA32',
      start: 4096,
      spanned: highPages > 0 ? 4096 * MIB - 4096 : lowMiB * MIB - 4096 - E820_TOP_RESERVED,
      present: lowMiB * MIB - 4096 - E820_TOP_RESERVED,
    },
  ];
  if (highPages > 0) spans.push({ type: 'Normal', start: 4096 * MIB, spanned: highPages, present: highPages });

  let managed: number[];
  if (o.managedPages !== undefined) {
    if (o.managedPages.length !== spans.length) {
      const types = spans.map((s) => s.type).join(', ');
      throw new ZoneConfigError(
        'managedPages',
        `${o.managedPages.length} zones; this machine has ${spans.length} (${types})`,
      );
    }
    managed = [...o.managedPages];
  } else {
    const top = spans.length - 1;
    managed = spans.map((s) => s.present);
    managed[0] = DMA_MANAGED;
    managed[1]! -= FIXED_RESERVED + (highPages > 0 ? SWIOTLB_PAGES : 0);
    managed[top]! -= Math.round(RESERVED_PER_MIB * o.memoryMiB) + RESERVED_PER_CPU * (o.cpus - 1);
  }
  const totalManaged = managed.reduce((a, b) => a + b, 0);
  const thp = o.thp ?? (totalManaged >= THP_MIN_PAGES ? 'always' : 'never');
  if (!THP_MODES.includes(thp)) throw new ZoneConfigError('thp', `'${thp}'; allowed: ${THP_MODES.join(', ')}`);
  if (thp !== 'never' && totalManaged < THP_MIN_PAGES) {
    throw new ZoneConfigError(
      'thp',
      `'${thp}' with ${totalManaged} managed pages: the kernel leaves THP off below 512 MiB (hugepage_init)`,
    );
  }

  // The watermarks see DMA32 before the init memory is freed.
  const atWmarks = managed.map((m, i) => (i === 1 ? m - FREED_AFTER_WMARKS : m));
  const lowmemAtWmarks = atWmarks.reduce((a, b) => a + b, 0);
  const fromLowmem = Math.floor(Math.sqrt(lowmemAtWmarks * PAGE_SIZE_KIB * 16));
  let minFreeKb = t.minFreeKbytes ?? Math.min(MIN_FREE_KBYTES_MAX, Math.max(MIN_FREE_KBYTES_MIN, fromLowmem));
  if (thp !== 'never' && t.minFreeKbytes === undefined) {
    // set_recommended_min_free_kbytes: two free pageblocks per zone, and MIGRATE_PCPTYPES^2 for fallbacks; at most
    // 5% of lowmem.
    const zones = spans.length;
    const recommended = PAGEBLOCK_PAGES * zones * 2 + PAGEBLOCK_PAGES * zones * MIGRATE_PCPTYPES * MIGRATE_PCPTYPES;
    const pages = Math.min(recommended, Math.floor(lowmemAtWmarks / 20));
    minFreeKb = Math.max(minFreeKb, pages * PAGE_SIZE_KIB);
  }
  const pagesMin = Math.floor(minFreeKb / PAGE_SIZE_KIB);

  const zones: BootZone[] = spans.map((s, i) => {
    // __setup_per_zone_wmarks
    const m = atWmarks[i]!;
    const min = Math.floor((pagesMin * m) / lowmemAtWmarks);
    const delta = Math.max(Math.floor(min / 4), Math.floor((m * t.watermarkScaleFactor) / 10_000));
    const low = min + delta;
    const high = low + delta;
    // setup_per_zone_lowmem_reserve: against each higher zone type j (DMA, DMA32, Normal, Movable, Device), the
    // managed pages of the zones above this one up to j, over this zone's ratio.
    const own = ZONE_TYPES.indexOf(s.type);
    const ratio = t.lowmemReserveRatio[own]!;
    let above = 0;
    const protection = [0, 1, 2, 3, 4].map((j) => {
      if (j <= own || ratio === 0) return 0;
      const k = spans.findIndex((x) => ZONE_TYPES.indexOf(x.type) === j); // Movable and Device are never populated
      if (k >= 0) above += managed[k]!;
      return Math.floor(above / ratio);
    });
    // zone_batchsize, zone_highsize (mm/page_alloc.c, 6.1)
    const batch = pcpBatch(managed[i]!);
    const split = t.percpuPagelistHighFraction === 0 ? low : Math.floor(managed[i]! / t.percpuPagelistHighFraction);
    const highRaw = Math.floor(split / o.cpus);
    return {
      type: s.type,
      startPfn: s.start,
      spanned: s.spanned,
      present: s.present,
      managed: managed[i]!,
      minPages: min,
      lowPages: low,
      highPages: high,
      protection,
      pcpHigh: Math.max(highRaw, batch * 4),
      pcpBatch: batch,
      statThreshold: statThresholdNormal(managed[i]!, o.cpus),
    };
  });
  return { memoryMiB: o.memoryMiB, cpus: o.cpus, thp, minFreeKbytes: minFreeKb, tunables: t, zones };
}
