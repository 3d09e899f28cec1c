// lock-commit: between windows, worker 0 replays every CPU's lock log in (time, CPU, sequence) order, queues the
// requests that had to wait, grants what the kernel's rules allow once the window's own holds are accounted for,
// and publishes each lock's mode for the next window in the lock table.
//
// The rules (one per lock kind; see the engine README), after kernel/locking/rwsem.c and mutex.c (5.13 .. 6.12):
// - Holds taken at once on a CPU during the window are facts: the replay applies them in time order.
// - A request that had to wait is granted, in FIFO order of request, if the lock is free for it once the window's
//   holds are replayed, at the moment it became so: its own request time, or the last release in the window
//   (for a reader: the last writer's release) if that came later. The waiter resumes then (a spinning one kept
//   its CPU until then; a sleeping one wakes then, or when its CPU is next free), so it is charged only the holds
//   that overlapped its wait. A CPU that took the lock locally during the window, not knowing that another waited,
//   keeps its holds: the hand-off comes after them, so a waiter may still wait up to one window too long.
// - Optimistic spinning: see lock-state.ts. A spinner still spinning when the lock frees takes it ahead of the
//   sleeping waiters (rwsem_try_write_lock_unqueued: lock stealing) unless the first of them has the handoff.
// - A sleeping writer or mutex waiter at the head of the queue is not given the lock when it frees: it is woken
//   (LA_WAKE; rwsem_mark_wake puts a writer on the wake_q, __mutex_unlock_slowpath wakes the first waiter) and takes
//   the lock itself when it runs (rwsem_try_write_lock, __mutex_trylock: LK_RETRY, its CPU waiting for the answer
//   at that time). Meanwhile the lock is free: a spinning writer or mutex waiter takes it, and so does a reader in
//   its slow path (rwsem_down_read_slowpath's reader lock stealing: not while readers hold it and others wait, nor
//   past a handoff); a woken waiter that finds it taken sleeps again at the head of the queue. Only a waiter with
//   the handoff gets the lock at the release and holds it while it waits for its CPU (locks[name].wokenHeldNs,
//   cpu-locking.ts): an rwsem waiter that has waited past the handoff time (RWSEM_WAIT_TIMEOUT, a jiffy at HZ=250:
//   DIV_ROUND_UP(HZ, 250) jiffies; RWSEM_FLAG_HANDOFF), a mutex waiter that was woken once and found it taken
//   (__mutex_trylock_or_handoff sets MUTEX_FLAG_HANDOFF, __mutex_handoff).
// - A reader that cannot take the lock at once on its CPU (a writer holds or waits) waits for the commit on its CPU
//   (LK_TRY) and is answered at its own request time: the lock (it was free to take then) or "sleep" (it queues).
// - Exactness: a lock whose window began with its mode QUEUED was taken by no CPU at once in the window, so the
//   replay knows every taker in time order and answers each request, release and retry when it happens. In a window
//   that began otherwise (homed on a CPU, open to readers) a CPU may have taken it at once not knowing that another
//   waited; those holds are facts, and the waiters are answered once the window's holds are replayed (above).
// - rwsem fairness: a queued writer blocks new readers (the mode turns QUEUED, so readers queue behind it). When the
//   head waiter is a reader, every queued reader is granted together, as rwsem_mark_wake does, passing over queued
//   writers - unless one of those writers has waited longer than the handoff time: then only the readers ahead of
//   it are granted, and it is next.
// - downgrade_write: the writer keeps a read hold; the readers at the head of the queue are woken with it
//   (rwsem_downgrade_wake -> rwsem_mark_wake(RWSEM_WAKE_READ_OWNED)).
// - Modes for the next window: lock-state.ts (publishLock).
// Not modelled: a woken mutex waiter spinning again before it sleeps (mutex_optimistic_spin with a waiter); a killed
// waiter leaving the queue before it is woken (it leaves when woken: LK_CANCEL).
import {
  LA_DEBT,
  LA_GRANT,
  LA_SPIN_STOP,
  LA_WAKE,
  LG_F64,
  LG_KIND,
  LG_LOCK,
  LG_TASK,
  LG_TIME,
  LK_ACQUIRED,
  LK_CHARGED,
  LK_LINE,
  LK_CANCEL,
  LK_DOWNGRADE,
  LK_OFF_CPU,
  LK_ON_CPU,
  LK_SPIN,
  LK_F64,
  LK_KIND,
  LK_LOCK,
  LK_RELEASE,
  LK_REQUEST,
  LK_RETRY,
  LK_TASK,
  LK_TRY,
  LK_TIME,
  LK_WRITE,
  LOCK_MODE_QUEUED,
  LT_LINE_WAIT,
  LT_STRIDE_I32,
  type RunLayout,
} from './layout.js';
import type { LineServer, LineStats } from './line-server.js';
import type { LockSpec, LockWakeRule } from './locks.js';
import {
  describeLock,
  hasHandoff,
  type LockState,
  noteSpinners,
  publishLock,
  spinEnd,
  spinningAt,
  takesAtOnce,
  type Waiter,
} from './lock-state.js';

import { LOG_HEADER_F64, logOf, logsInOrder } from './log-ring.js';

export interface LockCommitStats {
  readonly grants: number;
  readonly handoffs: number;
  /** Waiters that got the lock on their CPU (spinning, trying or retrying), of those: ahead of sleeping waiters;
   * waiters that stopped spinning. */
  readonly spinGrants: number;
  readonly steals: number;
  readonly spinStops: number;
  /** Sleeping writers and mutex waiters woken to take the lock themselves; of those, that found it taken. */
  readonly wakes: number;
  readonly wokenMissed: number;
  /** The lock words' cache lines, when the run charges them (a topology; line-server.ts). */
  readonly lines?: LineStats;
}

export class LockCommitter {
  grants = 0;
  handoffs = 0;
  spinGrants = 0;
  steals = 0;
  spinStops = 0;
  wakes = 0;
  wokenMissed = 0;
  private readonly locks: LockState[];
  private readonly order: number[] = [];
  private readonly grantCounts: number[];

  constructor(
    private readonly specs: readonly LockSpec[],
    private readonly ctl: Int32Array,
    private readonly rings: Float64Array,
    private readonly layout: RunLayout,
    private readonly handoffNs: number,
    /** The longest a waiter spins (need_resched: a time slice); 0: nobody spins. */
    private readonly spinMaxNs: number,
    /** 'grant': a sleeping waiter is handed the lock at the release instead of being woken to take it. */
    private readonly wakeRule: LockWakeRule = 'wake',
    /** The lock words' cache lines on the run's topology (line-server.ts), or null: no line is charged. */
    readonly lines: LineServer | null = null,
  ) {
    this.locks = specs.map((s) => ({
      kind: s.kind,
      writer: -1,
      writerCpu: -1,
      readers: 0,
      lastCpu: s.home ?? -1,
      freeSinceNs: 0,
      writerFreeSinceNs: 0,
      ownerOnCpu: false,
      readerOwnedSinceNs: 0,
      queue: [],
      touched: false,
      mode: LOCK_MODE_QUEUED,
    }));
    this.grantCounts = new Array<number>(layout.cpus).fill(0);
    for (let id = 0; id < this.locks.length; id++) this.publish(id);
  }

  /** Replay the window that ended at endNs; true when it answered a waiter (whose CPU then has work the round's
   * decision did not see) or a spinner waits for an answer a later commit gives at a known time, so that the loop
   * neither skips past it nor calls it a deadlock. */
  commit(endNs: number): boolean {
    const { rings: r, layout: L } = this;
    this.grantCounts.fill(0);
    const slots = logsInOrder(r, L.lockLogOffset, L.lockLogStride, L.cpus, LK_F64, LK_TIME, this.order);
    for (const s of slots) this.replay(logOf(s, L.lockLogOffset, L.lockLogStride), s);
    let later = false;
    for (let id = 0; id < this.locks.length; id++) {
      const st = this.locks[id]!;
      if (!st.touched) continue;
      st.touched = false;
      this.grant(id, st);
      if (this.stopSpinners(id, st, endNs)) {
        later = true;
        st.touched = true; // look again at the next commit
      }
      this.publish(id);
    }
    for (let cpu = 0; cpu < L.cpus; cpu++) if (this.grantCounts[cpu]! > 0) later = true;
    if (this.lines) {
      // The lock words' lines: each CPU's wait in the window beyond what it charged itself (LA_DEBT, paid at its
      // next compute or lock operation; a credit when it charged more: no work for a CPU, so not `later`), and each
      // word's expected wait for the next window's charges.
      this.lines.drain((cpu, ns) => this.sendTo(cpu, -1, -1, ns, LA_DEBT));
      const T = L.lockTableOffset;
      for (let id = 0; id < this.locks.length; id++)
        this.ctl[T + id * LT_STRIDE_I32 + LT_LINE_WAIT] = Math.round(this.lines.expectedNs(id));
    }
    for (let cpu = 0; cpu < L.cpus; cpu++) r[L.lockGrantOffset + cpu * L.lockGrantStride] = this.grantCounts[cpu]!;
    return later;
  }

  /** Replay one entry of cpu's lock log, at ring offset s: the line's move, then the lock's holders and queue; in an
   * exact window (below), the grants it allows at once. */
  private replay(cpu: number, s: number): void {
    const r = this.rings;
    const id = r[s + LK_LOCK]!;
    const st = this.locks[id]!;
    st.touched = true;
    const task = r[s + LK_TASK]!;
    const word = r[s + LK_WRITE]!;
    const write = (word & 1) === 1;
    const atNs = r[s + LK_TIME]!;
    const kind = r[s + LK_KIND]!;
    // An atomic on the lock's word: a take, an attempt, a release, a downgrade (not a holder's leaving its CPU).
    if (this.lines && kind !== LK_OFF_CPU && kind !== LK_ON_CPU && kind !== LK_CANCEL)
      this.lines.access(id, cpu, atNs, r[s + LK_CHARGED]!, kind === LK_LINE && word === 1);
    if (kind === LK_LINE) return; // a line has no holders: its move is all there is
    const readersBefore = st.readers;
    // In a window that began queued no CPU took the lock at once, so each event is answered when it happens.
    const exact = st.mode === LOCK_MODE_QUEUED;
    switch (r[s + LK_KIND]) {
      case LK_ACQUIRED:
        // A CPU takes a lock at once only where the published mode allows; a conflict here is an engine bug.
        if (st.writer !== -1 || (write && st.readers > 0)) {
          throw new Error(`lock ${id}: task #${task} on cpu ${cpu} took it at ${atNs} ns while ${this.describe(id)}`);
        }
        if (write) {
          st.writer = task;
          st.writerCpu = cpu;
          st.lastCpu = cpu;
          st.ownerOnCpu = true;
        } else st.readers++;
        break;
      case LK_REQUEST:
        if ((word & LK_RETRY) !== 0) this.retry(id, st, task, atNs);
        else this.request(id, st, task, cpu, word, atNs, exact);
        break;
      case LK_CANCEL: {
        const i = st.queue.findIndex((w) => w.taskId === task);
        if (i >= 0) st.queue.splice(i, 1);
        break;
      }
      case LK_OFF_CPU:
      case LK_ON_CPU:
        if (st.writer === task) st.ownerOnCpu = r[s + LK_KIND] === LK_ON_CPU;
        break;
      case LK_DOWNGRADE:
        if (st.writer !== task) throw new Error(`lock ${id}: task #${task} downgraded it while ${this.describe(id)}`);
        st.writer = -1;
        st.writerCpu = -1;
        st.writerFreeSinceNs = atNs;
        st.readers++;
        break;
      case LK_RELEASE:
        if (write ? st.writer !== task : st.readers <= 0)
          throw new Error(`lock ${id}: task #${task} released it while ${this.describe(id)}`);
        if (write) {
          st.writer = -1;
          st.writerCpu = -1;
          st.writerFreeSinceNs = atNs;
        } else st.readers--;
        if (st.writer === -1 && st.readers === 0) st.freeSinceNs = atNs;
        break;
    }
    if (st.writer === -1 && st.readers > 0 && readersBefore === 0) st.readerOwnedSinceNs = atNs;
    noteSpinners(st, atNs);
    if (exact) this.grant(id, st);
  }

  /** A request that did not take the lock at once on its CPU: a waiter that spins (LK_SPIN), waits on its CPU for
   * the answer (LK_TRY) or sleeps. In an exact window it may take the lock at its own time; else it queues. */
  private request(
    id: number,
    st: LockState,
    task: number,
    cpu: number,
    word: number,
    atNs: number,
    exact: boolean,
  ): void {
    const spin = (word & LK_SPIN) !== 0 && this.spinMaxNs > 0;
    const w: Waiter = {
      taskId: task,
      cpu,
      write: (word & 1) === 1,
      sinceNs: atNs,
      spinFromNs: atNs,
      spinUntilNs: spin ? Infinity : (word & LK_TRY) !== 0 ? atNs : -1,
      stopped: false,
      woken: false,
      trying: !spin && (word & LK_TRY) !== 0,
      missed: 0,
    };
    if (exact && takesAtOnce(st, w)) {
      if (st.queue.length > 0) this.steals++;
      this.take(id, st, w, atNs);
    } else st.queue.push(w);
  }

  /** A request granted at its own time, without queueing. */
  private take(id: number, st: LockState, w: Waiter, atNs: number): void {
    if (w.write) {
      st.writer = w.taskId;
      st.writerCpu = w.cpu;
      st.lastCpu = w.cpu;
      st.ownerOnCpu = w.spinUntilNs !== -1;
    } else st.readers++;
    if (w.spinUntilNs !== -1) this.spinGrants++;
    this.send(id, w, atNs, LA_GRANT);
  }

  /** A woken waiter runs and tries again (rwsem_try_write_lock, __mutex_trylock): the lock if it is free, or it
   * sleeps again at its place in the queue. */
  private retry(id: number, st: LockState, task: number, atNs: number): void {
    const w = st.queue.find((x) => x.taskId === task);
    if (w === undefined || !w.woken)
      throw new Error(`lock ${id}: task #${task} retried it at ${atNs} ns unwoken, while ${this.describe(id)}`);
    w.woken = false;
    w.trying = true;
    w.spinFromNs = atNs;
    w.spinUntilNs = atNs;
    w.stopped = false;
    if (st.writer === -1 && st.readers === 0) this.grantWriter(id, st, w, atNs);
    else {
      w.missed++;
      this.wokenMissed++;
    }
  }

  /** Spinners whose spin ended by endNs stop (they sleep from then); true if one still spins towards a known end,
   * or towards its cap while nothing else would wake the loop. */
  private stopSpinners(id: number, st: LockState, endNs: number): boolean {
    let later = false;
    for (const w of st.queue) {
      if (w.spinUntilNs < 0 || w.stopped) continue;
      const until = spinEnd(w, this.spinMaxNs);
      if (until <= endNs) this.stop(id, w);
      else later = true;
    }
    return later;
  }

  private stop(id: number, w: Waiter): void {
    w.stopped = true;
    if (!w.trying) this.spinStops++;
    this.send(id, w, spinEnd(w, this.spinMaxNs), LA_SPIN_STOP);
  }

  /** The lock to a queued waiter at atNs (or its own request, if later). One whose spin or try ended before then
   * is told to sleep first, then woken by the grant. */
  private grantTo(id: number, w: Waiter, atNs: number): void {
    const spinAt = spinningAt(w, atNs, this.spinMaxNs);
    if (spinAt >= 0) this.spinGrants++;
    else if (w.spinUntilNs >= 0 && !w.stopped) this.stop(id, w);
    this.send(id, w, Math.max(w.sinceNs, atNs), LA_GRANT);
  }

  private grantWriter(id: number, st: LockState, w: Waiter, atNs: number): void {
    st.queue.splice(st.queue.indexOf(w), 1);
    st.writer = w.taskId;
    st.writerCpu = w.cpu;
    st.lastCpu = w.cpu;
    // A spinner takes it on its CPU; a sleeper is off its CPU until it is woken and runs (it logs LK_ON_CPU then).
    st.ownerOnCpu = spinningAt(w, atNs, this.spinMaxNs) >= 0;
    this.grantTo(id, w, atNs);
    noteSpinners(st, Math.max(w.sinceNs, atNs));
  }

  /** The lock is free (of writers, at least) and someone waits: who gets it, or who is woken to take it. */
  private grant(id: number, st: LockState): void {
    const q = st.queue;
    if (q.length === 0 || st.writer !== -1) return;
    const free = st.freeSinceNs;
    if (st.readers === 0) {
      // A spinner still spinning when the lock freed takes it first (lock stealing), unless the first sleeping
      // waiter has the handoff: then the lock is that one's.
      const sleeper = q.find((w) => spinningAt(w, free, this.spinMaxNs) < 0);
      const handoff = sleeper !== undefined && hasHandoff(st, sleeper, free, this.handoffNs);
      const spinner = q.find((w) => w.write && spinningAt(w, free, this.spinMaxNs) >= 0);
      if (spinner !== undefined && !handoff) {
        if (spinner !== q[0]) this.steals++;
        this.grantWriter(id, st, spinner, free);
        return;
      }
      if (handoff && sleeper !== q[0]) {
        if (spinner !== undefined) this.handoffs++;
        q.splice(q.indexOf(sleeper!), 1);
        q.unshift(sleeper!);
      }
    }
    const head = q[0]!;
    if (head.write) {
      if (st.readers > 0 || head.woken) return;
      // A spinlock's waiters spin in FIFO order (qspinlock): the head takes it. A sleeper that asked while the lock
      // was already free (a window that began otherwise: its CPU did not know) had it by the fast path then.
      if (
        st.kind === 'spinlock' ||
        this.wakeRule === 'grant' ||
        head.sinceNs >= free ||
        hasHandoff(st, head, free, this.handoffNs)
      )
        this.grantWriter(id, st, head, free);
      else this.wake(id, head, free);
      return;
    }
    // Readers first in line: wake every queued reader, passing over writers unless one has waited past the handoff.
    const atNs = Math.max(head.sinceNs, st.writerFreeSinceNs);
    let i = 0;
    while (i < q.length) {
      const w = q[i]!;
      if (w.write) {
        if (atNs - w.sinceNs >= this.handoffNs) {
          this.handoffs++;
          break;
        }
        i++;
        continue;
      }
      q.splice(i, 1);
      if (st.readers === 0) st.readerOwnedSinceNs = Math.max(w.sinceNs, atNs);
      st.readers++;
      this.grantTo(id, w, atNs);
    }
    if (st.readers > 0) noteSpinners(st, st.readerOwnedSinceNs);
  }

  /** Wake the head waiter at atNs to take the lock itself when it runs; the lock stays free meanwhile. */
  private wake(id: number, w: Waiter, atNs: number): void {
    if (w.spinUntilNs >= 0 && !w.stopped) this.stop(id, w);
    w.woken = true;
    this.wakes++;
    this.send(id, w, Math.max(w.sinceNs, atNs), LA_WAKE);
  }

  private send(id: number, w: Waiter, atNs: number, kind: number): void {
    this.sendTo(w.cpu, w.taskId, id, atNs, kind);
    if (kind === LA_GRANT) this.grants++;
  }

  private sendTo(cpu: number, taskId: number, id: number, atNs: number, kind: number): void {
    const { rings: r, layout: L } = this;
    const n = this.grantCounts[cpu]!;
    // A CPU has at most two answers per waiting task (a spin stop, a grant) and a line debt, and ring slots for them
    // (checked at config).
    const s = L.lockGrantOffset + cpu * L.lockGrantStride + LOG_HEADER_F64 + n * LG_F64;
    r[s + LG_TASK] = taskId;
    r[s + LG_LOCK] = id;
    r[s + LG_TIME] = atNs;
    r[s + LG_KIND] = kind;
    this.grantCounts[cpu] = n + 1;
  }

  private publish(id: number): void {
    publishLock(this.locks[id]!, this.ctl, this.layout.lockTableOffset + id * LT_STRIDE_I32);
  }

  /** Each lock that has waiters: who holds it and how many wait (for the end of a run). */
  contended(): string[] {
    return this.locks.flatMap((st, id) =>
      st.queue.length > 0 ? [`lock '${this.specs[id]!.name}': ${this.describe(id)}`] : [],
    );
  }

  /** Who holds and who waits, for a deadlock report. */
  describe(id: number): string {
    return describeLock(this.locks[id]!);
  }
}
