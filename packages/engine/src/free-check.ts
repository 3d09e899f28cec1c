// free-check: double frees judged by simulated time. While CPUs run in parallel, two CPUs that free the same page
// race for it in host time: one wins the page's exchange, the other finds it already free. Which one the kernel
// would blame is the one whose free came second in (time, CPU, sequence) order, so the loser does not fail at once:
// it logs a suspect, and between windows worker 0 compares each suspect with the first free of that page in the
// round (every CPU logs the pages it frees to its own list). The culprit - the earlier of the verdicts, in that
// order - is published for its CPU to report as its task's error, so the same seed names the same task on any
// number of workers. A suspect whose page no other CPU freed in the round freed a page that was free before it.
import {
  FL_F64,
  FL_PFN,
  FL_TASK,
  FL_TIME,
  VD_CPU,
  VD_OTHER_CPU,
  VD_OTHER_TASK,
  VD_OTHER_TIME,
  VD_PFN,
  VD_TASK,
  VD_TIME,
  type RunLayout,
} from './layout.js';
import { logOf, logsInOrder } from './log-ring.js';

export class FreeChecker {
  private readonly order: number[] = [];
  private readonly frees: number[] = [];

  constructor(
    private readonly rings: Float64Array,
    private readonly layout: RunLayout,
  ) {}

  /** Judge the round's suspects and publish the verdict (VD_CPU -1 when there is no culprit). */
  commit(): void {
    const { rings: r, layout: L } = this;
    const v = L.verdictOffset;
    r[v + VD_CPU] = -1;
    const suspects = logsInOrder(r, L.suspectOffset, L.suspectStride, L.cpus, FL_F64, FL_TIME, this.order);
    if (suspects.length === 0) return;
    const pfns = new Set(suspects.map((s) => r[s + FL_PFN]!));
    const freesOf = new Map<number, number[]>(); // pfn -> its free log slots this round, in (time, CPU, sequence) order
    for (const s of logsInOrder(r, L.freeLogOffset, L.freeLogStride, L.cpus, FL_F64, FL_TIME, this.frees)) {
      const pfn = r[s + FL_PFN]!;
      if (pfns.has(pfn)) freesOf.set(pfn, [...(freesOf.get(pfn) ?? []), s]);
    }
    type Verdict = {
      cpu: number;
      task: number;
      time: number;
      pfn: number;
      otherCpu: number;
      otherTask: number;
      otherTime: number;
    };
    let best: Verdict | null = null;
    for (const s of suspects) {
      const cpu = logOf(s, L.suspectOffset, L.suspectStride);
      const pfn = r[s + FL_PFN]!;
      const time = r[s + FL_TIME]!;
      // The first free of the page by another CPU this round: the one this free collided with.
      const w = freesOf.get(pfn)?.find((x) => logOf(x, L.freeLogOffset, L.freeLogStride) !== cpu);
      const suspect = { cpu, task: r[s + FL_TASK]!, time };
      let culprit = suspect;
      let other = { cpu: -1, task: -1, time: -1 };
      if (w !== undefined) {
        const winnerCpu = logOf(w, L.freeLogOffset, L.freeLogStride);
        const winner = { cpu: winnerCpu, task: r[w + FL_TASK]!, time: r[w + FL_TIME]! };
        const winnerLater = winner.time > time || (winner.time === time && winner.cpu > cpu);
        [culprit, other] = winnerLater ? [winner, suspect] : [suspect, winner];
      }
      if (best === null || culprit.time < best.time || (culprit.time === best.time && culprit.cpu < best.cpu)) {
        best = { ...culprit, pfn, otherCpu: other.cpu, otherTask: other.task, otherTime: other.time };
      }
    }
    r[v + VD_CPU] = best!.cpu;
    r[v + VD_TASK] = best!.task;
    r[v + VD_TIME] = best!.time;
    r[v + VD_PFN] = best!.pfn;
    r[v + VD_OTHER_CPU] = best!.otherCpu;
    r[v + VD_OTHER_TASK] = best!.otherTask;
    r[v + VD_OTHER_TIME] = best!.otherTime;
  }
}

/** The verdict's message, for the culprit's task error. */
export function verdictMessage(r: Float64Array, L: RunLayout): string {
  const v = L.verdictOffset;
  const pfn = r[v + VD_PFN]!;
  if (r[v + VD_OTHER_CPU]! < 0)
    return `double free of pfn ${pfn}: the page was already free (freed before this window)`;
  const first = `task #${r[v + VD_OTHER_TASK]} on cpu ${r[v + VD_OTHER_CPU]}`;
  return `double free of pfn ${pfn}: ${first} freed it first, at ${r[v + VD_OTHER_TIME]} ns`;
}
