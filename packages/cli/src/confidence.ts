// confidence: mean and 95% confidence interval over seeds, with Student's t quantile from jstat.
import jstat from 'jstat';

export interface Interval {
  readonly mean: number;
  /** Half-width of the 95% interval; NaN with a single sample. */
  readonly half: number;
  readonly n: number;
  /** Every sample was a whole number (a count). */
  readonly counts: boolean;
}

export function interval(xs: readonly number[]): Interval {
  const n = xs.length;
  const mean = xs.reduce((s, x) => s + x, 0) / n;
  const counts = xs.every((x) => Number.isInteger(x));
  if (n < 2) return { mean, half: NaN, n, counts };
  const sd = Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1));
  return { mean, half: (jstat.jStat.studentt.inv(0.975, n - 1) * sd) / Math.sqrt(n), n, counts };
}

/** Student's t at 95% for n samples: what the interval's half-width multiplies the standard error by. */
export function tQuantile(n: number): number {
  return jstat.jStat.studentt.inv(0.975, n - 1);
}

/** The mean and half-width, to 0-2 decimals by size; a count whose every sample agreed prints as the count alone
 * (`0`, not `0.00 ± 0.00`), and one sample has no interval. */
export function formatInterval(i: Interval): string {
  if (i.counts && (i.half === 0 || Number.isNaN(i.half)) && Number.isInteger(i.mean)) return String(i.mean);
  const digits = Math.abs(i.mean) >= 100 ? 0 : Math.abs(i.mean) >= 10 ? 1 : 2;
  return Number.isNaN(i.half) ? i.mean.toFixed(digits) : `${i.mean.toFixed(digits)} ± ${i.half.toFixed(digits)}`;
}

/** What a reader should know about intervals from this many seeds, or null. */
export function seedsWarning(n: number): string | null {
  if (n === 1) return 'one seed: no confidence intervals (use --seeds 3 or more)';
  if (n === 2) {
    return `2 seeds: each interval is ${tQuantile(2).toFixed(1)} standard errors wide either side (Student's t, ` +
      '1 degree of freedom), so read them as rough; use --seeds 3 or more';
  }
  return null;
}
