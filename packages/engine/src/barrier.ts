// barrier: the window barrier between worker threads, a sense-reversing counter in shared memory. Each arrival
// adds to the count; the last one resets it and bumps the generation, which releases the others. Waiters spin
// (only sane while threads <= cores: the run spins 0 times otherwise) and then sleep in Atomics.wait with a timeout,
// so that an abort raised by the main thread (a worker died) is noticed and nobody hangs.
import { C_ABORT, C_BARRIER_COUNT, C_BARRIER_GEN } from './layout.js';

/** Reads a waiter spins before it sleeps, while workers <= host cores: about 4 ms on the 2-core machine, longer than
 * most rounds' waits, so that a waiter is rarely woken late by the futex (BENCHMARKS.md, "Performance": at 2 workers
 * mmap-contention at 16 CPUs ran 1.08x as fast as on 1 with 2,000 spins, 1.35x with 300,000). */
export const BARRIER_SPINS_DEFAULT = 300_000;

export class BarrierAborted extends Error {
  override readonly name = 'BarrierAborted';
}

/** Wait until words[at] is no longer `seen`: spin `spins` reads, then sleep in Atomics.wait 50 ms at a time,
 * throwing BarrierAborted (`while` says where the worker waited) once the run's control block says abort. The one
 * spin-then-wait of the window barrier and the parallel commit's channels. Returns the host ms it waited after the
 * spin ran out (0 when the spin saw the change). */
export function waitWhileEqual(
  words: Int32Array,
  at: number,
  seen: number,
  spins: number,
  ctl: Int32Array,
  where: string,
): number {
  for (let i = 0; i < spins; i++) if (Atomics.load(words, at) !== seen) return 0;
  if (Atomics.load(words, at) !== seen) return 0;
  const from = performance.now();
  while (Atomics.load(words, at) === seen) {
    if (Atomics.load(ctl, C_ABORT) !== 0) throw new BarrierAborted(`the run was aborted while ${where}`);
    Atomics.wait(words, at, seen, 50);
  }
  return performance.now() - from;
}

export class WindowBarrier {
  rounds = 0;
  /** Waits that outlasted the spin and slept, and the host ms they waited after it: on a host whose cores are
   * taken, mostly the time slices another worker spent off its core. */
  sleeps = 0;
  sleptMs = 0;
  constructor(
    private readonly ctl: Int32Array,
    private readonly parties: number,
    private readonly spins: number,
  ) {}

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
    const slept = waitWhileEqual(c, C_BARRIER_GEN, gen, this.spins, c, 'this worker waited at a window barrier');
    if (slept > 0) {
      this.sleeps++;
      this.sleptMs += slept;
    }
  }
}
