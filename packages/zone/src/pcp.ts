// pcp: a CPU's list of order-0 pages (per_cpu_pages), a ring buffer in that CPU's own cache lines. Allocation takes
// the newest page (cache-hot, as the kernel's LIFO list); a drain returns the oldest. Only the thread that runs the
// CPU touches its ring and counters, so no lock is needed; refills and drains move pages to and from the buddy
// lists under the zone lock (rmqueue_bulk, free_pcppages_bulk).
import { CPU_COUNT, CPU_HEAD, CPU_HEADER_I32, type ZoneLayout } from './layout.js';

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
