// line-server: the cache line under each lock's word as the hardware serves it, on the run's topology. Every atomic
// on the word - an rwsem's down_read and up_read (atomic_long_add_return on sem->count), a trylock's cmpxchg, a
// mutex's or spinlock's acquire and release - needs the line in this CPU's cache, exclusively: if another CPU had it
// last, it moves (a transfer of the topology's latency between the two CPUs), and the line serves one transfer at a
// time, so that a line wanted by many CPUs caps at one transfer per latency ("Non-scalable locks are dangerous":
// service time plus a transfer per handoff).
//
// The lock commit hands over each window's lock operations; this server replays them as accesses to their lines,
// in the order they arrive: each CPU's accesses are shifted by the waits before them in the same window (the CPU
// would have reached its next access that much later), the earliest arrival is served next, an access starts when
// it arrives and the line is free, and costs nothing on the CPU that holds the line. At the atomic itself a CPU
// charges the wait its line had per access in the last window that used it (expectedNs, published with the lock's
// mode); the replay settles the difference - a debt paid at the CPU's next compute or lock operation, or a credit
// against its next charges (cpu.ts) - so the pace within a window is about right and its total exact.
// Deterministic: the commit's order, no host state.
// Not modelled: reads that share a line (every operation here writes it), a line's home node (a transfer's cost
// depends only on the two CPUs), lines other than the lock words (the zone, LRU and page-table locks are
// costed elsewhere).
import { distanceBetween, type RunTopology } from './topology.js';

export interface LineStats {
  /** Accesses that moved a line between CPUs, and the time CPUs waited for lines (transfers and queueing). */
  readonly transfers: number;
  readonly stallNs: number;
  /** Of the transfers: between SMT siblings, within an LLC, between LLCs of a socket, between sockets. */
  readonly byDistance: { readonly smt: number; readonly llc: number; readonly socket: number; readonly remote: number };
}

export class LineServer {
  private readonly owner: Int32Array;
  private readonly freeAtNs: Float64Array;
  private readonly shiftNs: Float64Array;
  /** The window's accesses per CPU, in its own time order: line, time, charged, line, time, charged, ... */
  private readonly pending: number[][];
  /** Each line's wait per access in the last window that used it (what a CPU charges itself at an access), and the
   * present window's sum and count. */
  private readonly expectNs: Float64Array;
  private readonly sumWaitNs: Float64Array;
  private readonly accesses: Float64Array;
  private transfers = 0;
  private stallNs = 0;
  private readonly byDistance = { smt: 0, llc: 0, socket: 0, remote: 0 };

  constructor(
    private readonly topology: RunTopology,
    lines: number,
  ) {
    this.owner = new Int32Array(lines).fill(-1);
    this.freeAtNs = new Float64Array(lines);
    this.shiftNs = new Float64Array(topology.cpus.length);
    this.pending = topology.cpus.map(() => []);
    this.expectNs = new Float64Array(lines);
    this.sumWaitNs = new Float64Array(lines);
    this.accesses = new Float64Array(lines);
  }

  /** What an atomic on `line` is expected to wait, from the last window that used it. */
  expectedNs(line: number): number {
    return this.expectNs[line]!;
  }

  /** Run CPU `cpu` does an atomic on line `line` at `atNs` (its own clock), having charged itself `chargedNs` for
   * it; the commit gives each CPU's in its time order. Served at drain. */
  access(line: number, cpu: number, atNs: number, chargedNs: number): void {
    this.pending[cpu]!.push(line, atNs, chargedNs);
  }

  /** Serve one access: it arrives at its time shifted by its CPU's waits before it in the window beyond what the
   * CPU charged itself for them; its own wait beyond its charge shifts what follows. */
  private serve(line: number, cpu: number, atNs: number, chargedNs: number): void {
    const here = this.topology.cpus[cpu]!;
    const was = this.owner[line]!;
    this.owner[line] = here;
    const arrive = atNs + this.shiftNs[cpu]!;
    let wait = 0;
    if (was !== here && was >= 0) {
      const m = this.topology.machine;
      const d = distanceBetween(m, was, here);
      const done = Math.max(arrive, this.freeAtNs[line]!) + m.transferNs[d];
      this.freeAtNs[line] = done;
      wait = done - arrive;
      this.transfers++;
      this.byDistance[d]++;
    }
    this.shiftNs[cpu]! += wait - chargedNs;
    this.stallNs += wait;
    this.sumWaitNs[line]! += wait;
    this.accesses[line]!++;
  }

  /** Serve the window's accesses in the order they arrive (each CPU's shifted by its own waits, so a CPU that
   * waited reaches its next access later: the next to serve is always the earliest arrival), then each CPU's wait
   * in the window, to be paid; the shifts start again at 0. */
  drain(pay: (cpu: number, ns: number) => void): void {
    const at = new Array<number>(this.pending.length).fill(0);
    for (;;) {
      let best = -1;
      let bestNs = Infinity;
      for (let c = 0; c < this.pending.length; c++) {
        const q = this.pending[c]!;
        if (at[c]! >= q.length) continue;
        const arrive = q[at[c]! + 1]! + this.shiftNs[c]!;
        if (arrive < bestNs) [best, bestNs] = [c, arrive];
      }
      if (best < 0) break;
      const q = this.pending[best]!;
      this.serve(q[at[best]!]!, best, q[at[best]! + 1]!, q[at[best]! + 2]!);
      at[best]! += 3;
    }
    for (const q of this.pending) q.length = 0;
    for (let line = 0; line < this.accesses.length; line++) {
      if (this.accesses[line]! === 0) continue;
      this.expectNs[line] = this.sumWaitNs[line]! / this.accesses[line]!;
      this.sumWaitNs[line] = 0;
      this.accesses[line] = 0;
    }
    for (let c = 0; c < this.shiftNs.length; c++) {
      const ns = this.shiftNs[c]!;
      if (ns === 0) continue;
      pay(c, ns);
      this.shiftNs[c] = 0;
    }
  }

  stats(): LineStats {
    return { transfers: this.transfers, stallNs: this.stallNs, byDistance: { ...this.byDistance } };
  }
}
