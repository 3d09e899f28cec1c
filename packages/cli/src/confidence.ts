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
  if (n === 1) return 'one seed: no confidence intervals and no significance (use --seeds 5 or more)';
  if (n === 2) {
    return (
      `2 seeds: each interval is ${tQuantile(2).toFixed(1)} standard errors wide either side (Student's t, ` +
      '1 degree of freedom), so read them as rough; use --seeds 5 or more'
    );
  }
  if (n < 5) {
    return (
      `${n} seeds: each interval is ${tQuantile(n).toFixed(1)} standard errors wide either side (Student's t), ` +
      'and a difference needs to be large to be significant; use --seeds 5 or more'
    );
  }
  return null;
}

export interface Difference {
  /** (mean of b - mean of a) / |mean of a|, in percent; NaN when a's mean is 0. */
  readonly pct: number;
  /** Welch's two-sided p-value; NaN when it cannot be computed (fewer than 2 samples, or no variance in either). */
  readonly p: number;
}

/** How b differs from a baseline a: the change in percent and Welch's t-test (unequal variances,
 * Welch-Satterthwaite degrees of freedom), as mmtests' compare-kernels reports it. */
export function welch(a: readonly number[], b: readonly number[]): Difference {
  const ia = interval(a);
  const ib = interval(b);
  const pct = ia.mean === 0 ? NaN : (100 * (ib.mean - ia.mean)) / Math.abs(ia.mean);
  if (a.length < 2 || b.length < 2) return { pct, p: NaN };
  const va = a.reduce((s, x) => s + (x - ia.mean) ** 2, 0) / (a.length - 1) / a.length;
  const vb = b.reduce((s, x) => s + (x - ib.mean) ** 2, 0) / (b.length - 1) / b.length;
  if (va + vb === 0) return { pct, p: ia.mean === ib.mean ? 1 : 0 };
  const t = (ib.mean - ia.mean) / Math.sqrt(va + vb);
  const df = (va + vb) ** 2 / (va ** 2 / (a.length - 1) + vb ** 2 / (b.length - 1));
  return { pct, p: 2 * (1 - jstat.jStat.studentt.cdf(Math.abs(t), df)) };
}

/** A table cell of a policy's samples: mean and interval, and but for the baseline its difference from the
 * baseline's samples (`736 ± 138 (-32%*)`); `-` when there are none. */
export function comparisonCell(baseline: readonly number[] | null, xs: readonly number[]): string {
  if (xs.length === 0) return '-';
  const d = baseline === null ? '' : formatDifference(welch(baseline, xs));
  return `${formatInterval(interval(xs))}${d ? ` (${d})` : ''}`;
}

/** The figures of `labels` whose values under `policy` differ from the baseline's significantly (Welch, p < 0.05),
 * the largest change first (a change from the baseline's 0 the largest of all), at most `top`. */
function significant(
  labels: readonly string[],
  baseline: string,
  policy: string,
  samples: (policy: string, label: string) => number[],
  top: number,
): Array<{ label: string; a: number[]; b: number[]; d: Difference }> {
  return labels
    .map((label) => ({ label, a: samples(baseline, label), b: samples(policy, label) }))
    .filter((x) => x.a.length > 0 && x.b.length > 0)
    .map((x) => ({ ...x, d: welch(x.a, x.b) }))
    .filter((x) => x.d.p < 0.05 && (Number.isNaN(x.d.pct) ? interval(x.b).mean !== 0 : x.d.pct !== 0))
    .map((x) => ({ ...x, size: Number.isNaN(x.d.pct) ? Infinity : Math.abs(x.d.pct) }))
    .sort((x, y) => y.size - x.size)
    .slice(0, top)
    .map(({ label, a, b, d }) => ({ label, a, b, d }));
}

/** One sentence per policy but the baseline: its largest differences from the baseline that Welch's t-test finds
 * significant (p < 0.05, at most `top`), each as the table prints both means, or that none is. `samples` gives a
 * figure's values (one per seed) under a policy. */
export function headlines(
  labels: readonly string[],
  policies: readonly string[],
  baseline: string,
  samples: (policy: string, label: string) => number[],
  top = 2,
): string[] {
  return policies
    .filter((p) => p !== baseline)
    .map((p) => {
      const found = significant(labels, baseline, p, samples, top);
      if (found.length === 0) return `${p}: none of ${labels.join(', ')} differs from ${baseline} at p < 0.05.`;
      const says = found.map(
        (x) =>
          `${x.label} ${formatInterval(interval(x.b))} against ${formatInterval(interval(x.a))} (${formatDifference(x.d)})`,
      );
      return `${p} against ${baseline}: ${says.join('; ')}.`;
    });
}

/** A mean as a sentence gives it: the interval's mean with formatInterval's digits, without the ±. */
function meanText(xs: readonly number[]): string {
  return formatInterval({ ...interval(xs), half: Number.NaN });
}

/** How policy B's mean stands to the baseline's A (not 0), in words: "4.5 times", "92% lower than", "12% higher
 * than". */
function changeInWords(a: number, b: number): string {
  const r = b / a;
  if (r >= 2) return `${r >= 10 ? r.toFixed(0) : r.toFixed(1)} times`;
  const pct = Math.abs((r - 1) * 100);
  return `${pct >= 10 ? pct.toFixed(0) : pct.toFixed(1)}% ${r >= 1 ? 'higher than' : 'lower than'}`;
}

/** The comparison's verdict in words, a sentence per policy against the baseline: the `top` figures of `labels`
 * that differ significantly (Welch, p < 0.05), largest change first, each with both means and its p bound; or
 * that none did. What the HTML report says under "What it found". */
export function verdicts(
  labels: readonly string[],
  policies: readonly string[],
  baseline: string,
  samples: (policy: string, label: string) => number[],
  top = 3,
): string[] {
  return policies
    .filter((p) => p !== baseline)
    .map((p) => {
      const found = significant(labels, baseline, p, samples, top).map((x) => ({
        ...x,
        ma: interval(x.a).mean,
        mb: interval(x.b).mean,
      }));
      if (found.length === 0)
        return `Under ${p}, no figure of ${labels.length} differed from ${baseline}'s by more than chance (p < 0.05).`;
      const says = found.map((x) => {
        const p = `p < ${x.d.p < 0.01 ? '0.01' : '0.05'}`;
        if (x.ma === 0) return `${x.label} went from 0 to ${meanText(x.b)} (${p})`;
        const what = `was ${changeInWords(x.ma, x.mb)} ${baseline}'s`;
        return `${x.label} ${what} (${meanText(x.b)} against ${meanText(x.a)}, ${p})`;
      });
      return `Under ${p}, ${says.join('; ')}.`;
    });
}

/** A difference as compare prints it: `+12.3%` with `*` when p < 0.05 (`**` below 0.01), `=` for none, `from 0*` for
 * a significant change from a baseline of 0. */
export function formatDifference(d: Difference): string {
  const mark = d.p < 0.01 ? '**' : d.p < 0.05 ? '*' : '';
  // The baseline's mean is 0: no percentage, but a change all the same when significant.
  if (Number.isNaN(d.pct)) return d.p === 1 ? '=' : mark ? `from 0${mark}` : '';
  return `${d.pct >= 0 ? '+' : ''}${d.pct.toFixed(Math.abs(d.pct) >= 10 ? 0 : 1)}%${mark}`;
}
