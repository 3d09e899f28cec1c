// reclaim-cpu: reclaim seen from one CPU. Its tasks log requests in the CPU's ring (LRU additions and removals,
// reclaim passes, drains, OOM kills) and park until the commit answers - keeping their CPU, since the kernel does
// this work in the task's own context; when the next window starts the CPU reads its result ring, kills the OOM
// victims that live here and resumes the waiters at the time each answer resolved. The CPU that hosts kswapd wakes
// it when the zone's kswapd wake counter moved (the allocator's slow path bumps it below the low watermark), as the
// last commit saw it, at the time the first such allocation happened. It also keeps this CPU's memcg charges of the
// window (memcg.ts).
import type { LatencyRecorder } from './latency.js';
import { LOG_HEADER_F64, logAppend, type KernelCpu } from '@faultline/engine/module';
import type { MemoryNode } from '@faultline/zone';
import type { MemcgCpu, MemcgSpec } from './memcg.js';
import {
  L_A,
  L_B,
  L_F64,
  L_KIND,
  L_TASK,
  L_TIME,
  K_THROTTLE_WAIT,
  N_KSWAPD_FAILURES,
  N_KSWAPD_KICK_SEQ,
  N_KSWAPD_KICK_TIME,
  N_KSWAPD_WAKES_REFUSED,
  N_WAKE_SEQ,
  N_WAKE_TIME,
  R_F64,
  R_KIND,
  R_KIND_THROTTLE,
  R_TASK,
  R_TIME,
  R_VALUE,
  TASK_F64,
  type ReclaimLayout,
} from './layout.js';

/** MAX_RECLAIM_RETRIES, as kswapd counts its failures. */
const MAX_KSWAPD_FAILURES = 16;

export class ReclaimCpu implements MemcgCpu {
  private readonly log: number;
  private readonly results: number;
  kswapdTask = -1;
  kswapdParked = false;
  private kswapdSeenSeq = 0;
  private kswapdSeenKick = 0;
  /** Each task's current wait on a reclaim wait queue (its token), while it sleeps there. */
  private readonly throttleWaits = new Map<number, number>();
  private throttleTokens = 0;
  /** Which sleep or nap kswapd is in (a nap's timer wakes only its own nap). */
  private kswapdNap = 0;
  readonly localCharges: number[];

  constructor(
    readonly cpu: KernelCpu,
    readonly mem: Float64Array,
    readonly L: ReclaimLayout,
    readonly node: MemoryNode,
    /** The worker's allocation latencies (shared by its CPUs). */
    readonly latencies: LatencyRecorder,
    readonly groups: readonly MemcgSpec[] = [],
    readonly taskGroup: readonly number[] = [],
    /** Tasks that are kernel threads (args.kthread: PF_KTHREAD), which reclaim never throttles, and the run's
     * jiffy (config.jiffyNs) for the throttles' timeouts. */
    readonly kthreads: ReadonlySet<number> = new Set(),
    readonly hz = 250,
    readonly jiffyNs = 4_000_000,
    /** Whether the run has a kswapd task to wake throttled direct reclaimers. */
    readonly hasKswapd = false,
    /** The run's reclaim costs: CPU time per page wanted, pages scanned per page wanted (the module's args). */
    readonly scan: { readonly nsPerPage: number; readonly perPage: number } = { nsPerPage: 200, perPage: 4 },
  ) {
    this.localCharges = new Array<number>(groups.length).fill(0);
    this.log = L.logOffset + cpu.cpu * L.logStride;
    this.results = L.resultOffset + cpu.cpu * L.resultStride;
  }

  /** Log a request for the commit. */
  request(taskId: number, kind: number, a: number, b: number): void {
    const m = this.mem;
    const s = logAppend(m, this.log, this.L.slots, L_F64);
    if (s < 0)
      throw new Error(
        `more than ${this.L.slots} reclaim requests in one window on cpu ${this.cpu.cpu}; raise the reclaim module's slots`,
      );
    m[s + L_TIME] = this.cpu.now();
    m[s + L_KIND] = kind;
    m[s + L_TASK] = taskId;
    m[s + L_A] = a;
    m[s + L_B] = b;
  }

  taskCounter(taskId: number, word: number): number {
    return this.L.taskOffset + taskId * TASK_F64 + word;
  }

  windowStart(): void {
    const m = this.mem;
    const n = m[this.results]!;
    // Kills first (encoded as -(victim + 1)), so that a victim that was also waiting is not woken.
    for (let i = 0; i < n; i++) {
      const s = this.results + LOG_HEADER_F64 + i * R_F64;
      const t = m[s + R_TASK]!;
      if (t < 0) this.cpu.kill(-t - 1, `the OOM killer chose it (${m[s + R_VALUE]!} pages)`);
    }
    for (let i = 0; i < n; i++) {
      const s = this.results + LOG_HEADER_F64 + i * R_F64;
      const t = m[s + R_TASK]!;
      if (t >= 0 && m[s + R_KIND] === R_KIND_THROTTLE) {
        // A wait queue's wake-up: only for the wait it was meant for (the sleep may have timed out since).
        if (this.throttleWaits.get(t) === m[s + R_VALUE]) {
          this.throttleWaits.delete(t);
          this.cpu.wake(t, 1, m[s + R_TIME]!);
        }
      } else if (t >= 0) {
        if (t === this.kswapdTask) this.kswapdParked = false;
        this.cpu.wake(t, m[s + R_VALUE]!, m[s + R_TIME]!);
      }
    }
    m[this.results] = 0;
    m[this.log] = 0;
    this.localCharges.fill(0);
    if (this.kswapdTask >= 0 && this.kswapdParked) {
      const seq = m[N_WAKE_SEQ]!;
      const kick = m[N_KSWAPD_KICK_SEQ]!;
      if (kick !== this.kswapdSeenKick && seq === this.kswapdSeenSeq) {
        // allow_direct_reclaim (mm/vmscan.c): a direct reclaimer throttled on pfmemalloc_wait wakes kswapd if it
        // is waiting on kswapd_wait ("kswapd must be awake if processes are being throttled").
        this.kswapdSeenKick = kick;
        this.kswapdParked = false;
        this.cpu.wake(this.kswapdTask, 1, m[N_KSWAPD_KICK_TIME]!);
      } else if (seq !== this.kswapdSeenSeq) {
        this.kswapdSeenKick = kick;
        this.kswapdSeenSeq = seq;
        // wakeup_kswapd: a hopeless node (MAX_RECLAIM_RETRIES runs in a row without progress) is left to direct
        // reclaim; kswapd stays asleep until some reclaim makes progress again.
        if (m[N_KSWAPD_FAILURES]! >= MAX_KSWAPD_FAILURES)
          m[N_KSWAPD_WAKES_REFUSED]!++; // only kswapd's CPU writes it
        else {
          this.kswapdParked = false;
          this.cpu.wake(this.kswapdTask, 1, m[N_WAKE_TIME]!);
        }
      }
    }
  }

  /** kswapd is going to sleep: remember which wake-ups it has already seen. */
  kswapdSleeps(): void {
    this.kswapdParked = true;
    this.kswapdNap++;
    this.kswapdSeenSeq = this.mem[N_WAKE_SEQ]!;
    this.kswapdSeenKick = this.mem[N_KSWAPD_KICK_SEQ]!;
  }

  /**
   * The task goes to sleep on a reclaim wait queue (`reason`, layout's THROTTLE_*): it logs its wait for the
   * commit, which wakes it when the queue is woken, and sets a timer for `timeoutJiffies` (schedule_timeout: the
   * sleep ends when jiffies has advanced that many ticks; 0: no timeout). The caller then parks, not stalled: the
   * task sleeps and its CPU runs others. The park's result is 1 when woken, 0 when the timeout ended it.
   */
  throttleSleep(taskId: number, reason: number, timeoutJiffies: number): void {
    const token = ++this.throttleTokens;
    this.throttleWaits.set(taskId, token);
    this.request(taskId, K_THROTTLE_WAIT, reason, token);
    if (timeoutJiffies <= 0) return;
    const at = (Math.floor(this.cpu.now() / this.jiffyNs) + timeoutJiffies) * this.jiffyNs;
    this.cpu.timer(at, () => {
      if (this.throttleWaits.get(taskId) !== token) return;
      this.throttleWaits.delete(taskId);
      this.cpu.wake(taskId, 0, at);
    });
  }

  /** kswapd naps for `ns` (schedule_timeout): a wake-up ends it early with 1; otherwise it wakes with 0 then. */
  kswapdNaps(ns: number): void {
    this.kswapdSleeps();
    const nap = this.kswapdNap;
    const at = this.cpu.now() + ns;
    this.cpu.timer(at, () => {
      if (!this.kswapdParked || this.kswapdNap !== nap) return;
      this.kswapdParked = false;
      this.cpu.wake(this.kswapdTask, 0, at);
    });
  }
}
