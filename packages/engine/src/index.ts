// @faultline/engine: simulated CPUs on worker threads, deterministic windows, per-CPU scheduling, locks, pluggable
// tasks (generator functions or XState actors) and kernel modules. This face is a run's driver's and a task's: runs,
// their options and results, topologies, the task SDK. A kernel module is written against `@faultline/engine/module`
// (module-sdk.ts).
export { runSimulation, startSimulation, RunError } from './run.js';
export type { RunHost, RunResult, Simulation, SimulationProgress } from './run.js';
export { EnginePool } from './pool.js';
export {
  resolveRunConfig,
  runOptionsSchema,
  RunConfigError,
  WINDOW_DEFAULT,
  RING_SLOTS_DEFAULT,
  HZ_VALUES,
  HZ_DEFAULT,
  PLATFORMS,
  TABLE_FREEING,
  tableFreeingOf,
  schedulerOf,
  COHERENCE_MODES,
} from './config.js';
export { cpusOfWorker } from './worker-placement.js';
export type { HostLoad } from './host-load.js';
export type {
  RunOptions,
  RunConfig,
  TaskSpec,
  TaskInstance,
  ModuleSpec,
  Hz,
  Platform,
  TableFreeing,
  CoherenceMode,
} from './config.js';
export { COSTS_DEFAULT, SCHEDULERS, PREEMPT_MODELS } from './costs.js';
export {
  describeTopology,
  machineCpus,
  PLACEMENTS,
  placeOf,
  resolveTopology,
  TOPOLOGY_NAMES,
  TOPOLOGY_PRESETS,
  topologySchema,
  transferBetween,
} from './topology.js';
export type { CpuPlace, Placement, RunTopology, Topology, TopologyPreset, TopologySpec } from './topology.js';
export type { LineStats } from './line-server.js';
export type { Costs, SchedulerKind } from './costs.js';
export { defineTask, TASK_STATES, OP_NAMES } from './task.js';
export type { TaskContext, TaskFunction, TaskOp, TaskStats, TaskState, AllocCounts, LockCounts } from './task.js';
export { TaskError } from './task.js';
export { actorTask, fromTaskGenerator, SimulatedTaskClock, TASK_RESULT } from './task-actor.js';
export type { TaskActorApi, TaskActorInput, TaskResultEvent } from './task-actor.js';
export { LOCK_KINDS, LOCK_WAKE_RULES, type LockWakeRule } from './locks.js';
export type { LockKind, LockSpec } from './locks.js';
export { reportOf } from './hooks.js';
export type { CpuStats } from './stats.js';
export { END_REASONS } from './window-loop.js';
export type { EndReason } from './window-loop.js';
export { parseDurationNs, formatNs, NS_PER_US, NS_PER_MS, NS_PER_S } from './time.js';
export { psiMemory, formatPsi, PSI_PERIOD_NS } from './psi.js';
export type { PsiMemory, PsiLine, PsiPeriods } from './psi.js';
// A traced run's events as RunResult.traces holds them (a reader's: @faultline/trace decodes them).
export { TR_BEGIN, TR_CPU_TRACK, TR_END, TR_INSTANT, TRACE_MAX_EVENTS_DEFAULT, TRACE_STRIDE } from './trace-log.js';
export type { CpuTrace, TraceArgs } from './trace-log.js';
// Where a program that starts runs tells the resolve hook to resolve users' modules from (resolve-hooks.ts).
export { RESOLVE_FROM_ENV } from './loader.js';
