// The scheduler's CFS behaviour: a task waking from a sleep preempts a CPU hog (check_preempt_wakeup) instead of
// waiting for the hog's time slice to end; with the wakeup granularity set beyond reach it waits, so the check can
// fail; hogs sharing a CPU still take turns by time slice.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runSimulation } from '../dist/index.js';

const sched = fileURLToPath(new URL('./tasks/sched.mjs', import.meta.url));
const run = (costs: Record<string, number> = {}) =>
  runSimulation({
    cpus: 1,
    seed: 'sched',
    duration: '30ms',
    costs,
    tasks: [
      { module: sched, export: 'hog', name: 'hog-a', cpus: [0] },
      { module: sched, export: 'hog', name: 'hog-b', cpus: [0] },
      { module: sched, export: 'sleeper', name: 'sleeper', cpus: [0] },
    ],
  });

describe('scheduler', () => {
  it('a sleeper preempts CPU hogs within one of their compute pieces when it wakes', async () => {
    const r = await run();
    expect(r.error).toBeNull();
    const by = (n: string) => r.tasks.find((t) => t.name.startsWith(n))!;
    // Woken about 29 times, each time running within 200 us of its due time, although two hogs share the CPU.
    expect(by('sleeper').runNs).toBeGreaterThan(25 * 10_000);
    // The hogs still share what is left by time slice, evenly.
    const a = by('hog-a').runNs;
    const b = by('hog-b').runNs;
    expect(Math.abs(a - b) / (a + b)).toBeLessThan(0.15);
  });

  it('without wakeup preemption the sleeper waits for a time slice to end', async () => {
    const r = await run({ wakeupGranularityNs: 10_000_000_000 });
    expect(r.error?.message).toMatch(/sleeper.*woke \d+ ns late/);
  });
});
