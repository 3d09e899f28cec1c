// latency: allocation latency per task and mask, recorded in an HDR histogram (hdr-histogram-js) in the worker
// that runs the task, sent as compressed base64 with the module's report and merged on the main thread, where
// p50, p99 and max are read. Merging is exact, so the figures do not depend on how CPUs were spread over workers.
import * as hdr from 'hdr-histogram-js';

const HIST = { lowestDiscernibleValue: 1, highestTrackableValue: 1e12, numberOfSignificantValueDigits: 3 } as const;

/** Encoded histograms of one worker: task id -> mask -> base64. */
export type EncodedLatencies = Record<string, Record<string, string>>;

export interface LatencySummary {
  readonly count: number;
  readonly p50Ns: number;
  readonly p99Ns: number;
  readonly maxNs: number;
  readonly meanNs: number;
}

export class LatencyRecorder {
  private readonly byTask = new Map<number, Map<string, hdr.Histogram>>();

  record(taskId: number, mask: string, ns: number): void {
    let masks = this.byTask.get(taskId);
    if (masks === undefined) this.byTask.set(taskId, (masks = new Map()));
    let h = masks.get(mask);
    if (h === undefined) masks.set(mask, (h = hdr.build(HIST)));
    h.recordValue(Math.max(1, Math.round(ns)));
  }

  encode(): EncodedLatencies {
    const out: EncodedLatencies = {};
    for (const [task, masks] of [...this.byTask].sort((a, b) => a[0] - b[0])) {
      out[task] = Object.fromEntries([...masks].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([mask, h]) => [mask, hdr.encodeIntoCompressedBase64(h)]));
    }
    return out;
  }
}

/** Merge the workers' histograms and summarise them: task id -> mask -> summary. */
export function mergeLatencies(parts: readonly EncodedLatencies[]): Record<string, Record<string, LatencySummary>> {
  const merged = new Map<string, Map<string, hdr.Histogram>>();
  for (const part of parts) {
    for (const [task, masks] of Object.entries(part)) {
      let m = merged.get(task);
      if (m === undefined) merged.set(task, (m = new Map()));
      for (const [mask, b64] of Object.entries(masks)) {
        let h = m.get(mask);
        if (h === undefined) m.set(mask, (h = hdr.build(HIST)));
        h.add(hdr.decodeFromCompressedBase64(b64));
      }
    }
  }
  const out: Record<string, Record<string, LatencySummary>> = {};
  for (const [task, masks] of [...merged].sort((a, b) => Number(a[0]) - Number(b[0]))) {
    out[task] = Object.fromEntries([...masks].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([mask, h]) => [mask, {
      count: h.totalCount, p50Ns: h.getValueAtPercentile(50), p99Ns: h.getValueAtPercentile(99), maxNs: h.maxValue, meanNs: Math.round(h.mean),
    }]));
  }
  return out;
}
