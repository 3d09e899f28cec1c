// pcp: a CPU's list of order-0 pages (per_cpu_pages), a ring buffer in that CPU's own cache lines. Allocation takes
// the newest page (cache-hot, as the kernel's LIFO list); a drain returns the oldest. Only the thread that runs the
// CPU touches its ring and counters, so no lock is needed; refills and drains move pages to and from the buddy
// lists under the zone lock (rmqueue_bulk, free_pcppages_bulk), in bulk frees sized as nr_pcp_high and nr_pcp_free
// size them.
import {
  CPU_BATCH,
  CPU_COUNT,
  CPU_FREE_FACTOR,
  CPU_HEAD,
  CPU_HEADER_I32,
  CPU_HIGH,
  H_RECLAIM_ACTIVE,
  type ZoneLayout,
} from './layout.js';

export function cpuBase(L: ZoneLayout, cpu: number): number {
  return L.cpuOffset + cpu * L.cpuStride;
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
