// @faultline/scenarios: the built-in scenarios and their task actors.
import { mmapContention } from './mmap-contention.js';
import { nowaitStarvation, nowaitStarvationAnon, nowaitStarvationMemcg } from './nowait-starvation.js';
import { pft } from './pft.js';
import { reclaimCalibration } from './reclaim-calibration.js';
import { ScenarioError, type Scenario } from './scenario.js';

export const SCENARIOS: readonly Scenario[] = [nowaitStarvation, nowaitStarvationAnon, nowaitStarvationMemcg, mmapContention, reclaimCalibration, pft];

export function getScenario(name: string): Scenario {
  const s = SCENARIOS.find((x) => x.name === name);
  if (!s) throw new ScenarioError(`unknown scenario '${name}'; allowed: ${SCENARIOS.map((x) => x.name).join(', ')}`);
  return s;
}

export { POLICIES, ScenarioError, checkPolicy } from './scenario.js';
export type { Scenario, ScenarioOptions, ScenarioFigures } from './scenario.js';
export { groupLatency, groupReclaim, groupBelowMin, groupFaults } from './figures.js';
export type { TaskGroup } from './figures.js';
export { nowaitStarvation, nowaitStarvationAnon, nowaitStarvationMemcg, mmapContention, reclaimCalibration, pft };
export { vmstatOf, VMSTAT_NAMES } from '@faultline/reclaim';
export type { VmstatName } from '@faultline/reclaim';
