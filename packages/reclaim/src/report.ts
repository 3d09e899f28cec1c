// report: what the reclaim module tells about a run - the node's reclaim work, and per task who paid (direct
// reclaim passes, pages reclaimed, time stalled) and who was killed.
import type { RunConfig } from '@faultline/engine';
import type { LatencySummary } from './latency.js';
import type { FreePagesTimeline } from './timeline.js';
import type { MemcgReport } from './memcg.js';
import {
  N_DIRECT_RECLAIMED,
  N_DRAINS,
  N_KSWAPD_FAILURES,
  N_PAGEOUTRUN,
  N_SCANNED_KSWAPD,
  N_KSWAPD_GIVEUPS,
  N_KSWAPD_WAKES_REFUSED,
  N_KSWAPD_PASSES,
  N_KSWAPD_ASKED,
  N_KSWAPD_BATCHES,
  N_THROTTLED,
  THROTTLE_ISOLATED,
  THROTTLE_NOPROGRESS,
  THROTTLE_PFMEMALLOC,
  THROTTLE_PFMEMALLOC_TIMEOUT,
  THROTTLE_WRITEBACK,
  T_PFMEMALLOC_THROTTLED,
  T_RECLAIM_THROTTLED,
  T_THROTTLE_NS,
  N_KSWAPD_RECLAIMED,
  N_KSWAPD_WAKES,
  N_LRU_ANON,
  N_KSWAPD_HIGH_WMARK_QUICKLY,
  N_KSWAPD_LOW_WMARK_QUICKLY,
  N_BALANCE_CALLS,
  N_LRU_DIRTY,
  N_LRU_FILE,
  N_SCANNED,
  N_WRITEBACKS,
  T_ALLOC_FAILURES,
  T_ALLOC_RETRIES,
  T_DIRECT_PASSES,
  T_DIRECT_RECLAIMED,
  T_LRU_ADDED,
  T_OOM_REQUESTS,
  T_STALL_NS,
  TASK_F64,
  type ReclaimLayout,
} from './layout.js';

export interface TaskReclaim {
  readonly task: number;
  readonly name: string;
  readonly directPasses: number;
  readonly pagesReclaimed: number;
  readonly stallNs: number;
  readonly allocRetries: number;
  readonly allocFailures: number;
  readonly oomRequests: number;
  readonly lruAdded: number;
  /** throttle_direct_reclaim's waits on pfmemalloc_wait (pgscan_direct_throttle), reclaim_throttle's sleeps (any
   * reason), and the time asleep in both. */
  readonly pfmemallocThrottled: number;
  readonly reclaimThrottled: number;
  readonly throttleNs: number;
}

export interface ReclaimReport {
  /** giveUps: times kswapd went to sleep on a hopeless node; wakesRefused: wake-ups it then ignored; failures: the
   * node's kswapd_failures at the end. */
  readonly kswapd: {
    /** runs: balance_pgdat runs that reclaimed; balanceCalls: every balance_pgdat call (pageoutrun); passes:
     * kswapd_shrink_node calls (one per priority iteration), which asked for `asked` pages in all
     * (sc->nr_to_reclaim each) and ran `batches` shrink_inactive_list batches of at most SWAP_CLUSTER_MAX. */
    wakes: number;
    passes: number;
    asked: number;
    batches: number;
    runs: number;
    balanceCalls: number;
    pagesReclaimed: number;
    scanned: number;
    giveUps: number;
    wakesRefused: number;
    failures: number;
    /** kswapd_low_wmark_hit_quickly and kswapd_high_wmark_hit_quickly (kswapd_try_to_sleep). */
    lowWmarkHitQuickly: number;
    highWmarkHitQuickly: number;
  };
  readonly directReclaimed: number;
  /** LRU entries scanned by everyone (kswapd's are in kswapd.scanned). */
  readonly scanned: number;
  readonly writebacks: number;
  readonly drains: number;
  /** Sleeps on the node's reclaim wait queues, as registered: reclaim_throttle's by reason (the tracepoint
   * mm_vmscan_throttled's names), and pfmemalloc_wait's (throttle_direct_reclaim; a waiter woken while the node
   * still fails allow_direct_reclaim sleeps again and counts again). */
  readonly throttled: {
    VMSCAN_THROTTLE_WRITEBACK: number;
    VMSCAN_THROTTLE_ISOLATED: number;
    VMSCAN_THROTTLE_NOPROGRESS: number;
    pfmemalloc_wait: number;
  };
  readonly lru: { file: number; dirty: number; anon: number };
  /** Page cache in memory at the start. */
  readonly prefilledPages: number;
  readonly oomKills: Array<{ task: number; name: string; pages: number; atNs: number }>;
  /** Tasks that did any reclaim work or asked for it. */
  readonly tasks: TaskReclaim[];
  /** Memory cgroups, when the run declared any: limits, charge, peak, and per task failures, reclaim, penalty. */
  readonly memcgs?: MemcgReport[];
  /** Free pages over the run against the watermarks, and time in each band (worker 0's commit). */
  readonly timeline?: FreePagesTimeline;
  /** allocPages latency per task id and mask (HDR histograms merged over the workers); set by the module's merge. */
  readonly latency?: Record<string, Record<string, LatencySummary>>;
  /** The same histograms, compressed (hdr-histogram-js base64), for merging groups of tasks: mergeEncoded. */
  readonly latencyHistograms?: Record<string, Record<string, string>>;
}

export function reclaimReport(
  config: RunConfig,
  m: Float64Array,
  L: ReclaimLayout,
  victims: ReadonlyArray<{ task: number; pages: number; atNs: number }>,
  prefilledPages: number,
): ReclaimReport {
  const tasks: TaskReclaim[] = [];
  for (const t of config.tasks) {
    const w = (k: number) => m[L.taskOffset + t.id * TASK_F64 + k]!;
    const row: TaskReclaim = {
      task: t.id,
      name: t.name,
      directPasses: w(T_DIRECT_PASSES),
      pagesReclaimed: w(T_DIRECT_RECLAIMED),
      stallNs: w(T_STALL_NS),
      allocRetries: w(T_ALLOC_RETRIES),
      allocFailures: w(T_ALLOC_FAILURES),
      oomRequests: w(T_OOM_REQUESTS),
      lruAdded: w(T_LRU_ADDED),
      pfmemallocThrottled: w(T_PFMEMALLOC_THROTTLED),
      reclaimThrottled: w(T_RECLAIM_THROTTLED),
      throttleNs: w(T_THROTTLE_NS),
    };
    if (row.directPasses + row.allocFailures + row.oomRequests + row.lruAdded + row.allocRetries > 0) tasks.push(row);
  }
  return {
    kswapd: {
      wakes: m[N_KSWAPD_WAKES]!,
      passes: m[N_KSWAPD_PASSES]!,
      asked: m[N_KSWAPD_ASKED]!,
      batches: m[N_KSWAPD_BATCHES]!,
      runs: m[N_PAGEOUTRUN]!,
      balanceCalls: m[N_BALANCE_CALLS]!,
      pagesReclaimed: m[N_KSWAPD_RECLAIMED]!,
      scanned: m[N_SCANNED_KSWAPD]!,
      giveUps: m[N_KSWAPD_GIVEUPS]!,
      wakesRefused: m[N_KSWAPD_WAKES_REFUSED]!,
      failures: m[N_KSWAPD_FAILURES]!,
      lowWmarkHitQuickly: m[N_KSWAPD_LOW_WMARK_QUICKLY]!,
      highWmarkHitQuickly: m[N_KSWAPD_HIGH_WMARK_QUICKLY]!,
    },
    directReclaimed: m[N_DIRECT_RECLAIMED]!,
    scanned: m[N_SCANNED]!,
    writebacks: m[N_WRITEBACKS]!,
    drains: m[N_DRAINS]!,
    throttled: {
      VMSCAN_THROTTLE_WRITEBACK: m[N_THROTTLED + THROTTLE_WRITEBACK]!,
      VMSCAN_THROTTLE_ISOLATED: m[N_THROTTLED + THROTTLE_ISOLATED]!,
      VMSCAN_THROTTLE_NOPROGRESS: m[N_THROTTLED + THROTTLE_NOPROGRESS]!,
      pfmemalloc_wait: m[N_THROTTLED + THROTTLE_PFMEMALLOC]! + m[N_THROTTLED + THROTTLE_PFMEMALLOC_TIMEOUT]!,
    },
    lru: { file: m[N_LRU_FILE]!, dirty: m[N_LRU_DIRTY]!, anon: m[N_LRU_ANON]! },
    prefilledPages,
    oomKills: victims.map((v) => ({ ...v, name: config.tasks[v.task]!.name })),
    tasks,
  };
}
