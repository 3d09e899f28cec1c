// lock-state: what the lock commit (lock-commit.ts) knows of each lock - holders, queue, the mode the CPUs saw - and
// of each waiter; the mode the next window's CPUs see; who may take it at once or by handoff; and optimistic
// spinning, the part of a waiter's wait it spends on its CPU.
//
// Optimistic spinning (rwsem_optimistic_spin, mutex_optimistic_spin): a writer or mutex waiter keeps its CPU while
// the lock is free (the cmpxchg fast path, rwsem_write_trylock: granted at its own request time, nothing lost),
// while a writer owns it and runs (rwsem_spin_on_owner: owner_on_cpu), and while readers own it for at most
// rwsem_rspin_threshold ((20 + readers) / 2 us, readers capped at 30); the CPUs log when an exclusive holder
// leaves its CPU and comes back. Past that, or past spinMaxNs (need_resched: a time slice), it stops spinning
// and sleeps (an LA_SPIN_STOP answer at that time); an uncontended writer is thus never put to sleep. A spinner
// still spinning when the lock frees takes it ahead of the sleeping waiters (rwsem_try_write_lock_unqueued:
// lock stealing) unless the first of them has the handoff (lock-commit.ts).
import {
  LOCK_MODE_HOME,
  LOCK_MODE_OPEN_READ,
  LOCK_MODE_QUEUED,
  LT_HOME,
  LT_MODE,
  LT_READERS,
  LT_WRITER,
} from './layout.js';
import type { LockSpec } from './locks.js';

export interface Waiter {
  readonly taskId: number;
  readonly cpu: number;
  readonly write: boolean;
  readonly sinceNs: number;
  /** When its present spin or try began: its request, or its retry after a wake-up. */
  spinFromNs: number;
  /** It spins (or waits for an answer) on its CPU until this time, then sleeps; Infinity while that is not yet
   * known; -1 for a waiter that sleeps from the start. */
  spinUntilNs: number;
  /** Its LA_SPIN_STOP answer has been sent: it sleeps now. */
  stopped: boolean;
  /** Woken to take the lock itself (LA_WAKE sent); its retry not yet replayed. */
  woken: boolean;
  /** It waits on its CPU only for an answer at its own time (a reader's try, a woken waiter's retry), not spinning. */
  trying: boolean;
  /** Times it ran after a wake-up and found the lock taken. */
  missed: number;
}

/** rwsem_rspin_threshold: how long a writer spins on a lock readers own, (20 + readers) / 2 us, readers up to 30. */
export function readerSpinNs(readers: number): number {
  return ((20 + Math.min(readers, 30)) * 1000) / 2;
}

export interface LockState {
  readonly kind: LockSpec['kind'];
  writer: number;
  writerCpu: number;
  readers: number;
  lastCpu: number;
  /** When the replay last saw it become free (no holder), and free of writers. */
  freeSinceNs: number;
  writerFreeSinceNs: number;
  /** Its exclusive holder is on a CPU (owner_on_cpu), and since when readers alone hold it. */
  ownerOnCpu: boolean;
  readerOwnedSinceNs: number;
  readonly queue: Waiter[];
  touched: boolean;
  /** The mode the CPUs saw in the window being replayed (published at the last commit). */
  mode: number;
}

/** After an event at atNs (or a grant then): when each queued spinner that has not yet met an owner it cannot spin
 * on stops spinning, from the later of then and its own request. (A request replayed in an earlier commit may be
 * later than the event: a CPU that stalled lags the others, so its events can come a commit late.) */
export function noteSpinners(st: LockState, atNs: number): void {
  for (const w of st.queue) {
    if (w.spinUntilNs !== Infinity) continue;
    if (st.writer !== -1) {
      // rwsem_spin_on_owner / mutex_spin_on_owner: only while the owner runs.
      if (!st.ownerOnCpu) w.spinUntilNs = Math.max(atNs, w.sinceNs);
    } else if (st.readers > 0 && st.kind === 'rwsem') {
      w.spinUntilNs = Math.max(w.sinceNs, st.readerOwnedSinceNs) + readerSpinNs(st.readers);
    }
  }
}

/** When a spinner stops spinning: what its owner decided, and at the latest its cap spinMaxNs (need_resched). */
export function spinEnd(w: Waiter, spinMaxNs: number): number {
  return Math.min(w.spinUntilNs, w.spinFromNs + spinMaxNs);
}

/** The time a waiter that is still spinning when the lock frees at atNs takes it, or -1 if it stopped before. */
export function spinningAt(w: Waiter, atNs: number, spinMaxNs: number): number {
  if (w.spinUntilNs < 0 || w.stopped) return -1;
  const at = Math.max(w.spinFromNs, atNs);
  return at <= spinEnd(w, spinMaxNs) ? at : -1;
}

/** The lock's mode for the next window, published in the lock table at word t with its holders: someone still
 * waits -> QUEUED; a writer holds -> HOME on its CPU; an rwsem otherwise -> OPEN_READ; a free spinlock or mutex ->
 * HOME on the CPU that last held it (QUEUED if nobody has). */
export function publishLock(st: LockState, ctl: Int32Array, t: number): void {
  let mode: number;
  let home = -1;
  if (st.queue.length > 0) mode = LOCK_MODE_QUEUED;
  else if (st.writer !== -1) [mode, home] = [LOCK_MODE_HOME, st.writerCpu];
  else if (st.kind === 'rwsem') mode = LOCK_MODE_OPEN_READ;
  else if (st.lastCpu >= 0) [mode, home] = [LOCK_MODE_HOME, st.lastCpu];
  else mode = LOCK_MODE_QUEUED;
  // Plain stores: the barrier after the commit orders them before any CPU's reads in the next window.
  st.mode = mode;
  ctl[t + LT_MODE] = mode;
  ctl[t + LT_HOME] = home;
  ctl[t + LT_WRITER] = st.writer;
  ctl[t + LT_READERS] = st.readers;
}

/** Who holds the lock and how many wait, for a deadlock report. */
export function describeLock(st: LockState): string {
  const holders =
    st.writer !== -1
      ? `held for write by task #${st.writer}`
      : st.readers > 0
        ? `held by ${st.readers} reader(s)`
        : 'free';
  return `${holders}, ${st.queue.length} waiting`;
}

/** Whether a request takes the lock at its own time: a free lock (a reader: one no writer holds, while nobody
 * waits); with waiters queued, only by stealing - a spinning writer or mutex waiter, or a reader in its slow path
 * - since the fast paths fail on RWSEM_FLAG_WAITERS / MUTEX_FLAG_WAITERS, and a sleeping writer queues. */
export function takesAtOnce(st: LockState, w: Waiter): boolean {
  if (st.writer !== -1) return false;
  if (st.readers > 0) return !w.write && st.queue.length === 0;
  return st.queue.length === 0 || w.spinUntilNs !== -1;
}

/** The handoff: the lock is this waiter's at the release, and nobody steals it (RWSEM_FLAG_HANDOFF after the wait
 * timeout, handoffNs; MUTEX_FLAG_HANDOFF once the first waiter was woken and found it taken). */
export function hasHandoff(st: LockState, w: Waiter, atNs: number, handoffNs: number): boolean {
  if (st.kind === 'mutex') return w.missed > 0;
  return Math.max(w.sinceNs, atNs) - w.sinceNs >= handoffNs;
}
