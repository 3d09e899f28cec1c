// @faultline/engine: simulated CPUs on worker threads, deterministic windows, per-CPU scheduling, pluggable tasks.
export { runSimulation, RunError } from './run.js';
export type { RunResult } from './run.js';
export { resolveRunConfig, runOptionsSchema, RunConfigError, cpusOfWorker, WINDOW_DEFAULT, RING_SLOTS_DEFAULT } from './config.js';
export type { RunOptions, RunConfig, TaskSpec, TaskInstance } from './config.js';
export { COSTS_DEFAULT } from './costs.js';
export type { Costs } from './costs.js';
export { defineTask, TASK_STATES, OP_NAMES } from './task.js';
export type { TaskContext, TaskFunction, TaskOp, TaskStats, TaskState, AllocCounts } from './task.js';
export { TaskError } from './task.js';
export type { CpuStats } from './stats.js';
export { END_REASONS } from './window-loop.js';
export type { EndReason } from './window-loop.js';
export { parseDurationNs, formatNs, NS_PER_US, NS_PER_MS, NS_PER_S } from './time.js';
