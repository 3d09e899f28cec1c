// The free-pages timeline: time in each watermark band adds up to the run, each band gets the time the node spent
// in it, and buckets keep their lowest and highest sample.
import { describe, expect, it } from 'vitest';
import { TimelineRecorder, TIMELINE_BUCKETS } from '../src/timeline.js';

describe('TimelineRecorder', () => {
  const wm = () => ({ minPages: 100, lowPages: 200, highPages: 300 });

  it('charges the time between samples to the band of the count that held it', () => {
    const t = new TimelineRecorder(1_000_000, wm, 3);
    t.sample(100_000, 250, 2); // 0..100us above high
    t.sample(300_000, 150, 1); // 100..300us low..high
    t.sample(600_000, 50, 0); // 300..600us min..low
    t.sample(1_000_000, 400, 3); // 600..1000us below min
    const r = t.report();
    expect(r.timeInBandNs).toEqual({ aboveHigh: 100_000, lowToHigh: 200_000, minToLow: 300_000, belowMin: 400_000 });
    expect(Object.values(r.timeInBandNs).reduce((a, b) => a + b, 0)).toBe(1_000_000);
    expect(r.freeMin.length).toBe(TIMELINE_BUCKETS);
    expect(r.watermarks).toEqual(wm());
  });

  it('keeps the lowest and highest sample of a bucket, null where none fell, and trims after the last window', () => {
    const t = new TimelineRecorder(1_000_000, wm, 3);
    for (const [ns, free] of [
      [1_000, 300],
      [1_500, 120],
      [1_900, 450],
      [5_000, 10],
    ] as const)
      t.sample(ns, free, 3);
    const r = t.report();
    expect(r.bucketNs).toBe(1_000);
    expect(r.freeMin[1]).toBe(120);
    expect(r.freeMax[1]).toBe(450);
    expect(r.freeMin[2]).toBeNull();
    expect(r.freeMin[5]).toBe(10);
    expect(r.freeMin.length).toBe(6);
  });
});
