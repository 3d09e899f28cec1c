// latency: allocation latency per task and mask, recorded in an HDR histogram (hdr-histogram-js) in the worker
// that runs the task, sent as compressed base64 with the module's report and merged on the main thread, where
// p50, p99 and max are read. Merging is exact, so the figures do not depend on how CPUs were spread over workers.
// The main thread touches only the buckets up to each histogram's largest value (the library's own add and mean
// walk all ~31,000 of them, which at 1024 CPUs, thousands of task histograms, took seconds). It keeps no decoded
// histogram: each is summarised and dropped (hdr-histogram-js's packed counts would save the memory but cost 10x
// the time to read). It loads the library's builder and encoding files alone: its index also loads the log writer,
// whose module-level Intl.NumberFormat costs about 15 ms of every thread's start-up (issue 27).
import type { Histogram } from 'hdr-histogram-js';
import { build } from 'hdr-histogram-js/dist/HistogramBuilder.js';
import { decodeFromCompressedBase64, encodeIntoCompressedBase64 } from 'hdr-histogram-js/dist/encoding.js';

const HIST = { lowestDiscernibleValue: 1, highestTrackableValue: 1e12, numberOfSignificantValueDigits: 3 } as const;

/** JsHistogram's index arithmetic (public methods of the class, left out of its Histogram interface). */
interface Indexed {
  countsArrayIndex(value: number): number;
  getCountAtIndex(i: number): number;
  addToCountAtIndex(i: number, n: number): void;
  setTotalCount(n: number): void;
  updatedMaxValue(v: number): void;
  updateMinNonZeroValue(v: number): void;
  valueFromIndex(i: number): number;
  medianEquivalentValue(v: number): number;
}
const indexed = (h: Histogram) => h as unknown as Indexed & Histogram;

/** The histogram's last bucket that can hold a count. */
const topIndex = (h: Histogram): number => (h.totalCount === 0 ? -1 : indexed(h).countsArrayIndex(h.maxValue));

/** `into.add(from)` for histograms of the same geometry (all of ours), up to from's largest value. */
function addInto(into: Histogram, from: Histogram): void {
  const a = indexed(into);
  const b = indexed(from);
  let total = 0;
  for (let i = 0, top = topIndex(from); i <= top; i++) {
    const n = b.getCountAtIndex(i);
    if (n > 0) {
      a.addToCountAtIndex(i, n);
      total += n;
    }
  }
  if (total === 0) return;
  a.setTotalCount(into.totalCount + total);
  a.updatedMaxValue(Math.max(into.maxValue, from.maxValue));
  a.updateMinNonZeroValue(Math.min(into.minNonZeroValue, from.minNonZeroValue));
}

/** The library's `mean` (each recorded bucket's median value times its count, in bucket order), up to the largest
 * value. */
function meanOf(h: Histogram): number {
  if (h.totalCount === 0) return 0;
  const x = indexed(h);
  let sum = 0;
  for (let i = 0, top = topIndex(h); i <= top; i++) {
    const n = x.getCountAtIndex(i);
    if (n !== 0) sum += x.medianEquivalentValue(x.valueFromIndex(i)) * n;
  }
  return sum / h.totalCount;
}

const decode = (b64: string): Histogram => decodeFromCompressedBase64(b64);

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
  private readonly byTask = new Map<number, Map<string, Histogram>>();

  record(taskId: number, mask: string, ns: number): void {
    let masks = this.byTask.get(taskId);
    if (masks === undefined) this.byTask.set(taskId, (masks = new Map()));
    let h = masks.get(mask);
    if (h === undefined) masks.set(mask, (h = build(HIST)));
    h.recordValue(Math.max(1, Math.round(ns)));
  }

  encode(): EncodedLatencies {
    const out: EncodedLatencies = {};
    for (const [task, masks] of [...this.byTask].sort((a, b) => a[0] - b[0])) {
      out[task] = Object.fromEntries(
        [...masks].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([mask, h]) => [mask, encodeIntoCompressedBase64(h)]),
      );
    }
    return out;
  }
}

/** Summarise one histogram. */
export function summarise(h: Histogram): LatencySummary {
  return {
    count: h.totalCount,
    p50Ns: h.getValueAtPercentile(50),
    p99Ns: h.getValueAtPercentile(99),
    maxNs: h.maxValue,
    meanNs: Math.round(meanOf(h)),
  };
}

/** Merge encoded histograms (of several workers, or several tasks) into one summary. */
export function mergeEncoded(parts: readonly string[]): LatencySummary {
  const h = build(HIST);
  for (const b64 of parts) addInto(h, decode(b64));
  return summarise(h);
}

/** Merge the workers' histograms: task id -> mask -> summary, and the merged histograms, encoded. */
export function mergeLatencies(parts: readonly EncodedLatencies[]): {
  summary: Record<string, Record<string, LatencySummary>>;
  encoded: EncodedLatencies;
} {
  // A task runs on one CPU, so each (task, mask) normally comes from one worker: its encoding is kept as it is.
  const byKey = new Map<string, Map<string, string[]>>();
  for (const part of parts) {
    for (const [task, masks] of Object.entries(part)) {
      let m = byKey.get(task);
      if (m === undefined) byKey.set(task, (m = new Map()));
      for (const [mask, b64] of Object.entries(masks)) {
        const list = m.get(mask);
        if (list === undefined) m.set(mask, [b64]);
        else list.push(b64);
      }
    }
  }
  const summary: Record<string, Record<string, LatencySummary>> = {};
  const encoded: EncodedLatencies = {};
  for (const [task, masks] of [...byKey].sort((a, b) => Number(a[0]) - Number(b[0]))) {
    const sorted = [...masks].sort((a, b) => (a[0] < b[0] ? -1 : 1));
    summary[task] = {};
    encoded[task] = {};
    for (const [mask, list] of sorted) {
      if (list.length === 1) {
        summary[task][mask] = summarise(decode(list[0]!));
        encoded[task][mask] = list[0]!;
        continue;
      }
      const h = build(HIST);
      for (const b64 of list) addInto(h, decode(b64));
      summary[task][mask] = summarise(h);
      encoded[task][mask] = encodeIntoCompressedBase64(h);
    }
  }
  return { summary, encoded };
}
