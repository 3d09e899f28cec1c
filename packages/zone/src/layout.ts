// layout: where every field of a zone lives in its SharedArrayBuffer. One Int32Array view covers the header, the
// free-area heads, the per-page arrays and the per-CPU blocks; a Float64Array view covers the accounting rows.
// Fields that different threads write often sit on their own 64-byte cache line (16 Int32 slots).
import { ORDER_MAX } from '@faultline/gfp';
import { ACCOUNT_COUNTER_COUNT } from './counters.js';

export const CACHE_LINE_I32 = 16;
export const ORDER_COUNT = ORDER_MAX + 1;

// Header, line 0: the zone lock alone.
export const H_LOCK = 0;
// Header, line 1: shared counters and signals.
export const H_NR_FREE_PAGES = 16; // vmstat NR_FREE_PAGES, global part (per-CPU deltas are folded into it)
export const H_NR_FREE_EXACT = 17; // pages in the buddy lists, exact, changed under the lock
export const H_KSWAPD_WAKE_SEQ = 18; // incremented and notified on each wake-up
export const H_KSWAPD_WAKES = 19;
export const H_LOCK_ACQUIRES = 20;
export const H_LOCK_CONTENDED = 21;
export const H_RESERVED_HIGHATOMIC = 22;
export const H_STAT_THRESHOLD = 23;
// Header, line 2: tunables read on every allocation, written rarely.
export const H_WMARK_MIN = 32;
export const H_WMARK_LOW = 33;
export const H_WMARK_HIGH = 34;
export const H_WMARK_VERSION = 35; // bumped whenever a watermark or reserve changes
export const H_LOWMEM_RESERVE = 36; // the reserve this zone keeps from allocations of the node's highest class
// Header, line 3: free area, nr_free per order.
export const H_NR_FREE = 48;
// Header, line 4: free area, list head per order (-1 = empty).
export const H_FREE_HEAD = 64;
export const HEADER_I32 = 80;

// Per-CPU block: header line, then the pcp ring.
export const CPU_COUNT = 0; // pages on this CPU's list
export const CPU_HEAD = 1; // ring index of the oldest page
export const CPU_HIGH = 2;
export const CPU_BATCH = 3;
export const CPU_FREE_DELTA = 4; // this CPU's unfolded NR_FREE_PAGES delta
export const CPU_REFILLS = 5;
export const CPU_DRAINS = 6;
export const CPU_HEADER_I32 = CACHE_LINE_I32;

export interface ZoneLayoutInput {
  readonly pages: number;
  readonly cpus: number;
  readonly owners: number;
  readonly pcpCapacity: number;
}

export interface ZoneLayout extends ZoneLayoutInput {
  readonly stateOffset: number;
  readonly nextOffset: number;
  readonly prevOffset: number;
  readonly ownerOffset: number;
  readonly maskOffset: number;
  readonly cpuOffset: number;
  readonly cpuStride: number;
  readonly int32Count: number;
  readonly accountOffsetF64: number;
  readonly accountCpuStrideF64: number;
  readonly byteLength: number;
}

function alignUp(x: number, to: number): number {
  return Math.ceil(x / to) * to;
}

export function zoneLayout(input: ZoneLayoutInput): ZoneLayout {
  const { pages, cpus, owners, pcpCapacity } = input;
  const stateOffset = HEADER_I32;
  const nextOffset = stateOffset + pages;
  const prevOffset = nextOffset + pages;
  const ownerOffset = prevOffset + pages;
  const maskOffset = ownerOffset + pages;
  const cpuOffset = alignUp(maskOffset + pages, CACHE_LINE_I32);
  const cpuStride = alignUp(CPU_HEADER_I32 + pcpCapacity, CACHE_LINE_I32);
  const int32Count = cpuOffset + cpus * cpuStride;
  const accountOffsetF64 = alignUp(int32Count, CACHE_LINE_I32) / 2;
  const accountCpuStrideF64 = alignUp(owners * ACCOUNT_COUNTER_COUNT, 8);
  const byteLength = (accountOffsetF64 + cpus * accountCpuStrideF64) * 8;
  return { ...input, stateOffset, nextOffset, prevOffset, ownerOffset, maskOffset, cpuOffset, cpuStride, int32Count, accountOffsetF64, accountCpuStrideF64, byteLength };
}
