// commit-channel: the parallel commit. Between the barriers worker 0 applies the round's commits in one order (the
// zone's, the locks', the double-free check, then each kernel module's in config order). Two kinds of step touch
// nothing the others read or write in the same round: the lock replay (the lock logs, the lock table, the grant
// rings) and the commit of a module that declares parallelCommit (its own shared memory and logs; pages it frees go
// through CommitFrees). Those run on the other workers, at the same time as worker 0's steps; worker 0 waits for
// each at its place in the order, replays the pages it freed there (so the zone sees the same frees in the same
// order as if worker 0 had run it), and takes its "work left" answer. The run is the same run on any number of
// workers: only who computes each step changes.
//
// One channel per offloaded step, in its own shared buffer: a single-producer, single-consumer ring of (cpu, pfn)
// frees plus a round counter. The producer blocks when the ring is full until worker 0 reaches the step and drains
// it, so any number of frees fits a bounded ring; both sides give up when the run is aborted.
import { waitWhileEqual } from './barrier.js';
import type { CommitFrees } from './hooks.js';

/** Which worker runs each offloadable step: the lock replay and each parallelCommit module (-1: it has no commit
 * or is not parallel, so worker 0 runs it in place). */
export interface CommitPlan {
  readonly lockWorker: number;
  readonly moduleWorkers: readonly number[];
}

/** Spread the offloadable steps round-robin over workers 1 .. workers-1 (all on worker 0 when there is one). The
 * lock replay first, then the parallel modules in config order. */
export function commitPlan(workers: number, hasLocks: boolean, parallel: readonly boolean[]): CommitPlan {
  let next = 0;
  const take = () => (workers === 1 ? 0 : 1 + (next++ % (workers - 1)));
  const lockWorker = hasLocks ? take() : 0;
  return { lockWorker, moduleWorkers: parallel.map((p) => (p ? take() : -1)) };
}

/** Pairs of (cpu, pfn) a channel's ring holds: 256 KiB; a step that frees more waits for worker 0 to drain. */
export const CHANNEL_FREES = 16_384;
// Int32 words, the producer's and the consumer's on lines of their own: the producer's signal (bumped whenever it
// publishes: a full ring, the round's end), the rounds it finished, its last answer and where its last round's
// frees end, the frees it published (counts since the run began); the frees the consumer read and the rounds it
// drained. A producer finishes a round only after the consumer drained the one before (in the engine the barrier
// already orders them), so the round the consumer sees done is its own and ends at CH_END.
const CH_SIGNAL = 0;
const CH_DONE = 16;
const CH_MORE = 17;
const CH_END = 18;
const CH_HEAD = 32;
const CH_TAIL = 48;
const CH_DRAINED = 49;
const CH_HEADER_BYTES = 64 * 4;

export function channelBytes(capacity = CHANNEL_FREES): number {
  return CH_HEADER_BYTES + capacity * 2 * 8;
}

export class CommitChannel implements CommitFrees {
  private readonly w: Int32Array;
  private readonly ring: Float64Array;
  private readonly capacity: number;
  private round = 0;
  /** Producer side: frees written (published to CH_HEAD when the ring is full and at finish()). */
  private head = 0;
  /** Consumer side: frees read. */
  private tail = 0;

  constructor(
    buffer: SharedArrayBuffer,
    private readonly ctl: Int32Array,
    /** Host ns spent waiting on the other side, added to (the worker's, shared by its channels). */
    private readonly waits: { ns: number },
    /** Reads to spin before sleeping in Atomics.wait (the run's barrier spins). */
    private readonly spins = 20_000,
  ) {
    this.w = new Int32Array(buffer, 0, CH_HEADER_BYTES / 4);
    this.ring = new Float64Array(buffer, CH_HEADER_BYTES);
    this.capacity = this.ring.length / 2;
    if (!(this.capacity >= 1 && Number.isInteger(this.capacity)))
      throw new RangeError(`commit channel of ${buffer.byteLength} bytes holds no free; needs ${channelBytes(1)}`);
  }

  /** Wait until word `at` is no longer `seen`, failing when the run is aborted. */
  private await(at: number, seen: number): void {
    const t0 = performance.now();
    try {
      waitWhileEqual(this.w, at, seen, this.spins, this.ctl, 'a worker waited on a parallel commit');
    } finally {
      this.waits.ns += (performance.now() - t0) * 1e6;
    }
  }

  private signal(): void {
    Atomics.add(this.w, CH_SIGNAL, 1);
    Atomics.notify(this.w, CH_SIGNAL);
  }

  /** Producer: a page the step frees, replayed on worker 0 as node.free(cpu, pfn). Published when the ring is full
   * (then it waits for worker 0 to read some) or at finish(). */
  free(cpu: number, pfn: number): void {
    for (
      let tail = Atomics.load(this.w, CH_TAIL);
      this.head - tail >= this.capacity;
      tail = Atomics.load(this.w, CH_TAIL)
    ) {
      Atomics.store(this.w, CH_HEAD, this.head);
      this.signal();
      this.await(CH_TAIL, tail);
    }
    const s = (this.head % this.capacity) * 2;
    this.ring[s] = cpu;
    this.ring[s + 1] = pfn;
    this.head++;
  }

  /** Producer: the round's step is done; `more` is its answer (it left work for the next window). */
  finish(more: boolean): void {
    this.round++;
    for (let d = Atomics.load(this.w, CH_DRAINED); d < this.round - 1; d = Atomics.load(this.w, CH_DRAINED))
      this.await(CH_DRAINED, d);
    // The frees and their end before the round: a consumer that sees the round done then sees all of them.
    Atomics.store(this.w, CH_HEAD, this.head);
    Atomics.store(this.w, CH_END, this.head);
    Atomics.store(this.w, CH_MORE, more ? 1 : 0);
    Atomics.store(this.w, CH_DONE, this.round);
    this.signal();
  }

  /** Consumer (worker 0): replay the round's frees through `free` as they come, until the step is done; its answer. */
  drain(free: (cpu: number, pfn: number) => void): boolean {
    this.round++;
    const w = this.w;
    for (;;) {
      // The signal before the words it announces (a publish after this read changes it, so the wait below returns).
      // The frees published before the round's state: if the round is not done yet, they are all the round's; if
      // it is, the round's own end bounds them (the producer may already be publishing the next round's).
      const signal = Atomics.load(w, CH_SIGNAL);
      const published = Atomics.load(w, CH_HEAD);
      const done = Atomics.load(w, CH_DONE) >= this.round;
      const head = done ? Atomics.load(w, CH_END) : published;
      if (this.tail < head) {
        while (this.tail < head) {
          const s = (this.tail % this.capacity) * 2;
          free(this.ring[s]!, this.ring[s + 1]!);
          this.tail++;
        }
        Atomics.store(w, CH_TAIL, this.tail);
        Atomics.notify(w, CH_TAIL);
      }
      if (done) {
        const more = Atomics.load(w, CH_MORE) === 1;
        Atomics.store(w, CH_DRAINED, this.round);
        Atomics.notify(w, CH_DRAINED);
        return more;
      }
      this.await(CH_SIGNAL, signal);
    }
  }
}

/** The shared buffers of a plan's channels: one per step that runs off worker 0, null for the others. */
export interface CommitChannels {
  readonly lock: SharedArrayBuffer | null;
  readonly modules: ReadonlyArray<SharedArrayBuffer | null>;
}

export function commitChannels(plan: CommitPlan): CommitChannels {
  const buffer = (w: number) => (w > 0 ? new SharedArrayBuffer(channelBytes()) : null);
  return { lock: buffer(plan.lockWorker), modules: plan.moduleWorkers.map(buffer) };
}
