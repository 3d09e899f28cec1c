// Confidence intervals as compare prints them: Student's t over the seeds, counts that every seed agreed on printed
// as counts, and the warning for fewer than three seeds.
import { describe, expect, it } from 'vitest';
import { formatDifference, formatInterval, interval, seedsWarning, verdicts, welch } from '../src/confidence.js';

describe('confidence intervals', () => {
  it("uses Student's t with n - 1 degrees of freedom", () => {
    const i = interval([1, 2, 3]);
    expect(i.mean).toBe(2);
    // t(0.975, 2) = 4.303; sd = 1; half = 4.303 / sqrt(3)
    expect(i.half).toBeCloseTo(4.3027 / Math.sqrt(3), 3);
    expect(formatInterval(i)).toBe('2.00 ± 2.48');
  });

  it('prints a count every seed agreed on as the count, and a fractional mean with its interval', () => {
    expect(formatInterval(interval([0, 0, 0]))).toBe('0');
    expect(formatInterval(interval([2050, 2050, 2050]))).toBe('2050');
    expect(formatInterval(interval([0.5, 0.5, 0.5]))).toBe('0.50 ± 0.00');
    expect(formatInterval(interval([3, 4]))).toBe('3.50 ± 6.35');
    expect(formatInterval(interval([7]))).toBe('7');
    expect(formatInterval(interval([7.25]))).toBe('7.25');
  });

  it('warns when the seeds are too few for an interval to mean much', () => {
    expect(seedsWarning(1)).toMatch(/one seed: no confidence intervals/);
    expect(seedsWarning(2)).toMatch(/12\.7 standard errors/);
    expect(seedsWarning(3)).toMatch(/3 seeds: each interval is 4\.3 standard errors wide/);
    expect(seedsWarning(4)).toMatch(/4 seeds: each interval is 3\.2 standard errors/);
    expect(seedsWarning(5)).toBeNull();
  });

  it("tests a difference from the baseline with Welch's t-test and prints it as mmtests does", () => {
    // Equal variances 1, n = 3: t = 3 / sqrt(2/3) = 3.674 with 4 degrees of freedom, p = 0.0213.
    const d = welch([1, 2, 3], [4, 5, 6]);
    expect(d.pct).toBe(150);
    expect(d.p).toBeCloseTo(0.0213, 3);
    expect(formatDifference(d)).toBe('+150%*');
    // Unequal variances: Welch-Satterthwaite degrees of freedom (about 2.2), not 4.
    const u = welch([10, 10.1, 9.9], [8, 12, 14]);
    expect(u.p).toBeGreaterThan(0.2);
    expect(formatDifference(u)).toBe('+13%');
    expect(formatDifference(welch([5, 5, 5], [5, 5, 5]))).toBe('+0.0%');
    expect(formatDifference(welch([5, 5, 5], [6, 6, 6]))).toBe('+20%**');
    expect(formatDifference(welch([0, 0, 0], [0, 0, 0]))).toBe('=');
    expect(formatDifference(welch([0, 0, 0], [4, 5, 6]))).toBe('from 0*'); // t = 8.7, 2 degrees of freedom: p = 0.013
    expect(formatDifference(welch([0, 0, 0], [1, 30, 3]))).toBe('');
    expect(Number.isNaN(welch([1], [2]).p)).toBe(true);
  });

  it('says the verdict in words: the largest significant changes first, both means, the p bound; or that none', () => {
    const data: Record<string, Record<string, number[]>> = {
      classic: { stall: [0.2, 0.21, 0.22], pages: [530, 540, 535], kills: [0, 0, 0], same: [5, 6, 7] },
      storm: { stall: [0.9, 0.95, 1.0], pages: [40, 45, 43], kills: [2, 3, 2], same: [5, 6, 7] },
      calm: { stall: [0.2, 0.22, 0.21], pages: [531, 538, 536], kills: [0, 0, 0], same: [6, 5, 7] },
    };
    const samples = (p: string, label: string) => data[p]![label]!;
    const [storm, calm] = verdicts(
      ['stall', 'pages', 'kills', 'same'],
      ['classic', 'storm', 'calm'],
      'classic',
      samples,
    );
    expect(storm).toBe(
      "Under storm, kills went from 0 to 2.33 (p < 0.05); stall was 4.5 times classic's (0.95 against 0.21, p < 0.01); " +
        "pages was 92% lower than classic's (42.7 against 535, p < 0.01).",
    );
    expect(calm).toBe("Under calm, no figure of 4 differed from classic's by more than chance (p < 0.05).");
  });
});
