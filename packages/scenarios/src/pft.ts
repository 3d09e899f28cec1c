// pft: page-fault throughput in will-it-scale's page_fault shape (tests/page_fault4.c: mmap, touch every page,
// munmap, again): one thread per CPU of one process, each mapping its own anonymous region, writing every page of it
// once and unmapping it, again and again. The only mmap_lock writers are the threads' own mmap and munmap calls;
// nothing else runs, and memory is never short. Its figure is faults per second, per policy, as the CPU count grows.
// mmtests' pft-threads, the benchmark of the published per-VMA-lock curve, maps once and never unmaps: that is the
// pft-threads scenario (pft-threads.ts).
import { mmRunParts, tableSlotsFor } from '@faultline/mm';
import { fileURLToPath } from 'node:url';
import { groupFaults, groupLockWaits, systemFigures, type TaskGroup } from './figures.js';
import { defineScenario, policyArgs, reclaimArgsOf, type ParamSpec, runOf } from './scenario.js';
import { paramsOf } from './spec.js';

const tasks = fileURLToPath(new URL('./tasks.js', import.meta.url));
const threads: TaskGroup = { label: 'pft threads', match: (n) => n.startsWith('pft') };
const shape = {
  name: 'pft',
  params: {
    regionPages: {
      type: 'integer',
      min: 1,
      max: 1 << 20,
      description: 'pages each thread maps and touches per round (512: 2 MiB, one PTE table)',
    },
    touchNs: {
      type: 'integer',
      min: 0,
      max: 1_000_000_000,
      description: "a thread's CPU time per page: the write that faulted, and the loop",
    },
  } satisfies Record<string, ParamSpec>,
};

export const pft = defineScenario({
  ...shape,
  headline: ['faults/s (k)', 'fault mean (us)', 'mmap_lock wait (ms)'],
  build(o) {
    const p = paramsOf(shape, o);
    const regionPages = p.regionPages as number;
    const n = o.cpus;
    // Each thread holds at most one region's tables and pages: 512 pages, a PTE table, its share of a PMD table.
    const tableSlots = tableSlotsFor(n * (regionPages + 2));
    const parts = mmRunParts(
      { ...policyArgs(o.policy), tableSlots, vmaSlots: n + 8, mms: [{ vmas: [] }] },
      reclaimArgsOf(o),
      { lines: o.coherence === 'lines' },
    );
    return {
      ...runOf(o),
      cpus: n,
      ...parts,
      tasks: Array.from({ length: n }, (_, k) => ({
        module: tasks,
        export: 'pftThread',
        name: `pft.${k}`,
        cpus: [k],
        args: { mm: 0, lane: k, pages: regionPages, touchNs: p.touchNs },
      })),
    };
  },
  figures(r) {
    const f = groupFaults(r, threads);
    const seconds = r.simulatedNs / 1e9;
    const waits = groupLockWaits(r, threads, 'mm0.mmap_lock');
    return {
      'faults/s (k)': f.faults / seconds / 1e3,
      'faults/s per CPU (k)': f.faults / seconds / 1e3 / r.config.cpus,
      'fault mean (us)': f.faults ? f.faultNs / f.faults / 1e3 : 0,
      speculative: f.speculative,
      aborted: f.aborted,
      'fell back': f.fellBack,
      'mmap_lock waits': waits.contended,
      'mmap_lock wait (ms)': waits.waitNs / 1e6,
      ...systemFigures(r),
    };
  },
});
