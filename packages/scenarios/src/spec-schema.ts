// spec-schema: the JSON Schema of a scenario file, built from the scenarios' shapes (their params and policies),
// and its validation (ajv): every error names the field and what is allowed there. The built-in scenarios'
// validators are compiled at build time (scripts/build-validators.mjs); a shape of its own is compiled here.
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { HZ_DEFAULT, HZ_VALUES, PLACEMENTS, PLATFORMS, TABLE_FREEING, TOPOLOGY_NAMES } from '@faultline/engine';
import type { ErrorObject, Ajv as AjvClass, ValidateFunction } from 'ajv';
import { isPolicyRef, POLICIES, POLICY_REF, type ParamSpec } from './scenario.js';

export const SCENARIO_SCHEMA = 'faultline.scenario/1';
const DURATION = '^\\s*\\d+(\\.\\d+)?\\s*(ns|us|µs|ms|s)\\s*$';

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

/** An integer field of the schema, between min and max. */
const int = (min: number, max: number, description: string) => ({
  type: 'integer',
  minimum: min,
  maximum: max,
  description,
});
/** A duration field: a number with a unit. */
const duration = (description: string) => ({ type: 'string', pattern: DURATION, description });

/** The vm sysctls of the boot-time node (machine.vm); a new object each call, as every part of the schema. */
function vmSchema() {
  return {
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
}

/** The `machine` section: memory, its layout and tunables, the tick, topology and the kernel's build. */
function machineSchema(resolved: boolean) {
  return {
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
      vm: vmSchema(),
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
}

/** The sections only a custom scenario has: its task groups, locks and lines, kernel modules and figures. */
function customSections() {
  return {
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
  };
}

/** What a file naming `shape` as its scenario may hold: the policies it takes, and its own params. */
function shapeRule(s: ScenarioShape, resolved: boolean) {
  return {
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
  };
}

/** The JSON Schema of a scenario file. With `resolved`, every field is required (the merged whole). */
export function scenarioJsonSchema(shapes: readonly ScenarioShape[], resolved = false): Record<string, unknown> {
  const machine = machineSchema(resolved);
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
      ...customSections(),
    },
    definitions: {
      mmPolicy: {
        anyOf: [{ enum: POLICIES }, { type: 'string', pattern: POLICY_REF.source }],
        description: "one of mm's page-fault policies, or your policy module as path[#export]",
      },
    },
    allOf: shapes.map((shape) => shapeRule(shape, resolved)),
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

/** Compile the validator now, with ajv itself: only where no prebuilt one matches the schema (a scenario shape the
 * build did not see). ajv is loaded here, not at import: the prebuilt validators need none of it but a small runtime
 * helper, and loading it costs about 24 ms of every start. */
function compileValidator(shapes: readonly ScenarioShape[], resolved: boolean): ValidateFunction {
  const { Ajv } = createRequire(import.meta.url)('ajv') as { Ajv: typeof AjvClass };
  return new Ajv(AJV_OPTIONS).compile(scenarioJsonSchema(shapes, resolved));
}

const validators = new Map<string, (doc: unknown) => string[]>();
/** Validate a scenario document; returns the errors, each naming its field (none when valid). */
export function validateScenario(doc: unknown, shapes: readonly ScenarioShape[], resolved: boolean): string[] {
  const key = validatorKey(shapes, resolved);
  let v = validators.get(key);
  if (!v) {
    const check = prebuilt(key, shapes, resolved) ?? compileValidator(shapes, resolved);
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
