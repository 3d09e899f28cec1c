// list: `faultline list`: the built-in scenarios and the fault policies.
import { ALL_SCENARIOS as SCENARIOS, POLICIES } from '@faultline/scenarios';
import { textTable } from '../text-table.js';

export function renderList(): string {
  return [
    textTable(
      ['scenario', 'what it runs', 'default policy', 'cpus', 'duration'],
      SCENARIOS.map((s) => [s.name, s.summary, s.defaults.policy, String(s.defaults.cpus), s.defaults.duration]),
    ),
    '',
    `policies: ${POLICIES.join(', ')}`,
  ].join('\n');
}
