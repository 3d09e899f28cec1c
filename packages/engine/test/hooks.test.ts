// Kernel modules and the control plane: hooks fire where they should and the same way on any number of workers;
// a fault handler runs in the task's context; a run can be paused, inspected and resumed without changing it.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { EnginePool, runSimulation, startSimulation, type RunOptions } from '../dist/index.js';

const file = (name: string) => fileURLToPath(new URL(`./tasks/${name}`, import.meta.url));

const withModule = (workers: number): RunOptions => ({
  cpus: 4,
  workers,
  seed: 'hooks',
  duration: '5ms',
  window: '20us',
  memoryMiB: 8,
  memoryLayout: 'one-zone',
  modules: [{ module: file('module.mjs') }],
  tasks: [
    { module: file('module.mjs'), export: 'toucher', perCpu: 2 },
    { module: file('mixed.mjs'), cpus: [1] },
  ],
});

interface Counting {
  switches: number;
  idles: number;
  timers: number;
  exits: number;
  commits: number;
}

describe('kernel modules', () => {
  it('see context switches, idle, timers, kernel exits and commits, the same on 1, 2 and 4 workers', async () => {
    const runs = await Promise.all([1, 2, 4].map((w) => runSimulation(withModule(w))));
    for (const r of runs) expect(r.error).toBeNull();
    const [one, ...rest] = runs;
    for (const r of rest) {
      expect(r.digest).toBe(one!.digest);
      expect(r.modules).toEqual(one!.modules);
    }
    const c = one!.modules.counting as Counting;
    // Timers every 100 us on 4 CPUs for 5 ms: 49 each (the one due at 5 ms is at the run's end, not within it).
    expect(c.timers).toBe(4 * 49);
    expect(one!.cpus.reduce((s, x) => s + x.timers, 0)).toBe(4 * 49);
    expect(c.switches).toBeGreaterThan(100);
    expect(c.idles).toBeGreaterThan(100); // the touchers sleep, so CPUs 0, 2 and 3 go idle
    expect(c.exits).toBeGreaterThan(100);
    expect(c.commits).toBe(one!.windows);
  });

  it("hand each CPU's state to the tasks running there (ctx.kernel), run after run in one worker", async () => {
    const run = (rounds: number): RunOptions => ({
      cpus: 2,
      workers: 1,
      seed: 'state',
      duration: '1ms',
      memoryMiB: 8,
      memoryLayout: 'one-zone',
      modules: [{ module: file('state.mjs') }],
      tasks: [{ module: file('state.mjs'), export: 'caller', perCpu: 2, args: { rounds } }],
    });
    const pool = new EnginePool();
    try {
      // Two different runs back to back on the same worker: each sees its own states, from zero.
      const first = await runSimulation(run(10), { pool });
      const second = await runSimulation(run(3), { pool });
      expect(pool.reused).toBe(1);
      for (const [r, rounds] of [
        [first, 10],
        [second, 3],
      ] as const) {
        expect(r.error).toBeNull();
        expect(r.modules.tally).toEqual([
          { cpu: 0, calls: 2 * rounds, seenFromTimer: true },
          { cpu: 1, calls: 2 * rounds, seenFromTimer: true },
        ]);
      }
    } finally {
      await pool.close();
    }
    const stranger = await runSimulation({
      ...run(1),
      tasks: [{ module: file('state.mjs'), export: 'stranger', cpus: [1] }],
    });
    expect(stranger.error?.message).toMatch(
      /the 'nowhere' kernel module is not loaded on cpu 1: add it to the run's modules/,
    );
  });

  it("runs the fault handler in the task's context: touches of even addresses allocate, odd ones do not", async () => {
    const r = await runSimulation(withModule(2));
    const toucher = r.tasks.find((t) => t.name.startsWith('module.toucher'))!;
    expect(toucher.touches).toBeGreaterThan(100);
    // Half the touches fault and allocate one page each (the rest returned -1 would show as failures).
    expect(toucher.allocs.GFP_KERNEL!.calls).toBe(Math.ceil(toucher.touches / 2));
    // Every 50th kernel exit sleeps a 20 us penalty: the toucher's blocked time includes them.
    expect(toucher.blockedNs).toBeGreaterThan(0);
  });
});

describe('pause, statistics, resume, stop', () => {
  it('a paused and resumed run is the same run', async () => {
    const straight = await runSimulation(withModule(2));
    const sim = await startSimulation(withModule(2));
    const paused = await sim.pause();
    expect(paused.endReason).toBeNull();
    expect(paused.simulatedNs).toBeLessThan(straight.simulatedNs);
    expect(sim.progress().simulatedNs).toBe(paused.simulatedNs);
    const again = await sim.stats();
    expect(again.simulatedNs).toBe(paused.simulatedNs);
    sim.resume();
    const mid = await sim.stats(); // pauses, reads, resumes
    expect(mid.simulatedNs).toBeGreaterThanOrEqual(paused.simulatedNs);
    const done = await sim.result;
    expect(done.endReason).toBe('duration');
    expect(done.digest).toBe(straight.digest);
  });

  it('stop ends a run early with what it gathered and terminates the workers', async () => {
    const sim = await startSimulation({ ...withModule(2), duration: '10s' });
    await sim.pause();
    const r = await sim.stop();
    expect(r.endReason).toBe('stopped');
    expect(r.simulatedNs).toBeLessThan(10_000_000_000);
    expect(r.events).toBeGreaterThan(0);
  });
});
