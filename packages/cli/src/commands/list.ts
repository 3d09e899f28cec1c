// list: `faultline list`: the built-in scenarios and the fault policies, and the policies of a scenario that has its
// own.
import { ALL_SCENARIOS as SCENARIOS, POLICIES } from '@faultline/scenarios';
import { textTable } from '../text-table.js';

export function renderList(): string {
  return [
    textTable(
      ['scenario', 'what it runs', 'default policy', 'cpus', 'duration'],
      SCENARIOS.map((s) => [s.name, s.summary, s.defaults.policy, String(s.defaults.cpus), s.defaults.duration]),
    ),
    '',
    `policies: ${POLICIES.join(', ')}, or your policy module as path[#export]`,
    // Scenarios that declare policies of their own run under those only.
    ...SCENARIOS.filter((s) => s.policies).map(
      (s) => `${s.name} policies (its own; no others): ${s.policies!.join(', ')}`,
    ),
  ].join('\n');
}
