// layout: where every field of a zone lives in its SharedArrayBuffer. One Int32Array view covers the header, the
// free-area heads, the per-page arrays and the per-CPU blocks; a Float64Array view covers the accounting rows.
// Fields that different threads write often sit on their own 64-byte cache line (16 Int32 slots).
import { ORDER_MAX } from '@faultline/gfp';
import { ACCOUNT_COUNTER_COUNT } from './counters.js';

export const CACHE_LINE_I32 = 16;
export const ORDER_COUNT = ORDER_MAX + 1;

// Header, line 0: the zone lock and its statistics (written only by the lock holder, so they travel with it).
export const H_LOCK = 0;
export const H_LOCK_ACQUIRES = 1;
export const H_LOCK_CONTENDED = 2;
// Header, line 1: vmstat NR_FREE_PAGES, global part. Read on every allocation, written only when a CPU folds its
// delta, so it sits alone.
export const H_NR_FREE_PAGES = 16;
// Header, line 2: signals and rarely written tunables.
export const H_KSWAPD_WAKE_SEQ = 32; // incremented and notified on each wake-up
export const H_KSWAPD_WAKES = 33;
export const H_RESERVED_HIGHATOMIC = 34;
export const H_STAT_THRESHOLD = 35;
/** ZONE_RECLAIM_ACTIVE: kswapd is in a balance_pgdat run, so per-CPU lists are capped (nr_pcp_high). */
export const H_RECLAIM_ACTIVE = 36;
// Header, line 3: the watermarks, read on every allocation, written rarely.
export const H_WMARK_MIN = 48;
export const H_WMARK_LOW = 49;
export const H_WMARK_HIGH = 50;
export const H_WMARK_VERSION = 51; // bumped whenever a watermark or reserve changes
export const H_LOWMEM_RESERVE = 52; // the reserve this zone keeps from allocations of the node's highest class
// Header, lines 4-5: the free area, all written under the lock: the exact free count, nr_free and the list head
// of each order, packed so a critical section touches as few lines as it can.
export const H_NR_FREE_EXACT = 64;
export const H_NR_FREE = 65; // 11 orders
export const H_FREE_HEAD = 76; // 11 orders, -1 = empty
export const HEADER_I32 = 96;

// Page records: one per page frame, 8 Int32 (32 bytes), so a page's state, links and owner share a cache line,
// and so do an order-0 page and its buddy.
export const PAGE_RECORD_I32 = 8;
export const PG_STATE = 0; // see page-state.ts
export const PG_NEXT = 1; // free-list link (pfn or -1)
export const PG_PREV = 2;
export const PG_OWNER = 3; // accounting owner of an allocated block
export const PG_MASK = 4; // GFP mask it was allocated with

// Per-CPU block: header line, then the pcp ring.
export const CPU_COUNT = 0; // pages on this CPU's list
export const CPU_HEAD = 1; // ring index of the oldest page
export const CPU_HIGH = 2;
export const CPU_BATCH = 3;
export const CPU_FREE_DELTA = 4; // this CPU's unfolded NR_FREE_PAGES delta
export const CPU_REFILLS = 5;
export const CPU_DRAINS = 6;
export const CPU_FREE_FACTOR = 7; // pcp->free_factor: how many times the next bulk free doubles
export const CPU_HEADER_I32 = CACHE_LINE_I32;

export interface ZoneLayoutInput {
  readonly pages: number;
  readonly cpus: number;
  readonly owners: number;
  readonly pcpCapacity: number;
}

export interface ZoneLayout extends ZoneLayoutInput {
  /** Int32 index of pfn 0's record; pfn p's field F is at pageOffset + p * PAGE_RECORD_I32 + F. */
  readonly pageOffset: number;
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
  const pageOffset = HEADER_I32;
  const cpuOffset = alignUp(pageOffset + pages * PAGE_RECORD_I32, CACHE_LINE_I32);
  const cpuStride = alignUp(CPU_HEADER_I32 + pcpCapacity, CACHE_LINE_I32);
  const int32Count = cpuOffset + cpus * cpuStride;
  const accountOffsetF64 = alignUp(int32Count, CACHE_LINE_I32) / 2;
  const accountCpuStrideF64 = alignUp(owners * ACCOUNT_COUNTER_COUNT, 8);
  const byteLength = (accountOffsetF64 + cpus * accountCpuStrideF64) * 8;
  return { ...input, pageOffset, cpuOffset, cpuStride, int32Count, accountOffsetF64, accountCpuStrideF64, byteLength };
}

/** Int32 index of a CPU's block: its field F is at cpuBase(L, cpu) + F. */
export function cpuBase(L: ZoneLayout, cpu: number): number {
  return L.cpuOffset + cpu * L.cpuStride;
}
