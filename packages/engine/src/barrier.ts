// barrier: the window barrier between worker threads, a sense-reversing counter in shared memory. Each arrival
// adds to the count; the last one resets it and bumps the generation, which releases the others. Waiters spin
// (only sane while threads <= cores: the run spins 0 times otherwise; and only as long as spinning has paid:
// SpinBudget) and then sleep in Atomics.wait with a timeout, so that an abort raised by the main thread (a worker
// died) is noticed and nobody hangs.
import { C_ABORT, C_BARRIER_COUNT, C_BARRIER_GEN } from './layout.js';

/** Reads a waiter spins before it sleeps, while workers <= host cores: about 4 ms on the 2-core machine, longer than
 * most rounds' waits, so that a waiter is rarely woken late by the futex (BENCHMARKS.md, "Performance": at 2 workers
 * mmap-contention at 16 CPUs ran 1.08x as fast as on 1 with 2,000 spins, 1.35x with 300,000). */
export const BARRIER_SPINS_DEFAULT = 300_000;

export class BarrierAborted extends Error {
  override readonly name = 'BarrierAborted';
}

/** How many reads a waiter spins before it sleeps, adapted to what spinning has paid (after glibc's adaptive
 * mutexes, which spin toward twice the average spin that succeeded): a wait that ends while spinning, or soon
 * enough after it slept that the most it may spin would have covered it, moves the average toward the reads it took
 * (or would have); a wait longer than that - the other worker is late, because the host is busy - halves the budget,
 * so that on a loaded host a waiter soon sleeps at once and leaves the core to the thread it waits for, instead of
 * burning its time slice. Never more than `max` (the run's spins), never
 * less than SPIN_FLOOR. Host timing only: nothing simulated depends on it. */
export class SpinBudget {
  private avg: number;
  budget: number;
  constructor(readonly max: number) {
    this.budget = max;
    this.avg = max / 2;
  }
  /** The wait ended after `reads` reads while spinning. */
  paid(reads: number): void {
    this.avg += (reads - this.avg) / 8;
    this.budget = Math.min(this.max, Math.max(SPIN_FLOOR, Math.ceil(2 * this.avg) + SPIN_FLOOR));
  }
  /** The wait outlasted the spin: it slept. */
  wasted(): void {
    this.budget = Math.max(Math.min(SPIN_FLOOR, this.max), this.budget >> 1);
    this.avg = this.budget / 2;
  }
}

/** The least a waiter spins (a few microseconds): a round that ends that soon is not worth a futex sleep. */
export const SPIN_FLOOR = 1_000;

/** Wait until words[at] is no longer `seen`: spin `spins` reads (a number, or an adaptive SpinBudget), then sleep in
 * Atomics.wait 50 ms at a time, throwing BarrierAborted (`while` says where the worker waited) once the run's
 * control block says abort. The one spin-then-wait of the window barrier and the parallel commit's channels. */
export function waitWhileEqual(
  words: Int32Array,
  at: number,
  seen: number,
  spins: number | SpinBudget,
  ctl: Int32Array,
  where: string,
): void {
  const n = typeof spins === 'number' ? spins : spins.budget;
  const t0 = n > 0 && typeof spins !== 'number' ? performance.now() : 0;
  for (let i = 0; i < n; i++)
    if (Atomics.load(words, at) !== seen) {
      if (typeof spins !== 'number') spins.paid(i);
      return;
    }
  const t1 = t0 > 0 ? performance.now() : 0;
  while (Atomics.load(words, at) === seen) {
    if (Atomics.load(ctl, C_ABORT) !== 0) throw new BarrierAborted(`the run was aborted while ${where}`);
    Atomics.wait(words, at, seen, 50);
  }
  // What the whole wait would have cost in reads, at the rate this spin ran: within the budget's reach, spinning
  // that long would have paid (the budget was too small); beyond it, the spin was wasted.
  if (typeof spins !== 'number' && n > 0) {
    const reads = t1 > t0 ? ((performance.now() - t0) * n) / (t1 - t0) : Infinity;
    if (reads <= spins.max) spins.paid(reads);
    else spins.wasted();
  }
}

export class WindowBarrier {
  rounds = 0;
  private readonly spins: SpinBudget;
  constructor(
    private readonly ctl: Int32Array,
    private readonly parties: number,
    spins: number,
  ) {
    this.spins = new SpinBudget(spins);
  }

  wait(): void {
    const c = this.ctl;
    this.rounds++;
    const gen = Atomics.load(c, C_BARRIER_GEN);
    if (Atomics.add(c, C_BARRIER_COUNT, 1) === this.parties - 1) {
      // Last to arrive: reset the count before releasing, so no early leaver can see a stale count.
      Atomics.store(c, C_BARRIER_COUNT, 0);
      Atomics.add(c, C_BARRIER_GEN, 1);
      Atomics.notify(c, C_BARRIER_GEN);
      return;
    }
    waitWhileEqual(c, C_BARRIER_GEN, gen, this.spins, c, 'this worker waited at a window barrier');
  }
}
