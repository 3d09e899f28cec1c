// zone-commit: between windows, one thread applies every CPU's queued zone work - pcp refills and order > 0
// allocations that found the CPU's list empty, order > 0 frees, and drains of overfull lists - in the order of
// (request time, CPU, sequence). The zone lock is modelled in simulated time: each operation holds it for
// zoneLockNs, starting when it was asked for or when the lock came free, whichever is later; the grant time goes
// back to the waiting task, which resumes then or at the window's end if that is later. The worker runs it with
// the zone's deferShared mode off. Nothing here depends on which host thread ran which CPU, so the zone evolves the
// same way for any number of workers.
import type { CompiledPlan, Zone } from '@faultline/zone';
import {
  ZW_ALLOC, ZW_ARG, ZW_F64, ZW_FREE, ZW_GRANT, ZW_KIND, ZW_MASK, ZW_OWNER, ZW_RESULT, ZW_TIME, type RunLayout,
} from './layout.js';
import { logOf, logsInOrder } from './log-ring.js';

export class ZoneCommitter {
  lockFreeAtNs = 0;
  lockHeldNs = 0;
  lockWaitNs = 0;
  operations = 0;
  private readonly plans = new Map<string, CompiledPlan>();
  private readonly order: number[] = [];

  constructor(private readonly zone: Zone, private readonly rings: Float64Array, private readonly layout: RunLayout, private readonly lockNs: number) {}

  commit(windowEndNs: number): void {
    const { rings: r, layout: L, zone } = this;
    for (const s of logsInOrder(r, L.zoneWorkOffset, L.zoneWorkStride, L.cpus, ZW_F64, ZW_TIME, this.order)) {
      const cpu = logOf(s, L.zoneWorkOffset, L.zoneWorkStride);
      const start = Math.max(r[s + ZW_TIME]!, this.lockFreeAtNs);
      this.lockWaitNs += start - r[s + ZW_TIME]!;
      this.lockFreeAtNs = start + this.lockNs;
      this.lockHeldNs += this.lockNs;
      this.operations++;
      r[s + ZW_GRANT] = this.lockFreeAtNs;
      if (r[s + ZW_KIND] === ZW_ALLOC) {
        const mask = r[s + ZW_MASK]!;
        const order = r[s + ZW_ARG]!;
        const key = `${mask}/${order}`;
        let plan = this.plans.get(key);
        if (plan === undefined) {
          plan = zone.plan(mask, order);
          this.plans.set(key, plan);
        }
        r[s + ZW_RESULT] = zone.alloc(cpu, plan, r[s + ZW_OWNER]!);
      } else if (r[s + ZW_KIND] === ZW_FREE) {
        zone.free(cpu, r[s + ZW_ARG]!);
      }
    }
    for (let cpu = 0; cpu < L.cpus; cpu++) {
      if (zone.trimCpu(cpu) > 0) {
        this.lockFreeAtNs = Math.max(this.lockFreeAtNs, windowEndNs) + this.lockNs;
        this.lockHeldNs += this.lockNs;
        this.operations++;
      }
    }
  }
}
