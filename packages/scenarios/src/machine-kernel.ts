// machine-kernel: the machine's kernel configuration as a run gets it - CONFIG_HZ and its jiffy, the platform, and
// how page tables are freed and why (mm's tableFreeingFor when the run loads mm, else the machine's own) - from a
// scenario before it runs (`scenario show`, the checks `run`, `compare` and `sweep` make first: a combination mm
// would refuse is refused by field before anything starts) or from a finished run (its config and mm's report);
// and the line a person reads.
import {
  reportOf,
  resolveRunConfig,
  type Hz,
  type Platform,
  type RunConfig,
  type RunOptions,
  type RunResult,
  type TableFreeing,
} from '@faultline/engine';
import { MM, mmModulePath, tableFreeingFor } from '@faultline/mm';
import { rcuModulePath } from '@faultline/rcu';
import { getScenario } from './registry.js';
import { ScenarioError } from './scenario.js';
import { specOptions, type ScenarioSpec } from './spec.js';

export interface MachineKernel {
  readonly hz: Hz;
  readonly jiffyNs: number;
  readonly platform: Platform;
  /** How unmapped page tables are freed, and why (mm's report's words: the platform, the run, or a policy). */
  readonly tableFreeing: { readonly freeing: TableFreeing; readonly why: string };
  /** RCU's tick where the run's rcu module sets its own (kernel-storm's rcuTickNs), else null: the jiffy. */
  readonly rcuTickNs: number | null;
}

type MmPolicyArgs = {
  policy?: string;
  policies?: Array<{ name: string; walksTablesUnderRcu?: boolean }>;
};

/** The freeing mm decides for a resolved config, as its setup does (the module's policy and each task's); the
 * machine's own when the run does not load mm. Throws mm's refusal (the run names 'native' for an RCU walker). */
function freeingOf(c: RunConfig): MachineKernel['tableFreeing'] {
  const mm = c.modules.find((m) => m.module === mmModulePath);
  if (!mm) return tableFreeingFor(c, []);
  const a = mm.args as MmPolicyArgs;
  const policy = a.policy ?? 'classic';
  const used = [policy, ...c.tasks.map((t) => String(t.args.policy ?? policy))];
  return tableFreeingFor(c, used, a.policies ?? []);
}

function rcuTickOf(c: RunConfig): number | null {
  const tick = c.modules.find((m) => m.module === rcuModulePath)?.args.tickNs;
  return typeof tick === 'number' && tick !== c.jiffyNs ? tick : null;
}

/** The kernel configuration a run of these options gets. A combination mm refuses (tableFreeing 'native' with a
 * policy that walks page tables under RCU) is refused here, after `where`, naming machine.tableFreeing and what is
 * allowed. */
export function machineKernelOf(o: RunOptions, where = ''): MachineKernel {
  const c = resolveRunConfig(o, 1);
  let tableFreeing: MachineKernel['tableFreeing'];
  try {
    tableFreeing = freeingOf(c);
  } catch (e) {
    const why = (e instanceof Error ? e.message : String(e)).replace(/^mm module: /, '');
    throw new ScenarioError(`${where ? `${where}: ` : ''}machine.tableFreeing: ${why}`);
  }
  return { hz: c.hz, jiffyNs: c.jiffyNs, platform: c.platform, tableFreeing, rcuTickNs: rcuTickOf(c) };
}

/** Where a scenario's run is, for an error: `scenario pft under policy spf-nowait`. */
export const specWhere = (spec: ScenarioSpec) => `scenario ${spec.scenario} under policy ${spec.policy}`;

/** The kernel configuration of a resolved scenario under its policy (`{ ...spec, policy }` for another one). */
export function specMachineKernel(spec: ScenarioSpec): MachineKernel {
  return machineKernelOf(getScenario(spec.scenario).build(specOptions(spec, { seed: 'check' })), specWhere(spec));
}

/** The kernel configuration a finished run had: its config, and the freeing from mm's report when mm reported. */
export function runMachineKernel(r: Pick<RunResult, 'config' | 'modules'>): MachineKernel {
  const c = r.config;
  const reported = reportOf(r, MM)?.tableFreeing;
  let tableFreeing = reported;
  if (!tableFreeing) {
    try {
      tableFreeing = freeingOf(c);
    } catch {
      // mm refused the run before it reported: the machine's own, as the run asked for it.
      tableFreeing = tableFreeingFor(c, []);
    }
  }
  return { hz: c.hz, jiffyNs: c.jiffyNs, platform: c.platform, tableFreeing, rcuTickNs: rcuTickOf(c) };
}

const ms = (ns: number) => `${Number((ns / 1e6).toFixed(3))} ms`;

/** How page tables are freed and why, as a person reads it. */
export function tableFreeingText(t: MachineKernel['tableFreeing']): string {
  const how = t.freeing === 'rcu' ? 'through RCU' : 'natively, after the TLB flush';
  return `page tables freed ${how}: ${t.why === 'the run' ? 'the run says so' : t.why}`;
}

/** The tick and the platform: `HZ=250 (jiffy 4 ms)  platform=bare-metal`. */
export function hzPlatformText(k: MachineKernel): string {
  const tick = k.rcuTickNs !== null ? `; RCU's tick ${ms(k.rcuTickNs)}, the rcu module's tickNs` : '';
  return `HZ=${k.hz} (jiffy ${ms(k.jiffyNs)}${tick})  platform=${k.platform}`;
}

/** The configuration as one line: `HZ=250 (jiffy 4 ms)  platform=bare-metal  page tables freed ...: why`. */
export function machineKernelText(k: MachineKernel): string {
  return `${hzPlatformText(k)}  ${tableFreeingText(k.tableFreeing)}`;
}
