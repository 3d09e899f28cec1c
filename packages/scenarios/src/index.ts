// @faultline/scenarios: the built-in scenarios, their task actors, and scenarios as data (files, schema, --set).
import { kernelStorm, KERNEL_STORM_POLICIES } from './kernel-storm.js';
import { mmapContention } from './mmap-contention.js';
import { nowaitStarvation, nowaitStarvationAnon, nowaitStarvationMemcg } from './nowait-starvation.js';
import { pft } from './pft.js';
import { pftThreads } from './pft-threads.js';
import { reclaimCalibration } from './reclaim-calibration.js';

export { ALL_SCENARIOS, SCENARIOS, getScenario, isScenarioFile, resolveScenario, scenarioSchema } from './registry.js';
export type { ResolveOptions } from './registry.js';
export {
  POLICIES,
  ScenarioError,
  checkPolicy,
  isPolicyRef,
  policiesOf,
  policyArgs,
  builtinDocument,
} from './scenario.js';
export type { Scenario, ScenarioOptions, ScenarioFigures, ParamSpec } from './scenario.js';
export {
  customOf,
  faultPolicyApplies,
  canonicalJson,
  parseSet,
  specKey,
  specOptions,
  specYaml,
  specTopologyLines,
} from './spec.js';
export { SCENARIO_SCHEMA, validateScenario } from './spec-schema.js';
export type { ScenarioSpec, MachineSpec } from './spec.js';
export {
  hzPlatformText,
  machineKernelOf,
  machineKernelText,
  runMachineKernel,
  specMachineKernel,
  specWhere,
  tableFreeingText,
} from './machine-kernel.js';
export type { MachineKernel } from './machine-kernel.js';
export { custom, BUILTIN_MODULES } from './custom.js';
export type { CustomParts, CustomTaskGroup } from './custom.js';
export { groupLatency, groupReclaim, groupBelowMin, groupFaults } from './figures.js';
export type { TaskGroup } from './figures.js';
export {
  nowaitStarvation,
  nowaitStarvationAnon,
  nowaitStarvationMemcg,
  mmapContention,
  reclaimCalibration,
  pft,
  pftThreads,
};
export { kernelStorm, KERNEL_STORM_POLICIES };
export { STORM_MODES, STORM_COUNTERS, GFP_STORM_KERNEL, GFP_STORM_NOWAIT } from './kernel-storm-tasks.js';
export type { StormMode } from './kernel-storm-tasks.js';
export { vmstatOf, VMSTAT_NAMES } from '@faultline/mm';
export type { VmstatName } from '@faultline/mm';
