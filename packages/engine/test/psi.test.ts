// PSI as kernel/sched/psi.c computes it: SOME while a task is stalled on memory, FULL while every runnable task is,
// CPUs weighed by their non-idle time, and the exponential averages over 2 s periods.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runSimulation } from '../dist/index.js';

const psi = fileURLToPath(new URL('./tasks/psi.mjs', import.meta.url));

describe('psi', () => {
  it('a stalled task alone on its CPU is a full stall; beside a runnable task only a partial one', async () => {
    const alone = await runSimulation({
      cpus: 1,
      seed: 'psi',
      duration: '10ms',
      memoryMiB: 8,
      memoryLayout: 'one-zone',
      modules: [{ module: psi }],
      tasks: [{ module: psi, export: 'stalled', args: { beforeNs: 1_000_000, stallNs: 3_000_000 } }],
    });
    expect(alone.error).toBeNull();
    expect(alone.tasks[0]!.memstallNs).toBe(3_000_000);
    // One CPU, non-idle only while the task ran (4 ms): 3 ms of it stalled, all of it full.
    expect(alone.psi.memory.some.totalUs).toBe(3_000);
    expect(alone.psi.memory.full.totalUs).toBe(3_000);
    const shared = await runSimulation({
      cpus: 1,
      seed: 'psi',
      duration: '10ms',
      memoryMiB: 8,
      memoryLayout: 'one-zone',
      modules: [{ module: psi }],
      tasks: [
        { module: psi, export: 'stalled', args: { stallNs: 3_000_000 } },
        { module: psi, export: 'busy' },
      ],
    });
    expect(shared.error).toBeNull();
    const t = shared.tasks.find((x) => x.name.startsWith('psi.stalled'))!;
    expect(t.memstallNs).toBeGreaterThanOrEqual(3_000_000); // it also waits for the CPU while stalled
    expect(shared.psi.memory.some.totalUs).toBe(Math.floor(t.memstallNs / 1000));
    // The busy task was runnable throughout and is not stalled: never full while it shared the CPU with the stall.
    expect(shared.psi.memory.full.totalUs).toBe(0);
  });

  it('weighs CPUs by their non-idle time, and averages over completed 2 s periods', async () => {
    // CPU 0 stalls for its whole non-idle time; CPU 1 is busy and never stalls.
    const r = await runSimulation({
      cpus: 2,
      seed: 'psi',
      duration: '4s',
      window: '1ms',
      memoryMiB: 8,
      memoryLayout: 'one-zone',
      modules: [{ module: psi }],
      tasks: [
        { module: psi, export: 'stalled', cpus: [0], args: { stallNs: 4_000_000_000 } },
        { module: psi, export: 'busy', cpus: [1] },
      ],
    });
    expect(r.error).toBeNull();
    // Each period: (2 s x 2 s + 0 x 2 s) / (2 s + 2 s) = 1 s of stall, 50%.
    expect(r.psi.memory.some.totalUs).toBe(2_000_000);
    const e = Math.exp(-2 / 10);
    expect(r.psi.memory.some.avg10).toBeCloseTo(50 * (1 - e) * (1 + e), 1);
    expect(r.psi.memory.full.totalUs).toBe(2_000_000);
  });
});
