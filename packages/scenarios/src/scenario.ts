// scenario: what a scenario is - a named, documented way to build a run from a few user-facing options - and the
// registry of built-in ones. An unknown name is refused with the list of choices.
import type { RunOptions, RunResult } from '@faultline/engine';
import { BUILTIN_POLICIES } from '@faultline/mm';

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
  readonly kernel?: 'v5.18' | 'v6.3+';
  /** The reclaim module's scanNsPerPage: CPU time a reclaimer spends per page it wants (default 200 ns,
   * calibrated against the real kernel: CALIBRATION.md). */
  readonly scanNsPerPage?: number;
}

/** The machine a scenario runs on, from its options: memory (default 256 MiB), layout, THP and kernel. */
export function machineOf(o: ScenarioOptions): Pick<RunOptions, 'memoryMiB' | 'memoryLayout' | 'thp' | 'vm' | 'kernel'> {
  return {
    memoryMiB: o.memoryMiB ?? 256,
    ...(o.memoryLayout ? { memoryLayout: o.memoryLayout } : {}),
    ...(o.thp ? { thp: o.thp } : {}),
    ...(o.vm ? { vm: o.vm } : {}),
    ...(o.kernel ? { kernel: o.kernel } : {}),
  };
}

/** The reclaim module's args a scenario takes from its options. */
export function reclaimArgsOf(o: ScenarioOptions): Record<string, unknown> {
  return o.scanNsPerPage === undefined ? {} : { scanNsPerPage: o.scanNsPerPage };
}

/** A row of figures for the comparison table: label -> number (NaN where it does not apply). */
export type ScenarioFigures = Record<string, number>;

export interface Scenario {
  readonly name: string;
  readonly summary: string;
  /** Defaults for what the user did not say. */
  readonly defaults: { readonly cpus: number; readonly duration: string; readonly policy: string };
  build(o: ScenarioOptions): RunOptions;
  /** The figures a person compares across policies, from a finished run. */
  figures(r: RunResult): ScenarioFigures;
}

export const POLICIES = Object.keys(BUILTIN_POLICIES);

export class ScenarioError extends Error {
  override readonly name = 'ScenarioError';
}

export function checkPolicy(policy: string): string {
  if (!POLICIES.includes(policy)) throw new ScenarioError(`unknown policy '${policy}'; allowed: ${POLICIES.join(', ')}`);
  return policy;
}
