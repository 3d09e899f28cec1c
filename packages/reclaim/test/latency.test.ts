// latency: the bounded merge and summary read what hdr-histogram-js's own add, percentiles and mean read, on
// histograms of every shape (one value, spread values, values near the top of the range, merged groups).
import * as hdr from 'hdr-histogram-js';
import { describe, expect, it } from 'vitest';
import { mergeEncoded } from '../dist/index.js';

const HIST = { lowestDiscernibleValue: 1, highestTrackableValue: 1e12, numberOfSignificantValueDigits: 3 } as const;

function histogramOf(values: readonly number[]): string {
  const h = hdr.build(HIST);
  for (const v of values) h.recordValue(v);
  return hdr.encodeIntoCompressedBase64(h);
}

/** The library's way: add every part into a fresh histogram, then read it. */
function reference(parts: readonly string[]) {
  const h = hdr.build(HIST);
  for (const b64 of parts) h.add(hdr.decodeFromCompressedBase64(b64));
  return {
    count: h.totalCount,
    p50Ns: h.getValueAtPercentile(50),
    p99Ns: h.getValueAtPercentile(99),
    maxNs: h.maxValue,
    meanNs: Math.round(h.mean),
  };
}

describe('latency histograms', () => {
  it('merge and summarise as hdr-histogram-js does', () => {
    // Spread values from a fixed arithmetic sequence (no randomness needed to cover the buckets).
    const spread = (i: number) => ((i * 7919) % 1000) / 1000;
    const shapes: number[][] = [
      [150],
      Array.from({ length: 500 }, (_, i) => 100 + Math.floor(spread(i) * 900)),
      Array.from({ length: 300 }, (_, i) => 1 + Math.floor(Math.exp(spread(i + 1) * 20))),
      [1, 1e11, 5e11],
    ];
    const parts = shapes.map(histogramOf);
    for (const group of [[0], [1], [2], [3], [0, 1], [1, 2, 3], [0, 1, 2, 3]]) {
      const chosen = group.map((i) => parts[i]!);
      expect(mergeEncoded(chosen), `group ${group.join(',')}`).toEqual(reference(chosen));
    }
    expect(mergeEncoded([])).toEqual(reference([]));
  });
});
