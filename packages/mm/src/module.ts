// module: address spaces and the page-fault handler as a faultline kernel module. Load it (with rcu and reclaim)
// and declare each address space's mmap_lock (mmRunParts builds both). A task's `ctx.touch(address)` faults when
// the address has no data page: the task's policy (its args.policy, else the module's) runs in its context.
// Worker 0 creates the address spaces (a PGD each, the initial VMAs) before the first window; the commit worker
// (another worker when there are several: parallelCommit) commits the page-table logs between windows.
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { RunConfig, TableFreeing, TaskContext } from '@faultline/engine';
import {
  defineKernelModule,
  importByPath,
  moduleState,
  parseModuleArgs,
  type CpuHooks,
  type KernelCpu,
  type KernelPath,
} from '@faultline/engine/module';
import { rcuModulePath } from '@faultline/rcu';
import { reclaimModulePath } from '@faultline/reclaim';
import { AddressSpace } from './address-space.js';
import { MmCommitter } from './commit.js';
import {
  MM_PGD,
  T_FAULT_NS,
  T_FAULTS,
  TASK_COUNTERS,
  TASK_COUNTERS_IF_USED,
  TASK_F64,
  VMA_FILE,
  ZERO_PAGE_PFN,
  mmBase,
  mmLayout,
  type MmLayout,
} from './layout.js';
import { TaskFault, type FaultCosts } from './fault-context.js';
import { MmCpu } from './mm-cpu.js';
import { LEVEL_NAMES, LEVEL_PAGE, keyLevel, pageTableKey } from './page-table.js';
import { MEMCG_LEVELS_DEFAULT, memcgUsageLineName, mmLineLocks } from './lines.js';
import { BUILTIN_POLICIES, machinePolicy, type FaultMachinePolicy, type FaultPolicy } from './policies.js';

export const mmModulePath = fileURLToPath(import.meta.url);
/** mm_struct's layouts around mmap_lock that the mm module knows (its mmStructLayout arg). */
export const MM_STRUCT_LAYOUTS = ['kernel', 'v6.2', 'v6.3'] as const;
export type MmStructLayout = (typeof MM_STRUCT_LAYOUTS)[number];

/** VMA slots an address space has unless its args say otherwise. */
export const VMA_SLOTS_DEFAULT = 64;
export const PAGE_BYTES = 4096;

const argsSchema = z
  .object({
    /** Address spaces, each with its initial VMAs (start address, pages). Tasks name theirs with args.mm. */
    mms: z
      .array(
        z.object({
          vmas: z
            .array(
              z
                .object({
                  start: z.number().int().min(0),
                  pages: z.number().int().min(1),
                  file: z.boolean().default(false),
                })
                .strict(),
            )
            .default([]),
        }),
      )
      .min(1)
      .default([{ vmas: [] }]),
    /** The default fault policy; a task's args.policy wins. */
    policy: z.string().default('classic'),
    /** Policies of your own: modules exporting an XState fault machine (or { machine, steps, guards }), or a generator
     * function of the FaultContext. */
    policies: z
      .array(
        z.object({
          name: z.string().min(1),
          module: z.string().min(1),
          export: z.string().default('default'),
          /** It walks page tables under rcu_read_lock alone (as a speculative fault does): the run must free page
           * tables through RCU, so a machine that frees them natively is refused (tableFreeing). */
          walksTablesUnderRcu: z.boolean().default(false),
        }),
      )
      .default([]),
    /** munmap downgrades mmap_lock to read for its zap (mm/mmap.c, since 4.20); false holds it for write throughout,
     * as before, to measure what the downgrade changes. */
    munmapDowngrade: z.boolean().default(true),
    vmaSlots: z.number().int().min(1).max(4096).default(VMA_SLOTS_DEFAULT),
    tableSlots: z
      .number()
      .int()
      .min(64)
      .max(1 << 24)
      .default(1 << 16),
    slots: z
      .number()
      .int()
      .min(16)
      .max(1 << 20)
      .default(8192),
    ptlNs: z.number().int().min(0).default(50),
    /** The speculative entry's cost beyond the classic one: reading mmap_seq at entry and at the end, copying the
     * VMA (Lespinasse's SPF series). An assumption, of the order of a few cache-hot loads and a 200-byte copy. */
    spfEntryNs: z.number().int().min(0).default(30),
    /** The VMA's read lock: vma_start_read's down_read_trylock and vma_end_read's up_read, as an uncontended rwsem
     * (the engine's lockNs + unlockNs). */
    vmaLockNs: z.number().int().min(0).default(40),
    /** What a new anonymous page costs beyond its allocation and the PTE lock: clear_page of 4 KiB, the memcg charge
     * from the per-CPU stock, the LRU add into the per-CPU batch, the rmap (mm/memory.c, do_anonymous_page). 0 by
     * default (the scenarios calibrated before it fold it into their tasks' time); pft-threads calibrates it. */
    dataPageNs: z.number().int().min(0).default(0),
    /** mm_struct's layout around mmap_lock, for the lines a fault touches: 'v6.2' puts pgd (read by every fault,
     * pgd_offset in __handle_mm_fault) on mmap_lock's count's line, as in 6.2 and before (count at byte 112, pgd at
     * 72 of one 64-byte line); 'v6.3' moves mmap_lock to its own line (mm_cid's 16 bytes before it, 6.3);
     * 'kernel': the run's kernel's (v5.18: 'v6.2'; v6.4 and v6.3+: 'v6.3'). */
    mmStructLayout: z.enum(MM_STRUCT_LAYOUTS).default('kernel'),
    /** Where the run charges lines: what moving one new page onto the LRU list costs under lruvec->lru_lock
     * (lruvec_add_folio and folio_set_lru in folio_batch_move_lru). That part of dataPageNs is then charged under
     * the lock, a batch at a time. An estimate (a list insertion and two counters), not a measurement; the lines
     * that work writes (the list head, the previous head folio's lru.prev, lru_zone_size), last written by the
     * previous holder's CPU, are not charged beyond it (lines.ts). */
    lruAddNs: z.number().int().min(0).default(30),
    /** Where the run charges lines: the page counters a memcg charge updates, the task's memcg's and its ancestors'
     * up to the root's (lines.ts; 0: the task is in the root memcg, which try_charge does not charge). */
    memcgLevels: z.number().int().min(0).max(16).default(MEMCG_LEVELS_DEFAULT),
  })
  .strict();
export type MmArgs = z.input<typeof argsSchema>;

export const mmapLockName = (mm: number) => `mm${mm}.mmap_lock`;
/** A CPU's lru_add folio_batch holds PAGEVEC_SIZE pages (include/linux/pagevec.h): 15 up to 6.9 (the model's v5.18
 * and v6.4), 31 from 6.10 (v6.3+, today's kernels; docs/kernel-notes/fault-cachelines.md, item 10). */
const lruBatchOf = (kernel: RunConfig['kernel']) => (kernel === 'v6.3+' ? 31 : 15);
/** What try_charge_memcg charges when this CPU's memcg_stock runs out (include/linux/memcontrol.h,
 * MEMCG_CHARGE_BATCH): 32 until 6.1 raised it to 64 (the model's v5.18: 32). */
const memcgBatchOf = (kernel: RunConfig['kernel']) => (kernel === 'v5.18' ? 32 : 64);

/** A fault as the task runs it: counted, timed into T_FAULT_NS (the slot `timeAt`), and traced as
 * exceptions:page_fault_user, a slice over the whole fault (arch/x86/mm/fault.c). */
function* timedFault(f: TaskFault, policy: FaultPolicy, m: Float64Array, timeAt: number): KernelPath {
  const task = f.task;
  const t0 = task.now();
  f.count(T_FAULTS);
  if (task.tracing) task.traceBegin('page_fault_user', { address: f.address, write: f.write ? 1 : 0 });
  let r = 0;
  try {
    r = yield* policy(f) as Generator<never, number, number>;
    return r;
  } finally {
    m[timeAt]! += task.now() - t0;
    if (task.tracing) task.traceEnd({ result: r });
  }
}
/** One of a task's fault counters (TASK_COUNTERS: faults, dataPages, speculativeDone, ...). */
export type MmCounter = (typeof TASK_COUNTERS)[number];
/** A task's row in mm's report: who, and its fault counters (the zero page's only where not 0). */
export type MmTaskReport = { task: number; name: string; mm: number; policy: string } & Record<MmCounter, number> &
  Partial<Record<keyof typeof TASK_COUNTERS_IF_USED, number>>;

export interface MmReport {
  /** The tasks that faulted, with their counters. */
  readonly tasks: MmTaskReport[];
  /** Each address space's sequence count and page-table entries by level at the end ('page' counts the zero page's
   * entries too). */
  readonly mms: Array<{ id: number; seq: number; entries: Record<string, number> }>;
  readonly mmapFailures: number;
  /** How the run freed unmapped page tables (tableFreeingFor). */
  readonly tableFreeing: ReturnType<typeof tableFreeingFor>;
}

/** The mm module: its state on a CPU (attachCpu returns it), for the task API (api.ts: mmap, munmap), and its
 * report (reportOf(result, MM)). */
export const MM = moduleState<MmCpu, MmReport>('mm');

/** The run's modules and locks for address spaces: rcu, reclaim (with its args) and mm, and each mmap_lock; with
 * `lines` (a run that charges cache lines: coherence 'lines'), also each address space's lines (lines.ts). */
export function mmRunParts(args: MmArgs, reclaimArgs: Record<string, unknown> = {}, opts: { lines?: boolean } = {}) {
  const n = args.mms?.length ?? 1;
  const slots = args.vmaSlots ?? VMA_SLOTS_DEFAULT;
  const locks: Record<string, { kind: 'rwsem' | 'line' }> = {};
  for (let i = 0; i < n; i++) locks[mmapLockName(i)] = { kind: 'rwsem' };
  if (opts.lines) Object.assign(locks, mmLineLocks(n, slots, args.memcgLevels));
  return {
    modules: [
      { module: rcuModulePath },
      { module: reclaimModulePath, args: reclaimArgs },
      { module: mmModulePath, args },
    ],
    locks,
  };
}

async function loadPolicies(
  specs: ReadonlyArray<{ name: string; module: string; export: string }>,
): Promise<Record<string, FaultPolicy>> {
  const out: Record<string, FaultPolicy> = { ...BUILTIN_POLICIES };
  for (const p of specs) {
    const mod = await importByPath(p.module, `fault policy '${p.name}': module`);
    const fn = mod[p.export] as unknown;
    if (typeof fn === 'function') out[p.name] = fn as FaultPolicy;
    else if (fn !== null && typeof fn === 'object' && ('root' in fn || 'machine' in fn)) {
      try {
        out[p.name] = machinePolicy(fn as FaultMachinePolicy);
      } catch (e) {
        throw new Error(`fault policy '${p.name}': ${e instanceof Error ? e.message : String(e)}`);
      }
    } else
      throw new Error(
        `fault policy '${p.name}': module '${p.module}' export '${p.export}' is neither a generator function nor an XState machine (or { machine, steps, guards })`,
      );
  }
  return out;
}

/** The built-in policies that walk page tables under rcu_read_lock alone: the speculative ones (Lespinasse's SPF
 * series made x86 free tables through RCU for them). per-vma-lock holds the VMA's lock over its walk, classic
 * mmap_lock: both are safe with tables freed after the TLB flush. */
export const RCU_WALKING_POLICIES: readonly string[] = [
  'spf-nowait',
  'spf-nowait-literal',
  'spf-nomemalloc-retry',
  'spf-fallback',
];

/** How the run frees page tables: the machine's (RunConfig.tableFreeing), or 'rcu' when a policy in use walks
 * tables under RCU and the run did not name the freeing; named 'native' with such a policy, the run is refused. */
export function tableFreeingFor(
  config: Pick<RunConfig, 'tableFreeing' | 'tableFreeingExplicit' | 'platform'>,
  used: readonly string[],
  userPolicies: ReadonlyArray<{ name: string; walksTablesUnderRcu?: boolean }> = [],
): { freeing: TableFreeing; why: string } {
  const rcuWalkers = new Set([
    ...RCU_WALKING_POLICIES,
    ...userPolicies.filter((p) => p.walksTablesUnderRcu).map((p) => p.name),
  ]);
  const needy = [...new Set(used.filter((p) => rcuWalkers.has(p)))];
  if (needy.length === 0 || config.tableFreeing === 'rcu')
    return {
      freeing: config.tableFreeing,
      why: config.tableFreeingExplicit ? 'the run' : `the ${config.platform} platform`,
    };
  if (config.tableFreeingExplicit)
    throw new Error(
      `mm module: fault policy '${needy[0]}' walks page tables under RCU alone, which needs tableFreeing 'rcu'; ` +
        `the run asks for 'native' (tables freed after the TLB flush, no grace period). Allowed: tableFreeing 'rcu', ` +
        `platform 'paravirt', or leave tableFreeing unset`,
    );
  return { freeing: 'rcu', why: `fault policy '${needy[0]}' walks page tables under RCU` };
}

type Args = z.output<typeof argsSchema>;
/** What a task is to the mm module: its address space, its fault policy, and whether it names its mm (a member of
 * the process, whose last kill tears the address space down). */
interface TaskInfo {
  readonly mm: number;
  readonly policy: FaultPolicy;
  readonly member: boolean;
}
/** One run's mm state that every CPU's hooks share. */
interface MmRun {
  readonly m: Float64Array;
  readonly L: MmLayout;
  readonly a: Args;
  readonly tableFreeing: { freeing: TableFreeing; why: string };
  readonly taskInfo: readonly TaskInfo[];
  readonly costs: FaultCosts;
}

/** The run declares each address space's mmap_lock and, when it charges cache lines, their lines (mmRunParts). */
function checkLocks(config: RunConfig, a: Args, lines: boolean): void {
  const names = new Set(config.locks.map((l) => l.name));
  for (let i = 0; i < a.mms.length; i++) {
    if (!names.has(mmapLockName(i)))
      throw new Error(
        `mm module: address space ${i} needs the rwsem '${mmapLockName(i)}' in the run's locks ` +
          '(mmRunParts declares it)',
      );
  }
  if (lines) {
    const byName = new Map(config.locks.map((l) => [l.name, l.kind]));
    const missing = Object.entries(mmLineLocks(a.mms.length, a.vmaSlots, a.memcgLevels))
      .filter(([name, { kind }]) => byName.get(name) !== kind)
      .map(([name, { kind }]) => `'${name}' (${kind})`);
    if (missing.length > 0)
      throw new Error(
        `mm module: the run charges cache lines (coherence 'lines'), so it needs the lines and locks its faults ` +
          `update in the run's locks, of these kinds: ${missing.slice(0, 3).join(', ')}` +
          `${missing.length > 3 ? ` and ${missing.length - 3} more` : ''} ` +
          `(mmRunParts(args, reclaimArgs, { lines: true }) declares them)`,
      );
  }
}

/** What the mm module's per-CPU state and hooks are on one CPU: its MmCpu (ctx.kernel(MM)), the window start, a
 * member task's kill, and the fault hook - the entry of every page fault (handle_mm_fault): a touch of an address
 * with no data page runs the task's fault policy in its context, timed (timedFault). */
function mmCpuHooks(cpu: KernelCpu, run: MmRun): CpuHooks {
  const { m, L, a, tableFreeing, taskInfo, costs } = run;
  const mc = new MmCpu(cpu, m, L, tableFreeing.freeing, a.munmapDowngrade);
  /** Each task's fault context on this CPU, made at its first fault. */
  const faults: Array<TaskFault | undefined> = [];
  return {
    state: mc, // ctx.kernel(MM)
    windowStart: () => mc.windowStart(),
    taskKilled: (taskId: number) => {
      if (taskInfo[taskId]!.member) mc.exited(taskId, taskInfo[taskId]!.mm);
    },
    // handle_mm_fault's entry: the engine offers every touch of a task on this CPU (CpuKernel.touch).
    fault: (task: TaskContext, address: number, write: boolean): KernelPath | null => {
      const info = taskInfo[task.id]!;
      // Mapped: no fault, but for a write to the zero page (read-only: do_wp_page's copy).
      const pfn = mc.lookup(info.mm, pageTableKey(LEVEL_PAGE, address));
      if (pfn >= 0 && !(write && pfn === ZERO_PAGE_PFN)) return null;
      let f = faults[task.id];
      if (f === undefined || f.task !== task)
        faults[task.id] = f = new TaskFault(task, info.mm, mmapLockName(info.mm), mc, mc.spaces[info.mm]!, m, costs);
      return timedFault(f.at(address, write), info.policy, m, mc.counter(task.id, T_FAULT_NS));
    },
  };
}

/** The module's report: each faulting task's counters, each address space's page tables by level, the mmap
 * failures, and how page tables were freed. */
function mmReport(
  config: RunConfig,
  m: Float64Array,
  L: MmLayout,
  spaces: readonly AddressSpace[],
  taskInfo: readonly TaskInfo[],
  policyOf: (t: { args: Readonly<Record<string, unknown>> }) => string,
  committer: MmCommitter | null,
  tableFreeing: MmRun['tableFreeing'],
): MmReport {
  return {
    tasks: config.tasks
      .map((t) => ({
        task: t.id,
        name: t.name,
        mm: taskInfo[t.id]!.mm,
        policy: policyOf(t),
        ...(Object.fromEntries(TASK_COUNTERS.map((c, k) => [c, m[L.taskOffset + t.id * TASK_F64 + k]!])) as Record<
          MmCounter,
          number
        >),
        ...Object.fromEntries(
          Object.entries(TASK_COUNTERS_IF_USED)
            .map(([c, word]) => [c, m[L.taskOffset + t.id * TASK_F64 + word]!] as const)
            .filter(([, v]) => v !== 0),
        ),
      }))
      .filter((r) => r.faults > 0),
    mms: spaces.map((as) => {
      const byLevel: Record<string, number> = {};
      for (const { key } of as.tables.within(0, 2 ** 48))
        byLevel[LEVEL_NAMES[keyLevel(key)]!] = (byLevel[LEVEL_NAMES[keyLevel(key)]!] ?? 0) + 1;
      return { id: as.id, seq: as.seq, entries: byLevel };
    }),
    mmapFailures: committer?.mmapFailures ?? 0,
    tableFreeing,
  };
}

export default defineKernelModule({
  name: 'mm',
  sharedBytes: (config: RunConfig, raw) => {
    const a = parseModuleArgs('mm', argsSchema, raw);
    return mmLayout(a.mms.length, a.vmaSlots, a.tableSlots, config.cpus, config.tasks.length, a.slots).f64 * 8;
  },
  // Its commit touches only its own memory and frees through commitFrees (commit.ts).
  parallelCommit: true,
  /** Worker 0's report, with the mmap failures that the commit worker counted. */
  merge: (reports) => {
    const rs = reports as Array<{ mmapFailures: number } | null>;
    return { ...rs[0], mmapFailures: rs.reduce((n, r) => n + (r?.mmapFailures ?? 0), 0) };
  },
  async setup({ config, worker, shared, args: raw, node, commitWorker, commitFrees }) {
    const a = parseModuleArgs('mm', argsSchema, raw);
    const L = mmLayout(a.mms.length, a.vmaSlots, a.tableSlots, config.cpus, config.tasks.length, a.slots);
    const m = new Float64Array(shared);
    const lines = config.coherence === 'lines';
    checkLocks(config, a, lines);
    const policies = await loadPolicies(a.policies);
    const policyOf = (t: { args: Readonly<Record<string, unknown>> }) => String(t.args.policy ?? a.policy);
    for (const t of config.tasks) {
      const mm = Number(t.args.mm ?? 0);
      if (t.args.mm !== undefined && !(Number.isInteger(mm) && mm >= 0 && mm < a.mms.length))
        throw new Error(`task '${t.name}': args.mm ${String(t.args.mm)}; allowed: 0 .. ${a.mms.length - 1}`);
      if (t.args.policy !== undefined && !policies[policyOf(t)])
        throw new Error(
          `task '${t.name}': unknown fault policy '${policyOf(t)}'; allowed: ${Object.keys(policies).join(', ')}`,
        );
    }
    if (!policies[a.policy])
      throw new Error(`mm module: unknown fault policy '${a.policy}'; allowed: ${Object.keys(policies).join(', ')}`);
    const tableFreeing = tableFreeingFor(config, [a.policy, ...config.tasks.map(policyOf)], a.policies);
    const spaces = Array.from({ length: a.mms.length }, (_, i) => new AddressSpace(m, L, i));
    // The tasks that name their address space (args.mm) are its process: when all of them are killed, it is torn down.
    const taskInfo = config.tasks.map((t) => ({
      mm: Number(t.args.mm ?? 0),
      policy: policies[policyOf(t)]!,
      member: t.args.mm !== undefined,
    }));
    const members = spaces.map((_, i) => taskInfo.filter((t) => t.member && t.mm === i).length);
    const committer = worker === commitWorker ? new MmCommitter(m, L, spaces, commitFrees, members) : null;
    if (worker === 0) {
      // Before any window: a PGD per address space (the kernel's own page), and the initial VMAs.
      node.exclusive(() => {
        const plan = node.plan('GFP_PGTABLE_KERNEL');
        a.mms.forEach((spec, i) => {
          m[mmBase(L, i) + MM_PGD] = node.alloc(0, plan, node.owners - 1);
          for (const v of spec.vmas)
            if (!spaces[i]!.map(v.start, v.start + v.pages * PAGE_BYTES, v.file ? VMA_FILE : 0))
              throw new Error(`mm module: mms.${i}: VMA at ${v.start} overlaps another or no slot is free`);
        });
        node.drainCpu(0);
      });
    }
    // File-backed faults under the VMA lock: since 6.7 ("Handle more faults under the VMA lock"); 6.4 had
    // anonymous VMAs only (lock_vma_under_rcu: vma_is_anonymous), and v5.18 no per-VMA locks at all.
    const costs: FaultCosts = {
      ptlNs: a.ptlNs,
      spfEntryNs: a.spfEntryNs,
      vmaLockNs: a.vmaLockNs,
      // Where lines are charged, the LRU add's part of the page's cost is paid under lru_lock, a batch at a time.
      dataPageNs: lines ? Math.max(0, a.dataPageNs - a.lruAddNs) : a.dataPageNs,
      perVmaFileFaults: config.kernel === 'v6.3+',
      // The anon_vma check moved from lock_vma_under_rcu to vmf_anon_prepare in 6.10; v6.4 keeps it at the lock.
      anonVmaAtPrepare: config.kernel === 'v6.3+',
      lines,
      rssBatch: Math.max(32, 2 * config.cpus),
      lruBatch: lruBatchOf(config.kernel),
      lruAddNs: a.lruAddNs,
      memcgBatch: memcgBatchOf(config.kernel),
      memcgLines: lines ? Array.from({ length: a.memcgLevels }, (_, k) => memcgUsageLineName(k)) : [],
      // Before 6.3 (the model's v5.18) pgd shares mmap_lock's line; the model's later kernels are 6.3's layout.
      pgdOnLockLine: a.mmStructLayout === 'v6.2' || (a.mmStructLayout === 'kernel' && config.kernel === 'v5.18'),
    };
    return {
      attachCpu: (cpu) => mmCpuHooks(cpu, { m, L, a, tableFreeing, taskInfo, costs }),
      commit: () => committer!.commit(),
      report: (): MmReport => mmReport(config, m, L, spaces, taskInfo, policyOf, committer, tableFreeing),
    };
  },
});
