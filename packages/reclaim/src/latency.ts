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
      out[task] = Object.fromEntries(
        [...masks].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([mask, h]) => [mask, hdr.encodeIntoCompressedBase64(h)]),
      );
    }
    return out;
  }
}

/** Summarise one histogram. */
export function summarise(h: hdr.Histogram): LatencySummary {
  return {
    count: h.totalCount,
    p50Ns: h.getValueAtPercentile(50),
    p99Ns: h.getValueAtPercentile(99),
    maxNs: h.maxValue,
    meanNs: Math.round(h.mean),
  };
}

/** Merge encoded histograms (of several workers, or several tasks) into one summary. */
export function mergeEncoded(parts: readonly string[]): LatencySummary {
  const h = hdr.build(HIST);
  for (const b64 of parts) h.add(hdr.decodeFromCompressedBase64(b64));
  return summarise(h);
}

/** Merge the workers' histograms: task id -> mask -> summary, and the merged histograms, encoded. */
export function mergeLatencies(parts: readonly EncodedLatencies[]): {
  summary: Record<string, Record<string, LatencySummary>>;
  encoded: EncodedLatencies;
} {
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
  const summary: Record<string, Record<string, LatencySummary>> = {};
  const encoded: EncodedLatencies = {};
  for (const [task, masks] of [...merged].sort((a, b) => Number(a[0]) - Number(b[0]))) {
    const sorted = [...masks].sort((a, b) => (a[0] < b[0] ? -1 : 1));
    summary[task] = Object.fromEntries(sorted.map(([mask, h]) => [mask, summarise(h)]));
    encoded[task] = Object.fromEntries(sorted.map(([mask, h]) => [mask, hdr.encodeIntoCompressedBase64(h)]));
  }
  return { summary, encoded };
}
