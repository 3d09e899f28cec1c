// cpu-rings: one CPU's side of the shared rings: writing its outgoing messages and queued zone work during a
// window, and, between windows, reading the results of its own zone work (the window loop hands it the messages
// addressed to it). Slot layouts are in layout.ts.
import {
  FL_F64,
  FL_PFN,
  FL_TASK,
  FL_TIME,
  MSG_DST,
  MSG_F64,
  MSG_TIME,
  MSG_VALUE,
  SUSPECT_SLOTS,
  ZW_ALLOC,
  ZW_ARG,
  ZW_F64,
  ZW_GRANT,
  ZW_KIND,
  ZW_MASK,
  ZW_OWNER,
  ZW_RESULT,
  ZW_TASK,
  ZW_TIME,
  type RunLayout,
} from './layout.js';
import { LOG_HEADER_F64, logAppend } from './log-ring.js';

export class CpuRings {
  private readonly outbox: number;
  private readonly zoneWork: number;
  private readonly freeLog: number;
  private readonly suspects: number;

  constructor(
    private readonly rings: Float64Array,
    private readonly layout: RunLayout,
    private readonly cpu: number,
  ) {
    this.outbox = layout.outboxOffset + cpu * layout.outboxStride;
    this.zoneWork = layout.zoneWorkOffset + cpu * layout.zoneWorkStride;
    this.freeLog = layout.freeLogOffset + cpu * layout.freeLogStride;
    this.suspects = layout.suspectOffset + cpu * layout.suspectStride;
    rings[layout.kswapdWakeOffset + cpu] = Infinity;
  }

  /** Queue zone work for the between-windows pass; false when the ring is full. */
  queueZoneWork(timeNs: number, kind: number, taskId: number, mask: number, arg: number, owner: number): boolean {
    const r = this.rings;
    const s = logAppend(r, this.zoneWork, this.layout.ringSlots, ZW_F64);
    if (s < 0) return false;
    r[s + ZW_TIME] = timeNs;
    r[s + ZW_KIND] = kind;
    r[s + ZW_TASK] = taskId;
    r[s + ZW_MASK] = mask;
    r[s + ZW_ARG] = arg;
    r[s + ZW_OWNER] = owner;
    r[s + ZW_RESULT] = 0;
    r[s + ZW_GRANT] = 0;
    return true;
  }

  /** This CPU freed a page to its own list; false when the log is full (the page goes unlogged). */
  logFree(timeNs: number, pfn: number, taskId: number): boolean {
    return this.appendFree(this.freeLog, this.layout.ringSlots, timeNs, pfn, taskId);
  }

  /** A free that found the page freed by another CPU meanwhile: judged at the commit (free-check.ts). */
  suspect(timeNs: number, pfn: number, taskId: number): boolean {
    return this.appendFree(this.suspects, SUSPECT_SLOTS, timeNs, pfn, taskId);
  }

  private appendFree(base: number, slots: number, timeNs: number, pfn: number, taskId: number): boolean {
    const s = logAppend(this.rings, base, slots, FL_F64);
    if (s < 0) return false;
    this.rings[s + FL_TIME] = timeNs;
    this.rings[s + FL_PFN] = pfn;
    this.rings[s + FL_TASK] = taskId;
    return true;
  }

  /** An allocation woke kswapd at this time: keep the window's earliest. */
  noteKswapdWake(timeNs: number): void {
    const i = this.layout.kswapdWakeOffset + this.cpu;
    if (timeNs < this.rings[i]!) this.rings[i] = timeNs;
  }

  /** Queue a message; false when the outbox is full. */
  send(timeNs: number, dst: number, value: number): boolean {
    const r = this.rings;
    const s = logAppend(r, this.outbox, this.layout.ringSlots, MSG_F64);
    if (s < 0) return false;
    r[s + MSG_TIME] = timeNs;
    r[s + MSG_DST] = dst;
    r[s + MSG_VALUE] = value;
    return true;
  }

  /** The applied allocations of this CPU's zone work, in queue order. */
  allocResults(visit: (taskId: number, result: number, grantNs: number) => void): void {
    const r = this.rings;
    const n = r[this.zoneWork]!;
    for (let i = 0; i < n; i++) {
      const s = this.zoneWork + LOG_HEADER_F64 + i * ZW_F64;
      if (r[s + ZW_KIND] === ZW_ALLOC) visit(r[s + ZW_TASK]!, r[s + ZW_RESULT]!, r[s + ZW_GRANT]!);
    }
  }

  clear(): void {
    this.rings[this.outbox] = 0;
    this.rings[this.zoneWork] = 0;
    this.rings[this.layout.kswapdWakeOffset + this.cpu] = Infinity;
    this.rings[this.freeLog] = 0;
    this.rings[this.suspects] = 0;
  }
}
