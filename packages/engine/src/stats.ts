// stats: what a CPU counts, and how an allocation's result is counted for its task.
import type { AllocCounts } from './task.js';

export interface CpuStats {
  readonly cpu: number;
  events: number;
  busyNs: number;
  idleNs: number;
  contextSwitches: number;
  messagesSent: number;
  messagesReceived: number;
  zoneDeferred: number;
  /** Lock acquisitions that waited for the commit, and time its tasks spent spinning on spinlocks. */
  lockWaits: number;
  spinNs: number;
  /** Kernel modules' timers that fired here. */
  timers: number;
}

export function countResult(c: AllocCounts, pfn: number): void {
  if (pfn >= 0) c.granted++;
  else if (pfn === -1) c.failed++;
  else c.mayReclaim++;
}
