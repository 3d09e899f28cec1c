// reclaim-calibration: the workload the calibration runs in the real kernel (scripts/calibrate.mjs, CALIBRATION.md),
// in the model: 256 MiB, 4 CPUs, no swap, a reader streaming a file through the page cache, and three processes that
// allocate, touch and free 48 MiB of anonymous memory in a loop. Its figures are the ones the real run gives in
// /proc/vmstat and /proc/pressure/memory: who reclaimed (kswapd's share), how often allocations stalled, and PSI.
import { kswapdTaskPath, reclaimModulePath } from '@faultline/reclaim';
import { vmstatOf } from '@faultline/mm';
import { fileURLToPath } from 'node:url';
import { oomKillEvents, reclaimOf, systemFigures } from './figures.js';
import { checkPolicy, defineScenario, reclaimArgsOf, type ParamSpec, runOf } from './scenario.js';
import { paramsOf } from './spec.js';

const tasks = fileURLToPath(new URL('./tasks.js', import.meta.url));

const shape = {
  name: 'reclaim-calibration',
  params: {
    hogs: { type: 'integer', min: 0, max: 1024, description: 'anonymous hogs (hog k on CPU k mod cpus, from k = 1)' },
    hogMiB: {
      type: 'integer',
      min: 1,
      max: 65_536,
      description: 'anonymous memory each hog allocates, touches and frees in a loop',
    },
    readerGapNs: {
      type: 'integer',
      min: 0,
      max: 1_000_000_000,
      description: "the page-cache reader's wait between pages",
    },
    prefillHeadroom: {
      type: 'number',
      min: 0,
      max: 1000,
      description: 'page cache fills memory until free is this many times the high watermarks',
    },
  } satisfies Record<string, ParamSpec>,
};

export const reclaimCalibration = defineScenario({
  ...shape,
  headline: [
    'kswapd share of reclaim (%)',
    'allocstall per 1000 pages reclaimed',
    'pageoutrun per 1000 pages reclaimed',
  ],
  build(o) {
    checkPolicy(o.policy); // no faults here: the policy does not matter, but a bad name is still refused
    const p = paramsOf(shape, o);
    const hogPages = Math.floor(((p.hogMiB as number) * 1024) / 4);
    return {
      ...runOf(o),
      // Memory full of page cache from the start, as the real run's reader leaves it after its first pass.
      modules: [{ module: reclaimModulePath, args: { ...reclaimArgsOf(o), prefillHeadroom: p.prefillHeadroom } }],
      tasks: [
        { module: kswapdTaskPath, export: 'kswapd', name: 'kswapd', cpus: [0] },
        { module: tasks, export: 'pageCacheReader', name: 'reader', cpus: [0], args: { gapNs: p.readerGapNs } },
        ...Array.from({ length: p.hogs as number }, (_, i) => i + 1).map((k) => ({
          module: tasks,
          export: 'anonHog',
          name: `hog.${k}`,
          cpus: [k % o.cpus],
          args: { pages: hogPages },
        })),
      ],
    };
  },
  figures(r) {
    const v = vmstatOf(r);
    const steal = (v.pgsteal_kswapd ?? 0) + (v.pgsteal_direct ?? 0);
    const allocated = (v.pgalloc_dma ?? 0) + (v.pgalloc_dma32 ?? 0) + (v.pgalloc_normal ?? 0);
    return {
      // With nothing reclaimed yet the shares are 0, not undefined, so that a table of runs stays numeric.
      'kswapd share of reclaim (%)': steal > 0 ? (100 * (v.pgsteal_kswapd ?? 0)) / steal : 0,
      // The zonelist's fallback: pages DMA granted, of all (the kernel's pgalloc_dma share under this workload).
      'DMA share of pages allocated (%)': allocated > 0 ? (100 * (v.pgalloc_dma ?? 0)) / allocated : 0,
      'allocstall per 1000 pages reclaimed': steal > 0 ? (1000 * (v.allocstall_normal ?? 0)) / steal : 0,
      'pageoutrun per 1000 pages reclaimed': steal > 0 ? (1000 * (v.pageoutrun ?? 0)) / steal : 0,
      pgsteal_kswapd: v.pgsteal_kswapd ?? 0,
      pgsteal_direct: v.pgsteal_direct ?? 0,
      allocstall: v.allocstall_normal ?? 0,
      'OOM kills': oomKillEvents(reclaimOf(r)),
      // The machine's side, without RCU's rows: this workload loads no RCU.
      ...Object.fromEntries(Object.entries(systemFigures(r)).filter(([k]) => !/grace period|RCU/.test(k))),
    };
  },
});
