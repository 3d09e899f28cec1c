// timeline: free memory over a run, as worker 0's commit sees it at the end of every window - the lowest and
// highest free count in each of a fixed number of time buckets (for the report's chart: the pages a Normal-class
// allocation could use, each zone's free pages above its lowmem reserve, summed), and how long the node spent in
// each watermark band (below min, min to low, low to high, above high: the time reclaim was owed), each judged as
// the allocator judges it, zone by zone (MemoryNode.watermarkBand).
import type { Watermarks } from '@faultline/gfp';

/** Buckets of the free-pages chart, whatever the run's length. */
export const TIMELINE_BUCKETS = 1_000;
export const WATERMARK_BANDS = ['belowMin', 'minToLow', 'lowToHigh', 'aboveHigh'] as const;
export type WatermarkBand = (typeof WATERMARK_BANDS)[number];

export interface FreePagesTimeline {
  readonly bucketNs: number;
  /** Lowest and highest free count seen at a window's end in each bucket; null where no window ended. */
  readonly freeMin: Array<number | null>;
  readonly freeMax: Array<number | null>;
  readonly watermarks: Watermarks;
  /** Simulated time spent in each band, the free count taken as constant between window ends. */
  readonly timeInBandNs: Record<WatermarkBand, number>;
}

export class TimelineRecorder {
  private readonly bucketNs: number;
  private readonly freeMin = new Array<number | null>(TIMELINE_BUCKETS).fill(null);
  private readonly freeMax = new Array<number | null>(TIMELINE_BUCKETS).fill(null);
  private readonly band: Record<WatermarkBand, number> = { belowMin: 0, minToLow: 0, lowToHigh: 0, aboveHigh: 0 };
  private lastNs = 0;
  private lastBand: number;

  /** `wm`: the lines the chart draws (the zones' watermarks summed); `firstBand`: the band at time 0. */
  constructor(
    durationNs: number,
    private readonly wm: () => Watermarks,
    firstBand: number,
  ) {
    if (!(durationNs > 0)) throw new RangeError(`timeline: duration ${durationNs} ns; must be more than 0`);
    this.bucketNs = Math.ceil(durationNs / TIMELINE_BUCKETS);
    this.lastBand = firstBand;
  }

  /** At the end of the window ending at `endNs` the node had `free` usable pages and was in band `band` (0 below
   * min .. 3 above high); the band since the last sample was the last one's. */
  sample(endNs: number, free: number, band: number): void {
    this.band[WATERMARK_BANDS[this.lastBand]!] += endNs - this.lastNs;
    this.lastNs = endNs;
    this.lastBand = band;
    const b = Math.min(TIMELINE_BUCKETS - 1, Math.floor(endNs / this.bucketNs));
    const lo = this.freeMin[b];
    const hi = this.freeMax[b];
    if (lo === null || lo === undefined || free < lo) this.freeMin[b] = free;
    if (hi === null || hi === undefined || free > hi) this.freeMax[b] = free;
  }

  report(): FreePagesTimeline {
    // Trim buckets after the last window (a run that ended early).
    const used = Math.min(TIMELINE_BUCKETS, Math.floor(this.lastNs / this.bucketNs) + 1);
    return {
      bucketNs: this.bucketNs,
      freeMin: this.freeMin.slice(0, used),
      freeMax: this.freeMax.slice(0, used),
      watermarks: this.wm(),
      timeInBandNs: { ...this.band },
    };
  }
}
