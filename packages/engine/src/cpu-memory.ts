// cpu-memory: one CPU's side of page allocation. It turns a task's GFP mask into a compiled plan (cached per mask
// and order), takes pages from the CPU's own list during the window, and queues for the commit what needs the zone
// lock. It counts each allocation under its task and mask. Errors (a bad mask, a double free, a full ring) are
// thrown as plain Errors for the CPU to report as the task's.
import { ALLOC_DEFERRED, DoubleFreeError, type MemoryNode, type NodePlan } from '@faultline/zone';
import { formatGfp, parseGfp, type GfpMask } from '@faultline/gfp';
import type { CpuRings } from './cpu-rings.js';
import { ZW_ALLOC, ZW_FREE } from './layout.js';
import { countResult } from './stats.js';
import type { AllocCounts, TaskStats } from './task.js';

export interface MemoryTask {
  readonly id: number;
  readonly stats: TaskStats;
  zoneWaitSinceNs: number;
  zoneWaitMask: string;
}

export class CpuMemory {
  private readonly plans = new Map<number, NodePlan>();
  private readonly maskNames = new Map<number, string>();
  private readonly masks = new Map<string, number>();

  constructor(
    private readonly cpu: number,
    private readonly node: MemoryNode,
    private readonly ring: CpuRings,
    private readonly ringSlots: number,
  ) {}

  maskOf(mask: string | GfpMask | undefined): number {
    if (typeof mask === 'number') return mask;
    if (typeof mask !== 'string') throw new Error(`alloc without a GFP mask; write ctx.alloc('GFP_KERNEL')`);
    let m = this.masks.get(mask);
    if (m === undefined) {
      m = parseGfp(mask, this.node.kernel).mask;
      this.masks.set(mask, m);
    }
    return m;
  }

  /** A pfn, -1 (failed) or -2 (the caller would reclaim), or ALLOC_DEFERRED when the task must wait for the commit
   * (it spins on the zone lock until its grant). */
  alloc(t: MemoryTask, nowNs: number, maskArg: string | GfpMask | undefined, order: number): number {
    const mask = this.maskOf(maskArg);
    const key = mask * 16 + order; // mask < 2^23, order < 16: one number, no string per allocation
    let plan = this.plans.get(key);
    if (plan === undefined) {
      plan = this.node.plan(mask, order);
      this.plans.set(key, plan);
    }
    const counts = this.allocCounts(t.stats, mask);
    const owner = t.id % this.node.owners;
    const pfn = this.node.alloc(this.cpu, plan, owner);
    if (this.node.outcome.kswapdWoken) this.ring.noteKswapdWake(nowNs);
    if (pfn === ALLOC_DEFERRED) {
      counts.deferred++;
      this.queue(nowNs, ZW_ALLOC, t.id, mask, order, owner);
      t.zoneWaitSinceNs = nowNs;
      t.zoneWaitMask = this.maskName(mask);
      return ALLOC_DEFERRED;
    }
    countResult(counts, pfn);
    return pfn;
  }

  /** The freed block's order (0 when the free was queued for the commit). */
  free(t: MemoryTask, nowNs: number, pfn: number): number {
    let r: number;
    try {
      r = this.node.free(this.cpu, pfn);
    } catch (e) {
      // Another CPU freed it during this window: which free was second is judged at the commit, by simulated time.
      if (e instanceof DoubleFreeError && e.racy && this.node.deferShared && this.ring.suspect(nowNs, pfn, t.id))
        return 0;
      throw e;
    }
    t.stats.frees++;
    if (r === ALLOC_DEFERRED) {
      this.queue(nowNs, ZW_FREE, t.id, 0, pfn, -1);
      return 0;
    }
    if (r === 0) this.ring.logFree(nowNs, pfn, t.id);
    return r;
  }

  /** Count a deferred allocation's result when the commit has applied it. */
  completed(t: MemoryTask, result: number, resumeNs: number): void {
    const counts = t.stats.allocs[t.zoneWaitMask]!;
    countResult(counts, result);
    counts.waitNs += resumeNs - t.zoneWaitSinceNs;
  }

  private queue(nowNs: number, kind: number, taskId: number, mask: number, arg: number, owner: number): void {
    if (!this.ring.queueZoneWork(nowNs, kind, taskId, mask, arg, owner)) {
      throw new Error(
        `more than ${this.ringSlots} zone operations in one window on this CPU; raise ringSlots or shorten the window`,
      );
    }
  }

  private maskName(mask: number): string {
    let name = this.maskNames.get(mask);
    if (name === undefined) {
      name = formatGfp(mask, this.node.kernel);
      this.maskNames.set(mask, name);
    }
    return name;
  }

  private allocCounts(stats: TaskStats, mask: number): AllocCounts {
    const name = this.maskName(mask);
    let c = stats.allocs[name];
    if (c === undefined) {
      c = { calls: 0, granted: 0, failed: 0, mayReclaim: 0, deferred: 0, waitNs: 0 };
      stats.allocs[name] = c;
    }
    c.calls++;
    return c;
  }
}
