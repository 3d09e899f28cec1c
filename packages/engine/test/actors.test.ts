// Task actors: an XState actor runs the same operations as the generator it wraps (same digest), delayed
// transitions run on simulated time, cancelled timers never fire, and broken actors are reported as task errors.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runSimulation, type RunOptions } from '../dist/index.js';

const task = (name: string) => fileURLToPath(new URL(`./tasks/${name}`, import.meta.url));

const mixed = (exportName: string, workers: number): RunOptions => ({
  cpus: 4,
  workers,
  seed: 'actors',
  duration: '2ms',
  window: '10us',
  memoryMiB: 8,
  memoryLayout: 'one-zone',
  tasks: [
    {
      module: task(exportName === 'default' ? 'mixed.mjs' : 'actors.mjs'),
      export: exportName,
      name: 'mixed',
      perCpu: 2,
      args: { receiver: true },
    },
    { module: task('mixed.mjs'), export: 'pinger', cpus: [0] },
  ],
});

describe('task actors', () => {
  it("an XState actor wrapping a generator gives the generator's digest, on 1 and 4 workers", async () => {
    const [plain, actor1, actor4] = await Promise.all([
      runSimulation(mixed('default', 1)),
      runSimulation(mixed('mixedActor', 1)),
      runSimulation(mixed('mixedActor', 4)),
    ]);
    expect(plain.error).toBeNull();
    expect(plain.events).toBeGreaterThan(1_000);
    expect(actor1.digest).toBe(plain.digest);
    expect(actor4.digest).toBe(plain.digest);
  });

  it('runs delayed transitions on simulated time and never fires a cancelled one', async () => {
    const r = await runSimulation({
      cpus: 2,
      seed: 'timed',
      duration: '10ms',
      memoryMiB: 8,
      memoryLayout: 'one-zone',
      tasks: [{ module: task('actors.mjs'), export: 'timed' }],
    });
    expect(r.error).toBeNull();
    expect(r.endReason).toBe('all-exited');
    // Both CPUs refill their empty lists at time 0 under the zone lock (600 ns a hold): one waits for the other.
    expect(r.tasks.map((t) => t.allocs.GFP_KERNEL!.waitNs).sort((a, b) => a - b)).toEqual([600, 1200]);
    for (const t of r.tasks) {
      // Then 2 ms `after`, free (80 ns), compute (100 ns): exact simulated times, whatever the host or the window.
      expect(t.exitedAtNs).toBe(t.allocs.GFP_KERNEL!.waitNs + 2_000_000 + 80 + 100);
      expect(t.allocs.GFP_KERNEL!.granted).toBe(1);
      expect(t.frees).toBe(1);
    }
  });

  it('reports an actor whose action throws, and one that waits for nothing, with task, CPU and time', async () => {
    const base = { cpus: 1, seed: 'bad-actor', duration: '1ms', memoryMiB: 8, memoryLayout: 'one-zone' };
    const thrown = await runSimulation({ ...base, tasks: [{ module: task('actors.mjs'), export: 'throwsInAction' }] });
    expect(thrown.endReason).toBe('task-error');
    expect(thrown.error?.message).toMatch(
      /task 'actors.throwsInAction\/0' \(#0\) on cpu 0 at 0 ns: threw: actor action failed/,
    );
    const idle = await runSimulation({ ...base, tasks: [{ module: task('actors.mjs'), export: 'idle' }] });
    expect(idle.error?.message).toMatch(
      /at 10 ns: threw: the actor requested no operation after 'compute' and has no delayed event/,
    );
  });
});
