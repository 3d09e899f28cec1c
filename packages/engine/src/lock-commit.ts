// lock-commit: between windows, worker 0 replays every CPU's lock log in (time, CPU, sequence) order, queues the
// requests that had to wait, grants what the kernel's rules allow once the window's own holds are accounted for,
// and publishes each lock's mode for the next window in the lock table.
//
// The rules (one per lock kind; see the engine README):
// - Holds taken at once on a CPU during the window are facts: the replay applies them in time order.
// - A request that had to wait is granted, in FIFO order of request, if the lock is free for it once the window's
//   holds are replayed, at the moment it became so: its own request time, or the last release in the window
//   (for a reader: the last writer's release) if that came later. The waiter resumes then (a spinning one kept
//   its CPU until then; a sleeping one wakes then, or when its CPU is next free), so it is charged only the holds
//   that overlapped its wait. A CPU that took the lock locally during the window, not knowing that another waited,
//   keeps its holds: the hand-off comes after them, so a waiter may still wait up to one window too long.
// - rwsem fairness: a queued writer blocks new readers (the mode turns QUEUED, so readers queue behind it). When the
//   head waiter is a reader, every queued reader is granted together, as rwsem_mark_wake does, passing over queued
//   writers - unless one of those writers has waited longer than the handoff time (RWSEM_WAIT_TIMEOUT, about 4 ms):
//   then only the readers ahead of it are granted, and it is next.
// - Modes for the next window: someone still waits -> QUEUED; a writer holds -> HOME on its CPU; an rwsem otherwise
//   -> OPEN_READ; a free spinlock or mutex -> HOME on the CPU that last held it (QUEUED if nobody has).
import {
  LG_F64,
  LG_LOCK,
  LG_TASK,
  LG_TIME,
  LK_ACQUIRED,
  LK_F64,
  LK_KIND,
  LK_LOCK,
  LK_RELEASE,
  LK_REQUEST,
  LK_TASK,
  LK_TIME,
  LK_WRITE,
  LOCK_MODE_HOME,
  LOCK_MODE_OPEN_READ,
  LOCK_MODE_QUEUED,
  LT_HOME,
  LT_MODE,
  LT_READERS,
  LT_STRIDE_I32,
  LT_WRITER,
  type RunLayout,
} from './layout.js';
import type { LockSpec } from './locks.js';
import { LOG_HEADER_F64, logOf, logsInOrder } from './log-ring.js';

interface Waiter {
  readonly taskId: number;
  readonly cpu: number;
  readonly write: boolean;
  readonly sinceNs: number;
}

interface LockState {
  readonly kind: LockSpec['kind'];
  writer: number;
  writerCpu: number;
  readers: number;
  lastCpu: number;
  /** When the replay last saw it become free (no holder), and free of writers. */
  freeSinceNs: number;
  writerFreeSinceNs: number;
  readonly queue: Waiter[];
  touched: boolean;
}

export interface LockCommitStats {
  readonly grants: number;
  readonly handoffs: number;
}

export class LockCommitter {
  grants = 0;
  handoffs = 0;
  private readonly locks: LockState[];
  private readonly order: number[] = [];
  private readonly grantCounts: number[];

  constructor(
    private readonly specs: readonly LockSpec[],
    private readonly ctl: Int32Array,
    private readonly rings: Float64Array,
    private readonly layout: RunLayout,
    private readonly handoffNs: number,
  ) {
    this.locks = specs.map((s) => ({
      kind: s.kind,
      writer: -1,
      writerCpu: -1,
      readers: 0,
      lastCpu: s.home ?? -1,
      freeSinceNs: 0,
      writerFreeSinceNs: 0,
      queue: [],
      touched: false,
    }));
    this.grantCounts = new Array<number>(layout.cpus).fill(0);
    for (let id = 0; id < this.locks.length; id++) this.publish(id);
  }

  commit(): void {
    const { rings: r, layout: L } = this;
    this.grantCounts.fill(0);
    const slots = logsInOrder(r, L.lockLogOffset, L.lockLogStride, L.cpus, LK_F64, LK_TIME, this.order);
    if (slots.length === 0) return;
    for (const s of slots) {
      const cpu = logOf(s, L.lockLogOffset, L.lockLogStride);
      const id = r[s + LK_LOCK]!;
      const st = this.locks[id]!;
      st.touched = true;
      const task = r[s + LK_TASK]!;
      const write = r[s + LK_WRITE]! === 1;
      switch (r[s + LK_KIND]) {
        case LK_ACQUIRED:
          // A CPU takes a lock at once only where the published mode allows; a conflict here is an engine bug.
          if (st.writer !== -1 || (write && st.readers > 0)) {
            throw new Error(
              `lock ${id}: task #${task} on cpu ${cpu} took it at ${r[s + LK_TIME]} ns while ${this.describe(id)}`,
            );
          }
          if (write) {
            st.writer = task;
            st.writerCpu = cpu;
            st.lastCpu = cpu;
          } else st.readers++;
          break;
        case LK_REQUEST:
          st.queue.push({ taskId: task, cpu, write, sinceNs: r[s + LK_TIME]! });
          break;
        case LK_RELEASE:
          if (write ? st.writer !== task : st.readers <= 0)
            throw new Error(`lock ${id}: task #${task} released it while ${this.describe(id)}`);
          if (write) {
            st.writer = -1;
            st.writerCpu = -1;
            st.writerFreeSinceNs = r[s + LK_TIME]!;
          } else st.readers--;
          if (st.writer === -1 && st.readers === 0) st.freeSinceNs = r[s + LK_TIME]!;
          break;
      }
    }
    for (let id = 0; id < this.locks.length; id++) {
      const st = this.locks[id]!;
      if (!st.touched) continue;
      st.touched = false;
      this.grant(id, st);
      this.publish(id);
    }
    for (let cpu = 0; cpu < L.cpus; cpu++) r[L.lockGrantOffset + cpu * L.lockGrantStride] = this.grantCounts[cpu]!;
  }

  private grant(id: number, st: LockState): void {
    const q = st.queue;
    if (q.length === 0 || st.writer !== -1) return;
    const head = q[0]!;
    if (head.write) {
      if (st.readers > 0) return;
      q.shift();
      st.writer = head.taskId;
      st.writerCpu = head.cpu;
      st.lastCpu = head.cpu;
      this.send(id, head, Math.max(head.sinceNs, st.freeSinceNs));
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
      st.readers++;
      this.send(id, w, Math.max(w.sinceNs, atNs));
    }
  }

  private send(id: number, w: Waiter, atNs: number): void {
    const { rings: r, layout: L } = this;
    const n = this.grantCounts[w.cpu]!;
    // A CPU has at most one grant per waiting task, and fewer waiting tasks than ring slots (checked at config).
    const s = L.lockGrantOffset + w.cpu * L.lockGrantStride + LOG_HEADER_F64 + n * LG_F64;
    r[s + LG_TASK] = w.taskId;
    r[s + LG_LOCK] = id;
    r[s + LG_TIME] = atNs;
    this.grantCounts[w.cpu] = n + 1;
    this.grants++;
  }

  private publish(id: number): void {
    const st = this.locks[id]!;
    const t = this.layout.lockTableOffset + id * LT_STRIDE_I32;
    let mode: number;
    let home = -1;
    if (st.queue.length > 0) mode = LOCK_MODE_QUEUED;
    else if (st.writer !== -1) [mode, home] = [LOCK_MODE_HOME, st.writerCpu];
    else if (st.kind === 'rwsem') mode = LOCK_MODE_OPEN_READ;
    else if (st.lastCpu >= 0) [mode, home] = [LOCK_MODE_HOME, st.lastCpu];
    else mode = LOCK_MODE_QUEUED;
    // Plain stores: the barrier after the commit orders them before any CPU's reads in the next window.
    this.ctl[t + LT_MODE] = mode;
    this.ctl[t + LT_HOME] = home;
    this.ctl[t + LT_WRITER] = st.writer;
    this.ctl[t + LT_READERS] = st.readers;
  }

  /** Each lock that has waiters: who holds it and how many wait (for the end of a run). */
  contended(): string[] {
    return this.locks.flatMap((st, id) =>
      st.queue.length > 0 ? [`lock '${this.specs[id]!.name}': ${this.describe(id)}`] : [],
    );
  }

  /** Who holds and who waits, for a deadlock report. */
  describe(id: number): string {
    const st = this.locks[id]!;
    const holders =
      st.writer !== -1
        ? `held for write by task #${st.writer}`
        : st.readers > 0
          ? `held by ${st.readers} reader(s)`
          : 'free';
    return `${holders}, ${st.queue.length} waiting`;
  }
}
