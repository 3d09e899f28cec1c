// registry: the built-in scenarios by name, and resolving what a user names - a built-in scenario or a scenario file
// - with the command line's fields and `--set`s into one validated ScenarioSpec (spec.ts). Resolving also builds
// the run once, so that a value the schema cannot judge (a GFP expression) is refused before anything runs.
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { kernelStorm } from './kernel-storm.js';
import { mmapContention } from './mmap-contention.js';
import { nowaitStarvation, nowaitStarvationAnon, nowaitStarvationMemcg } from './nowait-starvation.js';
import { pft } from './pft.js';
import { pftThreads } from './pft-threads.js';
import { reclaimCalibration } from './reclaim-calibration.js';
import { BUILTIN_MODULES, custom } from './custom.js';
import { builtinDocument, isPolicyRef, ScenarioError, type Scenario } from './scenario.js';
import { CUSTOM_FIELDS, scenarioJsonSchema, validateScenario } from './spec-schema.js';
import { mergeSpec, parseSet, readScenarioFile, setField, specOptions, type ScenarioSpec } from './spec.js';

/** The built-in scenarios with tasks of their own; `custom` (tasks as data) is beside them in ALL_SCENARIOS. */
export const SCENARIOS: readonly Scenario[] = [
  nowaitStarvation,
  nowaitStarvationAnon,
  nowaitStarvationMemcg,
  mmapContention,
  reclaimCalibration,
  pft,
  pftThreads,
  kernelStorm,
];

export const ALL_SCENARIOS: readonly Scenario[] = [...SCENARIOS, custom];

export function getScenario(name: string): Scenario {
  const s = ALL_SCENARIOS.find((x) => x.name === name);
  if (!s)
    throw new ScenarioError(
      `unknown scenario '${name}'; allowed: ${ALL_SCENARIOS.map((x) => x.name).join(', ')}, or a scenario file (.yaml, .json)`,
    );
  return s;
}

/** The JSON Schema of a scenario file (packages/scenarios/scenario.schema.json is this, written out). */
export function scenarioSchema(resolved = false): Record<string, unknown> {
  return scenarioJsonSchema(ALL_SCENARIOS, resolved);
}

/** Whether a name is a file rather than a built-in scenario. */
export function isScenarioFile(ref: string): boolean {
  return /[/\\]|\.(ya?ml|json)$/i.test(ref) || (!ALL_SCENARIOS.some((s) => s.name === ref) && existsSync(ref));
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
      `${where}: scenario: missing; name the built-in scenario it runs (${ALL_SCENARIOS.map((s) => s.name).join(', ')})`,
    );
  }
  // A file names its scenario; a built-in name was found above (getScenario), so only a file's needs checking (the
  // validator of every scenario's documents costs about 10 ms of a start to load and first run).
  const known = file ? validateScenario({ scenario: user.scenario }, ALL_SCENARIOS, false) : [];
  if (known.length > 0) throw new ScenarioError(`${where}: ${known.join('; ')}`);
  // Module paths in a file are relative to the file; on the command line, to the working directory.
  let doc = mergeSpec(
    mergeSpec(builtinDocument(user.scenario), file ? absolutePaths(user, dirname(resolve(ref))) : user),
    o.fields ?? {},
  );
  for (const s of o.sets ?? []) {
    const { path, value } = parseSet(s);
    doc = setField(doc, path, value);
  }
  doc = absolutePaths(doc, process.cwd());
  const errors = validateScenario(doc, ALL_SCENARIOS, true);
  if (doc.scenario !== 'custom') {
    for (const f of CUSTOM_FIELDS.filter((k) => k in doc)) {
      errors.push(
        `${f}: only a custom scenario (scenario: custom) lists its own; ${String(doc.scenario)} builds its tasks itself`,
      );
    }
  }
  if (errors.length > 0) throw new ScenarioError(`${where}: ${errors.join('; ')}`);
  const spec = doc as unknown as ScenarioSpec;
  try {
    getScenario(spec.scenario).build(specOptions(spec, { seed: 'check' }));
  } catch (e) {
    throw new ScenarioError(`${where}: ${e instanceof Error ? e.message : String(e)}`);
  }
  return spec;
}

/** The document with its module paths (a policy module, custom tasks' and kernel modules) made absolute from `base`;
 * built-in names and what is not a string are left alone. */
function absolutePaths(doc: Record<string, unknown>, base: string): Record<string, unknown> {
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(base, p));
  const out: Record<string, unknown> = { ...doc };
  if (typeof out.policy === 'string' && isPolicyRef(out.policy)) {
    const [path, exp] = out.policy.split('#');
    out.policy = `${abs(path!)}${exp ? `#${exp}` : ''}`;
  }
  if (Array.isArray(out.tasks)) {
    out.tasks = out.tasks.map((t) =>
      t !== null && typeof t === 'object' && typeof (t as { module?: unknown }).module === 'string'
        ? { ...(t as object), module: abs((t as { module: string }).module) }
        : t,
    );
  }
  if (Array.isArray(out.modules)) {
    const one = (m: string) => (m in BUILTIN_MODULES ? m : abs(m));
    out.modules = out.modules.map((m) =>
      typeof m === 'string'
        ? one(m)
        : m !== null && typeof m === 'object' && typeof (m as { module?: unknown }).module === 'string'
          ? { ...(m as object), module: one((m as { module: string }).module) }
          : m,
    );
  }
  return out;
}
