// Confidence intervals as compare prints them: Student's t over the seeds, counts that every seed agreed on printed
// as counts, and the warning for fewer than three seeds.
import { describe, expect, it } from 'vitest';
import { formatInterval, interval, seedsWarning } from '../src/confidence.js';

describe('confidence intervals', () => {
  it('uses Student\'s t with n - 1 degrees of freedom', () => {
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
    expect(seedsWarning(3)).toBeNull();
  });
});
