// zone-report: reading a zone for people and tests: its counters, who holds which pages, where one page is.
import { formatGfp, type GfpMask, type Watermarks } from '@faultline/gfp';
import {
  CPU_COUNT,
  CPU_DRAINS,
  CPU_REFILLS,
  H_KSWAPD_WAKES,
  H_LOCK_ACQUIRES,
  H_LOCK_CONTENDED,
  H_NR_FREE,
  H_NR_FREE_EXACT,
  ORDER_COUNT,
  PAGE_RECORD_I32,
  PG_MASK,
  PG_OWNER,
  PG_STATE,
  cpuBase,
} from './layout.js';
import { PAGE_ALLOCATED, PAGE_KIND_NAMES, pageCpu, pageKind, pageOrder } from './page-state.js';
import { ACCT } from './counters.js';
import type { Zone } from './zone.js';

export interface ZoneCounts {
  readonly name: string;
  readonly pages: number;
  readonly freePages: number;
  readonly freePagesSnapshot: number;
  readonly freePagesExact: number;
  readonly pcpPages: number;
  readonly nrFree: readonly number[];
  readonly watermarks: Watermarks;
  readonly kswapdWakes: number;
  readonly lockAcquires: number;
  readonly lockContended: number;
  readonly pcpRefills: number;
  readonly pcpDrains: number;
  /** Pages granted from this zone and freed to it, over every owner (pgalloc_<zone>, and its pgfree share). */
  readonly pagesGranted: number;
  readonly pagesFreed: number;
}

export interface PageHolding {
  readonly owner: number;
  readonly mask: GfpMask;
  readonly maskText: string;
  readonly pages: number;
}

export interface PageInfo {
  readonly kind: string;
  readonly order: number;
  readonly cpu: number;
  readonly owner: number;
  readonly mask: number;
}

export function zoneCounts(zone: Zone): ZoneCounts {
  const a = zone.a;
  let pcp = 0;
  let refills = 0;
  let drains = 0;
  for (let cpu = 0; cpu < zone.config.cpus; cpu++) {
    const b = cpuBase(zone.config.layout, cpu);
    pcp += Atomics.load(a, b + CPU_COUNT);
    refills += Atomics.load(a, b + CPU_REFILLS);
    drains += Atomics.load(a, b + CPU_DRAINS);
  }
  const nrFree: number[] = [];
  for (let o = 0; o < ORDER_COUNT; o++) nrFree.push(Atomics.load(a, H_NR_FREE + o));
  return {
    name: zone.config.name,
    pages: zone.config.pages,
    freePages: zone.freePages(),
    freePagesSnapshot: zone.freePagesSnapshot(),
    freePagesExact: Atomics.load(a, H_NR_FREE_EXACT),
    pcpPages: pcp,
    nrFree,
    watermarks: zone.watermarks,
    kswapdWakes: Atomics.load(a, H_KSWAPD_WAKES),
    lockAcquires: Atomics.load(a, H_LOCK_ACQUIRES),
    lockContended: Atomics.load(a, H_LOCK_CONTENDED),
    pcpRefills: refills,
    pcpDrains: drains,
    pagesGranted: zone.accountTotal(ACCT.pagesGranted),
    pagesFreed: zone.accountTotal(ACCT.pagesFreed),
  };
}

export function zoneHoldings(zone: Zone): PageHolding[] {
  const a = zone.a;
  const L = zone.config.layout;
  const by = new Map<string, { owner: number; mask: number; pages: number }>();
  for (let pfn = 0; pfn < L.pages; pfn++) {
    const w = Atomics.load(a, L.pageOffset + pfn * PAGE_RECORD_I32 + PG_STATE);
    if (pageKind(w) !== PAGE_ALLOCATED) continue;
    const owner = a[L.pageOffset + pfn * PAGE_RECORD_I32 + PG_OWNER]!;
    const mask = a[L.pageOffset + pfn * PAGE_RECORD_I32 + PG_MASK]!;
    const key = `${owner}/${mask}`;
    const h = by.get(key) ?? { owner, mask, pages: 0 };
    h.pages += 1 << pageOrder(w);
    by.set(key, h);
  }
  return [...by.values()]
    .sort((x, y) => x.owner - y.owner || x.mask - y.mask)
    .map((h) => ({ ...h, maskText: formatGfp(h.mask, zone.config.kernel) }));
}

/** Every allocated page of the zone, in pfn order: fn(zone-relative pfn, owner, mask), read in place (a scan of
 * every page, as the OOM killer's, without a record per page). */
export function zoneEachAllocated(zone: Zone, fn: (pfn: number, owner: number, mask: number) => void): void {
  const L = zone.config.layout;
  const a = zone.a;
  for (let pfn = 0; pfn < L.pages; pfn++) {
    const at = L.pageOffset + pfn * PAGE_RECORD_I32;
    if (pageKind(Atomics.load(a, at + PG_STATE)) === PAGE_ALLOCATED) fn(pfn, a[at + PG_OWNER]!, a[at + PG_MASK]!);
  }
}

export function zonePageInfo(zone: Zone, pfn: number): PageInfo {
  const L = zone.config.layout;
  if (!(pfn >= 0 && pfn < L.pages)) throw new RangeError(`pfn: ${pfn}; allowed 0 .. ${L.pages - 1}`);
  const w = Atomics.load(zone.a, L.pageOffset + pfn * PAGE_RECORD_I32 + PG_STATE);
  return {
    kind: PAGE_KIND_NAMES[pageKind(w)] ?? 'unknown',
    order: pageOrder(w),
    cpu: pageCpu(w),
    owner: zone.a[L.pageOffset + pfn * PAGE_RECORD_I32 + PG_OWNER]!,
    mask: zone.a[L.pageOffset + pfn * PAGE_RECORD_I32 + PG_MASK]!,
  };
}
