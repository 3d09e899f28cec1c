// mmap-contention: many threads of one process fault while another thread maps and unmaps - mmap_lock's writers
// against its readers (kernel-facts §9). The threads touch pages of their own slice of one VMA, densely, so most
// faults find their page tables; every few milliseconds the churner unmaps that VMA and maps it again, which
// empties it, and in between maps and unmaps a small VMA of its own. Classic faults queue behind every writer;
// speculative and per-VMA-lock faults go around it unless they collide with the change.
import { mmRunParts, tableSlotsFor } from '@faultline/mm';
import { fileURLToPath } from 'node:url';
import { groupFaults, groupLockWaits, systemFigures, type TaskGroup } from './figures.js';
import { defineScenario, policyArgs, reclaimArgsOf, type ParamSpec, runOf } from './scenario.js';
import { paramsOf } from './spec.js';
import { STORM_BASE } from './tasks.js';

const tasks = fileURLToPath(new URL('./tasks.js', import.meta.url));
const faulters: TaskGroup = { label: 'faulting threads', match: (n) => n.startsWith('thread') };
const shape = {
  name: 'mmap-contention',
  params: {
    threadsPerCpu: { type: 'integer', min: 1, max: 64, description: 'faulting threads on each CPU' },
    slicePages: { type: 'integer', min: 1, max: 1 << 20, description: 'pages of the VMA each thread touches, densely' },
    touchGapNs: {
      type: 'integer',
      min: 0,
      max: 1_000_000_000,
      description: "a thread's CPU time between touches (uniform in [gap/2, 3 gap/2))",
    },
    churnEveryNs: {
      type: 'integer',
      min: 1,
      max: 1_000_000_000,
      description: "the churner's mean gap between mmap_lock writes (uniform in [every/2, 3 every/2))",
    },
    remapEvery: {
      type: 'integer',
      min: 1,
      max: 1_000_000,
      description: "every this many writes the churner unmaps and maps again the threads' VMA",
    },
  } satisfies Record<string, ParamSpec>,
};

export const mmapContention = defineScenario({
  ...shape,
  headline: ['faults/s (k)', 'mmap_lock wait (ms)', 'fault mean (us)'],
  build(o) {
    const p = paramsOf(shape, o);
    const slice = p.slicePages as number;
    const threads = o.cpus * (p.threadsPerCpu as number);
    const pages = threads * slice;
    // The VMA's pages and their tables (the default 2^16 slots held 4 CPUs' threads; 16 CPUs' filled it once memory
    // let them).
    const tableSlots = tableSlotsFor(pages + Math.ceil(pages / 512) + 2);
    const parts = mmRunParts(
      { ...policyArgs(o.policy), tableSlots, mms: [{ vmas: [{ start: STORM_BASE, pages }] }] },
      reclaimArgsOf(o),
      { lines: o.coherence === 'lines' },
    );
    return {
      ...runOf(o),
      ...parts,
      tasks: [
        ...Array.from({ length: threads }, (_, k) => ({
          module: tasks,
          export: 'denseToucher',
          name: `thread.${k}`,
          cpus: [k % o.cpus],
          args: { mm: 0, lane: k, pages: slice, gapNs: p.touchGapNs },
        })),
        {
          module: tasks,
          export: 'contentionChurner',
          name: 'churner',
          cpus: [0],
          args: { mm: 0, start: STORM_BASE, pages, everyNs: p.churnEveryNs, remapEvery: p.remapEvery },
        },
      ],
    };
  },
  figures(r) {
    const f = groupFaults(r, faulters);
    const seconds = r.simulatedNs / 1e9;
    const waits = groupLockWaits(r, faulters, 'mm0.mmap_lock');
    return {
      'faults/s (k)': f.faults / seconds / 1e3,
      'fault mean (us)': f.faults ? f.faultNs / f.faults / 1e3 : 0,
      speculative: f.speculative,
      aborted: f.aborted,
      'aborted (%)': f.speculative + f.aborted > 0 ? (100 * f.aborted) / (f.speculative + f.aborted) : 0,
      'fell back': f.fellBack,
      'mmap_lock waits': waits.contended,
      'mmap_lock wait (ms)': waits.waitNs / 1e6,
      ...systemFigures(r),
    };
  },
});
