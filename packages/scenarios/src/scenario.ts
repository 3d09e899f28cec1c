// scenario: what a scenario is - a named, documented way to build a run from a description (spec.ts) - and the
// built-in descriptions, one file each in packages/scenarios/scenarios/. An unknown name is refused with the list of
// choices.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  WINDOW_DEFAULT,
  type Hz,
  type Platform,
  type RunOptions,
  type RunResult,
  type TableFreeing,
} from '@faultline/engine';
import { BUILTIN_POLICIES } from '@faultline/mm';
import { textKey, yaml } from './yaml-lazy.js';
import type { CustomParts } from './custom.js';

export interface ScenarioOptions {
  readonly policy: string;
  readonly cpus: number;
  readonly workers?: number;
  readonly seed: string;
  readonly duration: string;
  readonly memoryMiB?: number;
  /** 'kernel' (default): the node the kernel builds for the size; 'one-zone': one zone of exactly memoryMiB. */
  readonly memoryLayout?: 'kernel' | 'one-zone';
  /** THP mode (kernel layout): default the kernel's choice for the size. */
  readonly thp?: 'never' | 'madvise' | 'always';
  /** vm sysctls of the boot-time node (kernel layout). */
  readonly vm?: RunOptions['vm'];
  readonly window?: string;
  /** The allocator's behaviour: v5.18 (the discussion's kernel) or v6.3+ (default). */
  readonly kernel?: 'v5.18' | 'v6.4' | 'v6.3+';
  /** CONFIG_HZ: 100, 250 (default, Debian's), 300 or 1000; RCU's tick and jiffy-based timeouts follow it. */
  readonly hz?: Hz;
  /** 'bare-metal' (default) or 'paravirt' (a KVM, Xen or Hyper-V guest): it sets how page tables are freed. */
  readonly platform?: Platform;
  /** How unmapped page tables are freed: 'native' (after the TLB flush) or 'rcu' (tlb_remove_table's batches);
   * default the platform's, or 'rcu' where a fault policy walks page tables under RCU (mm's tableFreeingFor). */
  readonly tableFreeing?: TableFreeing;
  /** The machine's sockets, cores, SMT and caches and where the run's CPUs sit (engine topology.ts): a preset's
   * name or a description; none by default (no CPU is nearer another). */
  readonly topology?: RunOptions['topology'];
  /** With a topology: charge lock words' cache lines ('lines') or not ('off', the default). */
  readonly coherence?: RunOptions['coherence'];
  /** The reclaim module's scanNsPerPage: CPU time a reclaimer spends per page it wants (default 200 ns,
   * calibrated against the real kernel: CALIBRATION.md). */
  readonly scanNsPerPage?: number;
  /** The reclaim module's kswapdWakeLatencyNs: kswapd runnable this long after the allocator wakes it (default 0). */
  readonly kswapdWakeLatencyNs?: number;
  /** The scenario's own sizes (its file's `params`); what is not given takes the built-in file's value. */
  readonly params?: Readonly<Record<string, number | string | boolean>>;
  /** The custom scenario's task groups, locks, modules and figures (scenario: custom). */
  readonly custom?: CustomParts;
}

/** One of a scenario's own sizes: its type, bounds and meaning. Its default is in the scenario's file. */
export type ParamSpec =
  | { readonly type: 'integer' | 'number'; readonly min: number; readonly max: number; readonly description: string }
  | { readonly type: 'string'; readonly enum?: readonly string[]; readonly description: string }
  | { readonly type: 'boolean'; readonly description: string };

/** The machine a scenario runs on, from its options: memory (default 256 MiB), layout, THP, kernel, and the
 * kernel's configuration (HZ, platform, page-table freeing; the run's defaults where not given). */
export function machineOf(
  o: ScenarioOptions,
): Pick<
  RunOptions,
  'memoryMiB' | 'memoryLayout' | 'thp' | 'vm' | 'kernel' | 'hz' | 'platform' | 'tableFreeing' | 'topology' | 'coherence'
> {
  return {
    memoryMiB: o.memoryMiB ?? 256,
    ...(o.memoryLayout ? { memoryLayout: o.memoryLayout } : {}),
    ...(o.thp ? { thp: o.thp } : {}),
    ...(o.vm ? { vm: o.vm } : {}),
    ...(o.kernel ? { kernel: o.kernel } : {}),
    ...(o.hz !== undefined ? { hz: o.hz } : {}),
    ...(o.platform ? { platform: o.platform } : {}),
    ...(o.tableFreeing ? { tableFreeing: o.tableFreeing } : {}),
    ...(o.topology !== undefined ? { topology: o.topology } : {}),
    ...(o.coherence !== undefined ? { coherence: o.coherence } : {}),
  };
}

/** What every built-in scenario's run takes from its options as they are: CPUs, workers, seed, duration, the
 * window (default WINDOW_DEFAULT) and the machine. */
export function runOf(
  o: ScenarioOptions,
): Pick<RunOptions, 'cpus' | 'workers' | 'seed' | 'duration' | 'window'> & ReturnType<typeof machineOf> {
  return {
    cpus: o.cpus,
    ...(o.workers ? { workers: o.workers } : {}),
    seed: o.seed,
    duration: o.duration,
    window: o.window ?? WINDOW_DEFAULT,
    ...machineOf(o),
  };
}

/** The reclaim module's args a scenario takes from its options. */
export function reclaimArgsOf(o: ScenarioOptions): Record<string, unknown> {
  return {
    ...(o.scanNsPerPage === undefined ? {} : { scanNsPerPage: o.scanNsPerPage }),
    ...(o.kswapdWakeLatencyNs === undefined ? {} : { kswapdWakeLatencyNs: o.kswapdWakeLatencyNs }),
  };
}

/** A row of figures for the comparison table: label -> number (NaN where it does not apply). */
export type ScenarioFigures = Record<string, number>;

export interface Scenario {
  readonly name: string;
  readonly summary: string;
  /** Its own sizes, each bounded and described; their defaults are in its file. */
  readonly params: Readonly<Record<string, ParamSpec>>;
  /** Defaults for what the user did not say (from its file). */
  readonly defaults: { readonly cpus: number; readonly duration: string; readonly policy: string };
  /** The scenario's own policies (its modes, as a kernel module's `mode` parameter), when it declares them: it runs
   * under exactly these, and never under a policy module. Without them it runs under mm's fault policies (POLICIES)
   * or the user's policy module. */
  readonly policies?: readonly string[];
  build(o: ScenarioOptions): RunOptions;
  /** The figures a comparison's headline weighs, most telling first: who paid and who gained. */
  readonly headline?: readonly string[];
  /** The figures a person compares across policies, from a finished run (and the params it ran with). */
  figures(
    r: RunResult,
    params?: Readonly<Record<string, number | string | boolean>>,
    custom?: CustomParts,
  ): ScenarioFigures;
}

export type ScenarioCode = Omit<Scenario, 'defaults' | 'summary'>;

/** The built-in file of a scenario, parsed (not yet validated: spec.ts does that). */
export function builtinDocument(name: string): Record<string, unknown> {
  const text = readFileSync(new URL(`../scenarios/${name}.yaml`, import.meta.url), 'utf8');
  // The build's parsed copy (scripts/build-validators.mjs), if it was made from this very text.
  const copy = new URL(`./builtin-${name}.json`, import.meta.url);
  if (existsSync(copy)) {
    const stored = JSON.parse(readFileSync(copy, 'utf8')) as { key: string; doc: Record<string, unknown> };
    if (stored.key === textKey(text)) return stored.doc;
  }
  return yaml().parse(text) as Record<string, unknown>;
}

const documents = new Map<string, Record<string, unknown>>();
export function documentOf(name: string): Record<string, unknown> {
  let d = documents.get(name);
  if (!d) documents.set(name, (d = builtinDocument(name)));
  return d;
}

/** A scenario from its code; its summary and defaults come from its file. */
export function defineScenario(code: ScenarioCode): Scenario {
  return {
    ...code,
    get summary() {
      return String(documentOf(code.name).summary);
    },
    get defaults() {
      const d = documentOf(code.name);
      return { cpus: Number(d.cpus), duration: String(d.duration), policy: String(d.policy) };
    },
  };
}

export const POLICIES = Object.keys(BUILTIN_POLICIES);

export class ScenarioError extends Error {
  override readonly name = 'ScenarioError';
}

/** A policy of the user's: a module path with an optional #export (./my-policy.ts#capped). */
export const POLICY_REF = /[\\/]|\.(?:[cm]?[jt]s)(?:#|$)/;
export const isPolicyRef = (policy: string) => POLICY_REF.test(policy);

/** The policies a scenario runs under: its own when it declares them, else mm's built-in fault policies. */
export function policiesOf(scenario: Pick<Scenario, 'policies'>): readonly string[] {
  return scenario.policies ?? POLICIES;
}

/** A policy for a scenario (for any scenario without its own policies when none is given): one of its own, or a
 * built-in policy's name or the user's module path[#export] (the file must exist); refused with the choices. */
export function checkPolicy(policy: string, scenario?: Pick<Scenario, 'name' | 'policies'>): string {
  const own = scenario?.policies;
  if (own !== undefined) {
    if (own.includes(policy)) return policy;
    const why = isPolicyRef(policy) ? 'a policy module does not apply to it' : 'not one of them';
    throw new ScenarioError(
      `policy '${policy}': ${scenario!.name} runs under its own policies (${why}); allowed: ${own.join(', ')}`,
    );
  }
  if (POLICIES.includes(policy)) return policy;
  if (isPolicyRef(policy)) {
    const path = policy.split('#')[0]!;
    if (!existsSync(resolve(path))) throw new ScenarioError(`policy '${policy}': no such file '${resolve(path)}'`);
    return policy;
  }
  throw new ScenarioError(
    `unknown policy '${policy}'; allowed: ${POLICIES.join(', ')}, or your policy module as path[#export]`,
  );
}

/** The mm module's policy args for a policy: a built-in name, or the user's module loaded under its own name. */
export function policyArgs(policy: string): {
  policy: string;
  policies?: Array<{ name: string; module: string; export: string }>;
} {
  if (!isPolicyRef(checkPolicy(policy))) return { policy };
  const [path, exp] = policy.split('#');
  return { policy, policies: [{ name: policy, module: resolve(path!), export: exp || 'default' }] };
}
