// layout: the run's shared control memory. An Int32 control block (barrier, abort and stop flags, per-CPU
// published state) and Float64 rings per CPU: an outbox of cross-CPU messages and a queue of zone work that needs
// the zone lock. Both rings are written only by their CPU during a window and read by others between barriers.

export const C_BARRIER_COUNT = 0;
export const C_BARRIER_GEN = 16; // its own cache line: every waiter reads it
export const C_ABORT = 32; // set by the main thread when a worker died: everyone stops at the next barrier
export const CONTROL_HEADER_I32 = 48;
/** Per CPU, published at the end of each window: live tasks and whether a task failed. (Its next event time is
 * published in the Float64 rings, at nextEventOffset + cpu.) */
export const CPU_PUB_LIVE = 0;
export const CPU_PUB_ERROR = 1; // 1 when a task on this CPU threw
export const CPU_PUB_STRIDE_I32 = 4;

// Outbox message: [timeNs, seq, dstCpu, value]
export const MSG_TIME = 0;
export const MSG_SEQ = 1;
export const MSG_DST = 2;
export const MSG_VALUE = 3;
export const MSG_F64 = 4;

// Zone work: [timeNs, seq, kind, taskId, mask, order or pfn, owner, result, grantNs]
export const ZW_TIME = 0;
export const ZW_SEQ = 1;
export const ZW_KIND = 2;
export const ZW_TASK = 3;
export const ZW_MASK = 4;
export const ZW_ARG = 5;
export const ZW_OWNER = 6;
export const ZW_RESULT = 7;
export const ZW_GRANT = 8;
export const ZW_F64 = 9;
export const ZW_ALLOC = 1;
export const ZW_FREE = 2;

export interface RunLayout {
  readonly cpus: number;
  readonly ringSlots: number;
  readonly controlI32: number;
  /** Float64 offsets (in elements) into the ring buffer. */
  readonly nextEventOffset: number;
  readonly outboxOffset: number;
  readonly outboxStride: number;
  readonly zoneWorkOffset: number;
  readonly zoneWorkStride: number;
  readonly ringF64: number;
}

export function runLayout(cpus: number, ringSlots: number): RunLayout {
  const controlI32 = CONTROL_HEADER_I32 + cpus * CPU_PUB_STRIDE_I32;
  // Each ring: a count slot padded to a cache line, then the slots.
  const outboxStride = 8 + ringSlots * MSG_F64;
  const zoneWorkStride = 8 + ringSlots * ZW_F64;
  const nextEventOffset = 0;
  const outboxOffset = Math.ceil(cpus / 8) * 8;
  const zoneWorkOffset = outboxOffset + cpus * outboxStride;
  const ringF64 = zoneWorkOffset + cpus * zoneWorkStride;
  return { cpus, ringSlots, controlI32, nextEventOffset, outboxOffset, outboxStride, zoneWorkOffset, zoneWorkStride, ringF64 };
}
