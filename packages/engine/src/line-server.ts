// line-server: the cache line under each lock's word as the hardware serves it, on the run's topology. Every atomic
// on the word - an rwsem's down_read and up_read (atomic_long_add_return on sem->count), a trylock's cmpxchg, a
// mutex's or spinlock's acquire and release - needs the line in this CPU's cache, exclusively: if another CPU had it
// last, it moves (a transfer of the topology's latency between the two CPUs), and the line serves one transfer at a
// time, so that a line wanted by many CPUs caps at one transfer per latency ("Non-scalable locks are dangerous":
// service time plus a transfer per handoff). A plain read (ctx.readLine: a trylock's read of the count, a field
// that shares the word's line) is free on a CPU holding a copy that no write has invalidated since, and otherwise
// fetches the line from its last writer's place; the line is then shared, and the next write pays to take it from
// the last other CPU that touched it (the invalidation, at that distance).
//
// The lock commit hands over each window's lock operations; this server replays them as accesses to their lines,
// in the order they arrive: each CPU's accesses are shifted by the waits before them in the same window (the CPU
// would have reached its next access that much later), the earliest arrival is served next, an access starts when
// it arrives and the line is free, and costs nothing on the CPU that holds the line. At the atomic itself a CPU
// charges the wait its line had per access in the last window that used it (expectedNs, published with the lock's
// mode); the replay settles the difference - a debt paid at the CPU's next compute or lock operation, or a credit
// against its next charges (cpu-locking.ts) - so the pace within a window is about right and its total exact.
// Deterministic: the commit's order, no host state.
// Simplified: the reads a line serves after a write queue one after another (a socket's L3 could answer several);
// a write's invalidation costs the distance to the last other CPU that touched the line, not to the farthest sharer.
// Not modelled: a line's home node (a transfer's cost depends only on the two CPUs); the order in which hardware
// grants a contended line (here, arrival order).
import { distanceBetween, type RunTopology } from './topology.js';

/** Numbers per logged access: line, time, charged, read. */
const ACCESS_F64 = 4;

export interface LineStats {
  /** Accesses that moved a line between CPUs, and the time CPUs waited for lines (transfers and queueing). */
  readonly transfers: number;
  readonly stallNs: number;
  /** Of the transfers: between SMT siblings, within an LLC, between LLCs of a socket, between sockets. */
  readonly byDistance: { readonly smt: number; readonly llc: number; readonly socket: number; readonly remote: number };
  /** Each line that was accessed, by name: its accesses, the transfers among them and the time CPUs waited for it. */
  readonly byLine: Record<string, { readonly accesses: number; readonly transfers: number; readonly stallNs: number }>;
}

export class LineServer {
  /** Per line: the place (machine CPU) of its last writer, of its last access, and of the last access before that by
   * another CPU; -1 for none. */
  private readonly writer: Int32Array;
  private readonly last: Int32Array;
  private readonly prevOther: Int32Array;
  /** Per line, a bit per run CPU holding a valid copy (words per line: `words`), and how many bits are set. */
  private readonly sharers: Uint32Array;
  private readonly sharerCount: Int32Array;
  private readonly words: number;
  private readonly freeAtNs: Float64Array;
  private readonly shiftNs: Float64Array;
  /** The window's accesses per CPU, in its own time order: line, time, charged, read (ACCESS_F64 numbers each); how
   * many numbers each holds (grown by doubling). */
  private pending: Float64Array[];
  private readonly pendingLength: Int32Array;
  /** The CPUs with accesses left in a drain, a binary heap on (next arrival, CPU). */
  private readonly heap: Int32Array;
  private readonly at: Int32Array;
  /** Each line's wait per access in the last window that used it (what a CPU charges itself at an access), and the
   * present window's sum and count. */
  private readonly expectNs: Float64Array;
  private readonly sumWaitNs: Float64Array;
  private readonly windowAccesses: Float64Array;
  private transfers = 0;
  private stallNs = 0;
  /** Per line over the run: accesses, transfers and waits. */
  private readonly lineAccesses: Float64Array;
  private readonly lineTransfers: Float64Array;
  private readonly lineStallNs: Float64Array;
  private readonly byDistance = { smt: 0, llc: 0, socket: 0, remote: 0 };

  constructor(
    private readonly topology: RunTopology,
    /** Each line's name (the run's locks, in order). */
    private readonly names: readonly string[],
  ) {
    const lines = names.length;
    this.lineAccesses = new Float64Array(lines);
    this.lineTransfers = new Float64Array(lines);
    this.lineStallNs = new Float64Array(lines);
    this.writer = new Int32Array(lines).fill(-1);
    this.last = new Int32Array(lines).fill(-1);
    this.prevOther = new Int32Array(lines).fill(-1);
    this.words = Math.ceil(topology.cpus.length / 32);
    this.sharers = new Uint32Array(lines * this.words);
    this.sharerCount = new Int32Array(lines);
    this.freeAtNs = new Float64Array(lines);
    this.shiftNs = new Float64Array(topology.cpus.length);
    const n = topology.cpus.length;
    this.pending = Array.from({ length: n }, () => new Float64Array(64));
    this.pendingLength = new Int32Array(n);
    this.heap = new Int32Array(n);
    this.at = new Int32Array(n);
    this.expectNs = new Float64Array(lines);
    this.sumWaitNs = new Float64Array(lines);
    this.windowAccesses = new Float64Array(lines);
  }

  /** What an atomic on `line` is expected to wait, from the last window that used it. */
  expectedNs(line: number): number {
    return this.expectNs[line]!;
  }

  /** Run CPU `cpu` does an atomic (or, `read`, a plain read) on line `line` at `atNs` (its own clock), having
   * charged itself `chargedNs` for it; the commit gives each CPU's in its time order. Served at drain. */
  access(line: number, cpu: number, atNs: number, chargedNs: number, read = false): void {
    let q = this.pending[cpu]!;
    const k = this.pendingLength[cpu]!;
    if (k + ACCESS_F64 > q.length) {
      const grown = new Float64Array(q.length * 2);
      grown.set(q);
      this.pending[cpu] = q = grown;
    }
    q[k] = line;
    q[k + 1] = atNs;
    q[k + 2] = chargedNs;
    q[k + 3] = read ? 1 : 0;
    this.pendingLength[cpu] = k + ACCESS_F64;
  }

  /** CPU c's next access's arrival in this drain: its time shifted by the CPU's waits so far. */
  private arrival(c: number): number {
    return this.pending[c]![this.at[c]! + 1]! + this.shiftNs[c]!;
  }

  /** Whether CPU a's next access comes before CPU b's: the earlier arrival, the lower CPU on a tie. */
  private before(a: number, b: number): boolean {
    const x = this.arrival(a);
    const y = this.arrival(b);
    return x < y || (x === y && a < b);
  }

  /** Restore the heap below slot i (of n). */
  private siftDown(i: number, n: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) return;
      const r = l + 1;
      const m = r < n && this.before(h[r]!, h[l]!) ? r : l;
      if (!this.before(h[m]!, h[i]!)) return;
      const t = h[i]!;
      h[i] = h[m]!;
      h[m] = t;
      i = m;
    }
  }

  /** Serve one access: it arrives at its time shifted by its CPU's waits before it in the window beyond what the
   * CPU charged itself for them; its own wait beyond its charge shifts what follows. */
  private serve(line: number, cpu: number, atNs: number, chargedNs: number, read: boolean): void {
    const here = this.topology.cpus[cpu]!;
    const bit = line * this.words + (cpu >> 5);
    const mask = 1 << (cpu & 31);
    const holds = (this.sharers[bit]! & mask) !== 0;
    // Where the line comes from: nowhere for a read of a copy still valid, or a write by the only holder; else the
    // last writer's place for a read, the last other CPU's for a write.
    let from = -1;
    if (read) {
      if (!holds) from = this.writer[line]!;
    } else if (!(holds && this.sharerCount[line] === 1)) {
      from = this.last[line]! !== here ? this.last[line]! : this.prevOther[line]!;
    }
    const arrive = atNs + this.shiftNs[cpu]!;
    let wait = 0;
    if (from >= 0 && from !== here) {
      const m = this.topology.machine;
      const d = distanceBetween(m, from, here);
      const done = Math.max(arrive, this.freeAtNs[line]!) + m.transferNs[d];
      this.freeAtNs[line] = done;
      wait = done - arrive;
      this.transfers++;
      this.byDistance[d]++;
      this.lineTransfers[line]!++;
      this.lineStallNs[line]! += wait;
    }
    this.lineAccesses[line]!++;
    if (read) {
      if (!holds) {
        this.sharers[bit]! |= mask;
        this.sharerCount[line]!++;
      }
    } else {
      this.sharers.fill(0, line * this.words, (line + 1) * this.words);
      this.sharers[bit] = mask;
      this.sharerCount[line] = 1;
      this.writer[line] = here;
    }
    if (this.last[line]! !== here) {
      this.prevOther[line] = this.last[line]!;
      this.last[line] = here;
    }
    this.shiftNs[cpu]! += wait - chargedNs;
    this.stallNs += wait;
    this.sumWaitNs[line]! += wait;
    this.windowAccesses[line]!++;
  }

  /** Serve the window's accesses in the order they arrive (each CPU's shifted by its own waits, so a CPU that
   * waited reaches its next access later: the next to serve is always the earliest arrival), then each CPU's wait
   * in the window, to be paid; the shifts start again at 0. */
  drain(pay: (cpu: number, ns: number) => void): void {
    // The earliest arrival is always at the heap's top; serving it moves only its own CPU's next arrival.
    const h = this.heap;
    let n = 0;
    for (let c = 0; c < this.pending.length; c++) {
      this.at[c] = 0;
      if (this.pendingLength[c]! > 0) h[n++] = c;
    }
    for (let i = (n >> 1) - 1; i >= 0; i--) this.siftDown(i, n);
    while (n > 0) {
      const c = h[0]!;
      const q = this.pending[c]!;
      const k = this.at[c]!;
      this.serve(q[k]!, c, q[k + 1]!, q[k + 2]!, q[k + 3] === 1);
      this.at[c] = k + ACCESS_F64;
      if (k + ACCESS_F64 >= this.pendingLength[c]!) {
        this.pendingLength[c] = 0;
        h[0] = h[--n]!;
      }
      this.siftDown(0, n);
    }
    for (let line = 0; line < this.windowAccesses.length; line++) {
      if (this.windowAccesses[line]! === 0) continue;
      this.expectNs[line] = this.sumWaitNs[line]! / this.windowAccesses[line]!;
      this.sumWaitNs[line] = 0;
      this.windowAccesses[line] = 0;
    }
    for (let c = 0; c < this.shiftNs.length; c++) {
      const ns = this.shiftNs[c]!;
      if (ns === 0) continue;
      pay(c, ns);
      this.shiftNs[c] = 0;
    }
  }

  stats(): LineStats {
    const byLine: Record<string, { accesses: number; transfers: number; stallNs: number }> = {};
    for (let line = 0; line < this.names.length; line++) {
      if (this.lineAccesses[line] === 0) continue;
      byLine[this.names[line]!] = {
        accesses: this.lineAccesses[line]!,
        transfers: this.lineTransfers[line]!,
        stallNs: this.lineStallNs[line]!,
      };
    }
    return { transfers: this.transfers, stallNs: this.stallNs, byDistance: { ...this.byDistance }, byLine };
  }
}
