// scenario: `faultline scenario show <scenario|file> [--set ...]` (the resolved description as YAML, ready to edit
// and run) and `faultline scenario schema` (the JSON Schema of scenario files).
import { resolveScenario, scenarioSchema, specYaml } from '@faultline/scenarios';

export function scenarioShowCommand(ref: string, sets: readonly string[]): string {
  const spec = resolveScenario(ref, { sets });
  return (
    `# faultline scenario show ${ref}${sets.map((s) => ` --set ${s}`).join('')}\n` +
    `# its schema: faultline scenario schema (packages/scenarios/scenario.schema.json)\n${specYaml(spec)}`
  );
}

export function scenarioSchemaText(): string {
  return JSON.stringify(scenarioSchema(), null, 2);
}
