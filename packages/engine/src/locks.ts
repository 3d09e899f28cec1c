// locks: the kernel's locking primitives as the engine's own - spinlock, mutex and rwsem - seen from one CPU. A lock
// is declared in the run's configuration and named by tasks. During a window a CPU takes a lock at once when the
// lock table says it may (an rwsem open to readers, or a lock homed on this CPU and free here), and otherwise logs a
// request and the task waits: a spinlock waiter keeps its CPU busy; a mutex waiter or an rwsem writer spins
// optimistically, keeping its CPU until the commit says it has the lock or stops spinning (then it sleeps); an rwsem
// reader waits on its CPU for the answer at its own time (the lock, or sleep). A sleeping writer or mutex waiter that
// the commit wakes tries again when it runs (retry). Every acquisition, release and downgrade is logged for the
// commit (lock-commit.ts), which grants waiters at the time the lock became free for them, and so is an exclusive
// holder's leaving and regaining its CPU (owner_on_cpu, which decides whether spinning on it goes on).
import {
  LK_ACQUIRED,
  LK_CHARGED,
  LK_LINE,
  LK_CANCEL,
  LK_DOWNGRADE,
  LK_F64,
  LK_KIND,
  LK_LOCK,
  LK_OFF_CPU,
  LK_ON_CPU,
  LK_RELEASE,
  LK_REQUEST,
  LK_RETRY,
  LK_SPIN,
  LK_TASK,
  LK_TIME,
  LK_TRY,
  LK_WRITE,
  LOCK_MODE_HOME,
  LOCK_MODE_OPEN_READ,
  LT_HOME,
  LT_LINE_WAIT,
  LT_MODE,
  LT_READERS,
  LT_STRIDE_I32,
  LT_WRITER,
  LG_F64,
  LG_KIND,
  LG_LOCK,
  LG_TASK,
  LG_TIME,
  type RunLayout,
} from './layout.js';
import { LOG_HEADER_F64, logAppend } from './log-ring.js';

/** 'line': not a lock but a shared cache line that tasks update atomically (ctx.atomic; line-server.ts). */
export const LOCK_KINDS = ['spinlock', 'mutex', 'rwsem', 'line'] as const;
export type LockKind = (typeof LOCK_KINDS)[number];

/** What a sleeping writer or mutex waiter at the head of the queue gets when the lock frees: 'wake', woken to take it
 * itself when it runs (rwsem_mark_wake, __mutex_unlock_slowpath; the kernel's), or 'grant', the lock at once, held
 * while it waits for its CPU (the engine's earlier rule, kept to measure the difference). */
export const LOCK_WAKE_RULES = ['wake', 'grant'] as const;
export type LockWakeRule = (typeof LOCK_WAKE_RULES)[number];

export interface LockSpec {
  readonly name: string;
  readonly kind: LockKind;
  /** The CPU that may take it without waiting before anyone has used it (default: none; the first use waits). */
  readonly home?: number;
}

/** What a CPU's attempt to take a lock came to. */
export const LOCK_TAKEN = 0;
export const LOCK_WAIT = 1;
export const LOCK_RING_FULL = 2;

interface LocalLock {
  window: number;
  writer: number;
  readers: number;
}

export class CpuLocks {
  private readonly log: number;
  private window = 0;
  private readonly local: LocalLock[];

  constructor(
    readonly specs: readonly LockSpec[],
    private readonly ctl: Int32Array,
    private readonly rings: Float64Array,
    private readonly layout: RunLayout,
    private readonly cpu: number,
  ) {
    this.log = layout.lockLogOffset + cpu * layout.lockLogStride;
    this.local = specs.map(() => ({ window: -1, writer: -1, readers: 0 }));
  }

  /** Called at each window's start: the table may have changed at the commit. */
  newWindow(): void {
    this.window++;
  }

  /** How a waiter for lock `id` waits on its CPU for the commit: LK_SPIN, optimistic spinning (a mutex, an rwsem
   * writer, when spinning is on); LK_TRY, an rwsem reader's slow path (the answer at its own time); 0, it sleeps. */
  waitFlags(id: number, write: boolean, spinning: boolean): number {
    const kind = this.specs[id]!.kind;
    if (kind === 'rwsem' && !write) return LK_TRY;
    return spinning && (kind === 'mutex' || kind === 'rwsem') ? LK_SPIN : 0;
  }

  /** Try to take lock `id` for task `taskId` (write = exclusive); a waiter says in its request how it waits. */
  acquire(nowNs: number, id: number, taskId: number, write: boolean, waitFlags = 0, charged = 0): number {
    const t = this.layout.lockTableOffset + id * LT_STRIDE_I32;
    const mode = this.ctl[t + LT_MODE];
    let taken = false;
    if (mode === LOCK_MODE_OPEN_READ && !write) taken = true;
    else if (mode === LOCK_MODE_HOME && this.ctl[t + LT_HOME] === this.cpu) {
      const l = this.localState(id, t);
      if (write && l.writer === -1 && l.readers === 0) {
        l.writer = taskId;
        taken = true;
      } else if (!write && l.writer === -1) {
        l.readers++;
        taken = true;
      }
    }
    const word = (write ? 1 : 0) + (taken ? 0 : waitFlags);
    if (!this.append(nowNs, taken ? LK_ACQUIRED : LK_REQUEST, id, taskId, word, taken ? charged : 0))
      return LOCK_RING_FULL;
    return taken ? LOCK_TAKEN : LOCK_WAIT;
  }

  /** A woken writer or mutex waiter runs and tries again; its CPU waits for the answer. */
  retry(nowNs: number, id: number, taskId: number, write: boolean): boolean {
    return this.append(nowNs, LK_REQUEST, id, taskId, (write ? 1 : 0) + LK_RETRY);
  }

  /** An atomic (or, `read`, a plain read) on line `id` (a lock of kind 'line', or a lock's word), having charged
   * itself `charged` ns for it. */
  atomic(nowNs: number, id: number, taskId: number, charged: number, read = false): boolean {
    return this.append(nowNs, LK_LINE, id, taskId, read ? 1 : 0, charged);
  }

  /** A waiter that was killed leaves the queue. */
  cancel(nowNs: number, id: number, taskId: number): boolean {
    return this.append(nowNs, LK_CANCEL, id, taskId, 0);
  }

  /** downgrade_write: task `taskId`'s write hold of `id` becomes a read hold. */
  downgrade(nowNs: number, id: number, taskId: number, charged = 0): boolean {
    const t = this.layout.lockTableOffset + id * LT_STRIDE_I32;
    if (this.ctl[t + LT_MODE] === LOCK_MODE_HOME && this.ctl[t + LT_HOME] === this.cpu) {
      const l = this.localState(id, t);
      l.writer = -1;
      l.readers++;
    }
    return this.append(nowNs, LK_DOWNGRADE, id, taskId, 1, charged);
  }

  /** An exclusive holder of `id` left its CPU (on = false) or runs again. */
  ownerMoved(nowNs: number, id: number, taskId: number, on: boolean): boolean {
    return this.append(nowNs, on ? LK_ON_CPU : LK_OFF_CPU, id, taskId, 1);
  }

  release(nowNs: number, id: number, taskId: number, write: boolean, charged = 0): boolean {
    const t = this.layout.lockTableOffset + id * LT_STRIDE_I32;
    if (this.ctl[t + LT_MODE] === LOCK_MODE_HOME && this.ctl[t + LT_HOME] === this.cpu) {
      const l = this.localState(id, t);
      if (write) l.writer = -1;
      else l.readers--;
    }
    return this.append(nowNs, LK_RELEASE, id, taskId, write ? 1 : 0, charged);
  }

  /** The answers the commit addressed to this CPU: (task, lock, time, LA_GRANT or LA_SPIN_STOP) in order. */
  grants(visit: (taskId: number, lockId: number, atNs: number, kind: number) => void): void {
    const r = this.rings;
    const base = this.layout.lockGrantOffset + this.cpu * this.layout.lockGrantStride;
    const n = r[base]!;
    for (let i = 0; i < n; i++) {
      const s = base + LOG_HEADER_F64 + i * LG_F64;
      visit(r[s + LG_TASK]!, r[s + LG_LOCK]!, r[s + LG_TIME]!, r[s + LG_KIND]!);
    }
  }

  clear(): void {
    this.rings[this.log] = 0;
    this.rings[this.layout.lockGrantOffset + this.cpu * this.layout.lockGrantStride] = 0;
  }

  private localState(id: number, t: number): LocalLock {
    const l = this.local[id]!;
    if (l.window !== this.window) {
      l.window = this.window;
      l.writer = this.ctl[t + LT_WRITER]!;
      l.readers = this.ctl[t + LT_READERS]!;
    }
    return l;
  }

  /** What an atomic on lock `id`'s word is expected to wait for its line (the last commit's estimate; 0 when the
   * run charges no lines). */
  lineWait(id: number): number {
    return this.ctl[this.layout.lockTableOffset + id * LT_STRIDE_I32 + LT_LINE_WAIT]!;
  }

  private append(nowNs: number, kind: number, id: number, taskId: number, word: number, charged = 0): boolean {
    const r = this.rings;
    const s = logAppend(r, this.log, this.layout.ringSlots, LK_F64);
    if (s < 0) return false;
    r[s + LK_TIME] = nowNs;
    r[s + LK_KIND] = kind;
    r[s + LK_LOCK] = id;
    r[s + LK_TASK] = taskId;
    r[s + LK_WRITE] = word;
    r[s + LK_CHARGED] = charged;
    return true;
  }
}
