// log-ring: the one shape of every per-CPU log in shared memory - a count word padded to a cache line, then
// fixed-size Float64 entries that the CPU appends in order during a window - and the one order in which the commit
// reads all CPUs' logs between windows: by time, then CPU, then position in the log (the order the CPU wrote them).
// Nothing in it depends on which host thread ran which CPU. Kernel modules use it for their own logs.

/** Float64 words before a log's first entry: the count, padded to a cache line. */
export const LOG_HEADER_F64 = 8;

/** Float64 words a log of `slots` entries of `entryF64` words takes. */
export function logStride(slots: number, entryF64: number): number {
  return LOG_HEADER_F64 + slots * entryF64;
}

/** Reserve the next entry of the log at `base`: the entry's offset, or -1 when the log is full. */
export function logAppend(mem: Float64Array, base: number, slots: number, entryF64: number): number {
  const n = mem[base]!;
  if (n >= slots) return -1;
  mem[base] = n + 1;
  return base + LOG_HEADER_F64 + n * entryF64;
}

/**
 * The entries of `logs` logs (the first at `firstBase`, each `stride` apart) in (time, log, position) order, the
 * time read at `timeField` of each entry. Fills `out` (reused between windows) and returns it.
 */
export function logsInOrder(
  mem: Float64Array,
  firstBase: number,
  stride: number,
  logs: number,
  entryF64: number,
  timeField: number,
  out: number[],
): number[] {
  if (out.length > 0) out.length = 0; // a runtime call: skipped for the many commits with nothing logged
  for (let c = 0; c < logs; c++) {
    const base = firstBase + c * stride;
    const n = mem[base]!;
    for (let i = 0; i < n; i++) out.push(base + LOG_HEADER_F64 + i * entryF64);
  }
  // Gathered by log, then position: a stable sort by time keeps that order among equal times.
  return out.sort((x, y) => mem[x + timeField]! - mem[y + timeField]! || x - y);
}

/** Which log an entry offset from logsInOrder belongs to. */
export function logOf(entry: number, firstBase: number, stride: number): number {
  return Math.floor((entry - firstBase) / stride);
}
