// layout: reclaim's shared memory, one Float64Array. Each CPU logs requests in its own ring during a window
// (LRU additions, reclaim passes, drains, OOM requests); worker 0's commit applies them in (time, CPU, sequence)
// order and answers in each CPU's result ring, which the CPU reads when the next window starts; each answer carries
// the simulated time it resolved at, and its task resumes then. Per-task counters
// are written only by the CPU the task runs on; the node's counters only by the commit.
import { logStride as ringStride } from '@faultline/engine/module';

// Node-wide counters (written by the commit).
export const N_KSWAPD_WAKES = 0;
export const N_KSWAPD_PASSES = 1;
export const N_KSWAPD_RECLAIMED = 2;
export const N_KSWAPD_GIVEUPS = 3;
/** LRU entries kswapd scanned (pgscan_kswapd); N_SCANNED counts everyone's. */
export const N_SCANNED_KSWAPD = 4;
export const N_DIRECT_RECLAIMED = 5;
export const N_LRU_FILE = 6;
export const N_LRU_DIRTY = 7;
export const N_LRU_ANON = 8;
export const N_WRITEBACKS = 9;
export const N_DRAINS = 10;
export const N_SCANNED = 11;
/** The zone's kswapd wake counter as the last commit saw it: CPUs read this, never the live counter, which other
 * workers may be bumping while this one starts its window. */
export const N_WAKE_SEQ = 12;
/** When the allocations that moved it woke kswapd (the earliest in the window), so kswapd wakes then. */
export const N_WAKE_TIME = 13;
/** pgdat->kswapd_failures: balance_pgdat runs in a row that reclaimed nothing; any reclaim progress resets it. */
export const N_KSWAPD_FAILURES = 14;
/** wakeup_kswapd calls refused because the node was hopeless (failures >= MAX_RECLAIM_RETRIES). */
export const N_KSWAPD_WAKES_REFUSED = 15;
/** balance_pgdat runs that reclaimed (counted at their end). */
export const N_PAGEOUTRUN = 16;
/** File pages on the LRU per zone, lowest first (3 slots: DMA, DMA32, Normal), as the last commit left them. */
export const N_LRU_FILE_ZONE = 17;
export const LRU_ZONES_MAX = 3;
/** kswapd_try_to_sleep's outcomes (written by kswapd's CPU): woken during its HZ/10 nap (low_wmark_hit_quickly),
 * or not balanced when it tried to sleep or when the nap ended (high_wmark_hit_quickly). */
export const N_KSWAPD_LOW_WMARK_QUICKLY = 20;
export const N_KSWAPD_HIGH_WMARK_QUICKLY = 21;
/** balance_pgdat calls (pageoutrun: every call, one that finds the node balanced at once too; kswapd's CPU writes
 * it). N_PAGEOUTRUN counts the runs that reclaimed, at their end (the commit). */
export const N_BALANCE_CALLS = 22;
/** LRU entries the last kswapd batch scanned (the commit writes it; kswapd reads it when its answer comes). */
export const N_KSWAPD_BATCH_SCANNED = 23;
/** shrink_inactive_list batches kswapd ran (SWAP_CLUSTER_MAX pages each at most; the commit counts them). */
export const N_KSWAPD_BATCHES = 24;
/** Pages kswapd_shrink_node asked for, summed over its calls (sc->nr_to_reclaim; kswapd's CPU writes it). */
export const N_KSWAPD_ASKED = 25;
/** reclaim_throttle's sleeps by reason (VMSCAN_THROTTLE_WRITEBACK, _ISOLATED, _NOPROGRESS), then
 * throttle_direct_reclaim's waits on pfmemalloc_wait (with and without its timeout), as the commit registers them:
 * 5 slots, indexed by THROTTLE_*. */
export const N_THROTTLED = 26;
/** allow_direct_reclaim's wake-up of kswapd (a throttled reclaimer found kswapd asleep): a sequence and the time of
 * the first such wake since the last one kswapd's CPU saw. */
export const N_KSWAPD_KICK_SEQ = 33;
export const N_KSWAPD_KICK_TIME = 34;
export const NODE_F64 = 40;

// Per task (written by its CPU).
export const T_DIRECT_PASSES = 0;
export const T_DIRECT_RECLAIMED = 1;
export const T_STALL_NS = 2;
export const T_OOM_REQUESTS = 3;
export const T_ALLOC_FAILURES = 4;
export const T_ALLOC_RETRIES = 5;
export const T_LRU_ADDED = 6;
export const T_MEMCG_FAILS = 7; // charges refused over memory.max
export const T_MEMCG_RECLAIMED = 8; // pages reclaimed inside its group (over max or high)
export const T_MEMCG_PENALTY_NS = 9; // memory.high penalty slept
export const T_MEMCG_OVER_HIGH = 10; // pages charged over memory.high since its last penalty
export const T_PFMEMALLOC_THROTTLED = 11; // throttle_direct_reclaim waits (pgscan_direct_throttle)
export const T_RECLAIM_THROTTLED = 12; // reclaim_throttle sleeps, any reason
export const T_THROTTLE_NS = 13; // time asleep in either
export const TASK_F64 = 16;

// Per memcg (written by the commit).
export const M_USAGE = 0; // pages charged, as of the last commit
export const M_PEAK = 1; // the most seen at a commit
export const M_OOM_KILLS = 2;
export const MEMCG_F64 = 4;

// Log entry (a log-ring of the engine; the sequence is the position): [timeNs, kind, taskId, a, b]
export const L_TIME = 0;
export const L_KIND = 1;
export const L_TASK = 2;
export const L_A = 3;
export const L_B = 4;
export const L_F64 = 5;
export const K_LRU_ADD = 1; // a = pfn, b = LRU kind
export const K_LRU_DEL = 2; // a = pfn
export const K_RECLAIM = 3; // a = pages wanted, b = 0 direct, 1 kswapd, 2 + g inside memcg g; answers pages reclaimed
export const K_DRAIN = 4; // drain every CPU's page list; answers 0
export const K_OOM = 5; // answers the victim's task id, or -1
export const K_MEMCG_OOM = 6; // a = memcg; kills the largest task inside it; answers the victim, or -1
export const K_SYNC = 7; // nothing to do: answers 0 when the commit has run (a per-CPU charge stock ran out)
export const K_KSWAPD_RUN = 8; // a = pages one balance_pgdat run reclaimed; answers kswapd_failures after it
export const K_KSWAPD_RUN_BEGIN = 9; // a balance_pgdat run starts: ZONE_RECLAIM_ACTIVE until its end (no answer)
/** A reclaim batch starts (shrink_inactive_list: isolate_lru_folios), a = pages it may isolate, b = ISOLATE_* bits;
 * it counts as isolated (NR_ISOLATED_FILE) until its K_RECLAIM. With ISOLATE_ASK the commit answers
 * too_many_isolated first (1: too many, and nothing is isolated; 0: isolated); otherwise no answer. */
export const K_ISOLATE = 10;
/** A reclaimer goes to sleep on a wait queue: a = THROTTLE_* reason, b = its wait token; woken (an answer with
 * R_KIND_THROTTLE) by the queue's wake-up; its own CPU's timer ends the sleep otherwise. */
export const K_THROTTLE_WAIT = 11;
/** kswapd wakes pgdat->pfmemalloc_wait: a = 1 for every waiter (prepare_kswapd_sleep), 0 only if
 * allow_direct_reclaim now holds (balance_pgdat). No answer. */
export const K_PFMEMALLOC_WAKE = 12;
export const ISOLATE_KSWAPD = 1;
export const ISOLATE_ASK = 2;
/** The caller's mask has __GFP_IO and __GFP_FS: it may isolate only an eighth of the inactive list. */
export const ISOLATE_IO_FS = 4;
/** Wait queues: reclaim_throttle's reasons as enum vmscan_throttle_state numbers them
 * (include/linux/mmzone.h), then pfmemalloc_wait with and without its HZ timeout. */
export const THROTTLE_WRITEBACK = 0;
export const THROTTLE_ISOLATED = 1;
export const THROTTLE_NOPROGRESS = 2;
export const THROTTLE_PFMEMALLOC = 3;
export const THROTTLE_PFMEMALLOC_TIMEOUT = 4;
/** The tracepoint's names for the reasons (include/trace/events/vmscan.h, show_throttle_flags). */
export const THROTTLE_REASONS = [
  'VMSCAN_THROTTLE_WRITEBACK',
  'VMSCAN_THROTTLE_ISOLATED',
  'VMSCAN_THROTTLE_NOPROGRESS',
] as const;
export const RECLAIM_MEMCG_BASE = 2;

// Result entry: [taskId, value, timeNs, kind]: the task resumes at timeNs (when the answer resolved in simulated time).
export const R_TASK = 0;
export const R_VALUE = 1;
export const R_TIME = 2;
/** R_KIND_ANSWER: the task's request answered; R_KIND_THROTTLE: a wait queue woke it (value: the wait's token). */
export const R_KIND = 3;
export const R_F64 = 4;
export const R_KIND_ANSWER = 0;
export const R_KIND_THROTTLE = 1;

export const LRU_FILE = 0;
export const LRU_FILE_DIRTY = 1;
export const LRU_ANON = 2;
export const LRU_KINDS = ['file', 'file-dirty', 'anon'] as const;
export type LruKind = (typeof LRU_KINDS)[number];

export interface ReclaimLayout {
  readonly cpus: number;
  readonly tasks: number;
  readonly slots: number;
  readonly taskOffset: number;
  readonly memcgs: number;
  readonly memcgOffset: number;
  readonly logOffset: number;
  readonly logStride: number;
  readonly resultOffset: number;
  readonly resultStride: number;
  readonly f64: number;
}

export function reclaimLayout(cpus: number, tasks: number, slots: number, memcgs = 0): ReclaimLayout {
  const taskOffset = NODE_F64;
  const memcgOffset = taskOffset + tasks * TASK_F64;
  const logOffset = memcgOffset + memcgs * MEMCG_F64;
  const logStride = ringStride(slots, L_F64);
  const resultOffset = logOffset + cpus * logStride;
  const resultStride = ringStride(slots, R_F64);
  const f64 = resultOffset + cpus * resultStride;
  return { cpus, tasks, slots, taskOffset, memcgs, memcgOffset, logOffset, logStride, resultOffset, resultStride, f64 };
}
