// pft-threads: mmtests' pft-threads as it runs pft (docs/kernel-notes/pft-threads.md): one process maps one private
// anonymous region before its threads start (one VMA, no MAP_POPULATE), each thread writes one byte of every page of
// its own contiguous share, in ascending order, once, and exits; nothing is unmapped while they run. Timed from the
// first thread's start to the last one's end; the figure is pages / that time (pft's fault/wsec, the column mmtests
// reports as faults/sec). The only mmap_lock users are the faults themselves, so what limits the curve is what the
// faults share: mmap_lock's word (classic) or the VMA lock's (per-VMA locks), and the lines charged with them when
// the run charges lines (--topology, --coherence lines).
// Simplified: mmtests splits MemTotal/5 between the threads (hundreds of thousands of pages each); here each thread
// writes `pages` pages, a slice of that run, so the rate is its steady state. Threads are pinned (CPU k runs thread
// k; the topology's placement says where CPU k is); pft's threads are placed by the scheduler.
import { LRU_LOCK_NAME, MM_STRUCT_LAYOUTS, mmRunParts, tableSlotsFor, type MmStructLayout } from '@faultline/mm';
import { fileURLToPath } from 'node:url';
import { groupFaults, groupLockWaits, systemFigures, type TaskGroup } from './figures.js';
import { defineScenario, policyArgs, reclaimArgsOf, type ParamSpec, runOf } from './scenario.js';
import { paramsOf } from './spec.js';
import { STORM_BASE } from './tasks.js';

const tasks = fileURLToPath(new URL('./tasks.js', import.meta.url));
const threads: TaskGroup = { label: 'pft threads', match: (n) => n.startsWith('pft') };
const shape = {
  name: 'pft-threads',
  params: {
    pages: {
      type: 'integer',
      min: 1,
      max: 1 << 20,
      description: "pages each thread writes (its share of the one mapping; mmtests': MemTotal/5 / threads)",
    },
    touchNs: {
      type: 'integer',
      min: 0,
      max: 1_000_000_000,
      description: "a thread's time per page outside the fault handler: the write, the loop, the trap's entry and exit",
    },
    dataPageNs: {
      type: 'integer',
      min: 0,
      max: 1_000_000,
      description:
        'what a new anonymous page costs beyond its allocation and the PTE lock (clear_page, memcg charge, LRU add, ' +
        'rmap): calibrated so that one thread makes the published 0.9 M faults/s',
    },
    mmStructLayout: {
      type: 'string',
      enum: MM_STRUCT_LAYOUTS,
      description:
        "mm_struct's layout around mmap_lock: 'v6.2' puts pgd, which every fault reads, on mmap_lock's count's line " +
        "(the published curve's kernel); 'v6.3' does not; 'kernel': the run's kernel's",
    },
  } satisfies Record<string, ParamSpec>,
};

export const pftThreads = defineScenario({
  ...shape,
  headline: ['faults/s (k)', 'fault mean (us)', 'threads finished'],
  build(o) {
    const p = paramsOf(shape, o);
    const pages = p.pages as number;
    const n = o.cpus;
    const parts = mmRunParts(
      {
        ...policyArgs(o.policy),
        tableSlots: tableSlotsFor(n * pages + Math.ceil((n * pages) / 512) + 8),
        vmaSlots: 4,
        mms: [{ vmas: [{ start: STORM_BASE, pages: n * pages }] }],
        dataPageNs: p.dataPageNs as number,
        mmStructLayout: p.mmStructLayout as MmStructLayout,
      },
      reclaimArgsOf(o),
      { lines: o.coherence === 'lines' },
    );
    return {
      ...runOf(o),
      cpus: n,
      ...parts,
      tasks: Array.from({ length: n }, (_, k) => ({
        module: tasks,
        export: 'pftShareThread',
        name: `pft.${k}`,
        cpus: [k],
        args: { mm: 0, base: STORM_BASE + k * pages * 4096, pages, touchNs: p.touchNs },
      })),
    };
  },
  figures(r) {
    const mine = r.tasks.filter((t) => threads.match(t.name));
    const f = groupFaults(r, threads);
    const finished = mine.filter((t) => t.exitedAtNs !== null).length;
    // pft's wall time: the first thread starts at 0; the last to end, or the run's end if one did not.
    const wallNs = finished === mine.length ? Math.max(...mine.map((t) => t.exitedAtNs!)) : r.simulatedNs;
    const lines = r.locks?.lines;
    return {
      'faults/s (k)': f.faults / (wallNs / 1e9) / 1e3,
      'faults/s per thread (k)': f.faults / (wallNs / 1e9) / 1e3 / mine.length,
      'fault mean (us)': f.faults ? f.faultNs / f.faults / 1e3 : 0,
      'threads finished': finished,
      'fell back': f.fellBack,
      'mmap_lock waits': groupLockWaits(r, threads, 'mm0.mmap_lock').contended,
      // Only where the run charges lines (they are not measured otherwise).
      ...(lines && f.faults
        ? {
            'line transfers per fault': lines.transfers / f.faults,
            'line stall per fault (ns)': lines.stallNs / f.faults,
            'lru_lock wait per fault (ns)': (lines.byLine[LRU_LOCK_NAME]?.stallNs ?? 0) / f.faults,
            'zone->lock wait per fault (ns)': (r.zoneLock?.waitNs ?? 0) / f.faults,
          }
        : {}),
      ...systemFigures(r),
    };
  },
});
