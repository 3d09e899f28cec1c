// config: a run's configuration, validated with zod and resolved into the plain object every worker receives.
// Everything that changes what happens in a run is in here, so the same resolved config and seed give the same run.
import { TRACE_MAX_EVENTS_DEFAULT } from './trace-log.js';
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { KERNEL_BEHAVIOURS, KERNEL_DEFAULT, type KernelBehaviour } from '@faultline/gfp';
import {
  BOOT_MEMORY_MIB_MIN,
  bootNode,
  THP_MODES,
  VM_TUNABLES_DEFAULT,
  ZoneConfigError,
  type ThpMode,
  type VmTunables,
} from '@faultline/zone';
import {
  COSTS_DEFAULT,
  PREEMPT_MODELS,
  SCHEDULERS,
  schedTunableFactor,
  type Costs,
  type PreemptModel,
  type SchedulerKind,
} from './costs.js';
import { LOCK_KINDS, LOCK_WAKE_RULES, type LockSpec, type LockWakeRule } from './locks.js';
import { parseDurationNs } from './time.js';
import { defaultWorkers, workersKeepLlcs } from './worker-placement.js';
import { llcsOf, resolveTopology, type RunTopology, topologySchema } from './topology.js';

/** Whether a run on a topology charges lock words' cache lines (line-server.ts). */
export const COHERENCE_MODES = ['lines', 'off'] as const;
export type CoherenceMode = (typeof COHERENCE_MODES)[number];

export const RUN_CPUS_MAX = 1024;
export const RUN_TASKS_MAX = 4096;
export const RING_SLOTS_DEFAULT = 4096;
/** The window every run gets unless it says otherwise: chosen from scripts/convergence.mjs's table (BENCHMARKS.md),
 * where the built-in scenarios' headline figures stay within a few percent of their 1 us values. */
export const WINDOW_DEFAULT = '2us';
/** How long (host time) a window may take before the run is ended as hung. */
export const WATCHDOG_DEFAULT = '30s';
export const WINDOW_NS_MIN = 100;
export const MEMORY_MIB_DEFAULT = 256;
export const MEMORY_MIB_MAX = 65_536;
/** The memory layouts a run may ask for. 'kernel': the node the kernel builds at boot for the machine's size and
 * CPUs (@faultline/zone boot.ts: DMA, DMA32 and Normal above 4 GiB, managed pages after the boot reservations,
 * THP's min_free_kbytes). 'one-zone': one Normal zone of exactly memoryMiB, sized by the zone formulas alone (small
 * machines and tests of the engine's own mechanics). */
export const MEMORY_LAYOUTS = ['kernel', 'one-zone'] as const;
export type MemoryLayout = (typeof MEMORY_LAYOUTS)[number];
export const MEMORY_LAYOUT_DEFAULT: MemoryLayout = 'kernel';
export const RUN_LOCKS_MAX = 65_536;
export const RUN_MODULES_MAX = 32;
/** CONFIG_HZ values the kernel offers (kernel/Kconfig.hz); Debian's 6.1 and 6.12 are built with 250
 * (kernel-facts §10), so a jiffy is 4 ms unless a run says otherwise. */
export const HZ_VALUES = [100, 250, 300, 1000] as const;
export type Hz = (typeof HZ_VALUES)[number];
export const HZ_DEFAULT: Hz = 250;
/** Where the kernel runs: on bare metal (and under emulation without a paravirt hook, as QEMU's TCG) or as a
 * paravirtualised guest (KVM, Xen, Hyper-V), which changes how x86 frees page tables (kernel-facts §10). */
export const PLATFORMS = ['bare-metal', 'paravirt'] as const;
export type Platform = (typeof PLATFORMS)[number];
/** How unmapped page tables are freed (mm/mmu_gather.c): 'native' after the TLB flush, as x86's
 * native_tlb_remove_table -> tlb_remove_page does on bare metal before CONFIG_PT_RECLAIM (about 6.14); 'rcu'
 * through tlb_remove_table's batches and call_rcu (MMU_GATHER_RCU_TABLE_FREE), as a paravirt guest does. */
export const TABLE_FREEING = ['native', 'rcu'] as const;
export type TableFreeing = (typeof TABLE_FREEING)[number];

/** The fair scheduler a kernel runs by default: CFS up to 6.5 (v5.18, v6.4), EEVDF from 6.6 (merged in 6.6; v6.3+
 * stands for today's kernels, Debian's 6.12 among them). */
export function schedulerOf(kernel: KernelBehaviour): SchedulerKind {
  return kernel === 'v6.3+' ? 'eevdf' : 'cfs';
}

/** The freeing a platform gives by default (arch/x86/kernel/paravirt.c: paravirt_tlb_remove_table). */
export function tableFreeingOf(platform: Platform): TableFreeing {
  return platform === 'paravirt' ? 'rcu' : 'native';
}

const duration = z.union([z.string(), z.number()]);

const taskSpecSchema = z
  .object({
    /** Path of the module (JavaScript or TypeScript), relative to the working directory. */
    module: z.string().min(1),
    /** Which export: 'default' unless named. */
    export: z.string().min(1).default('default'),
    name: z.string().min(1).optional(),
    /** The CPUs it starts on, one instance each (times perCpu); default: every CPU. */
    cpus: z.array(z.number().int().min(0)).min(1).optional(),
    perCpu: z.number().int().min(1).max(1024).default(1),
    args: z.record(z.string(), z.unknown()).default({}),
    /** true (default): it runs only on the CPU it starts on (a kthread bound there, a thread with one CPU in its
     * affinity); false: a woken task that finds its CPU busy moves to an idle CPU of its last-level cache
     * (balance.ts: select_idle_sibling). */
    pinned: z.boolean().default(true),
  })
  .strict();

const lockSpecSchema = z
  .object({
    kind: z.enum(LOCK_KINDS),
    /** The CPU that may take it at once before anyone has used it. */
    home: z.number().int().min(0).optional(),
  })
  .strict();

const moduleSpecSchema = z
  .object({
    /** Path of a kernel module (JavaScript or TypeScript), relative to the working directory. */
    module: z.string().min(1),
    export: z.string().min(1).default('default'),
    args: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();

/** The vm sysctls a run may set (the boot-time node's tunables; boot.ts validates their ranges).
 * vm.watermark_boost_factor is not here: the model has no fragmentation events to boost on. */
const vmSchema = z
  .object({
    minFreeKbytes: z.number().int().optional(),
    watermarkScaleFactor: z.number().int().optional(),
    lowmemReserveRatio: z.tuple([z.number().int(), z.number().int(), z.number().int()]).optional(),
    percpuPagelistHighFraction: z.number().int().optional(),
  })
  .strict();

const costsSchema = z
  .object(
    Object.fromEntries(
      Object.keys(COSTS_DEFAULT).map((k) => [k, z.number().int().min(0).max(10_000_000_000).optional()]),
    ),
  )
  .strict();

export const runOptionsSchema = z
  .object({
    cpus: z.number().int().min(1).max(RUN_CPUS_MAX),
    /** Worker threads hosting the CPUs: 1 .. cpus; default min(cpus, the host's cores). */
    workers: z.number().int().min(1).max(RUN_CPUS_MAX).optional(),
    /** CPUs that share a last-level cache (the scheduler's LLC domain, sd_llc): CPUs 0 .. n-1, n .. 2n-1, ...
     * Unpinned tasks move only within theirs, and one worker hosts each. Default: all the CPUs. */
    llcCpus: z.number().int().min(1).max(RUN_CPUS_MAX).optional(),
    /** The machine the CPUs are on (topology.ts): a preset's name or a description, and where the run's CPUs sit;
     * its last-level caches are then the ones unpinned tasks move within. */
    topology: topologySchema.optional(),
    /** With a topology: 'lines' charges every atomic on a lock's word the cache-line transfers its CPU waits for
     * (line-server.ts; a first version, not yet checked against the kernel); 'off' (default) charges none. */
    coherence: z.enum(COHERENCE_MODES).optional(),
    seed: z.string().min(1).max(200),
    duration,
    window: duration.default(WINDOW_DEFAULT),
    memoryMiB: z.number().int().min(4).max(MEMORY_MIB_MAX).default(MEMORY_MIB_DEFAULT),
    memoryLayout: z.enum(MEMORY_LAYOUTS).default(MEMORY_LAYOUT_DEFAULT),
    /** Transparent huge pages (kernel layout only): the mode sets khugepaged's min_free_kbytes. Default: the
     * kernel's choice for the size. */
    thp: z.enum(THP_MODES).optional(),
    /** vm sysctls of the boot-time node (kernel layout only). */
    vm: vmSchema.optional(),
    kernel: z.enum(KERNEL_BEHAVIOURS).default(KERNEL_DEFAULT),
    /** CONFIG_HZ: the scheduler tick (RCU's quiescent-state reports, jiffy-based timeouts). Default 250. */
    hz: z
      .number()
      .refine((v) => (HZ_VALUES as readonly number[]).includes(v), { message: `allowed: ${HZ_VALUES.join(', ')}` })
      .default(HZ_DEFAULT),
    platform: z.enum(PLATFORMS).default('bare-metal'),
    /** Each CPU's fair scheduler: 'cfs' (6.1's) or 'eevdf' (6.12's); default the kernel's (schedulerOf). */
    scheduler: z.enum(SCHEDULERS).optional(),
    /** The preemption model: 'voluntary' (default, Debian's boot default of PREEMPT_DYNAMIC) or 'full'. */
    preempt: z.enum(PREEMPT_MODELS).default('voluntary'),
    /** What a sleeping writer or mutex waiter gets at the release: 'wake' (default, kernel/locking's: it is woken
     * and takes the lock itself when it runs, the lock free meanwhile) or 'grant' (handed the lock then, held while
     * it waits for its CPU: the engine's earlier rule, to measure the difference). */
    lockWake: z.enum(LOCK_WAKE_RULES).default('wake'),
    /** How page tables are freed; default: the platform's (tableFreeingOf). A module may require one. */
    tableFreeing: z.enum(TABLE_FREEING).optional(),
    tasks: z.array(taskSpecSchema).min(1).max(RUN_TASKS_MAX),
    costs: costsSchema.default({}),
    ringSlots: z
      .number()
      .int()
      .min(16)
      .max(1 << 20)
      .default(RING_SLOTS_DEFAULT),
    /** Locks tasks may take, by name: { mmap_lock: { kind: 'rwsem' } }. */
    locks: z.record(z.string().min(1), lockSpecSchema).default({}),
    /** Kernel modules loaded in every worker (hooks.ts). */
    modules: z.array(moduleSpecSchema).max(RUN_MODULES_MAX).default([]),
    /** Host time a window may take before the run is ended as hung (a task that never yields): a duration such as
     * '30s', or 0 for never. Host supervision only: it changes no simulated result. */
    watchdog: z.union([z.string(), z.literal(0)]).default(WATCHDOG_DEFAULT),
    /** Record a trace for Perfetto (trace-log.ts): true, or the bound on events per CPU. Changes no result. */
    trace: z
      .union([z.boolean(), z.object({ maxEventsPerCpu: z.number().int().min(1).max(50_000_000) }).strict()])
      .default(false),
  })
  .strict();

export type RunOptions = z.input<typeof runOptionsSchema>;
export type TaskSpec = z.input<typeof taskSpecSchema>;
export type ModuleSpec = z.output<typeof moduleSpecSchema>;

export interface TaskInstance {
  readonly id: number;
  readonly name: string;
  readonly module: string;
  readonly export: string;
  readonly cpu: number;
  readonly args: Readonly<Record<string, unknown>>;
  /** It stays on `cpu`; else it may move within its last-level cache (balance.ts). */
  readonly pinned: boolean;
}

export interface MemoryConfig {
  readonly mib: number;
  readonly layout: MemoryLayout;
  /** The THP mode in effect (kernel layout), or null (one zone). */
  readonly thp: ThpMode | null;
  /** The vm tunables in effect (kernel layout), or null. */
  readonly vm: VmTunables | null;
}

export interface RunConfig {
  readonly cpus: number;
  readonly workers: number;
  /** CPUs per last-level cache (balance.ts); the run's, or all the CPUs (without a topology). */
  readonly llcCpus: number;
  /** Each CPU's last-level cache (the topology's, or blocks of llcCpus). */
  readonly llcOf: readonly number[];
  /** The machine and where the run's CPUs sit on it, when the run gives one. */
  readonly topology: RunTopology | null;
  /** Whether lock words' cache lines are charged ('lines': a topology and not turned off). */
  readonly coherence: CoherenceMode;
  readonly seed: string;
  readonly durationNs: number;
  readonly windowNs: number;
  readonly memory: MemoryConfig;
  readonly kernel: KernelBehaviour;
  /** CONFIG_HZ and its jiffy in ns. */
  readonly hz: Hz;
  readonly jiffyNs: number;
  readonly platform: Platform;
  /** Each CPU's fair scheduler: the run's, or the kernel's default (schedulerOf). */
  readonly scheduler: SchedulerKind;
  /** Where a running task may be preempted (costs.ts PREEMPT_MODELS). */
  readonly preempt: PreemptModel;
  /** What a sleeping lock waiter gets at the release (locks.ts LOCK_WAKE_RULES). */
  readonly lockWake: LockWakeRule;
  /** How page tables are freed, and whether the run said so (a module needing the other one then refuses the run)
   * or it is the platform's default (a module needing 'rcu' may then ask for it, as a kernel built for it would). */
  readonly tableFreeing: TableFreeing;
  readonly tableFreeingExplicit: boolean;
  readonly costs: Costs;
  readonly ringSlots: number;
  readonly tasks: readonly TaskInstance[];
  readonly locks: readonly LockSpec[];
  readonly modules: readonly ModuleSpec[];
  /** Host milliseconds without a window completed before the run is ended as hung; 0 for never. */
  readonly watchdogMs: number;
  /** Events each CPU records for a trace, or 0 when the run is not traced. */
  readonly traceMaxEvents: number;
}

/** A configuration that does not validate; the message names each field and what is allowed. */
export class RunConfigError extends Error {
  override readonly name = 'RunConfigError';
  constructor(readonly issues: readonly string[]) {
    super(`invalid run configuration:\n  ${issues.join('\n  ')}`);
  }
}

export function resolveRunConfig(options: RunOptions, hostCores: number): RunConfig {
  const parsed = runOptionsSchema.safeParse(options);
  if (!parsed.success) {
    throw new RunConfigError(parsed.error.issues.map((i) => `${i.path.join('.') || '(options)'}: ${i.message}`));
  }
  const o = parsed.data;
  const issues: string[] = [];
  const ns = (v: string | number, field: string): number => {
    try {
      return parseDurationNs(v, field);
    } catch (e) {
      issues.push((e as Error).message);
      return 0;
    }
  };
  const durationNs = ns(o.duration, 'duration');
  const windowNs = ns(o.window, 'window');
  const watchdogMs = o.watchdog === 0 || o.watchdog === '0' ? 0 : ns(o.watchdog, 'watchdog') / 1e6;
  if (watchdogMs !== 0 && watchdogMs < 100 && issues.length === 0)
    issues.push(`watchdog: ${o.watchdog} is too short; allowed: 0 (never) or at least 100ms of host time`);
  if (durationNs <= 0 && issues.length === 0) issues.push('duration: must be more than 0');
  if (windowNs < WINDOW_NS_MIN && issues.length === 0)
    issues.push(`window: ${windowNs} ns is too short; allowed: at least ${WINDOW_NS_MIN} ns`);
  // By default fewer worker threads than the host has cores, and only as many as the CPUs give work to (see
  // defaultWorkers). The digest is the same for any number of workers, so this changes speed only.
  let workers = o.workers ?? defaultWorkers(o.cpus, hostCores);
  if (workers > o.cpus) issues.push(`workers: ${workers} is more than cpus (${o.cpus}); allowed: 1 .. ${o.cpus}`);
  const llcCpus = Math.min(o.llcCpus ?? o.cpus, o.cpus);
  if (o.topology !== undefined && o.llcCpus !== undefined)
    issues.push("llcCpus: the topology's last-level caches decide; give one of llcCpus and topology");
  const topology = o.topology === undefined ? null : resolveTopology(o.topology, o.cpus, issues);
  const llcOf = topology ? llcsOf(topology) : Array.from({ length: o.cpus }, (_, c) => Math.floor(c / llcCpus));
  if (o.coherence === 'lines' && o.topology === undefined)
    issues.push(`coherence: 'lines' needs a topology (the transfers' latencies); allowed: a topology, or 'off'`);
  const coherence: CoherenceMode = topology ? (o.coherence ?? 'off') : 'off';
  const tasks = resolveTasks(o, issues);
  // A task that moves stays in its worker's memory: each last-level cache an unpinned task may move within is hosted
  // by one worker, whatever the worker count (so the digest stays the same for any).
  if (tasks.some((t) => !t.pinned) && !workersKeepLlcs(workers, llcOf)) {
    const fits = Array.from({ length: o.cpus }, (_, i) => i + 1).filter((w) => workersKeepLlcs(w, llcOf));
    if (o.workers === undefined) workers = fits.filter((w) => w <= workers).at(-1) ?? 1;
    else
      issues.push(
        `workers: ${workers} would split a last-level cache (${topology ? 'the topology' : `llcCpus ${llcCpus}`}) ` +
          `that unpinned tasks move within; allowed: ${fits.join(', ')} (or pin the tasks${topology ? '' : ', or set llcCpus'})`,
      );
  }
  if (tasks.length > RUN_TASKS_MAX)
    issues.push(`tasks: ${tasks.length} task instances; allowed: at most ${RUN_TASKS_MAX}`);
  const perCpu = new Array<number>(o.cpus).fill(0);
  for (const t of tasks) if (t.cpu < o.cpus && t.pinned) perCpu[t.cpu]!++;
  // Unpinned tasks may all gather on one CPU of their last-level cache.
  const perLlc = new Map<number, number>();
  for (const t of tasks)
    if (t.cpu < o.cpus && !t.pinned) perLlc.set(llcOf[t.cpu]!, (perLlc.get(llcOf[t.cpu]!) ?? 0) + 1);
  const busiest = Math.max(...perCpu.map((n, c) => n + (perLlc.get(llcOf[c]!) ?? 0)));
  // A waiting task may get two lock answers in one commit (a spin stop and a grant), and a CPU a line debt.
  const answers = 2 * busiest + (coherence === 'lines' ? 1 : 0);
  if (answers > o.ringSlots)
    issues.push(
      `ringSlots: ${o.ringSlots} is fewer than the ${answers} lock answers one CPU may get (two for each of its ` +
        `${busiest} tasks${coherence === 'lines' ? ', and a line debt' : ''}); allowed: at least ${answers}`,
    );
  const locks: LockSpec[] = Object.entries(o.locks).map(([name, l]) => ({ name, ...l }));
  if (locks.length > RUN_LOCKS_MAX) issues.push(`locks: ${locks.length} locks; allowed: at most ${RUN_LOCKS_MAX}`);
  for (const l of locks)
    if (l.home !== undefined && l.home >= o.cpus)
      issues.push(`locks.${l.name}.home: cpu ${l.home} does not exist; allowed: 0 .. ${o.cpus - 1}`);
  const modules = o.modules.map((m) => ({ ...m, module: isAbsolute(m.module) ? m.module : resolve(m.module) }));
  const memory = resolveMemory(o, issues);
  if (o.costs.baseSliceNs === 0) issues.push('costs.baseSliceNs: 0 would never let a task run; allowed: at least 1');
  if (issues.length) throw new RunConfigError(issues);
  const scheduler = o.scheduler ?? schedulerOf(o.kernel);
  const jiffyNs = Math.round(1e9 / o.hz);
  return {
    cpus: o.cpus,
    workers,
    llcCpus,
    llcOf,
    topology,
    coherence,
    seed: o.seed,
    durationNs,
    windowNs,
    memory: memory!,
    kernel: o.kernel,
    hz: o.hz as Hz,
    jiffyNs,
    platform: o.platform,
    scheduler,
    preempt: o.preempt,
    lockWake: o.lockWake,
    tableFreeing: o.tableFreeing ?? tableFreeingOf(o.platform),
    tableFreeingExplicit: o.tableFreeing !== undefined,
    costs: resolveCosts(o, jiffyNs),
    ringSlots: o.ringSlots,
    tasks,
    locks,
    modules,
    watchdogMs,
    traceMaxEvents: o.trace === false ? 0 : o.trace === true ? TRACE_MAX_EVENTS_DEFAULT : o.trace.maxEventsPerCpu,
  };
}

/** The task instances the run places: each spec's module resolved, `perCpu` instances on each of its CPUs, numbered
 * in that order and named after the module (and export) unless the spec names them. */
function resolveTasks(o: z.output<typeof runOptionsSchema>, issues: string[]): TaskInstance[] {
  const tasks: TaskInstance[] = [];
  o.tasks.forEach((spec, i) => {
    const cpus = spec.cpus ?? Array.from({ length: o.cpus }, (_, c) => c);
    for (const c of cpus)
      if (c >= o.cpus) issues.push(`tasks.${i}.cpus: cpu ${c} does not exist; allowed: 0 .. ${o.cpus - 1}`);
    const module = isAbsolute(spec.module) ? spec.module : resolve(spec.module);
    const base =
      spec.name ??
      spec.module.replace(/^.*[\\/]/, '').replace(/\.[cm]?[jt]s$/, '') +
        (spec.export === 'default' ? '' : `.${spec.export}`);
    for (const cpu of cpus)
      for (let k = 0; k < spec.perCpu; k++)
        tasks.push({
          id: tasks.length,
          name: `${base}/${tasks.length}`,
          module,
          export: spec.export,
          cpu,
          args: spec.args,
          pinned: spec.pinned ?? true,
        });
  });
  return tasks;
}

/** The run's costs: the defaults, the scheduler's tunables scaled for the CPU count as the kernel scales them
 * (update_sysctl), the rwsem handoff from HZ, then what the run sets. */
function resolveCosts(o: z.output<typeof runOptionsSchema>, jiffyNs: number): Costs {
  const costs: Costs = {
    ...COSTS_DEFAULT,
    wakeupGranularityNs: COSTS_DEFAULT.wakeupGranularityNs * schedTunableFactor(o.cpus),
    sleeperCreditNs: COSTS_DEFAULT.sleeperCreditNs * schedTunableFactor(o.cpus),
    baseSliceNs: COSTS_DEFAULT.baseSliceNs * schedTunableFactor(o.cpus),
    // RWSEM_WAIT_TIMEOUT (kernel/locking/rwsem.c): DIV_ROUND_UP(HZ, 250) jiffies.
    rwsemHandoffNs: Math.ceil(o.hz / 250) * jiffyNs,
    ...(o.costs as Partial<Costs>),
  };
  return {
    ...costs,
    // entity_lag's clamp: calc_delta_fair(max(2 * slice, TICK_NSEC)), from the base slice in effect.
    lagLimitNs: o.costs.lagLimitNs ?? Math.max(2 * costs.baseSliceNs, jiffyNs),
  };
}

/** The memory the run builds, checked here so that a bad size or tunable fails before any worker starts. */
function resolveMemory(o: z.output<typeof runOptionsSchema>, issues: string[]): MemoryConfig | null {
  if (o.memoryLayout === 'one-zone') {
    if (o.thp !== undefined) issues.push(`thp: '${o.thp}' needs memoryLayout 'kernel' (one zone has no THP rule)`);
    if (o.vm !== undefined) issues.push(`vm: the vm tunables need memoryLayout 'kernel'`);
    return { mib: o.memoryMiB, layout: 'one-zone', thp: null, vm: null };
  }
  if (o.memoryMiB < BOOT_MEMORY_MIB_MIN) {
    issues.push(
      `memoryMiB: ${o.memoryMiB} is too small for the kernel's layout; allowed: ${BOOT_MEMORY_MIB_MIN} .. ` +
        `${MEMORY_MIB_MAX}, or memoryLayout 'one-zone' for a single zone of that size`,
    );
    return null;
  }
  const vm = Object.fromEntries(Object.entries(o.vm ?? {}).filter(([, v]) => v !== undefined)) as Partial<VmTunables>;
  try {
    const b = bootNode({ memoryMiB: o.memoryMiB, cpus: o.cpus, ...(o.thp ? { thp: o.thp } : {}), tunables: vm });
    return { mib: o.memoryMiB, layout: 'kernel', thp: b.thp, vm: { ...VM_TUNABLES_DEFAULT, ...vm } };
  } catch (e) {
    if (!(e instanceof ZoneConfigError)) throw e;
    issues.push(`${e.message} (the machine's memory layout)`);
    return null;
  }
}
