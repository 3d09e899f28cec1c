// custom: a scenario whose tasks are data - `scenario: custom` in a scenario file, with `tasks` (task groups: a
// module and export, a name, how many on each CPU and on which CPUs, their args), `locks`, `modules` (the built-in
// kernel modules by name, or yours by path) and the `figures` to report. It runs, compares and sweeps like the
// built-in scenarios. Its figures are generic, per task group (a group is a task's name without its instance
// number): allocation p99 and failures, pages reclaimed and memory stalls when the reclaim module is loaded, page
// faults when mm is, allocations granted otherwise; and the machine's figures.
import { resolve } from 'node:path';
import type { RunOptions, RunResult, TaskSpec } from '@faultline/engine';
import { mmLineLocks, mmModulePath, VMA_SLOTS_DEFAULT } from '@faultline/mm';
import { rcuModulePath } from '@faultline/rcu';
import { reclaimModulePath } from '@faultline/reclaim';
import {
  groupFaults,
  groupMemstallNs,
  groupReclaim,
  mergeGroupLatency,
  systemFigures,
  type TaskGroup,
} from './figures.js';
import { defineScenario, machineOf, reclaimArgsOf, ScenarioError, type ScenarioOptions } from './scenario.js';

/** A task group as a scenario file gives it. */
export interface CustomTaskGroup {
  readonly module: string;
  readonly export?: string;
  readonly name?: string;
  /** Instances on each of its CPUs (default 1). */
  readonly perCpu?: number;
  /** Its CPUs: a list, or 'all' (default), or 'all-but-0'. */
  readonly cpus?: readonly number[] | 'all' | 'all-but-0';
  readonly args?: Readonly<Record<string, unknown>>;
}

export interface CustomParts {
  readonly tasks: readonly CustomTaskGroup[];
  readonly locks?: Readonly<Record<string, 'spinlock' | 'mutex' | 'rwsem' | 'line'>>;
  readonly modules?: ReadonlyArray<
    string | { readonly module: string; readonly args?: Readonly<Record<string, unknown>> }
  >;
  readonly figures?: readonly string[];
}

/** The kernel modules a scenario file may name instead of a path. */
export const BUILTIN_MODULES: Readonly<Record<string, string>> = {
  rcu: rcuModulePath,
  reclaim: reclaimModulePath,
  mm: mmModulePath,
};

const groupName = (spec: CustomTaskGroup) =>
  spec.name ??
  `${spec.module.replace(/^.*[\\/]/, '').replace(/\.[cm]?[jt]s$/, '')}${spec.export && spec.export !== 'default' ? `.${spec.export}` : ''}`;

function cpusOf(c: CustomTaskGroup['cpus'], cpus: number): number[] {
  if (c === undefined || c === 'all') return Array.from({ length: cpus }, (_, i) => i);
  if (c === 'all-but-0') return Array.from({ length: Math.max(1, cpus - 1) }, (_, i) => Math.min(cpus - 1, i + 1));
  for (const x of c)
    if (x >= cpus) throw new ScenarioError(`tasks: cpu ${x} does not exist on ${cpus} CPUs; allowed: 0 .. ${cpus - 1}`);
  return [...c];
}

function modulesOf(parts: CustomParts, o: ScenarioOptions): NonNullable<RunOptions['modules']> {
  return (parts.modules ?? []).map((m) => {
    const spec = typeof m === 'string' ? { module: m } : m;
    const path = BUILTIN_MODULES[spec.module] ?? resolve(spec.module);
    // The reclaim module takes the description's scanNsPerPage unless its own args say otherwise.
    const args = spec.module === 'reclaim' ? { ...reclaimArgsOf(o), ...(spec.args ?? {}) } : (spec.args ?? {});
    return { module: path, args };
  });
}

/** With the built-in mm module in a run that charges cache lines, the lines its faults update (mm lines.ts: the
 * address spaces' lines, the LRU lock's, the memcg page counters'), which the description need not list. */
function mmLinesOf(parts: CustomParts, o: ScenarioOptions): Record<string, { kind: 'line' }> {
  if (o.coherence !== 'lines') return {};
  const mm = (parts.modules ?? []).find((m) => (typeof m === 'string' ? m : m.module) === 'mm');
  if (mm === undefined) return {};
  const args = (typeof mm === 'string' ? {} : (mm.args ?? {})) as {
    mms?: unknown[];
    vmaSlots?: number;
    memcgLevels?: number;
  };
  const mms = Array.isArray(args.mms) ? args.mms.length : 1;
  const slots = typeof args.vmaSlots === 'number' ? args.vmaSlots : VMA_SLOTS_DEFAULT;
  return mmLineLocks(mms, slots, typeof args.memcgLevels === 'number' ? args.memcgLevels : undefined);
}

/** The generic figures of a run, per task group. */
function genericFigures(r: RunResult): Record<string, number> {
  const names = [...new Set(r.config.tasks.map((t) => t.name.replace(/\/\d+$/, '').replace(/\.\d+$/, '')))];
  const out: Record<string, number> = {};
  for (const label of names) {
    const g: TaskGroup = { label, match: (n) => n.replace(/\/\d+$/, '').replace(/\.\d+$/, '') === label };
    const tasks = r.tasks.filter((t) => g.match(t.name));
    const allocs = tasks.flatMap((t) => Object.values(t.allocs));
    out[`${label} allocations granted`] = allocs.reduce((s, a) => s + a.granted, 0);
    if (r.modules.reclaim) {
      out[`${label} alloc p99 (us)`] = mergeGroupLatency(r, g).p99Ns / 1e3;
      const rc = groupReclaim(r, g);
      out[`${label} alloc failures`] = rc.allocFailures;
      out[`${label} reclaimed`] = rc.pagesReclaimed;
      out[`${label} reclaim stall (ms)`] = rc.stallNs / 1e6;
      out[`${label} memstall (ms)`] = groupMemstallNs(r, g) / 1e6;
    }
    if (r.modules.mm) {
      const f = groupFaults(r, g);
      out[`${label} faults`] = f.faults;
      out[`${label} fault mean (us)`] = f.faults ? f.faultNs / f.faults / 1e3 : 0;
    }
  }
  return r.modules.reclaim ? { ...out, ...systemFigures(r) } : out;
}

export const custom = defineScenario({
  name: 'custom',
  params: {},
  build(o) {
    const parts = o.custom;
    if (!parts || parts.tasks.length === 0) {
      throw new ScenarioError('custom: tasks: give at least one task group ({ module, export, perCpu, cpus, args })');
    }
    const tasks: TaskSpec[] = parts.tasks.map((t) => ({
      module: resolve(t.module),
      export: t.export ?? 'default',
      name: groupName(t),
      cpus: cpusOf(t.cpus, o.cpus),
      perCpu: t.perCpu ?? 1,
      args: t.args ?? {},
    }));
    return {
      cpus: o.cpus,
      ...(o.workers ? { workers: o.workers } : {}),
      seed: o.seed,
      duration: o.duration,
      ...(o.window ? { window: o.window } : {}),
      ...machineOf(o),
      locks: {
        ...Object.fromEntries(Object.entries(parts.locks ?? {}).map(([name, kind]) => [name, { kind }])),
        ...mmLinesOf(parts, o),
      },
      modules: modulesOf(parts, o),
      tasks,
    };
  },
  figures(r, _params, parts?: CustomParts) {
    const all = genericFigures(r);
    if (!parts?.figures) return all;
    const unknown = parts.figures.filter((f) => !(f in all));
    if (unknown.length > 0) {
      throw new ScenarioError(
        `figures: ${unknown.join(', ')} not among this run's figures; allowed: ${Object.keys(all).join(', ')}`,
      );
    }
    return Object.fromEntries(parts.figures.map((f) => [f, all[f]!]));
  },
});
