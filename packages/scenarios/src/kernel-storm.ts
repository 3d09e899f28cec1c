// kernel-storm: the model's mirror of flstorm, the kernel module the real-kernel oracle runs inside Debian's kernels,
// parameter for parameter. Storm threads (kthread_create_on_cpu, `stormThreadsPerCpu` on each CPU but CPU 0)
// allocate page tables with the mode's mask and free them every `stormCycle` faults as tlb_remove_table does; one
// victim per CPU allocates with GFP_KERNEL and holds a FIFO of pages; memory is full of page cache, a reader on
// CPU 0 adds more, and kswapd reclaims. Its policies are flstorm's modes (STORM_MODES): the scenario declares them
// itself, so it runs under exactly those and under no policy module. Its figures are the module's per-group counts
// (who was granted, who failed, who direct-reclaimed how often and how much) and the machine's.
import type { RunResult } from '@faultline/engine';
import { formatGfp, parseGfp } from '@faultline/gfp';
import { GFP_TLB_BATCH } from '@faultline/mm';
import { rcuModulePath } from '@faultline/rcu';
import { kswapdTaskPath, reclaimModulePath } from '@faultline/reclaim';
import { vmstatOf } from '@faultline/mm';
import { fileURLToPath } from 'node:url';
import { groupReclaim, oomKillEvents, reclaimOf, systemFigures, type TaskGroup } from './figures.js';
import { STORM_COUNTERS, STORM_MODES, type StormMode } from './kernel-storm-tasks.js';
import { checkPolicy, defineScenario, reclaimArgsOf, type ParamSpec, runOf } from './scenario.js';
import { paramsOf } from './spec.js';

const stormTasks = fileURLToPath(new URL('./kernel-storm-tasks.js', import.meta.url));
const storm: TaskGroup = { label: 'storm', match: (n) => n.startsWith('storm.') };
const victims: TaskGroup = { label: 'victims', match: (n) => n.startsWith('victim.') };
const reader: TaskGroup = { label: 'reader', match: (n) => n.startsWith('reader') };

/** The scenario's policies: flstorm's modes, by name. */
export const KERNEL_STORM_POLICIES = Object.keys(STORM_MODES) as ReadonlyArray<keyof typeof STORM_MODES>;

// The oracle writes scenario files with the rates it measured in the guest (TCG makes a 4 us sleep cost about a
// millisecond), so the times accept up to a second.
const ns = (what: string): ParamSpec => ({ type: 'integer', min: 0, max: 1_000_000_000, description: what });
const shape = {
  name: 'kernel-storm',
  policies: KERNEL_STORM_POLICIES,
  params: {
    stormThreadsPerCpu: {
      type: 'integer',
      min: 1,
      max: 64,
      description: "storm kthreads on each CPU but CPU 0 (flstorm's per_cpu)",
    },
    stormPagesPerFault: {
      type: 'integer',
      min: 1,
      max: 64,
      description: 'zeroed pages a storm "fault" allocates (2: a PMD and a PTE table)',
    },
    stormFaultNs: ns("a storm fault's CPU time after its pages: its own work and flstorm's storm_us busy wait"),
    rcuTickNs: {
      type: 'integer',
      min: 10_000,
      max: 1_000_000_000,
      description:
        "RCU's tick (1e9 / HZ): a grace period lasts one to two (4,000,000: Debian's HZ=250); the oracle sets it from the guest's grace period",
    },
    stormFreeRcu: {
      type: 'boolean',
      description:
        "the storm's tables freed through RCU in tlb_remove_table's batches (flstorm), or each at once after the " +
        "TLB flush (false: native x86 before 6.14 freeing a userspace fault storm's tables)",
    },
    stormFailNs: ns("the CPU a failed storm allocation costs beyond the model's allocator (the oracle measures it)"),
    stormCycle: {
      type: 'integer',
      min: 1,
      max: 1_000_000,
      description: "faults a storm thread makes before it frees its tables as munmap would (flstorm's cycle)",
    },
    victimHoldPages: {
      type: 'integer',
      min: 0,
      max: 1_000_000,
      description: "pages each victim holds, oldest freed first (flstorm's hold)",
    },
    victimComputeNs: ns("a victim's CPU time after each allocation"),
    victimGapNs: ns("a victim's sleep after each allocation, uniform in [gap, 2 gap) (flstorm's gap_us, usleep_range)"),
    readerCopyNs: ns("the reader's CPU per page: the read's zeroing and copying (the guest's cat is CPU-bound)"),
    readerGapNs: ns("the page-cache reader's wait per page it reads"),
    readerBatchPages: {
      type: 'integer',
      min: 1,
      max: 1024,
      description: 'pages readahead allocates at once for the reader (read_ahead_kb / 4; 1: a page at a time)',
    },
    prefillHeadroom: {
      type: 'number',
      min: 0,
      max: 1000,
      description: 'page cache fills memory until free is this many times the high watermarks',
    },
  },
} as const satisfies { name: string; policies: readonly string[]; params: Record<string, ParamSpec> };

/** Pages the engine granted a group of tasks, over every mask but `except` (mask expressions). */
function granted(r: RunResult, g: TaskGroup, except: readonly string[] = []): number {
  const left = new Set(except.map((m) => formatGfp(parseGfp(m, r.config.kernel).mask, r.config.kernel)));
  return r.tasks
    .filter((t) => g.match(t.name))
    .flatMap((t) => Object.entries(t.allocs))
    .reduce((s, [mask, c]) => (left.has(mask) ? s : s + c.granted), 0);
}

/** A counter a group's tasks kept (ctx.count), summed. */
function counted(r: RunResult, g: TaskGroup, name: string): number {
  return r.tasks.filter((t) => g.match(t.name)).reduce((s, t) => s + (t.counters?.[name] ?? 0), 0);
}

export const kernelStorm = defineScenario({
  ...shape,
  headline: [
    'reclaimed by victims',
    'victim direct reclaims per 1k allocs',
    'reclaimed by storm',
    'kswapd share of reclaim (%)',
    'storm fail (%)',
    'time below min (ms)',
  ],
  build(o) {
    // A library caller's policy is refused as a file's is: only the scenario's own.
    const mode: StormMode = STORM_MODES[checkPolicy(o.policy, shape) as keyof typeof STORM_MODES];
    const p = paramsOf(shape, o);
    const perCpu = p.stormThreadsPerCpu as number;
    // flstorm: `if (mode && (cpu || num_online_cpus() == 1))` - storm threads on every CPU but CPU 0 (on CPU 0 when
    // it is the only one), none in mode 0.
    const others = Array.from({ length: o.cpus - 1 }, (_, i) => i + 1);
    const stormCpus = mode.mask === null ? [] : o.cpus === 1 ? [0] : others;
    const cpus = Array.from({ length: o.cpus }, (_, c) => c);
    return {
      ...runOf(o),
      // RCU may free whole munmaps' tables (thousands of pages) in one window.
      ringSlots: 32_768,
      modules: [
        // The tick sets the grace period (quiescent states are reported from it; force-quiescent-state scans every
        // RCU_JIFFIES_TILL_FORCE_QS ticks at the run's HZ); the oracle gives the guest's call_rcu-to-callback delay.
        { module: rcuModulePath, args: { tickNs: p.rcuTickNs } },
        // Memory full of page cache from the start, free at a few times the high watermarks (1.5 by default).
        { module: reclaimModulePath, args: { ...reclaimArgsOf(o), prefillHeadroom: p.prefillHeadroom } },
      ],
      tasks: [
        { module: kswapdTaskPath, export: 'kswapd', name: 'kswapd', cpus: [0] },
        // The guest's reader is `cat`, a user process: the OOM killer may pick it; the kthreads it never picks.
        {
          module: stormTasks,
          export: 'readaheadReader',
          name: 'reader',
          cpus: [0],
          args: { copyNs: p.readerCopyNs, gapNs: p.readerGapNs, batchPages: p.readerBatchPages },
        },
        ...cpus.map((c) => ({
          module: stormTasks,
          export: 'stormVictim',
          name: `victim.${c}`,
          cpus: [c],
          args: {
            hold: p.victimHoldPages,
            computeNs: p.victimComputeNs,
            gapNs: p.victimGapNs,
            oomScoreAdj: -1000,
            // flstorm's kthreads: reclaim never throttles a PF_KTHREAD (reclaim_throttle, throttle_direct_reclaim).
            kthread: true,
          },
        })),
        ...stormCpus.flatMap((c) =>
          Array.from({ length: perCpu }, (_, k) => ({
            module: stormTasks,
            export: 'stormThread',
            name: `storm.${(c - 1) * perCpu + k}`,
            cpus: [c],
            args: {
              mask: mode.mask,
              ...(mode.fallbackMask === null ? {} : { fallbackMask: mode.fallbackMask }),
              pagesPerFault: p.stormPagesPerFault,
              faultNs: p.stormFaultNs,
              failNs: p.stormFailNs,
              freeRcu: p.stormFreeRcu,
              cycle: p.stormCycle,
              oomScoreAdj: -1000,
              kthread: true,
            },
          })),
        ),
      ],
    };
  },
  figures(r) {
    const seconds = r.simulatedNs / 1e9;
    const rec = reclaimOf(r);
    const sr = groupReclaim(r, storm);
    const vr = groupReclaim(r, victims);
    const rr = groupReclaim(r, reader);
    const tables = granted(r, storm, [GFP_TLB_BATCH]);
    const fails = counted(r, storm, STORM_COUNTERS.fails);
    const victimAllocs = granted(r, victims);
    const readerPages = granted(r, reader);
    const kswapd = rec.kswapd.pagesReclaimed;
    return {
      'storm table pages': tables,
      'storm failures': fails,
      'storm fallbacks': counted(r, storm, STORM_COUNTERS.fallbacks),
      'storm direct reclaims': sr.directPasses,
      'reclaimed by storm': sr.pagesReclaimed,
      'storm batch-page failures': counted(r, storm, STORM_COUNTERS.batchFails),
      'victim allocs': victimAllocs,
      'victim failures': vr.allocFailures,
      'victim direct reclaims': vr.directPasses,
      'reclaimed by victims': vr.pagesReclaimed,
      'victim reclaim stall (ms)': vr.stallNs / 1e6,
      'victim direct reclaims per 1k allocs': victimAllocs > 0 ? (1000 * vr.directPasses) / victimAllocs : 0,
      'reader pages': readerPages,
      'reader direct reclaims': rr.directPasses,
      'reclaimed by reader': rr.pagesReclaimed,
      'reclaimed by kswapd': kswapd,
      // Of every page reclaimed, kswapd's; 0 while nothing was (a table of runs stays numeric).
      'kswapd share of reclaim (%)':
        kswapd + rec.directReclaimed > 0 ? (100 * kswapd) / (kswapd + rec.directReclaimed) : 0,
      'storm fail (%)': tables + fails > 0 ? (100 * fails) / (tables + fails) : 0,
      'storm table pages/s (k)': tables / seconds / 1e3,
      'victim allocs/s (k)': victimAllocs / seconds / 1e3,
      'reader pages/s (k)': readerPages / seconds / 1e3,
      'OOM kills': oomKillEvents(rec),
      // balance_pgdat's runs (vmstat's pageoutrun) and what kswapd reclaimed per run: how it paces itself.
      'kswapd pages per run': (() => {
        const v = vmstatOf(r);
        return (v.pageoutrun ?? 0) > 0 ? (v.pgsteal_kswapd ?? 0) / v.pageoutrun! : 0;
      })(),
      ...systemFigures(r),
    };
  },
});
