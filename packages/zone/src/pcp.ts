// pcp: a CPU's list of order-0 pages (per_cpu_pages), a ring buffer in that CPU's own cache lines. Allocation takes
// the newest page (cache-hot, as the kernel's LIFO list); a drain returns the oldest. Only the thread that runs the
// CPU touches its ring and counters, so no lock is needed; refills and drains move pages to and from the buddy
// lists under the zone lock (rmqueue_bulk, free_pcppages_bulk), in bulk frees sized as nr_pcp_high and nr_pcp_free
// size them. Order-0 allocations and frees go through here (rmqueue_pcplist, free_unref_page).
import type { BuddyArea } from './buddy.js';
import { DoubleFreeError } from './errors.js';
import {
  CPU_BATCH,
  CPU_COUNT,
  CPU_DRAINS,
  CPU_FREE_FACTOR,
  CPU_HEAD,
  CPU_HEADER_I32,
  CPU_HIGH,
  CPU_REFILLS,
  H_RECLAIM_ACTIVE,
  PAGE_RECORD_I32,
  PG_STATE,
  cpuBase,
  type ZoneLayout,
} from './layout.js';
import { PAGE_ALLOCATED, PAGE_PCP, pageWord } from './page-state.js';
import { ZONE_DEFERRED } from './steps.js';
import { modZoneFreePages } from './vmstat.js';
import { zoneLock, zoneUnlock } from './zone-lock.js';

/** pageset_update (mm/page_alloc.c): this CPU's list's high mark and batch. */
export function pcpSetHighAndBatch(a: Int32Array, L: ZoneLayout, cpu: number, high: number, batch: number): void {
  const b = cpuBase(L, cpu);
  a[b + CPU_HIGH] = high;
  a[b + CPU_BATCH] = batch;
}

export function pcpPush(a: Int32Array, L: ZoneLayout, base: number, pfn: number): void {
  const count = a[base + CPU_COUNT]!;
  if (count >= L.pcpCapacity) throw new Error(`pcp list overflow: ${count} pages, capacity ${L.pcpCapacity}`);
  const idx = (a[base + CPU_HEAD]! + count) % L.pcpCapacity;
  a[base + CPU_HEADER_I32 + idx] = pfn;
  a[base + CPU_COUNT] = count + 1;
}

/** The newest page, or -1 when the list is empty. */
export function pcpPopNewest(a: Int32Array, L: ZoneLayout, base: number): number {
  const count = a[base + CPU_COUNT]!;
  if (count === 0) return -1;
  const idx = (a[base + CPU_HEAD]! + count - 1) % L.pcpCapacity;
  a[base + CPU_COUNT] = count - 1;
  return a[base + CPU_HEADER_I32 + idx]!;
}

/** The oldest page, or -1 when the list is empty. */
export function pcpPopOldest(a: Int32Array, L: ZoneLayout, base: number): number {
  const count = a[base + CPU_COUNT]!;
  if (count === 0) return -1;
  const head = a[base + CPU_HEAD]!;
  a[base + CPU_HEAD] = (head + 1) % L.pcpCapacity;
  a[base + CPU_COUNT] = count - 1;
  return a[base + CPU_HEADER_I32 + head]!;
}

/** Bulk frees (free_pcppages_bulk) this CPU's list has done so far. */
export function pcpDrainsOf(a: Int32Array, L: ZoneLayout, cpu: number): number {
  return a[cpuBase(L, cpu) + CPU_DRAINS]!;
}

/** pcp->free_factor of this CPU's list. */
export function pcpFreeFactorOf(a: Int32Array, L: ZoneLayout, cpu: number): number {
  return a[cpuBase(L, cpu) + CPU_FREE_FACTOR]!;
}

export function pcpPages(a: Int32Array, L: ZoneLayout, base: number): number[] {
  const out: number[] = [];
  const count = a[base + CPU_COUNT]!;
  const head = a[base + CPU_HEAD]!;
  for (let i = 0; i < count; i++) out.push(a[base + CPU_HEADER_I32 + ((head + i) % L.pcpCapacity)]!);
  return out;
}

/** nr_pcp_high (mm/page_alloc.c, 6.1): the list's high mark, capped at min(batch << 2, high) while kswapd reclaims
 * (ZONE_RECLAIM_ACTIVE, a word of the zone's header). */
export function nrPcpHigh(a: Int32Array, base: number): number {
  const high = a[base + CPU_HIGH]!;
  return Atomics.load(a, H_RECLAIM_ACTIVE) === 0 ? high : Math.min(a[base + CPU_BATCH]! << 2, high);
}

/** nr_pcp_free: batch << free_factor pages, within [batch, high - batch]; the factor grows while it fits (and an
 * allocation halves it, in the zone's rmqueue_pcplist). */
export function nrPcpFree(a: Int32Array, base: number, high: number): number {
  const batch = a[base + CPU_BATCH]!;
  if (high < batch) return 1;
  const max = high - batch;
  const n = batch * 2 ** a[base + CPU_FREE_FACTOR]!;
  if (n < max) a[base + CPU_FREE_FACTOR]!++;
  return Math.min(Math.max(n, batch), max);
}

/**
 * rmqueue_pcplist (mm/page_alloc.c): the newest page of this CPU's list, refilled with a batch from the buddy lists
 * when empty (rmqueueBulk). Returns the pfn, now ALLOCATED; -1 when the buddy lists are empty too; ZONE_DEFERRED
 * when the list is empty and the view defers shared work (deferShared).
 */
export function rmqueuePcplist(
  a: Int32Array,
  L: ZoneLayout,
  buddy: BuddyArea,
  cpu: number,
  deferShared: boolean,
): number {
  const b = cpuBase(L, cpu);
  // rmqueue_pcplist: an allocation halves the bulk-free factor.
  a[b + CPU_FREE_FACTOR]! >>= 1;
  let pfn = pcpPopNewest(a, L, b);
  if (pfn < 0) {
    if (deferShared) return ZONE_DEFERRED;
    rmqueueBulk(a, L, buddy, cpu);
    pfn = pcpPopNewest(a, L, b);
    if (pfn < 0) return -1;
  }
  Atomics.store(a, L.pageOffset + pfn * PAGE_RECORD_I32 + PG_STATE, pageWord(PAGE_ALLOCATED, 0));
  return pfn;
}

/** rmqueue_bulk (mm/page_alloc.c): up to a batch of order-0 pages from the buddy lists onto this CPU's list, under
 * one hold of the zone lock; returns how many came. */
function rmqueueBulk(a: Int32Array, L: ZoneLayout, buddy: BuddyArea, cpu: number): number {
  const b = cpuBase(L, cpu);
  const batch = a[b + CPU_BATCH]!;
  zoneLock(a);
  let got = 0;
  for (; got < batch; got++) {
    const p = buddy.take(0);
    if (p < 0) break;
    Atomics.store(a, L.pageOffset + p * PAGE_RECORD_I32 + PG_STATE, pageWord(PAGE_PCP, 0, cpu));
    pcpPush(a, L, b, p);
  }
  zoneUnlock(a);
  if (got > 0) {
    modZoneFreePages(a, L, cpu, -got);
    a[b + CPU_REFILLS]!++;
  }
  return got;
}

/**
 * free_unref_page (mm/page_alloc.c): put the allocated order-0 page pfn, whose state word is `word`, on this CPU's
 * list, then free_unref_page_commit: past nr_pcp_high, a bulk free of nr_pcp_free pages (left to pcpTrim while the
 * view defers shared work). Returns 0, or ZONE_DEFERRED with nothing changed when the view defers shared work and
 * the list is full (its drain needs the zone lock).
 */
export function freeUnrefPage(
  a: Int32Array,
  L: ZoneLayout,
  buddy: BuddyArea,
  cpu: number,
  pfn: number,
  word: number,
  deferShared: boolean,
): number {
  const b = cpuBase(L, cpu);
  // A full list needs a drain, which needs the zone lock: leave the whole free to the caller's later pass.
  if (deferShared && a[b + CPU_COUNT]! >= L.pcpCapacity) return ZONE_DEFERRED;
  // Claim the page before touching the list: of two racing frees exactly one wins this exchange.
  const si = L.pageOffset + pfn * PAGE_RECORD_I32 + PG_STATE;
  if (Atomics.compareExchange(a, si, word, pageWord(PAGE_PCP, 0, cpu)) !== word)
    throw new DoubleFreeError(pfn, 'freed concurrently by another thread', true);
  // A list a deferring view filled to capacity drains before it takes more.
  if (a[b + CPU_COUNT]! >= L.pcpCapacity) freePcppagesBulk(a, L, buddy, cpu, a[b + CPU_BATCH]!);
  pcpPush(a, L, b, pfn);
  // free_unref_page_commit: past nr_pcp_high, a bulk free of nr_pcp_free pages.
  if (!deferShared) {
    const high = nrPcpHigh(a, b);
    if (a[b + CPU_COUNT]! >= high) freePcppagesBulk(a, L, buddy, cpu, nrPcpFree(a, b, high));
  }
  return 0;
}

/** free_pcppages_bulk (mm/page_alloc.c): return up to n of this CPU's oldest pages to the buddy lists, under one
 * hold of the zone lock; returns how many went. */
export function freePcppagesBulk(a: Int32Array, L: ZoneLayout, buddy: BuddyArea, cpu: number, n: number): number {
  const b = cpuBase(L, cpu);
  zoneLock(a);
  let moved = 0;
  for (; moved < n; moved++) {
    const pfn = pcpPopOldest(a, L, b);
    if (pfn < 0) break;
    buddy.give(pfn, 0);
  }
  zoneUnlock(a);
  if (moved > 0) {
    modZoneFreePages(a, L, cpu, moved);
    a[b + CPU_DRAINS]!++;
  }
  return moved;
}

/** The bulk frees that the frees of a window past nr_pcp_high left to do (each as free_unref_page_commit would
 * have done it, nr_pcp_free pages, doubling while no allocation intervenes); returns how many it did. */
export function pcpTrim(a: Int32Array, L: ZoneLayout, buddy: BuddyArea, cpu: number): number {
  const b = cpuBase(L, cpu);
  let drains = 0;
  const high = nrPcpHigh(a, b);
  while (a[b + CPU_COUNT]! >= high && freePcppagesBulk(a, L, buddy, cpu, nrPcpFree(a, b, high)) > 0) drains++;
  return drains;
}
