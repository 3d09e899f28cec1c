// barrier: the window barrier between worker threads, a sense-reversing counter in shared memory. Each arrival
// adds to the count; the last one resets it and bumps the generation, which releases the others. Waiters spin a
// little (only sane while threads <= cores) and then sleep in Atomics.wait with a timeout, so that an abort raised
// by the main thread (a worker died) is noticed and nobody hangs.
import { C_ABORT, C_BARRIER_COUNT, C_BARRIER_GEN } from './layout.js';

export class BarrierAborted extends Error {
  override readonly name = 'BarrierAborted';
}

export class WindowBarrier {
  rounds = 0;
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
    for (let i = 0; i < this.spins; i++) if (Atomics.load(c, C_BARRIER_GEN) !== gen) return;
    while (Atomics.load(c, C_BARRIER_GEN) === gen) {
      if (Atomics.load(c, C_ABORT) !== 0)
        throw new BarrierAborted('the run was aborted while this worker waited at a window barrier');
      Atomics.wait(c, C_BARRIER_GEN, gen, 50);
    }
  }
}
