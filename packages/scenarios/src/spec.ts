// spec: a scenario as data. A scenario file (YAML or JSON, schema faultline.scenario/1) names a built-in scenario -
// the code that turns a description into tasks and figures - and says the machine, the run and the scenario's own
// sizes (its params). Each built-in scenario is such a file (packages/scenarios/scenarios/<name>.yaml) with every
// field at its default; a user's file says only what differs, `--set path=value` overrides one field, and the merged
// whole is validated against the JSON Schema this module builds (ajv): every error names the field and what is
// allowed. A resolved spec, with a seed and the version, is a run's identity: specKey hashes it.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  describeTopology,
  resolveTopology,
  HZ_DEFAULT,
  HZ_VALUES,
  PLACEMENTS,
  PLATFORMS,
  TABLE_FREEING,
  TOPOLOGY_NAMES,
  type Hz,
  type Platform,
  type TableFreeing,
} from '@faultline/engine';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import YAML from 'yaml';
import type { CustomParts } from './custom.js';
import {
  documentOf,
  isPolicyRef,
  POLICIES,
  POLICY_REF,
  ScenarioError,
  type ParamSpec,
  type ScenarioOptions,
} from './scenario.js';

export const SCENARIO_SCHEMA = 'faultline.scenario/1';
const DURATION = '^\\s*\\d+(\\.\\d+)?\\s*(ns|us|µs|ms|s)\\s*$';

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
export const CUSTOM_FIELDS = ['tasks', 'locks', 'modules', 'figures'] as const;

/** What a scenario file may say: anything of ScenarioSpec, `scenario` required. */
export type ScenarioInput = { readonly scenario: string } & Record<string, unknown>;

/** The built-in scenarios a file can name, with their params. Filled by index.ts, which knows them all. */
export interface ScenarioShape {
  readonly name: string;
  readonly params: Readonly<Record<string, ParamSpec>>;
  /** Its own policies, when it declares them (Scenario.policies): `policy` must be one of them. */
  readonly policies?: readonly string[];
}

function paramSchema(p: ParamSpec): Record<string, unknown> {
  const { description } = p;
  if (p.type === 'string') return { type: 'string', description, ...(p.enum ? { enum: p.enum } : {}) };
  if (p.type === 'boolean') return { type: 'boolean', description };
  return { type: p.type, description, minimum: p.min, maximum: p.max };
}

/** The JSON Schema of a scenario file. With `resolved`, every field is required (the merged whole). */
export function scenarioJsonSchema(shapes: readonly ScenarioShape[], resolved = false): Record<string, unknown> {
  const int = (min: number, max: number, description: string) => ({
    type: 'integer',
    minimum: min,
    maximum: max,
    description,
  });
  const duration = (description: string) => ({ type: 'string', pattern: DURATION, description });
  const vm = {
    type: 'object',
    additionalProperties: false,
    description: 'vm sysctls of the boot-time node (kernel layout only)',
    properties: {
      minFreeKbytes: int(0, 2 ** 31 - 1, 'vm.min_free_kbytes (default: the kernel computes it)'),
      watermarkScaleFactor: int(1, 3000, 'vm.watermark_scale_factor'),
      lowmemReserveRatio: {
        type: 'array',
        items: { type: 'integer', minimum: 0 },
        minItems: 3,
        maxItems: 3,
        description: 'vm.lowmem_reserve_ratio for DMA, DMA32 and Normal',
      },
      percpuPagelistHighFraction: {
        type: 'integer',
        minimum: 0,
        description: 'vm.percpu_pagelist_high_fraction (0, or 8 and up)',
      },
    },
  };
  const machine = {
    type: 'object',
    additionalProperties: false,
    ...(resolved ? { required: ['memoryMiB', 'layout'] } : {}),
    properties: {
      memoryMiB: int(4, 65_536, 'memory in MiB (128 and up with the kernel layout)'),
      layout: {
        enum: ['kernel', 'one-zone'],
        description: "the kernel's boot-time node for the size, or one zone of exactly memoryMiB",
      },
      thp: {
        enum: ['never', 'madvise', 'always'],
        description: "transparent hugepages (kernel layout; default: the kernel's choice for the size)",
      },
      vm,
      hz: {
        enum: [...HZ_VALUES],
        description: `CONFIG_HZ: the tick (RCU's quiescent states, jiffy timeouts; default ${HZ_DEFAULT}, Debian's)`,
      },
      platform: {
        enum: [...PLATFORMS],
        description: "where the kernel runs: 'bare-metal' (default) or 'paravirt' (a KVM, Xen or Hyper-V guest)",
      },
      topology: {
        description:
          "the machine's sockets, cores, SMT threads and last-level caches, and the cache-line transfer latencies " +
          `between them: a preset (${TOPOLOGY_NAMES.join(', ')}) or a description; none by default`,
        oneOf: [
          { enum: [...TOPOLOGY_NAMES] },
          {
            type: 'object',
            additionalProperties: false,
            properties: {
              preset: { enum: [...TOPOLOGY_NAMES], description: 'the preset the other fields change' },
              model: { type: 'string', description: 'the CPU' },
              sockets: int(1, 16, 'sockets'),
              coresPerSocket: int(1, 1024, 'cores per socket'),
              threadsPerCore: int(1, 8, 'SMT threads per core'),
              coresPerLlc: int(1, 1024, 'cores sharing a last-level cache (a divisor of coresPerSocket)'),
              transferNs: {
                type: 'object',
                additionalProperties: false,
                required: ['smt', 'llc', 'socket', 'remote'],
                description:
                  'a cache line transfer (half a CAS round trip) between SMT siblings, cores of one ' +
                  'LLC, LLCs of one socket, and sockets, in ns',
                properties: Object.fromEntries(
                  ['smt', 'llc', 'socket', 'remote'].map((k) => [k, { type: 'number', minimum: 0, maximum: 10_000 }]),
                ),
              },
              source: { type: 'string', description: 'where the latencies come from' },
              placement: {
                description:
                  "which of the machine's CPUs the run's are: 'kernel' (run CPU k is the machine's k), 'spread' " +
                  '(a socket at a time, then an LLC at a time, SMT siblings last), or a list of CPU numbers',
                oneOf: [
                  { enum: [...PLACEMENTS] },
                  { type: 'array', items: { type: 'integer', minimum: 0 }, minItems: 1 },
                ],
              },
            },
          },
        ],
      },
      coherence: {
        enum: ['lines', 'off'],
        description:
          "with a topology: 'lines' charges every atomic on a lock's word the cache-line transfers it waits for " +
          "(a first version, not yet checked against the kernel); 'off' (default) charges none",
      },
      tableFreeing: {
        enum: [...TABLE_FREEING],
        description:
          "how unmapped page tables are freed: 'native' (after the TLB flush) or 'rcu' (tlb_remove_table's " +
          "batches); default the platform's (paravirt: rcu), or rcu for a policy that walks tables under RCU",
      },
    },
  };
  const names = shapes.map((s) => s.name);
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: 'urn:faultline:scenario:1',
    title: `faultline scenario (${SCENARIO_SCHEMA})`,
    type: 'object',
    additionalProperties: false,
    required: resolved
      ? [
          'schema',
          'scenario',
          'summary',
          'policy',
          'cpus',
          'duration',
          'window',
          'kernel',
          'machine',
          'reclaim',
          'params',
        ]
      : ['scenario'],
    properties: {
      schema: { const: SCENARIO_SCHEMA, description: 'this format and its version' },
      scenario: { enum: names, description: 'the built-in scenario whose tasks and figures the run uses' },
      summary: { type: 'string', description: 'what the scenario runs, in a sentence' },
      // Which policies a scenario takes is the scenario's (allOf below): mm's or a policy module, or its own.
      policy: {
        type: 'string',
        description:
          "the policy: one of mm's page-fault policies or your policy module (path[#export]), or the scenario's own",
      },
      cpus: int(1, 1024, 'simulated CPUs'),
      duration: duration('simulated time to run, with a unit: ns, us, ms or s'),
      window: duration('window length: other CPUs see shared state up to one window late'),
      kernel: {
        enum: ['v5.18', 'v6.4', 'v6.3+'],
        description:
          "the allocator's behaviour (v6.4's is v6.3+'s) and per-VMA locks' reach (anonymous only before v6.3+)",
      },
      machine,
      reclaim: {
        type: 'object',
        additionalProperties: false,
        ...(resolved ? { required: ['scanNsPerPage'] } : {}),
        properties: {
          scanNsPerPage: int(0, 1_000_000, "reclaim's CPU time per page wanted, ns (calibrated: CALIBRATION.md)"),
          kswapdWakeLatencyNs: int(
            0,
            1_000_000_000,
            "from wakeup_kswapd to kswapd runnable, ns (default 0; a TCG guest's is milliseconds: CALIBRATION.md)",
          ),
        },
      },
      params: { type: 'object', description: "the scenario's own sizes; which ones depends on `scenario`" },
      tasks: {
        type: 'array',
        description: 'scenario: custom only - its task groups',
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['module'],
          properties: {
            module: { type: 'string', minLength: 1, description: 'the task module (JavaScript or TypeScript), a path' },
            export: { type: 'string', minLength: 1, description: 'its export (default: default)' },
            name: { type: 'string', minLength: 1, description: 'the group name (default: from the module and export)' },
            perCpu: int(1, 4096, 'instances on each of its CPUs'),
            cpus: {
              anyOf: [
                { enum: ['all', 'all-but-0'] },
                { type: 'array', items: { type: 'integer', minimum: 0 }, minItems: 1 },
              ],
              description: "its CPUs: 'all' (default), 'all-but-0', or a list",
            },
            args: { type: 'object', description: 'what the task reads from ctx.args' },
          },
        },
      },
      locks: {
        type: 'object',
        description:
          "scenario: custom only - the locks its tasks take, by name, and the shared lines they update (kind 'line': " +
          'ctx.atomic; charged with machine.coherence lines)',
        additionalProperties: { enum: ['spinlock', 'mutex', 'rwsem', 'line'] },
      },
      modules: {
        type: 'array',
        description: 'scenario: custom only - kernel modules: rcu, reclaim, mm, or yours by path (with args)',
        items: {
          anyOf: [
            { type: 'string', minLength: 1 },
            {
              type: 'object',
              additionalProperties: false,
              required: ['module'],
              properties: { module: { type: 'string', minLength: 1 }, args: { type: 'object' } },
            },
          ],
        },
      },
      figures: {
        type: 'array',
        items: { type: 'string' },
        description: 'scenario: custom only - the figures to report (default: all of them)',
      },
    },
    definitions: {
      mmPolicy: {
        anyOf: [{ enum: POLICIES }, { type: 'string', pattern: POLICY_REF.source }],
        description: "one of mm's page-fault policies, or your policy module as path[#export]",
      },
    },
    allOf: shapes.map((s) => ({
      if: { properties: { scenario: { const: s.name } }, required: ['scenario'] },
      then: {
        properties: {
          policy: s.policies
            ? { enum: s.policies, description: `${s.name}'s own policies (no policy module)` }
            : { $ref: '#/definitions/mmPolicy' },
          params: {
            type: 'object',
            additionalProperties: false,
            ...(resolved ? { required: Object.keys(s.params) } : {}),
            properties: Object.fromEntries(Object.entries(s.params).map(([k, p]) => [k, paramSchema(p)])),
          },
        },
      },
    })),
  };
}

/** One ajv error as a person reads it: the field's path, what was wrong, what is allowed. */
function describeError(e: ErrorObject, shapes: readonly ScenarioShape[], doc: Record<string, unknown>): string {
  const path = e.instancePath.replace(/^\//, '').replace(/\//g, '.') || '(the file)';
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperty':
      return '';
    case 'additionalProperties': {
      const at = e.instancePath === '' ? '' : `${path}.`;
      let allowed = Object.keys((e.parentSchema as { properties?: object }).properties ?? {});
      if (path === 'params') allowed = Object.keys(shapes.find((s) => s.name === doc.scenario)?.params ?? {});
      return `${at}${String(p.additionalProperty)}: unknown field; allowed here: ${allowed.join(', ') || 'none'}`;
    }
    case 'required':
      return `${e.instancePath === '' ? '' : `${path}.`}${String(p.missingProperty)}: missing`;
    case 'enum':
      if (path === 'policy') {
        // A scenario's own policies (ScenarioShape.policies): say whose, and that a module is not one.
        const got = valueAt(doc, e.instancePath);
        const module = isPolicyRef(String(got)) ? '; a policy module does not apply' : '';
        const allowed = (p.allowedValues as unknown[]).join(', ');
        return `policy: must be one of ${allowed} (${String(doc.scenario)}'s own${module}); got ${JSON.stringify(got)}`;
      }
      return `${path}: must be one of ${(p.allowedValues as unknown[]).join(', ')}; got ${JSON.stringify(valueAt(doc, e.instancePath))}`;
    case 'const':
      return `${path}: must be ${JSON.stringify(p.allowedValue)}; got ${JSON.stringify(valueAt(doc, e.instancePath))}`;
    case 'type':
    case 'pattern':
      if (e.keyword === 'type' && (e.parentSchema as { pattern?: string }).pattern !== DURATION) {
        return `${path}: ${e.message ?? 'invalid'}; got ${JSON.stringify(valueAt(doc, e.instancePath))}`;
      }
      return `${path}: must be a number with a unit (ns, us, ms or s), e.g. 10ms; got ${JSON.stringify(valueAt(doc, e.instancePath))}`;
    case 'if':
      return '';
    case 'anyOf': {
      const got = JSON.stringify(valueAt(doc, e.instancePath));
      if (path.endsWith('.cpus')) return `${path}: must be 'all', 'all-but-0' or a list of CPU numbers; got ${got}`;
      if (path.startsWith('modules.'))
        return `${path}: must be rcu, reclaim, mm, a module path, or { module, args }; got ${got}`;
      return `${path}: must be one of ${POLICIES.join(', ')}, or a policy module as path[#export]; got ${got}`;
    }
    default:
      return `${path}: ${e.message ?? 'invalid'}; got ${JSON.stringify(valueAt(doc, e.instancePath))}`;
  }
}

function valueAt(doc: unknown, pointer: string): unknown {
  return pointer
    .split('/')
    .slice(1)
    .reduce<unknown>(
      (v, k) => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined),
      doc,
    );
}

/** How the scenario documents' validators are compiled (here, or at build time: scripts/build-validators.mjs). */
export const AJV_OPTIONS = { allErrors: true, strict: false, verbose: true } as const;

/** Which validator checks documents of these shapes, resolved or not: the shapes' names and a hash of the schema
 * itself, so that a validator built before a change of the schema is never taken for it. */
export function validatorKey(shapes: readonly ScenarioShape[], resolved: boolean): string {
  const hash = createHash('sha256')
    .update(JSON.stringify(scenarioJsonSchema(shapes, resolved)))
    .digest('hex');
  return `${resolved}:${shapes.map((s) => s.name).join(',')}:${hash.slice(0, 16)}`;
}

/** The file of the validator compiled at build time for these shapes: all the built-in scenarios', or one's. */
export function validatorFile(shapes: readonly ScenarioShape[], resolved: boolean): string {
  return `validate-${resolved ? 'resolved' : 'document'}${shapes.length === 1 ? `-${shapes[0]!.name}` : ''}.cjs`;
}

/** The validator compiled at build time for `key`, if the build made one for it (the built-in scenarios', of this
 * very schema). */
function prebuilt(key: string, shapes: readonly ScenarioShape[], resolved: boolean): ValidateFunction | null {
  try {
    const v = createRequire(import.meta.url)(`./${validatorFile(shapes, resolved)}`) as
      | (ValidateFunction & { key?: string })
      | undefined;
    return v?.key === key ? v : null;
  } catch {
    return null; // not built yet (the build makes it after tsc): compile instead
  }
}

const validators = new Map<string, (doc: unknown) => string[]>();
/** Validate a scenario document; returns the errors, each naming its field (none when valid). */
export function validateScenario(doc: unknown, shapes: readonly ScenarioShape[], resolved: boolean): string[] {
  const key = validatorKey(shapes, resolved);
  let v = validators.get(key);
  if (!v) {
    const check = prebuilt(key, shapes, resolved) ?? new Ajv(AJV_OPTIONS).compile(scenarioJsonSchema(shapes, resolved));
    v = (d) => {
      if (check(d)) return [];
      const errors = check.errors ?? [];
      // An anyOf says it all for its field: drop what each of its branches said.
      const anyOf = new Set(errors.filter((e) => e.keyword === 'anyOf').map((e) => e.instancePath));
      const kept = errors.filter((e) => e.keyword === 'anyOf' || !anyOf.has(e.instancePath));
      return kept.map((e) => describeError(e, shapes, d as Record<string, unknown>)).filter((x) => x !== '');
    };
    validators.set(key, v);
  }
  return [...new Set(v(doc))];
}

/** Parse a scenario file's text (YAML; JSON is YAML too). */
export function parseScenarioText(text: string, where: string): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = YAML.parse(text);
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
    value = YAML.parse(raw);
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
  return YAML.stringify(spec, { lineWidth: 0 });
}

/** A build's params: the scenario file's, with what the options give over them, each checked against its schema
 * (a library caller's params are refused by name as a file's are). */
export function paramsOf(s: ScenarioShape, o: ScenarioOptions): Record<string, number | string | boolean> {
  const given = o.params ?? {};
  const errors = validateScenario({ scenario: s.name, params: given }, [s], false);
  if (errors.length > 0) throw new ScenarioError(`${s.name}: ${errors.join('; ')}`);
  return { ...(documentOf(s.name).params as Record<string, number | string | boolean>), ...given };
}
