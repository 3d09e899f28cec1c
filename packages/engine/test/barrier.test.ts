// The waiters' spin budget (barrier.ts SpinBudget): it shrinks while waits outlast the spin (a loaded host: the
// other worker is not running), so a waiter soon sleeps at once; it grows back toward twice the spins that paid
// once waits end while spinning; never above the run's spins or below the floor.
import { describe, expect, it } from 'vitest';
import { SPIN_FLOOR, SpinBudget } from '../dist/barrier.js';

describe('SpinBudget', () => {
  it('halves while spinning does not pay, to the floor', () => {
    const b = new SpinBudget(300_000);
    expect(b.budget).toBe(300_000);
    const seen: number[] = [];
    for (let i = 0; i < 10; i++) {
      b.wasted();
      seen.push(b.budget);
    }
    expect(seen.slice(0, 3)).toEqual([150_000, 75_000, 37_500]);
    expect(b.budget).toBe(SPIN_FLOOR);
  });

  it('moves toward twice the spins that paid, within the run maximum', () => {
    const b = new SpinBudget(300_000);
    for (let i = 0; i < 60; i++) b.paid(10_000);
    // The average converges on 10,000 reads: a budget of about twice that, plus the floor.
    expect(b.budget).toBeGreaterThan(20_000);
    expect(b.budget).toBeLessThan(22_500);
    for (let i = 0; i < 60; i++) b.paid(1_000_000);
    expect(b.budget).toBe(300_000);
    // After a run of sleeps, one wait that pays quickly lifts it again.
    for (let i = 0; i < 20; i++) b.wasted();
    b.paid(50);
    expect(b.budget).toBeGreaterThan(SPIN_FLOOR);
  });

  it('spins nothing when the run says 0 (more workers than cores)', () => {
    const b = new SpinBudget(0);
    b.paid(0);
    expect(b.budget).toBe(0);
    b.wasted();
    expect(b.budget).toBe(0);
  });
});
