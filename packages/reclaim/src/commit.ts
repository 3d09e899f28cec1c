// commit: between windows, worker 0's commit of the reclaim module (module.ts) applies every CPU's logged requests
// in (time, CPU, sequence) order against the node's LRU (lru.ts) and its zones, and answers each on its CPU's
// result ring. Reclaim (shrink_inactive_list's batches, after too_many_isolated) frees pages to the reclaimer's CPU
// list, counted as reclaimed by it (who paid); memcg reclaim takes its group's own page cache. The node's wait
// queues (pgdat->reclaim_wait, pfmemalloc_wait) hold the throttled reclaimers until a wake-up or their timer
// (throttle.ts says when). balance_pgdat's start and end set ZONE_RECLAIM_ACTIVE and count kswapd_failures; a drain
// empties every CPU's list (drain_all_pages); an OOM request kills the process holding the most pages
// (oom_kill_process; whom: oom-kill.ts), and while its victim exits, later requests get that victim back. Before the
// first window it fills memory with page cache (prefill); after each it publishes the LRU's counts, kswapd's wake
// time, the free-pages timeline and the memcgs' usage.
import type { RunConfig } from '@faultline/engine';
import { LOG_HEADER_F64, logOf, logsInOrder, type CommitInfo } from '@faultline/engine/module';
import type { MemoryNode } from '@faultline/zone';
import {
  ISOLATE_ASK,
  ISOLATE_IO_FS,
  ISOLATE_KSWAPD,
  K_DRAIN,
  K_ISOLATE,
  K_PFMEMALLOC_WAKE,
  K_THROTTLE_WAIT,
  K_KSWAPD_RUN,
  K_KSWAPD_RUN_BEGIN,
  K_LRU_ADD,
  K_LRU_DEL,
  K_MEMCG_OOM,
  K_OOM,
  K_RECLAIM,
  K_SYNC,
  N_KSWAPD_FAILURES,
  N_KSWAPD_BATCH_SCANNED,
  N_KSWAPD_BATCHES,
  N_KSWAPD_KICK_SEQ,
  N_KSWAPD_KICK_TIME,
  N_THROTTLED,
  R_KIND,
  R_KIND_ANSWER,
  R_KIND_THROTTLE,
  THROTTLE_ISOLATED,
  THROTTLE_NOPROGRESS,
  THROTTLE_PFMEMALLOC,
  THROTTLE_PFMEMALLOC_TIMEOUT,
  M_OOM_KILLS,
  MEMCG_F64,
  RECLAIM_MEMCG_BASE,
  L_A,
  L_B,
  L_F64,
  L_KIND,
  L_TASK,
  L_TIME,
  N_WAKE_TIME,
  R_TIME,
  LRU_ANON,
  LRU_FILE,
  LRU_FILE_DIRTY,
  N_DIRECT_RECLAIMED,
  N_DRAINS,
  N_KSWAPD_RECLAIMED,
  N_LRU_ANON,
  N_LRU_DIRTY,
  N_LRU_FILE,
  N_LRU_FILE_ZONE,
  N_PAGEOUTRUN,
  N_SCANNED,
  N_SCANNED_KSWAPD,
  N_WAKE_SEQ,
  N_WRITEBACKS,
  R_F64,
  R_TASK,
  R_VALUE,
  type ReclaimLayout,
} from './layout.js';
import { NodeLru } from './lru.js';
import { publishMemcgUsage } from './memcg.js';
import type { ReclaimOptions } from './module.js';
import { holdings, selectBadProcess } from './oom-kill.js';
import { allowDirectReclaim, throttleTimeoutJiffies } from './throttle.js';
import { TimelineRecorder } from './timeline.js';

/** A task asleep on one of the node's reclaim wait queues: where to answer it, its wait's token, and when its own
 * timer ends the sleep anyway (the commit forgets it then). */
interface Waiter {
  readonly task: number;
  readonly cpu: number;
  readonly token: number;
  readonly deadlineNs: number;
}

/** The reclaim module's commit, worker 0's alone: the node's LRU, its wait queues, its isolated pages and its OOM
 * victims live here between windows. */
export class ReclaimCommitter {
  readonly lru: NodeLru;
  private readonly order: number[] = [];
  private readonly resultCounts: number[];
  private readonly killed = new Set<number>();
  readonly victims: Array<{ task: number; pages: number; atNs: number }> = [];
  /** The last victim while its process exits (through the window after its kill's); -1 when none is exiting. */
  private victimNow = -1;
  private exitedByNs = -1;
  private commitEndNs = 0;
  readonly timeline: TimelineRecorder;
  /** Reclaim batches in flight (isolated, NR_ISOLATED_FILE): pages per task, and their sum. */
  private readonly inflight = new Map<number, number>();
  private isolated = 0;
  /** The node's wait queues, indexed by THROTTLE_* (pgdat->reclaim_wait[], then pfmemalloc_wait twice). */
  private readonly waitQueues: Waiter[][] = [[], [], [], [], []];
  private kickedAt = -1;

  constructor(
    private readonly config: RunConfig,
    private readonly mem: Float64Array,
    private readonly L: ReclaimLayout,
    private readonly node: MemoryNode,
    private readonly o: ReclaimOptions,
    private readonly taskGroup: readonly number[],
    private readonly taskCpu: (taskId: number) => number,
  ) {
    this.resultCounts = new Array<number>(L.cpus).fill(0);
    this.lru = new NodeLru((pfn) => node.zoneIndexOf(pfn), node.zones.length, node.pages);
    this.timeline = new TimelineRecorder(config.durationNs, () => node.watermarks, node.watermarkBand());
  }

  /** Fill memory with page cache before the first window, as a machine that has been up a while: GFP_KERNEL
   * allocations on behalf of no task, down the zonelist as the allocator takes them, put on the LRU: a count, or
   * until the free pages are down to the headroom. Returns pages filled. */
  prefill(): number {
    const { node, o } = this;
    const plan = node.plan('GFP_KERNEL');
    const owner = node.owners - 1; // the engine's owner for the kernel itself
    const count = o.prefillHeadroom > 0 ? Infinity : o.prefillFilePages;
    const leave = o.prefillHeadroom > 0 ? Math.ceil(o.prefillHeadroom * node.watermarks.highPages) : 0;
    let n = 0;
    node.exclusive(() => {
      while (n < count && (leave === 0 || node.freePages() > leave)) {
        const pfn = node.alloc(n % this.L.cpus, plan, owner);
        if (pfn < 0) break;
        const dirty = o.prefillDirtyEvery > 0 && n % o.prefillDirtyEvery === 0;
        this.lru.add(pfn, dirty ? LRU_FILE_DIRTY : LRU_FILE, -1);
        n++;
      }
      for (let c = 0; c < this.L.cpus; c++) node.drainCpu(c);
    });
    this.publishLru();
    return n;
  }

  commit(endNs: number, info: CommitInfo): boolean {
    const { mem: m, L } = this;
    this.lru.advance(endNs);
    this.resultCounts.fill(0);
    const slots = logsInOrder(m, L.logOffset, L.logStride, L.cpus, L_F64, L_TIME, this.order);
    // The victim's exit (its address space torn down: the mm module's commit of its tasks' K_EXIT, which they log in
    // the window after the kill) ends with that window.
    this.commitEndNs = endNs;
    if (endNs > this.exitedByNs) this.victimNow = -1;
    this.kickedAt = -1;
    for (const s of slots) {
      const cpu = logOf(s, L.logOffset, L.logStride);
      const task = m[s + L_TASK]!;
      const a = m[s + L_A]!;
      const at = m[s + L_TIME]!;
      this.nowNs = at;
      switch (m[s + L_KIND]) {
        case K_LRU_ADD:
          this.lru.add(a, m[s + L_B]!, task);
          break;
        case K_LRU_DEL:
          this.lru.delete(a);
          break;
        case K_RECLAIM: {
          const b = m[s + L_B]!;
          this.answer(
            cpu,
            task,
            b >= RECLAIM_MEMCG_BASE
              ? this.reclaimGroup(cpu, task, a, b - RECLAIM_MEMCG_BASE)
              : this.reclaim(cpu, task, a, b === 1, at),
          );
          break;
        }
        case K_MEMCG_OOM:
          // The same within the memcg: its own victim still exiting aborts the selection.
          this.answer(
            cpu,
            task,
            this.victimNow >= 0 && this.taskGroup[this.victimNow] === a ? this.victimNow : this.killNow(at, a),
          );
          break;
        case K_SYNC:
          this.answer(cpu, task, 0);
          break;
        case K_ISOLATE:
          this.isolate(cpu, task, a, m[s + L_B]!, at);
          break;
        case K_THROTTLE_WAIT:
          this.throttleWait(cpu, task, a, m[s + L_B]!, at);
          break;
        case K_PFMEMALLOC_WAKE:
          // balance_pgdat wakes pfmemalloc_wait's sleepers once allow_direct_reclaim holds; prepare_kswapd_sleep
          // wakes them all (each tests the condition again and sleeps again if it still fails).
          if (a === 1 || this.allowDirectReclaim()) {
            this.wakeQueue(THROTTLE_PFMEMALLOC, at);
            this.wakeQueue(THROTTLE_PFMEMALLOC_TIMEOUT, at);
          }
          break;
        case K_KSWAPD_RUN_BEGIN:
          // set_reclaim_active: per-CPU lists are capped while kswapd reclaims (nr_pcp_high).
          this.node.setReclaimActive(true);
          break;
        case K_KSWAPD_RUN:
          // balance_pgdat's end: clear_reclaim_active; a run that reclaimed nothing counts against the node.
          this.node.setReclaimActive(false);
          m[N_PAGEOUTRUN]!++;
          if (a === 0) m[N_KSWAPD_FAILURES]!++;
          this.answer(cpu, task, m[N_KSWAPD_FAILURES]!);
          break;
        case K_DRAIN:
          // drain_all_pages: each CPU's list goes back under the zone lock, one hold per CPU, before it returns.
          for (let c = 0; c < L.cpus; c++) this.node.drainCpu(c);
          m[N_DRAINS]!++;
          this.answer(cpu, task, 0, at + L.cpus * this.config.costs.zoneLockNs);
          break;
        case K_OOM:
          // oom_lock serialises the killer, and it picks no one new while a victim is still exiting
          // (oom_evaluate_task: a victim without MMF_OOM_SKIP aborts the selection, which exit_mmap's end sets):
          // requests until its exit get that victim back and retry against the memory it freed.
          this.answer(cpu, task, this.victimNow >= 0 ? this.victimNow : this.killNow(at));
          break;
      }
    }
    for (let c = 0; c < L.cpus; c++) m[L.resultOffset + c * L.resultStride] = this.resultCounts[c]!;
    this.publishLru();
    const seq = this.node.kswapdWakeSeq();
    if (seq !== m[N_WAKE_SEQ])
      m[N_WAKE_TIME] = (Number.isFinite(info.kswapdWakeNs) ? info.kswapdWakeNs : endNs) + this.o.kswapdWakeLatencyNs;
    m[N_WAKE_SEQ] = seq;
    this.timeline.sample(endNs, this.node.usableFreePages(), this.node.watermarkBand());
    if (L.memcgs > 0) publishMemcgUsage(m, L, this.node, this.taskGroup);
    return slots.length > 0;
  }

  /** The LRU's counts, for the CPUs' next window (should_reclaim_retry reads them). */
  private publishLru(): void {
    const m = this.mem;
    m[N_LRU_FILE] = this.lru.counts[LRU_FILE]!;
    m[N_LRU_DIRTY] = this.lru.counts[LRU_FILE_DIRTY]!;
    m[N_LRU_ANON] = this.lru.counts[LRU_ANON]!;
    this.lru.fileByZone.forEach((n, z) => {
      m[N_LRU_FILE_ZONE + z] = n;
    });
  }

  /** The time of the request being answered: answers resolve then, unless they say otherwise. */
  private nowNs = 0;

  private answer(cpu: number, task: number, value: number, atNs = this.nowNs): void {
    const n = this.resultCounts[cpu]!;
    if (n >= this.L.slots) throw new Error(`more than ${this.L.slots} reclaim results for cpu ${cpu} in one window`);
    const s = this.L.resultOffset + cpu * this.L.resultStride + LOG_HEADER_F64 + n * R_F64;
    this.mem[s + R_TASK] = task;
    this.mem[s + R_VALUE] = value;
    this.mem[s + R_TIME] = atNs;
    this.mem[s + R_KIND] = R_KIND_ANSWER;
    this.resultCounts[cpu] = n + 1;
  }

  /** allow_direct_reclaim against the node as the commit has it now. */
  private allowDirectReclaim(): boolean {
    return allowDirectReclaim(this.node, (z) => this.lru.fileByZone[z]!, this.mem[N_KSWAPD_FAILURES]!);
  }

  /**
   * shrink_inactive_list's start (mm/vmscan.c): a direct reclaimer's too_many_isolated - the pages isolated by
   * every batch in flight (NR_ISOLATED_FILE) above the inactive file pages (those on the list, isolated ones off
   * it; an eighth of them for a caller with __GFP_IO|__GFP_FS) - answered when asked; a verdict of "not too many"
   * wakes the VMSCAN_THROTTLE_ISOLATED sleepers (wake_throttle_isolated). kswapd is never asked (its
   * too_many_isolated is 0 at once). A batch that goes ahead isolates up to `nr` pages until its K_RECLAIM.
   */
  private isolate(cpu: number, task: number, nr: number, bits: number, at: number): void {
    const onList = this.lru.reclaimable();
    if ((bits & ISOLATE_KSWAPD) === 0 && (bits & ISOLATE_ASK) !== 0) {
      const inactive = Math.max(0, onList - this.isolated);
      const limit = (bits & ISOLATE_IO_FS) !== 0 ? Math.floor(inactive / 8) : inactive;
      const tooMany = this.isolated > limit;
      this.answer(cpu, task, tooMany ? 1 : 0);
      if (tooMany) return;
      this.wakeQueue(THROTTLE_ISOLATED, at);
    }
    const take = Math.min(nr, Math.max(0, onList - this.isolated));
    this.isolated += take - (this.inflight.get(task) ?? 0);
    this.inflight.set(task, take);
  }

  /** A task goes to sleep on wait queue `reason` with its wait's `token` (reclaim_throttle,
   * throttle_direct_reclaim). */
  private throttleWait(cpu: number, task: number, reason: number, token: number, at: number): void {
    const m = this.mem;
    m[N_THROTTLED + reason]!++;
    const pfmemalloc = reason === THROTTLE_PFMEMALLOC || reason === THROTTLE_PFMEMALLOC_TIMEOUT;
    if (pfmemalloc) {
      // wait_event's test before it sleeps; then allow_direct_reclaim's wake-up of kswapd, if kswapd sleeps.
      if (this.allowDirectReclaim()) {
        this.answerThrottle({ task, cpu, token, deadlineNs: Infinity }, at);
        return;
      }
      if (this.kickedAt < 0) {
        this.kickedAt = at;
        m[N_KSWAPD_KICK_SEQ]!++;
        m[N_KSWAPD_KICK_TIME] = at;
      }
    }
    const j = this.config.jiffyNs;
    const timeout = pfmemalloc ? 0 : throttleTimeoutJiffies(reason, this.config.hz);
    const deadlineNs = timeout > 0 ? (Math.floor(at / j) + timeout) * j : Infinity;
    this.waitQueues[reason]!.push({ task, cpu, token, deadlineNs });
  }

  /** wake_up_all on a wait queue at `at`: every sleeper whose own timeout has not ended its sleep yet. */
  private wakeQueue(reason: number, at: number): void {
    const q = this.waitQueues[reason]!;
    if (q.length === 0) return;
    for (const w of q) if (w.deadlineNs > at) this.answerThrottle(w, at);
    q.length = 0;
  }

  private answerThrottle(w: Waiter, at: number): void {
    const n = this.resultCounts[w.cpu]!;
    if (n >= this.L.slots) throw new Error(`more than ${this.L.slots} reclaim results for cpu ${w.cpu} in one window`);
    const s = this.L.resultOffset + w.cpu * this.L.resultStride + LOG_HEADER_F64 + n * R_F64;
    this.mem[s + R_TASK] = w.task;
    this.mem[s + R_VALUE] = w.token;
    this.mem[s + R_TIME] = at;
    this.mem[s + R_KIND] = R_KIND_THROTTLE;
    this.resultCounts[w.cpu] = n + 1;
  }

  private reclaim(cpu: number, task: number, nr: number, kswapd: boolean, nowNs: number): number {
    const m = this.mem;
    // The batch's isolated pages go back (NR_ISOLATED_FILE falls).
    this.isolated -= this.inflight.get(task) ?? 0;
    this.inflight.delete(task);
    const out = this.lru.reclaim(nr, nr * this.o.scanPerPage, kswapd, nowNs, this.o.writebackNs);
    // Reclaimed pages go to the reclaimer's CPU list (free_unref_page_list), counted as reclaimed by it.
    for (const pfn of out.pfns) this.node.free(cpu, pfn, task % this.node.owners);
    m[N_SCANNED]! += out.scanned;
    m[N_WRITEBACKS]! += out.writebacksStarted;
    // shrink_node: any progress, kswapd's or a direct reclaimer's, makes the node hopeful again.
    if (out.pfns.length > 0) m[N_KSWAPD_FAILURES] = 0;
    if (kswapd) {
      m[N_SCANNED_KSWAPD]! += out.scanned;
      m[N_KSWAPD_BATCHES]!++;
      m[N_KSWAPD_BATCH_SCANNED] = out.scanned;
      m[N_KSWAPD_RECLAIMED]! += out.pfns.length;
    } else {
      m[N_DIRECT_RECLAIMED]! += out.pfns.length;
      // consider_reclaim_throttle: a direct reclaim more than 12% efficient wakes the NOPROGRESS sleepers.
      if (out.pfns.length > out.scanned >> 3) this.wakeQueue(THROTTLE_NOPROGRESS, nowNs);
    }
    return out.pfns.length;
  }

  /** Reclaim inside memcg g: its tasks' clean page cache, freed to the reclaimer's CPU list. */
  private reclaimGroup(cpu: number, task: number, nr: number, g: number): number {
    const owners = new Set<number>();
    this.taskGroup.forEach((x, t) => {
      if (x === g) owners.add(t);
    });
    const out = this.lru.reclaimOwned(nr, nr * this.o.scanPerPage, owners);
    for (const pfn of out.pfns) this.node.free(cpu, pfn, task % this.node.owners);
    this.mem[N_SCANNED]! += out.scanned;
    return out.pfns.length;
  }

  /** A kill, and its victim exiting through the next window. */
  private killNow(at: number, group = -1): number {
    const v = this.oomKill(at, group);
    if (v >= 0) [this.victimNow, this.exitedByNs] = [v, this.commitEndNs + this.config.windowNs];
    return v;
  }

  /** oom_kill_process: kill the process select_bad_process picks (oom-kill.ts), inside memcg `group` when given,
   * and free its pages but its page tables (the oom_reaper); -1 if there is none. Page tables go with the address
   * space: the mm module tears it down (exit_mmap) once its last task is killed, a commit later. */
  private oomKill(nowNs: number, group = -1): number {
    const held = holdings(this.node, this.lru);
    const heldBy = (t: RunConfig['tasks'][number]) => held.get(t.id % this.node.owners);
    const victims = selectBadProcess(this.config, this.killed, this.taskGroup, group, heldBy);
    if (victims.length === 0) return -1;
    for (const t of victims) {
      this.killed.add(t.id);
      this.isolated -= this.inflight.get(t.id) ?? 0; // a batch it had in flight ends with it
      this.inflight.delete(t.id);
      const h = heldBy(t);
      for (const pfn of h?.freed ?? []) {
        this.lru.delete(pfn);
        this.node.free(this.taskCpu(t.id), pfn);
      }
      this.victims.push({ task: t.id, pages: h?.pages ?? 0, atNs: nowNs });
      this.answer(this.taskCpu(t.id), -(t.id + 1), h?.pages ?? 0);
    }
    if (group >= 0) this.mem[this.L.memcgOffset + group * MEMCG_F64 + M_OOM_KILLS]!++;
    return victims[0]!.id;
  }
}
