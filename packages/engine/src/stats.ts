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
}


export function countResult(c: AllocCounts, pfn: number): void {
  if (pfn >= 0) c.granted++;
  else if (pfn === -1) c.failed++;
  else c.mayReclaim++;
}
