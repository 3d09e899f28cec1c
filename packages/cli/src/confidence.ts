// confidence: mean and 95% confidence interval over seeds, with Student's t quantile from jstat.
import jstat from 'jstat';

export interface Interval {
  readonly mean: number;
  /** Half-width of the 95% interval; NaN with a single sample. */
  readonly half: number;
  readonly n: number;
}

export function interval(xs: readonly number[]): Interval {
  const n = xs.length;
  const mean = xs.reduce((s, x) => s + x, 0) / n;
  if (n < 2) return { mean, half: NaN, n };
  const sd = Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1));
  return { mean, half: (jstat.jStat.studentt.inv(0.975, n - 1) * sd) / Math.sqrt(n), n };
}

export function formatInterval(i: Interval): string {
  const digits = Math.abs(i.mean) >= 100 ? 0 : Math.abs(i.mean) >= 10 ? 1 : 2;
  return Number.isNaN(i.half) ? i.mean.toFixed(digits) : `${i.mean.toFixed(digits)} ± ${i.half.toFixed(digits)}`;
}
