// module-sdk: the face a kernel module is written against, imported as `@faultline/engine/module` - defining a module
// and its per-CPU state, the hooks and the KernelCpu it gets, kernel paths as compiled XState machines, the per-CPU
// log rings its commit reads in (time, CPU, position) order, and loading a user's module by path. A run's driver,
// a task and a reader of results need none of it: they import `@faultline/engine`.
export { defineKernelModule, moduleState, parseModuleArgs } from './hooks.js';
export type {
  CommitFrees,
  CommitInfo,
  CpuHooks,
  KernelCpu,
  KernelModule,
  KernelModuleInstance,
  KernelModuleSetup,
  KernelPath,
  ModuleState,
} from './hooks.js';
export { parkOp } from './task.js';
export {
  checkMachine,
  compileMachine,
  MACHINE_MAX_TRANSITIONS,
  machineGuards,
  nextState,
  runMachine,
} from './kernel-machine.js';
export type { CompiledMachine, MachineGuard, MachineStep } from './kernel-machine.js';
export { crossCheckMachine } from './kernel-machine-check.js';
export type { CrossCheckOptions, CrossCheckReport } from './kernel-machine-check.js';
export { LOG_HEADER_F64, logAppend, logOf, logsInOrder, logStride } from './log-ring.js';
export { importByPath } from './loader.js';
