// scenario-fields: the command line's options for a scenario as the fields of its description (a partial
// faultline.scenario/1 document), so that `--cpus 8` and `--set cpus=8` are one thing; and the other way, a
// resolved description as the `--set`s that make it from its built-in file, for replay lines.
import { InvalidArgumentError } from 'commander';
import {
  builtinDocument,
  checkPolicy,
  faultPolicyApplies,
  type Scenario,
  type ScenarioSpec,
} from '@faultline/scenarios';
import { type MachineCliOptions, topologyOf } from './machine-options.js';

export interface ScenarioCliOptions extends MachineCliOptions {
  readonly policy?: string;
  readonly cpus?: number;
  readonly duration?: string;
  readonly window?: string;
  readonly kernel?: 'v5.18' | 'v6.4' | 'v6.3+';
  readonly scanNsPerPage?: number;
  readonly set?: string[];
}

const defined = (o: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

/** The fields the options set; what was not given is left to the file. */
export function scenarioFields(o: ScenarioCliOptions): Record<string, unknown> {
  const vm = defined({
    minFreeKbytes: o.minFreeKbytes,
    watermarkScaleFactor: o.watermarkScaleFactor,
    lowmemReserveRatio: o.lowmemReserveRatio,
    percpuPagelistHighFraction: o.percpuPagelistHighFraction,
  });
  const machine = defined({
    memoryMiB: o.memory,
    layout: o.layout,
    thp: o.thp,
    vm: Object.keys(vm).length > 0 ? vm : undefined,
    hz: o.hz,
    platform: o.platform,
    topology: topologyOf(o),
    coherence: o.coherence,
    tableFreeing: o.tableFreeing,
  });
  return defined({
    policy: o.policy,
    cpus: o.cpus,
    duration: o.duration,
    window: o.window,
    kernel: o.kernel,
    machine: Object.keys(machine).length > 0 ? machine : undefined,
    reclaim: o.scanNsPerPage !== undefined ? { scanNsPerPage: o.scanNsPerPage } : undefined,
  });
}

function leaves(v: unknown, path: string[] = []): Array<[string, unknown]> {
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    return Object.entries(v as Record<string, unknown>).flatMap(([k, x]) => leaves(x, [...path, k]));
  }
  return [[path.join('.'), v]];
}

/** `--set path=value` for every field where the spec differs from its built-in file (fields the file does not have
 * included), in the file's order: with the scenario's name they make the spec again. */
export function setsFrom(spec: ScenarioSpec, skip: readonly string[] = []): string[] {
  const base = new Map(leaves(builtinDocument(spec.scenario)).map(([k, v]) => [k, JSON.stringify(v)]));
  return leaves(spec)
    .filter(([k, v]) => !skip.includes(k) && base.get(k) !== JSON.stringify(v))
    .map(([k, v]) => `${k}=${v !== null && typeof v === 'object' ? JSON.stringify(v) : String(v)}`);
}

/** A word quoted for a POSIX shell where it needs to be. */
export function shellQuote(s: string): string {
  return /^[\w.,=+:/[\]-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`;
}

/** A replay command's arguments: the scenario's name and its `--set`s, quoted for a shell where needed. */
export function replayArgs(spec: ScenarioSpec, skip: readonly string[] = []): string {
  return [spec.scenario, ...setsFrom(spec, skip).map((s) => `--set ${shellQuote(s)}`)].join(' ');
}

/** The policies a compare or sweep runs: those given, else `all`; a custom scenario that loads no mm (a fault policy
 * changes nothing in it) runs its own one, and refuses several by name. Each is checked against the scenario. */
export function policyList(
  spec: ScenarioSpec,
  scenario: Pick<Scenario, 'name' | 'policies'>,
  given: string | undefined,
  all: readonly string[],
): string[] {
  const noMm = !faultPolicyApplies(spec);
  if (noMm && given !== undefined && given.split(',').length > 1)
    throw new InvalidArgumentError(
      `--policies ${given}: this scenario loads no mm module, so a fault policy changes nothing in it; ` +
        'run it under one policy (or add mm to its modules)',
    );
  return (given ?? (noMm ? spec.policy : all.join(','))).split(',').map((p) => checkPolicy(p.trim(), scenario));
}
