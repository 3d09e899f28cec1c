// spec: a scenario as data. A scenario file (YAML or JSON, schema faultline.scenario/1) names a built-in scenario -
// the code that turns a description into tasks and figures - and says the machine, the run and the scenario's own
// sizes (its params). Each built-in scenario is such a file (packages/scenarios/scenarios/<name>.yaml) with every
// field at its default; a user's file says only what differs, `--set path=value` overrides one field, and the merged
// whole is validated against the JSON Schema (spec-schema.ts). A resolved spec, with a seed and the version, is a
// run's identity: specKey hashes it.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describeTopology, resolveTopology, type Hz, type Platform, type TableFreeing } from '@faultline/engine';
import { createHash } from 'node:crypto';
import { yaml } from './yaml-lazy.js';
import type { CustomParts } from './custom.js';
import { SCENARIO_SCHEMA, validateScenario, type ScenarioShape } from './spec-schema.js';
import { documentOf, isPolicyRef, ScenarioError, type ScenarioOptions } from './scenario.js';

/** The machine a scenario runs on (the kernel's boot-time node for the size, or one zone) and its kernel's
 * configuration (CONFIG_HZ, the platform, how page tables are freed; the run's defaults where not given). */
export interface MachineSpec {
  readonly memoryMiB: number;
  readonly layout: 'kernel' | 'one-zone';
  readonly thp?: 'never' | 'madvise' | 'always';
  readonly hz?: Hz;
  readonly platform?: Platform;
  readonly tableFreeing?: TableFreeing;
  /** The machine's topology (engine topology.ts): a preset's name or a description with a placement. */
  readonly topology?: ScenarioOptions['topology'];
  /** With a topology: charge lock words' cache lines ('lines') or not ('off', the default). */
  readonly coherence?: 'lines' | 'off';
  readonly vm?: {
    readonly minFreeKbytes?: number;
    readonly watermarkScaleFactor?: number;
    readonly lowmemReserveRatio?: readonly [number, number, number];
    readonly percpuPagelistHighFraction?: number;
  };
}

/** The machine's topology as a run header says it (none without one; a refusal said as such). */
export function specTopologyLines(spec: Pick<ScenarioSpec, 'cpus' | 'machine'>): string[] {
  if (spec.machine.topology === undefined) return [];
  const issues: string[] = [];
  const t = resolveTopology(spec.machine.topology, spec.cpus, issues);
  return t && issues.length === 0
    ? describeTopology(t, spec.machine.coherence ?? 'off')
    : [`topology: a run is refused: ${issues.join('; ')}`];
}

/** A resolved scenario: every field present and valid. */
export interface ScenarioSpec {
  readonly schema: typeof SCENARIO_SCHEMA;
  readonly scenario: string;
  readonly summary: string;
  readonly policy: string;
  readonly cpus: number;
  readonly duration: string;
  readonly window: string;
  readonly kernel: 'v5.18' | 'v6.4' | 'v6.3+';
  readonly machine: MachineSpec;
  readonly reclaim: {
    readonly scanNsPerPage: number;
    /** From wakeup_kswapd to kswapd runnable (a what-if for slow machines: the oracle's TCG guests); default 0. */
    readonly kswapdWakeLatencyNs?: number;
  };
  readonly params: Readonly<Record<string, number | string | boolean>>;
  /** scenario: custom only: its task groups, locks, kernel modules and the figures to report. */
  readonly tasks?: CustomParts['tasks'];
  readonly locks?: CustomParts['locks'];
  readonly modules?: CustomParts['modules'];
  readonly figures?: CustomParts['figures'];
}

/** The fields only a custom scenario has. */
/** Parse a scenario file's text (YAML; JSON is YAML too). */
export function parseScenarioText(text: string, where: string): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = yaml().parse(text);
  } catch (e) {
    throw new ScenarioError(
      `${where}: not valid YAML or JSON: ${(e instanceof Error ? e.message : String(e)).split('\n')[0]}`,
    );
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc))
    throw new ScenarioError(`${where}: must be a mapping of fields (schema ${SCENARIO_SCHEMA})`);
  return doc as Record<string, unknown>;
}

export function readScenarioFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ScenarioError(`scenario file ${path}: cannot read it (${e instanceof Error ? e.message : String(e)})`);
  }
  return parseScenarioText(text, path);
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Merge b over a: mappings field by field, anything else replaced. */
export function mergeSpec(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b))
    out[k] = isObject(v) && isObject(out[k]) ? mergeSpec(out[k] as Record<string, unknown>, v) : v;
  return out;
}

/** `--set path=value`: a dotted field path and a YAML value (8, true, v6.3+, [256,256,32]). */
export function parseSet(s: string): { path: string[]; value: unknown } {
  const eq = s.indexOf('=');
  const path = eq > 0 ? s.slice(0, eq).trim().split('.') : [];
  if (eq <= 0 || path.some((p) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(p))) {
    throw new ScenarioError(
      `--set ${s}: must be path=value with a dotted field path, e.g. machine.memoryMiB=1024 or params.stormThreadsPerCpu=4`,
    );
  }
  const raw = s.slice(eq + 1).trim();
  let value: unknown;
  try {
    value = yaml().parse(raw);
  } catch {
    value = raw;
  }
  return { path, value: value ?? raw };
}

/** The document with one field set (mappings on the way created as needed). */
export function setField(
  doc: Record<string, unknown>,
  path: readonly string[],
  value: unknown,
): Record<string, unknown> {
  const [head, ...rest] = path;
  if (head === undefined) return doc;
  const below = isObject(doc[head]) ? (doc[head] as Record<string, unknown>) : {};
  return { ...doc, [head]: rest.length === 0 ? value : setField(below, rest, value) };
}

/** Canonical JSON: keys sorted at every level, so that equal specs hash equally. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (isObject(v))
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(v[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

/** A run's identity: the resolved spec, its seed and faultline's version, hashed (sha256, hex). */
export function specKey(spec: ScenarioSpec, seed: string, version: string): string {
  // A policy module of the user's is part of the run: its content is in the key, not only its path.
  const policyModule = isPolicyRef(spec.policy)
    ? createHash('sha256')
        .update(readFileSync(resolve(spec.policy.split('#')[0]!)))
        .digest('hex')
    : null;
  return createHash('sha256')
    .update(canonicalJson({ spec, seed, version, ...(policyModule ? { policyModule } : {}) }))
    .digest('hex');
}

/** The options a scenario's build takes, from a resolved spec. */
export function specOptions(
  spec: ScenarioSpec,
  run: { readonly seed: string; readonly workers?: number },
): ScenarioOptions {
  const m = spec.machine;
  const vm = m.vm && Object.keys(m.vm).length > 0 ? { vm: m.vm as NonNullable<ScenarioOptions['vm']> } : {};
  return {
    policy: spec.policy,
    cpus: spec.cpus,
    seed: run.seed,
    duration: spec.duration,
    window: spec.window,
    kernel: spec.kernel,
    ...(run.workers !== undefined ? { workers: run.workers } : {}),
    memoryMiB: m.memoryMiB,
    memoryLayout: m.layout,
    ...(m.thp ? { thp: m.thp } : {}),
    ...vm,
    ...(m.hz !== undefined ? { hz: m.hz } : {}),
    ...(m.platform ? { platform: m.platform } : {}),
    ...(m.tableFreeing ? { tableFreeing: m.tableFreeing } : {}),
    ...(m.topology !== undefined ? { topology: m.topology } : {}),
    ...(m.coherence !== undefined ? { coherence: m.coherence } : {}),
    scanNsPerPage: spec.reclaim.scanNsPerPage,
    ...(spec.reclaim.kswapdWakeLatencyNs !== undefined
      ? { kswapdWakeLatencyNs: spec.reclaim.kswapdWakeLatencyNs }
      : {}),
    params: spec.params,
    ...(spec.scenario === 'custom' ? { custom: customOf(spec) } : {}),
  };
}

/** A custom scenario's parts, from its description. */
export function customOf(spec: ScenarioSpec): CustomParts {
  return {
    tasks: spec.tasks ?? [],
    ...(spec.locks ? { locks: spec.locks } : {}),
    ...(spec.modules ? { modules: spec.modules } : {}),
    ...(spec.figures ? { figures: spec.figures } : {}),
  };
}

/** Whether a fault policy changes anything in a run of this description: every built-in scenario loads mm; a
 * custom one only if its modules name it. Compare and sweep run one policy where it does not. */
export function faultPolicyApplies(spec: ScenarioSpec): boolean {
  if (spec.scenario !== 'custom') return true;
  return (spec.modules ?? []).some((m) => (typeof m === 'string' ? m : m.module) === 'mm');
}

/** A spec as YAML, for `faultline scenario show` and the files. */
export function specYaml(spec: ScenarioSpec | Record<string, unknown>): string {
  return yaml().stringify(spec, { lineWidth: 0 });
}

/** A build's params: the scenario file's, with what the options give over them, each checked against its schema
 * (a library caller's params are refused by name as a file's are). */
export function paramsOf(s: ScenarioShape, o: ScenarioOptions): Record<string, number | string | boolean> {
  const given = o.params ?? {};
  const errors = validateScenario({ scenario: s.name, params: given }, [s], false);
  if (errors.length > 0) throw new ScenarioError(`${s.name}: ${errors.join('; ')}`);
  return { ...(documentOf(s.name).params as Record<string, number | string | boolean>), ...given };
}
