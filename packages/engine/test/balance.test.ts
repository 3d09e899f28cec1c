// Wake placement (balance.ts, select_idle_sibling's effect): an unpinned task woken behind a busy CPU moves to an
// idle CPU of its last-level cache at the window's end; a pinned one waits. The same digest on any worker count
// that keeps each LLC on one worker; a count that would split one is refused by name.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runSimulation, RunConfigError, type RunOptions } from '../dist/index.js';

const task = fileURLToPath(new URL('./tasks/balance.mjs', import.meta.url));

const busyCpu0 = (pinned: boolean, o: Partial<RunOptions> = {}): RunOptions => ({
  cpus: 4,
  seed: 'balance',
  duration: '3ms',
  window: '2us',
  memoryMiB: 8,
  memoryLayout: 'one-zone',
  llcCpus: 2,
  tasks: [
    // CPU 0 busy with a task that never sleeps; CPU 2 likewise in the other LLC.
    { module: task, export: 'hog', cpus: [0, 2], args: { ns: 3_000_000 } },
    { module: task, export: 'sleeper', cpus: [0], pinned, args: { rounds: 20 } },
    { module: task, export: 'sleeper', cpus: [2], pinned, args: { rounds: 20 } },
  ],
  ...o,
});

describe('wake placement (balance.ts)', () => {
  it('moves a woken unpinned task to the idle CPU of its LLC, and only there; a pinned one waits its turn', async () => {
    const [pinned, free] = await Promise.all([runSimulation(busyCpu0(true)), runSimulation(busyCpu0(false))]);
    for (const r of [pinned, free]) expect(r.error).toBeNull();
    const sleepers = (r: typeof free) => r.tasks.filter((t) => t.name.includes('sleeper'));
    expect(sleepers(pinned)).toHaveLength(2);
    // Pinned: every round on the busy CPU, sharing it with the hog; it cannot finish its 20 rounds in 3 ms.
    for (const t of sleepers(pinned)) {
      expect(t.migrations).toBe(0);
      for (const k of Object.keys(t.counters ?? {})) expect(k).toBe(`on cpu ${t.cpu}`);
      expect(t.counters?.[`on cpu ${t.cpu}`] ?? 0).toBeLessThan(20);
      expect(t.state).not.toBe('exited');
    }
    // Unpinned: it wakes on its last CPU; while it waits there behind the hog the idle sibling takes it, so its
    // work runs on CPU 1 (LLC 0) or CPU 3 (LLC 1), never across LLCs, and all 20 rounds end well inside 3 ms.
    const [a, b] = sleepers(free);
    expect(a!.counters).toEqual({ 'on cpu 1': 20 });
    expect(b!.counters).toEqual({ 'on cpu 3': 20 });
    for (const t of [a!, b!]) {
      expect(t.state).toBe('exited');
      expect(t.migrations).toBe(1); // once to the idle CPU; after that it wakes where it last ran, which is idle
      expect(t.exitedAtNs!).toBeLessThan(20 * (35_000 + 20_000 + 2_000 + 1_000));
    }
  });

  it('moves it under CFS too, its vruntime carried relative to min_vruntime (migrate_task_rq_fair)', async () => {
    const r = await runSimulation(busyCpu0(false, { scheduler: 'cfs' }));
    expect(r.error).toBeNull();
    const [a, b] = r.tasks.filter((t) => t.name.includes('sleeper'));
    expect(a!.counters).toEqual({ 'on cpu 1': 20 });
    expect(b!.counters).toEqual({ 'on cpu 3': 20 });
    // On the idle CPU it runs at once: its 20 rounds of 20 us of work and ~32.5 us asleep, nothing waited.
    for (const t of [a!, b!]) expect(t.exitedAtNs!).toBeLessThan(20 * (35_000 + 20_000) + 10_000);
  });

  it('gives the same digest on every worker count that keeps each LLC on one worker, refuses one that splits', async () => {
    const runs = await Promise.all([1, 2].map((workers) => runSimulation(busyCpu0(false, { workers }))));
    expect(runs[1]!.digest).toBe(runs[0]!.digest);
    expect(runs[1]!.tasks).toEqual(runs[0]!.tasks);
    // 4 workers would give each CPU its own worker, splitting both LLCs of 2.
    const refused = await runSimulation(busyCpu0(false, { workers: 4 })).then(
      () => null,
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(RunConfigError);
    expect(String((refused as Error).message)).toMatch(
      /workers: 4 would split a last-level cache \(llcCpus 2\).*allowed: 1, 2/,
    );
    // Pinned tasks never move, so any worker count is allowed.
    const pinned4 = await runSimulation(busyCpu0(true, { workers: 4 }));
    expect(pinned4.error).toBeNull();
  });
});
