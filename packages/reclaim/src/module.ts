// module: reclaim as a faultline kernel module (mm/vmscan.c, mm/oom_kill.c, much simplified): its options and
// their defaults, and its definition: the shared memory's size, each worker's setup (a ReclaimCpu per CPU,
// reclaim-cpu.ts; worker 0's ReclaimCommitter, commit.ts), the report and its merge. Load it with
// `modules: [{ module: reclaimModulePath }]` and run kswapd as a task (`kswapdTaskPath`). Each CPU logs its tasks'
// requests; worker 0's commit applies them in (time, CPU, sequence) order against the node's LRU and its zones
// (commit.ts: reclaim, drains, throttling, OOM kills).
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { RunConfig } from '@faultline/engine';
import { defineKernelModule, parseModuleArgs } from '@faultline/engine/module';
import { reclaimLayout, TASK_F64 } from './layout.js';
import { ReclaimCommitter } from './commit.js';
import { ReclaimCpu } from './reclaim-cpu.js';
import { LatencyRecorder, mergeLatencies, type EncodedLatencies } from './latency.js';
import { reclaimReport, type ReclaimReport } from './report.js';
import { memcgOfTasks, memcgReport, memcgSchema, returnPenaltyNs, type MemcgSpec } from './memcg.js';

/** The path to give a run's `modules`. */
export const reclaimModulePath = fileURLToPath(import.meta.url);

export const RECLAIM_DEFAULTS = {
  /** CPU time a reclaimer spends per page it wants (shrink_folio_list on clean page cache), in simulated ns.
   * Calibrated against the real kernel (CALIBRATION.md): on the kernel's memory layout, at 200 ns the
   * reclaim-calibration workload gives kswapd 74% of reclaim and 8.3 allocation stalls per 1000 pages reclaimed,
   * where Debian's 6.1 under QEMU gives 63-81% and 4-8; at 250 ns (the value one zone fitted), 63% and 11.5; at
   * the first 1000 ns, 31% and 22. */
  scanNsPerPage: 200,
  /** A dirty page's writeback, from kswapd starting it to the page being clean. */
  writebackNs: 5_000_000,
  /** Entries scanned per pass at most, per page wanted (priority 12 scans a 4096th of the list, then more). */
  scanPerPage: 4,
  /** Ring slots per CPU per window. */
  slots: 4096,
  /** Pages of page cache in memory when the run starts (clean; every prefillDirtyEvery-th one dirty, 0: none). */
  prefillFilePages: 0,
  prefillHeadroom: 0,
  prefillDirtyEvery: 0,
  memcgs: [],
  /** From wakeup_kswapd to kswapd runnable: 0 (the engine's wake is at the waking allocation's time). A what-if for
   * slow machines (a TCG guest's IPIs and vCPU threads take a millisecond and more): kswapd is woken this late. */
  kswapdWakeLatencyNs: 0,
} as const;

export interface ReclaimOptions {
  readonly scanNsPerPage: number;
  readonly writebackNs: number;
  readonly scanPerPage: number;
  readonly slots: number;
  readonly prefillFilePages: number;
  readonly prefillHeadroom: number;
  readonly prefillDirtyEvery: number;
  readonly memcgs: readonly MemcgSpec[];
  readonly kswapdWakeLatencyNs: number;
}

const argsSchema = z
  .object({
    scanNsPerPage: z.number().int().min(0).default(RECLAIM_DEFAULTS.scanNsPerPage),
    writebackNs: z.number().int().min(0).default(RECLAIM_DEFAULTS.writebackNs),
    scanPerPage: z.number().int().min(1).default(RECLAIM_DEFAULTS.scanPerPage),
    kswapdWakeLatencyNs: z.number().int().min(0).max(1_000_000_000).default(RECLAIM_DEFAULTS.kswapdWakeLatencyNs),
    slots: z
      .number()
      .int()
      .min(16)
      .max(1 << 20)
      .default(RECLAIM_DEFAULTS.slots),
    prefillFilePages: z.number().int().min(0).default(RECLAIM_DEFAULTS.prefillFilePages),
    /** Or fill until the node's free pages are this many times its zones' high watermarks summed (whatever the
     * machine's size and layout): 1.5 leaves the node just above its kswapd line. */
    prefillHeadroom: z.number().min(0).max(1000).default(RECLAIM_DEFAULTS.prefillHeadroom),
    prefillDirtyEvery: z.number().int().min(0).default(RECLAIM_DEFAULTS.prefillDirtyEvery),
    /** Memory cgroups: tasks join one with args.memcg (memcg.ts). */
    memcgs: memcgSchema,
  })
  .strict();

function optionsOf(args: Readonly<Record<string, unknown>>): ReclaimOptions {
  const o = parseModuleArgs('reclaim', argsSchema, args);
  if (o.prefillFilePages > 0 && o.prefillHeadroom > 0) {
    throw new Error(
      'reclaim: give prefillFilePages (a count) or prefillHeadroom (a multiple of the high watermarks), not both',
    );
  }
  return o;
}

/** Kernel threads (PF_KTHREAD): tasks whose args say kthread: true, kswapd aside; reclaim never throttles them. */
function kthreadsOf(config: RunConfig): Set<number> {
  return new Set(config.tasks.filter((t) => t.export !== 'kswapd' && t.args.kthread === true).map((t) => t.id));
}

export default defineKernelModule({
  name: 'reclaim',
  sharedBytes: (config: RunConfig, args) => {
    const o = optionsOf(args);
    return reclaimLayout(config.cpus, config.tasks.length, o.slots, o.memcgs.length).f64 * 8;
  },
  setup({ config, worker, shared, args, node, taskCpu }) {
    const o = optionsOf(args);
    const L = reclaimLayout(config.cpus, config.tasks.length, o.slots, o.memcgs.length);
    const mem = new Float64Array(shared);
    const taskGroup = memcgOfTasks(config, o.memcgs);
    const committer = worker === 0 ? new ReclaimCommitter(config, mem, L, node, o, taskGroup, taskCpu) : null;
    /** This worker's allocation latencies in this run (allocPages records them through its CPUs' ReclaimCpu). */
    const latencies = new LatencyRecorder();
    const kthreads = kthreadsOf(config);
    const hasKswapd = config.tasks.some((t) => t.export === 'kswapd');
    // kswapd is woken on the CPU it starts on (its wait queue is that CPU's module instance's): one that could move
    // would be woken where it no longer is.
    const loose = config.tasks.find((t) => t.export === 'kswapd' && !t.pinned);
    if (loose)
      throw new Error(
        `task '${loose.name}': kswapd must be pinned (pinned: true, the default); the reclaim module wakes it on the ` +
          'CPU it starts on',
      );
    // Worker 0 sets up before any window runs (every worker's init finishes first).
    const prefilled = committer?.prefill() ?? 0;
    committer?.timeline.sample(0, node.usableFreePages(), node.watermarkBand());
    return {
      attachCpu(cpu) {
        const rc = new ReclaimCpu(
          cpu,
          mem,
          L,
          node,
          latencies,
          o.memcgs,
          taskGroup,
          kthreads,
          config.hz,
          config.jiffyNs,
          hasKswapd,
          { nsPerPage: o.scanNsPerPage, perPage: o.scanPerPage },
        );
        return {
          state: rc, // api.ts's reclaimOf: ctx.kernel(RECLAIM)
          windowStart: () => rc.windowStart(),
          ...(o.memcgs.length > 0 ? { returnToUser: (taskId: number) => returnPenaltyNs(rc, taskId) } : {}),
        };
      },
      commit: (endNs, info) => committer!.commit(endNs, info),
      report: (): ReclaimReport & { latencyEncoded: EncodedLatencies } => ({
        ...reclaimReport(config, mem, L, committer?.victims ?? [], prefilled),
        ...(committer ? { timeline: committer.timeline.report() } : {}),
        ...(o.memcgs.length > 0
          ? { memcgs: memcgReport(config, mem, L, o.memcgs, taskGroup, (t, w) => L.taskOffset + t * TASK_F64 + w) }
          : {}),
        latencyEncoded: latencies.encode(),
      }),
    };
  },
  merge(reports) {
    const rs = reports as ReadonlyArray<ReclaimReport & { latencyEncoded: EncodedLatencies }>;
    const { latencyEncoded: _, ...first } = rs[0]!;
    void _;
    const merged = mergeLatencies(rs.map((r) => r.latencyEncoded));
    return { ...first, latency: merged.summary, latencyHistograms: merged.encoded } satisfies ReclaimReport;
  },
});
