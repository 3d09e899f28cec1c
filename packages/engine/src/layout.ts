// layout: the run's shared control memory. An Int32 control block (barrier, abort, pause and progress words,
// per-CPU published state, then the lock table) and Float64 rings per CPU: an outbox of cross-CPU messages, a queue
// of zone work that needs the zone lock, a log of lock operations, and the lock grants addressed to the CPU. The
// first three are written only by their CPU during a window and read by worker 0 between barriers; the grant ring
// is written only by worker 0 between barriers and read by its CPU after the second barrier.

import { logStride } from './log-ring.js';

export const C_BARRIER_COUNT = 0;
export const C_BARRIER_GEN = 16; // its own cache line: every waiter reads it
export const C_ABORT = 32; // set by the main thread when a worker died: everyone stops at the next barrier
/** Set by the main thread to ask for a pause; worker 0 turns it into a decision every worker reads (C_DECISION). */
export const C_PAUSE_REQ = 33;
/** Worker 0's decision after a window, written between the barriers: 0 go on, 1 pause. */
export const C_DECISION = 34;
/** Windows completed and simulated time reached (in microseconds, so it fits an Int32 up to 35 minutes), for progress. */
export const C_WINDOWS = 35;
export const C_PROGRESS_US = 36;
/** Set by the main thread to stop the run early; honoured, like a pause, at the next window's end. */
export const C_STOP_REQ = 37;
/** Worker 0 sets it when a commit left work for the next window (a kernel module woke something). */
export const C_COMMIT_PENDING = 38;
export const DECISION_GO = 0;
export const DECISION_PAUSE = 1;
export const DECISION_STOP = 2;
export const CONTROL_HEADER_I32 = 48;
/** Per CPU: the task whose code the CPU last ran in this window, + 1 (0: none since the window ended), written as it
 * starts each step, with the simulated time in the rings at runningOffset: where a worker was if it hangs or dies.
 * (What a window ends with - live tasks, errors, stalls, the next event - is published per worker: GR_*.) */
export const CPU_PUB_TASK = 0;
/** Padded, so that fewer CPUs of different workers share a cache line. */
export const CPU_PUB_STRIDE_I32 = 4;

// The rings are logs in the shape of log-ring.ts; an entry's sequence is its position in its CPU's log.
// Outbox message: [timeNs, dstCpu, value]
export const MSG_TIME = 0;
export const MSG_DST = 1;
export const MSG_VALUE = 2;
export const MSG_F64 = 3;

// Zone work: [timeNs, kind, taskId, mask, order or pfn, owner, result, grantNs]
export const ZW_TIME = 0;
export const ZW_KIND = 1;
export const ZW_TASK = 2;
export const ZW_MASK = 3;
export const ZW_ARG = 4;
export const ZW_OWNER = 5;
export const ZW_RESULT = 6;
export const ZW_GRANT = 7;
export const ZW_F64 = 8;
export const ZW_ALLOC = 1;
export const ZW_FREE = 2;

// Lock table, per lock, in the Int32 control block after the per-CPU words; written by worker 0 between barriers
// only, read by every CPU during a window: what each CPU may do without waiting for the window's end.
export const LT_MODE = 0;
export const LT_HOME = 1; // the CPU that may take it locally in LOCK_MODE_HOME
export const LT_WRITER = 2; // the task holding it exclusively, or -1
export const LT_READERS = 3; // readers holding it (rwsem)
export const LT_LINE_WAIT = 4; // ns an atomic on its word is expected to wait for the word's line (line-server.ts)
export const LT_STRIDE_I32 = 5;
/** Any CPU may take a read hold at once (an rwsem that no writer holds or waits for). Writers wait for the commit. */
export const LOCK_MODE_OPEN_READ = 0;
/** Only the home CPU may take it at once (it is free or held there, and nobody elsewhere waits). */
export const LOCK_MODE_HOME = 1;
/** Every acquisition waits for the commit (someone waits, or nobody has used it yet). */
export const LOCK_MODE_QUEUED = 2;

// Lock log entry: [timeNs, kind, lockId, taskId, write]; a request's write word also says how its CPU waits
// (LK_SPIN: optimistic spinning, its CPU stays busy until the commit's answer; LK_TRY: its CPU waits for an answer
// at the request's own time, the lock or "sleep": a reader's slow path, rwsem_down_read_slowpath) and whether it is
// a woken waiter's new attempt (LK_RETRY: rwsem_try_write_lock / __mutex_trylock when it runs).
export const LK_TIME = 0;
export const LK_KIND = 1;
export const LK_LOCK = 2;
export const LK_TASK = 3;
export const LK_WRITE = 4;
export const LK_CHARGED = 5; // ns the CPU charged itself for the word's line at this operation (LT_LINE_WAIT)
export const LK_F64 = 6;
export const LK_ACQUIRED = 1; // taken at once, on the CPU
export const LK_REQUEST = 2; // waits for the commit
export const LK_RELEASE = 3;
export const LK_OFF_CPU = 4; // a task holding it exclusively left its CPU (slept or was preempted)
export const LK_ON_CPU = 5; // ... and runs again
export const LK_DOWNGRADE = 6; // downgrade_write: the write hold becomes a read hold
export const LK_CANCEL = 7; // a waiter that was killed leaves the queue
export const LK_LINE = 8; // an atomic on a line (a lock of kind 'line'): nothing but the line's move
export const LK_SPIN = 2;
export const LK_TRY = 4;
export const LK_RETRY = 8;

// Lock answer: [taskId, lockId, timeNs, kind]: LA_GRANT, the task holds the lock from that time (a sleeper resumes
// then, or at its CPU's clock if later); LA_SPIN_STOP, a spinning (or trying) waiter stops then and sleeps; LA_WAKE,
// a sleeping writer or mutex waiter is woken then to take the lock itself when it runs (it retries: LK_RETRY).
export const LG_TASK = 0;
export const LG_LOCK = 1;
export const LG_TIME = 2;
export const LG_KIND = 3;
export const LG_F64 = 4;
export const LA_GRANT = 0;
export const LA_SPIN_STOP = 1;
export const LA_WAKE = 2;
/** [-1, -1, ns, LA_DEBT]: what the CPU waited for lock words' cache lines in the window (line-server.ts). */
export const LA_DEBT = 3;

// Free log and suspect entry: [timeNs, pfn, taskId]. A CPU logs each page it frees to its own list; a free that
// finds the page freed by another CPU is a suspect, judged at the commit by simulated time (free-check.ts).
export const FL_TIME = 0;
export const FL_PFN = 1;
export const FL_TASK = 2;
export const FL_F64 = 3;
export const SUSPECT_SLOTS = 16;
// Verdict: [cpu (-1: none), taskId, timeNs, pfn, otherCpu, otherTaskId, otherTimeNs]
export const VD_CPU = 0;
export const VD_TASK = 1;
export const VD_TIME = 2;
export const VD_PFN = 3;
export const VD_OTHER_CPU = 4;
export const VD_OTHER_TASK = 5;
export const VD_OTHER_TIME = 6;
export const VD_F64 = 8;

/** A worker's summary of its CPUs after a window (at its first CPU's slot, one cache line each): what every worker
 * reads after the first barrier, so that a round reads one line per worker rather than several per CPU. */
export const GR_LIVE = 0;
export const GR_ERROR = 1;
export const GR_STALLED = 2;
/** Messages, zone work and lock-log entries its CPUs left for the commit. */
export const GR_PENDING = 3;
/** Its CPUs' earliest next event, earliest clock, and earliest kswapd wake-up. */
export const GR_NEXT = 4;
export const GR_HORIZON = 5;
export const GR_KSWAPD = 6;
/** Messages its CPUs sent (so that the others skip its outboxes when there are none). */
export const GR_MESSAGES = 7;
/** Host time, not simulation: the worker's run phase of this round, and its own commit work (waits on other
 * workers' steps excluded), in ns; read only for result.host.criticalPath. */
export const GR_RUN_NS = 8;
export const GR_COMMIT_NS = 9;
/** Two cache lines. */
export const GR_F64 = 16;

export interface RunLayout {
  readonly cpus: number;
  readonly ringSlots: number;
  readonly controlI32: number;
  /** Float64 offsets (in elements) into the ring buffer. Per CPU: its clock after the window (a CPU that waits on the commit, or idles, lags the window's end). */
  readonly clockOffset: number;
  /** Per CPU: the earliest time in the window its allocations woke kswapd (Infinity if none). */
  readonly kswapdWakeOffset: number;
  readonly outboxOffset: number;
  readonly outboxStride: number;
  readonly zoneWorkOffset: number;
  readonly zoneWorkStride: number;
  readonly lockLogOffset: number;
  readonly lockLogStride: number;
  readonly lockGrantOffset: number;
  readonly lockGrantStride: number;
  /** Per CPU: the pages it freed to its own list this round, and its frees that met a page another CPU freed. */
  readonly freeLogOffset: number;
  readonly freeLogStride: number;
  readonly suspectOffset: number;
  readonly suspectStride: number;
  /** Worker 0's verdict on those double frees (VD_* words), read by every worker after the second barrier. */
  readonly verdictOffset: number;
  /** Per CPU: the simulated time at which its last task step began (with CPU_PUB_TASK). */
  readonly runningOffset: number;
  /** Per CPU, GR_F64 words: a worker's summary of its CPUs, at the slot of its first CPU (GR_*). */
  readonly groupOffset: number;
  readonly ringF64: number;
  readonly locks: number;
  /** Int32 offset of the lock table in the control block. */
  readonly lockTableOffset: number;
  /** Int32 offset of the task table: each task's CPU now (where it started, or where balance.ts moved it). */
  readonly taskCpuOffset: number;
  readonly tasks: number;
}

export function runLayout(cpus: number, ringSlots: number, locks = 0, tasks = 0): RunLayout {
  const lockTableOffset = CONTROL_HEADER_I32 + cpus * CPU_PUB_STRIDE_I32;
  const taskCpuOffset = lockTableOffset + locks * LT_STRIDE_I32;
  const controlI32 = taskCpuOffset + tasks;
  const outboxStride = logStride(ringSlots, MSG_F64);
  const zoneWorkStride = logStride(ringSlots, ZW_F64);
  const perCpuF64 = Math.ceil(cpus / 8) * 8;
  const clockOffset = 0;
  const kswapdWakeOffset = perCpuF64;
  const outboxOffset = 2 * perCpuF64;
  const zoneWorkOffset = outboxOffset + cpus * outboxStride;
  const lockLogStride = logStride(ringSlots, LK_F64);
  const lockLogOffset = zoneWorkOffset + cpus * zoneWorkStride;
  const lockGrantStride = logStride(ringSlots, LG_F64);
  const lockGrantOffset = lockLogOffset + cpus * lockLogStride;
  const freeLogStride = logStride(ringSlots, FL_F64);
  const freeLogOffset = lockGrantOffset + cpus * lockGrantStride;
  const suspectStride = logStride(SUSPECT_SLOTS, FL_F64);
  const suspectOffset = freeLogOffset + cpus * freeLogStride;
  const verdictOffset = suspectOffset + cpus * suspectStride;
  const runningOffset = verdictOffset + VD_F64;
  const groupOffset = runningOffset + perCpuF64;
  const ringF64 = groupOffset + cpus * GR_F64;
  return {
    cpus,
    ringSlots,
    controlI32,
    clockOffset,
    kswapdWakeOffset,
    outboxOffset,
    outboxStride,
    zoneWorkOffset,
    zoneWorkStride,
    lockLogOffset,
    lockLogStride,
    lockGrantOffset,
    lockGrantStride,
    freeLogOffset,
    freeLogStride,
    suspectOffset,
    suspectStride,
    verdictOffset,
    runningOffset,
    groupOffset,
    ringF64,
    locks,
    lockTableOffset,
    taskCpuOffset,
    tasks,
  };
}
