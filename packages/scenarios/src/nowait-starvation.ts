// nowait-starvation: the discussion's worry, as a run. Memory is full of page cache and a reader keeps adding to it,
// so free memory lives near the watermarks and kswapd works. Kernel work on every CPU allocates with GFP_KERNEL -
// the victims. A fault storm (two threads per CPU but the first, one process) touches a mapping of a resident file
// (tmpfs without swap) at addresses 1 GiB apart, so that every fault allocates two page-table pages (PMD and PTE)
// and nothing else - Weiner's "userspace could trigger a large number of those" - under the policy compared; every
// 1024 faults a thread unmaps and maps again, and its tables go back through RCU. GFP_ATOMIC interrupts come now
// and then. The question: does the storm's way of allocating page tables make the victims wait, fail or pay for
// reclaim while it takes the pages?
// nowait-starvation-anon is the same storm over anonymous memory: each fault also allocates its data page with
// the user mask, which reclaims, so the storm pays for part of what its tables take under every policy.
// nowait-starvation-memcg puts the storm in a memory cgroup with memory.high at 4096 pages (16 MiB): its page
// tables are charged (__GFP_ACCOUNT, the speculative ones too), and over high it sleeps the kernel's penalty on
// each return to user space - "in any case hold the task accountable".
import type { RunResult, TaskSpec } from '@faultline/engine';
import { parseGfp } from '@faultline/gfp';
import { kswapdTaskPath } from '@faultline/reclaim';
import { mmRunParts, tableSlotsFor } from '@faultline/mm';
import { fileURLToPath } from 'node:url';
import {
  groupBelowMin,
  groupFaults,
  groupLatency,
  groupMemstallNs,
  groupReclaim,
  oomKilledOutside,
  oomKillEvents,
  reclaimOf,
  systemFigures,
  type TaskGroup,
} from './figures.js';
import {
  defineScenario,
  policyArgs,
  ScenarioError,
  reclaimArgsOf,
  type ParamSpec,
  type Scenario,
  type ScenarioFigures,
  runOf,
} from './scenario.js';
import { paramsOf } from './spec.js';
import { STORM_BASE, STORM_VMA_BYTES, STORM_VMA_PAGES } from './tasks.js';

const tasks = fileURLToPath(new URL('./tasks.js', import.meta.url));
const victims: TaskGroup = { label: 'kernel work', match: (n) => n.startsWith('kernel-work') };
const irq: TaskGroup = { label: 'interrupts', match: (n) => n === 'irq' || n.startsWith('irq/') };
const storm: TaskGroup = { label: 'fault storm', match: (n) => n.startsWith('fault-storm') };
const reader: TaskGroup = { label: 'page cache', match: (n) => n.startsWith('page-cache') };

const STORM_MEMCG = 'storm';

const ns = (what: string): ParamSpec => ({ type: 'integer', min: 0, max: 1_000_000_000, description: what });
const PARAMS = {
  stormThreadsPerCpu: {
    type: 'integer',
    min: 1,
    max: 64,
    description: 'fault-storm threads on each CPU but the first',
  },
  stormCycle: {
    type: 'integer',
    min: 1,
    max: 1_000_000,
    description: 'faults a storm thread makes before it unmaps and maps again',
  },
  stormGapNs: ns("a storm thread's CPU time between faults"),
  stormPhase: {
    type: 'boolean',
    description:
      'storm threads start at a point of their cycle drawn from the seed (true: out of step, as threads started one after another are) or all at its start (false)',
  },
  threadsPinned: {
    type: 'boolean',
    description:
      'the storm threads and the kernel work stay on the CPU each starts on (true: bound, as the oracle pins its ' +
      "threads) or, woken behind a busy CPU, move to an idle one of the machine's last-level cache (false: " +
      "select_idle_sibling's effect, the engine's balance.ts)",
  },
  victimMask: {
    type: 'string',
    description: "the kernel work's allocation mask (a GFP expression: GFP_KERNEL, GFP_KERNEL|__GFP_NORETRY, ...)",
  },
  victimHoldPages: { type: 'integer', min: 0, max: 1_000_000, description: 'pages each kernel-work task holds' },
  victimGapNs: ns("the kernel work's wait between requests (uniform in [gap, 2 gap))"),
  victimsUnkillable: {
    type: 'boolean',
    description:
      'the kernel work in kernel threads (true: PF_KTHREAD, which the OOM killer never picks and reclaim never ' +
      'throttles) or in a process context at oom_score_adj 0 (false: picked by its pages, as oom_badness does, and ' +
      'throttled as its process)',
  },
  pageCacheGapNs: ns("the page-cache reader's wait between pages"),
  irqEveryNs: ns('the mean gap between GFP_ATOMIC interrupts (uniform in [every, 2 every))'),
  prefillHeadroom: {
    type: 'number',
    min: 0,
    max: 1000,
    description: 'page cache fills memory until free is this many times the high watermarks',
  },
} as const satisfies Record<string, ParamSpec>;
const MEMCG_PARAMS = {
  ...PARAMS,
  stormMemcgHighPages: {
    type: 'integer',
    min: 1,
    max: 2 ** 31 - 1,
    description: "the storm memcg's memory.high, pages",
  },
} as const satisfies Record<string, ParamSpec>;

/** The scenario's tasks: kswapd and a page-cache reader on CPU 0, the victims' kernel work on every CPU, the storm's
 * threads (perCpu on each of stormCpus, an anonymous or file VMA each) and an interrupt's GFP_ATOMIC allocations. */
function starvationTasks(
  cpus: number,
  p: Readonly<Record<string, number | string | boolean>>,
  stormCpus: readonly number[],
  perCpu: number,
  cycle: number,
  file: boolean,
  memcg: { memcg?: string },
): TaskSpec[] {
  const threads = stormCpus.length * perCpu;
  return [
    { module: kswapdTaskPath, export: 'kswapd', name: 'kswapd', cpus: [0] },
    {
      module: tasks,
      export: 'pageCacheReader',
      name: 'page-cache',
      cpus: [0],
      args: { gapNs: p.pageCacheGapNs },
    },
    {
      module: tasks,
      export: 'kernelAllocator',
      name: 'kernel-work',
      pinned: p.threadsPinned as boolean,
      args: {
        hold: p.victimHoldPages,
        gapNs: p.victimGapNs,
        oomScoreAdj: p.victimsUnkillable ? -1000 : 0,
        mask: p.victimMask,
        // Kernel work in kernel threads (workqueues, kthreads): reclaim never throttles a PF_KTHREAD, and the
        // OOM killer never picks one; killable, it is kernel work in a process's context (a system call).
        kthread: p.victimsUnkillable as boolean,
      },
    },
    ...Array.from({ length: threads }, (_, k) => ({
      module: tasks,
      export: 'faultStorm',
      name: `fault-storm.${k}`,
      cpus: [stormCpus[Math.floor(k / perCpu)]!],
      pinned: p.threadsPinned as boolean,
      args: { mm: 0, lane: k, cycle, gapNs: p.stormGapNs, phase: p.stormPhase, file, ...memcg },
    })),
    {
      module: tasks,
      export: 'atomicIrq',
      name: 'irq',
      cpus: [cpus > 1 ? 1 : 0],
      // An interrupt is no process: the OOM killer never sees it (kthread: never picked, never throttled).
      args: { everyNs: p.irqEveryNs, kthread: true },
    },
  ];
}

/** The figures a person compares: the victims' allocation latency, failures and reclaim; what the storm paid and
 * reclaimed; the OOM killer's kills; the storm's faults; and, in the memcg variant, the storm group's peak and
 * memory.high penalty. */
function starvationFigures(
  r: RunResult,
  params: Readonly<Record<string, number | string | boolean>> | undefined,
  memcgVariant: boolean,
): ScenarioFigures {
  const seconds = r.simulatedNs / 1e9;
  const lat = groupLatency(r, victims, String(params?.victimMask ?? 'GFP_KERNEL'));
  const vr = groupReclaim(r, victims);
  const f = groupFaults(r, storm);
  return {
    'victim alloc p50 (us)': lat.p50Ns / 1e3,
    'victim alloc p99 (us)': lat.p99Ns / 1e3,
    'victim alloc max (us)': lat.maxNs / 1e3,
    'irq GFP_ATOMIC p99 (us)': groupLatency(r, irq, 'GFP_ATOMIC').p99Ns / 1e3,
    'victim failures': vr.allocFailures,
    'victim reclaim stall (ms)': vr.stallNs / 1e6,
    'reclaimed by victims': vr.pagesReclaimed,
    'storm memstall (ms)': groupMemstallNs(r, storm) / 1e6,
    'reclaimed by storm': groupReclaim(r, storm).pagesReclaimed,
    'reclaimed by page cache': groupReclaim(r, reader).pagesReclaimed,
    'reclaimed by kswapd': reclaimOf(r).kswapd.pagesReclaimed,
    'storm pages below min': groupBelowMin(r, storm),
    'victim pages below min': groupBelowMin(r, victims),
    'OOM kills': oomKillEvents(reclaimOf(r)),
    'others OOM-killed': oomKilledOutside(reclaimOf(r), storm),
    'storm faults/s (k)': f.faults / seconds / 1e3,
    'storm fault mean (us)': f.faults ? f.faultNs / f.faults / 1e3 : 0,
    'storm fell back': f.fellBack,
    'storm aborted': f.aborted,
    'storm table pages': f.tablePages,
    'kswapd wakes': reclaimOf(r).kswapd.wakes,
    ...(!memcgVariant
      ? {}
      : {
          'storm memcg peak (pages)': reclaimOf(r).memcgs?.[0]?.peakPages ?? NaN,
          'storm penalty (ms)': (reclaimOf(r).memcgs?.[0]?.tasks ?? []).reduce((x, t) => x + t.penaltyNs, 0) / 1e6,
        }),
    ...systemFigures(r),
  };
}

function starvation(name: string, file: boolean, memcgVariant: boolean): Scenario {
  const shape = { name, params: memcgVariant ? MEMCG_PARAMS : PARAMS };
  return defineScenario({
    ...shape,
    headline: [
      'victim reclaim stall (ms)',
      'reclaimed by victims',
      'victim alloc p99 (us)',
      'victim failures',
      'reclaimed by storm',
      'storm memstall (ms)',
      'time below min (ms)',
      'OOM kills',
    ],
    build(o) {
      const p = paramsOf(shape, o);
      try {
        parseGfp(String(p.victimMask), o.kernel ?? 'v6.3+');
      } catch (e) {
        throw new ScenarioError(`params.victimMask: ${e instanceof Error ? e.message : String(e)}`);
      }
      const stormHighPages = memcgVariant ? (p.stormMemcgHighPages as number) : undefined;
      const memcg = stormHighPages === undefined ? {} : { memcg: STORM_MEMCG };
      const stormCpus = Array.from({ length: Math.max(1, o.cpus - 1) }, (_, i) => Math.min(o.cpus - 1, i + 1));
      const perCpu = p.stormThreadsPerCpu as number;
      const cycle = p.stormCycle as number;
      const threads = stormCpus.length * perCpu;
      // The page-table hash, sized from the storm: each thread installs up to three entries a fault (PMD, PTE, page)
      // for `cycle` faults before it unmaps, at a load of at most one half.
      const tableSlots = tableSlotsFor(threads * cycle * 3);
      const parts = mmRunParts(
        {
          ...policyArgs(o.policy),
          tableSlots,
          vmaSlots: Math.min(4096, threads + 8),
          mms: [
            {
              vmas: Array.from({ length: threads }, (_, k) => ({
                start: STORM_BASE + k * STORM_VMA_BYTES,
                pages: STORM_VMA_PAGES,
                file,
              })),
            },
          ],
        },
        // Leave free a few times the high watermarks (1.5 by default): pressure from the first milliseconds.
        {
          ...reclaimArgsOf(o),
          prefillHeadroom: p.prefillHeadroom,
          ...(stormHighPages === undefined ? {} : { memcgs: [{ name: STORM_MEMCG, highPages: stormHighPages }] }),
        },
        { lines: o.coherence === 'lines' },
      );
      return {
        ...runOf(o),
        // RCU may free a whole munmap's page tables (thousands of pages) in one window, past qhimark.
        ringSlots: 32_768,
        ...parts,
        tasks: starvationTasks(o.cpus, p, stormCpus, perCpu, cycle, file, memcg),
      };
    },
    figures: (r, params) => starvationFigures(r, params, memcgVariant),
  });
}

export const nowaitStarvation = starvation('nowait-starvation', true, false);
export const nowaitStarvationMemcg = starvation('nowait-starvation-memcg', true, true);
export const nowaitStarvationAnon = starvation('nowait-starvation-anon', false, false);
