// layout: RCU's shared memory, one Int32Array. The global words are written only by worker 0's commit (the grace-
// period machine); each CPU's words only by that CPU during a window. Everyone reads them after the barrier.

/** Grace periods completed and started: a GP is in progress while started > completed; its number is `started`. */
export const G_COMPLETED = 0;
export const G_STARTED = 1;
/** The grace-period machine's phase, as the kernel's rcu_state.gp_state (RCU_GP_* below). */
export const G_STATE = 2;
/** When the last GP completed (simulated ns), as a Float64 over Int32 words 4 and 5. */
export const G_COMPLETED_AT_F64 = 2;
/** When the current GP started (simulated ns), as a Float64 over Int32 words 6 and 7. */
export const G_STARTED_AT_F64 = 3;
export const GLOBAL_I32 = 16;

/** The GP number this CPU last reported a quiescent state for. */
export const C_QS_GP = 0;
/** The highest GP number its queued callbacks wait for. */
export const C_NEED_GP = 1;
/** Callbacks queued on it and not yet invoked. */
export const C_BACKLOG = 2;
/** Idle entries so far (the kernel's dynticks counter: idle is an extended quiescent state, seen by FQS scans). */
export const C_IDLE_ENTRIES = 3;
/** 1 while the CPU is idle at a window's end. */
export const C_IDLE_NOW = 4;
/** Idle entries when the current GP started, noted by the commit. */
export const C_IDLE_AT_GP = 5;
/** The reader pipe (rcutorture): read-side sections during which 0, 1, or 2 or more grace periods completed. */
export const C_PIPE0 = 6;
export const C_PIPE1 = 7;
export const C_PIPE2 = 8;
export const C_READS = 9;
export const C_CB_QUEUED = 10;
export const C_CB_INVOKED = 11;
export const C_BACKLOG_MAX = 12;
export const CPU_STRIDE_I32 = 16;

export function rcuSharedBytes(cpus: number): number {
  return (GLOBAL_I32 + cpus * CPU_STRIDE_I32) * 4;
}

/** rcu_state.gp_state values (kernel/rcu/tree.h). */
export const RCU_GP_IDLE = 0;
export const RCU_GP_WAIT_GPS = 1;
export const RCU_GP_DONE_GPS = 2;
export const RCU_GP_ONOFF = 3;
export const RCU_GP_INIT = 4;
export const RCU_GP_WAIT_FQS = 5;
export const RCU_GP_DOING_FQS = 6;
export const RCU_GP_CLEANUP = 7;
export const RCU_GP_CLEANED = 8;
export const RCU_GP_STATE_NAMES = [
  'IDLE',
  'WAIT_GPS',
  'DONE_GPS',
  'ONOFF',
  'INIT',
  'WAIT_FQS',
  'DOING_FQS',
  'CLEANUP',
  'CLEANED',
] as const;
