// registry: the built-in scenarios by name, and resolving what a user names - a built-in scenario or a scenario file
// - with the command line's fields and `--set`s into one validated ScenarioSpec (spec.ts). Resolving also builds
// the run once, so that a value the schema cannot judge (a GFP expression) is refused before anything runs.
import { existsSync } from 'node:fs';
import { mmapContention } from './mmap-contention.js';
import { nowaitStarvation, nowaitStarvationAnon, nowaitStarvationMemcg } from './nowait-starvation.js';
import { pft } from './pft.js';
import { reclaimCalibration } from './reclaim-calibration.js';
import { builtinDocument, ScenarioError, type Scenario } from './scenario.js';
import {
  mergeSpec,
  parseSet,
  readScenarioFile,
  scenarioJsonSchema,
  setField,
  specOptions,
  validateScenario,
  type ScenarioSpec,
} from './spec.js';

export const SCENARIOS: readonly Scenario[] = [
  nowaitStarvation,
  nowaitStarvationAnon,
  nowaitStarvationMemcg,
  mmapContention,
  reclaimCalibration,
  pft,
];

export function getScenario(name: string): Scenario {
  const s = SCENARIOS.find((x) => x.name === name);
  if (!s)
    throw new ScenarioError(
      `unknown scenario '${name}'; allowed: ${SCENARIOS.map((x) => x.name).join(', ')}, or a scenario file (.yaml, .json)`,
    );
  return s;
}

/** The JSON Schema of a scenario file (packages/scenarios/scenario.schema.json is this, written out). */
export function scenarioSchema(resolved = false): Record<string, unknown> {
  return scenarioJsonSchema(SCENARIOS, resolved);
}

/** Whether a name is a file rather than a built-in scenario. */
export function isScenarioFile(ref: string): boolean {
  return /[/\\]|\.(ya?ml|json)$/i.test(ref) || (!SCENARIOS.some((s) => s.name === ref) && existsSync(ref));
}

export interface ResolveOptions {
  /** Fields the command line's options set (a partial document: { cpus: 8, machine: { memoryMiB: 1024 } }). */
  readonly fields?: Record<string, unknown>;
  /** `--set path=value`, applied last, in order. */
  readonly sets?: readonly string[];
}

/** What a user names, resolved: the built-in file of its scenario, then the user's file, the command line's
 * fields and the `--set`s over it, validated whole. Errors name the source, the field and what is allowed. */
export function resolveScenario(ref: string, o: ResolveOptions = {}): ScenarioSpec {
  const file = isScenarioFile(ref);
  const where = file ? `scenario file ${ref}` : `scenario ${ref}`;
  const user = file ? readScenarioFile(ref) : { scenario: getScenario(ref).name };
  if (typeof user.scenario !== 'string') {
    throw new ScenarioError(
      `${where}: scenario: missing; name the built-in scenario it runs (${SCENARIOS.map((s) => s.name).join(', ')})`,
    );
  }
  const known = validateScenario({ scenario: user.scenario }, SCENARIOS, false);
  if (known.length > 0) throw new ScenarioError(`${where}: ${known.join('; ')}`);
  let doc = mergeSpec(mergeSpec(builtinDocument(user.scenario), user), o.fields ?? {});
  for (const s of o.sets ?? []) {
    const { path, value } = parseSet(s);
    doc = setField(doc, path, value);
  }
  const errors = validateScenario(doc, SCENARIOS, true);
  if (errors.length > 0) throw new ScenarioError(`${where}: ${errors.join('; ')}`);
  const spec = doc as unknown as ScenarioSpec;
  try {
    getScenario(spec.scenario).build(specOptions(spec, { seed: 'check' }));
  } catch (e) {
    throw new ScenarioError(`${where}: ${e instanceof Error ? e.message : String(e)}`);
  }
  return spec;
}
