// scenario: `faultline scenario show <scenario|file> [--set ...]` (the resolved description as YAML, ready to edit
// and run, headed by comments: the machine's kernel configuration as a run under its policy gets it) and
// `faultline scenario schema` (the JSON Schema of scenario files).
import {
  machineKernelText,
  resolveScenario,
  scenarioSchema,
  specMachineKernel,
  specTopologyLines,
  specYaml,
} from '@faultline/scenarios';

/** The machine's kernel configuration under the spec's policy, as a comment; a run that mm would refuse under it
 * (another policy may still take the machine, as compare's may) is said so. */
function kernelComment(spec: Parameters<typeof specMachineKernel>[0]): string {
  try {
    return `# machine kernel under policy ${spec.policy}: ${machineKernelText(specMachineKernel(spec))}\n`;
  } catch (e) {
    return `# machine kernel: a run is refused: ${e instanceof Error ? e.message : String(e)}\n`;
  }
}

export function scenarioShowCommand(ref: string, sets: readonly string[]): string {
  const spec = resolveScenario(ref, { sets });
  return (
    `# faultline scenario show ${ref}${sets.map((s) => ` --set ${s}`).join('')}\n` +
    `# its schema: faultline scenario schema (packages/scenarios/scenario.schema.json)\n${kernelComment(spec)}` +
    specTopologyLines(spec)
      .map((l) => `# ${l}\n`)
      .join('') +
    specYaml(spec)
  );
}

export function scenarioSchemaText(): string {
  return JSON.stringify(scenarioSchema(), null, 2);
}
