// zone-commit: between windows, one thread applies every CPU's queued zone work - pcp refills and order > 0
// allocations that found the CPU's list empty, order > 0 frees, and drains of overfull lists - in the order of
// (request time, CPU, sequence). The zone lock (zone->lock, taken with spin_lock_irqsave in rmqueue_bulk,
// free_pcppages_bulk and __rmqueue) is modelled in simulated time by its hold intervals (lock-timeline.ts): each
// operation holds it for zoneLockNs from the first free moment at or after its request, so a waiter is charged
// only the holds that overlapped it. The grant time goes back to the waiting CPU, which spun meanwhile and resumes
// then. The worker runs it with the zone's deferShared mode off. Nothing here depends on which host thread ran which
// CPU, so the zone evolves the same way for any number of workers.
// Where the run charges lines, a hold by another CPU than the last holder also pays the lock word's line coming
// from that CPU (the topology's transfer between the two): qspinlock's handoff, service time plus one transfer
// ("Non-scalable locks are dangerous"). Simplified: the lines the critical section touches (the free lists, the
// zone's counters) are in zoneLockNs as the lock holder's own cached work; the last holder is the last in the
// commit's order; and the model has one memory node, so both sockets' CPUs share one zone->lock, where a 2-socket
// machine has a zone per node.
import { DoubleFreeError, type MemoryNode, type NodePlan } from '@faultline/zone';
import {
  FL_F64,
  FL_PFN,
  FL_TASK,
  FL_TIME,
  SUSPECT_SLOTS,
  ZW_ALLOC,
  ZW_ARG,
  ZW_F64,
  ZW_FREE,
  ZW_GRANT,
  ZW_KIND,
  ZW_MASK,
  ZW_OWNER,
  ZW_RESULT,
  ZW_TASK,
  ZW_TIME,
  type RunLayout,
} from './layout.js';
import { LockTimeline } from './lock-timeline.js';
import { logAppend, logOf, logsInOrder } from './log-ring.js';

/** zone->lock over the run. */
export interface ZoneLockStats {
  readonly operations: number;
  readonly heldNs: number;
  readonly waitNs: number;
  /** Only where the run charges lines: the holds that took the lock's line from another CPU, and what those
   * transfers cost (part of heldNs). */
  readonly lineTransfers?: number;
  readonly lineNs?: number;
}

export class ZoneCommitter {
  /** The earliest request time in the last commit whose allocation woke kswapd, or Infinity. */
  kswapdWakeNs = Infinity;
  /** What stats() reports: holds, their time and their waits; the holds that moved the lock's line from another CPU
   * and what those moves cost (lines charged only). */
  private operations = 0;
  private lockHeldNs = 0;
  private lockWaitNs = 0;
  private lineTransfers = 0;
  private lineNs = 0;
  private lastCpu = -1;
  private readonly timeline = new LockTimeline();
  private readonly plans = new Map<number, NodePlan>();
  private readonly order: number[] = [];

  constructor(
    private readonly node: MemoryNode,
    private readonly rings: Float64Array,
    private readonly layout: RunLayout,
    private readonly lockNs: number,
    /** A line's transfer between two of the run's CPUs, ns, where the run charges lines; else null. */
    private readonly transferNs: ((from: number, to: number) => number) | null = null,
  ) {}

  /** `clockNs(cpu)`: that CPU's clock after the window (where a drain its frees left is charged); `horizonNs`: the
   * least of them. */
  commit(clockNs: (cpu: number) => number, horizonNs: number): void {
    const { rings: r, layout: L, node } = this;
    this.kswapdWakeNs = Infinity;
    for (const s of logsInOrder(r, L.zoneWorkOffset, L.zoneWorkStride, L.cpus, ZW_F64, ZW_TIME, this.order)) {
      const cpu = logOf(s, L.zoneWorkOffset, L.zoneWorkStride);
      const at = r[s + ZW_TIME]!;
      if (r[s + ZW_KIND] === ZW_ALLOC) {
        r[s + ZW_GRANT] = this.hold(at, cpu);
        const mask = r[s + ZW_MASK]!;
        const order = r[s + ZW_ARG]!;
        const key = mask * 16 + order;
        let plan = this.plans.get(key);
        if (plan === undefined) {
          plan = node.plan(mask, order);
          this.plans.set(key, plan);
        }
        r[s + ZW_RESULT] = node.alloc(cpu, plan, r[s + ZW_OWNER]!);
        if (node.outcome.kswapdWoken && at < this.kswapdWakeNs) this.kswapdWakeNs = at;
      } else if (r[s + ZW_KIND] === ZW_FREE) {
        // An order-0 free goes onto the CPU's list and takes the lock only for the bulk frees it sets off
        // (free_pcppages_bulk, a batch or more per hold); a larger block goes to the buddy lists under the lock.
        const drains = node.pcpDrainsOf(cpu);
        try {
          const order = node.free(cpu, r[s + ZW_ARG]!);
          for (let n = node.pcpDrainsOf(cpu) - drains + (order > 0 ? 1 : 0); n > 0; n--) this.hold(at, cpu);
        } catch (e) {
          // A free that waited for the lock (its CPU's list was full) may meet a page another CPU freed in the
          // window: a suspect like any other, judged by simulated time (free-check.ts runs next).
          if (!(e instanceof DoubleFreeError)) throw e;
          const slot = logAppend(r, L.suspectOffset + cpu * L.suspectStride, SUSPECT_SLOTS, FL_F64);
          if (slot < 0) throw e;
          r[slot + FL_TIME] = at;
          r[slot + FL_PFN] = r[s + ZW_ARG]!;
          r[slot + FL_TASK] = r[s + ZW_TASK]!;
        }
      }
    }
    // The bulk frees of lists that the window's frees took past nr_pcp_high, one lock hold each.
    for (let cpu = 0; cpu < L.cpus; cpu++) for (let n = node.trimCpu(cpu); n > 0; n--) this.hold(clockNs(cpu), cpu);
    this.timeline.prune(horizonNs);
  }

  /** The lock's holds and waits so far (the line's transfers where the run charges lines). */
  stats(): ZoneLockStats {
    const lines = this.transferNs !== null ? { lineTransfers: this.lineTransfers, lineNs: this.lineNs } : {};
    return { operations: this.operations, heldNs: this.lockHeldNs, waitNs: this.lockWaitNs, ...lines };
  }

  /** `cpu` holds the lock from the first free moment at or after atNs; returns when the hold ends. */
  private hold(atNs: number, cpu: number): number {
    let holdNs = this.lockNs;
    if (this.transferNs !== null && this.lastCpu !== cpu) {
      const move = this.lastCpu < 0 ? 0 : this.transferNs(this.lastCpu, cpu);
      if (move > 0) {
        holdNs += move;
        this.lineTransfers++;
        this.lineNs += move;
      }
      this.lastCpu = cpu;
    }
    const start = this.timeline.serve(atNs, holdNs);
    this.lockWaitNs += start - atNs;
    this.lockHeldNs += holdNs;
    this.operations++;
    return start + holdNs;
  }
}
