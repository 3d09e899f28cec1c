// A run on a busy host starts no more workers than the host has free cores (host-load.ts): the kernel's count of
// runnable threads read and reduced as documented, this process's own threads apart, the fitted count kept valid
// for tasks that move within a last-level cache, and, with the host loaded on purpose by busy processes, a run
// asking for 2 workers gets 1 with the same digest, says what it saw, and starts them all when told not to follow
// the load.
import { type ChildProcess, spawn } from 'node:child_process';
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveRunConfig, runSimulation, type RunOptions } from '../dist/index.js';
import {
  LOAD_SAMPLES,
  othersNow,
  othersRunning,
  ownRunning,
  procsRunning,
  withFewerWorkers,
  workersForLoad,
} from '../dist/host-load.js';

const stat = (n: number) => `cpu  1 2 3 4\nintr 5\nctxt 6\nprocs_running ${n}\nprocs_blocked 0\n`;

describe('host load (host-load.ts)', () => {
  it("reads procs_running from /proc/stat's text, and null where the host does not say", () => {
    expect(procsRunning(() => stat(7))).toBe(7);
    expect(procsRunning(() => 'cpu  1 2 3\n')).toBeNull();
    expect(
      procsRunning(() => {
        throw new Error('ENOENT');
      }),
    ).toBeNull();
  });

  it('takes the fewest others seen, and stops at a read that sees none', async () => {
    const seen = [5, 3, 9, 4, 3];
    let i = 0;
    expect(await othersRunning(() => seen[i++]!)).toBe(3);
    expect(i).toBe(LOAD_SAMPLES);
    let reads = 0;
    expect(await othersRunning(() => (reads++ === 0 ? 2 : 0))).toBe(0);
    expect(reads).toBe(2);
    expect(await othersRunning(() => null)).toBeNull();
  });

  it.skipIf(procsRunning() === null)("counts this process's busy threads as its own, not as others'", async () => {
    // A thread of this process that spins is runnable in every read: it counts with the reader.
    const spinner = new Worker('const t = Date.now(); while (Date.now() - t < 2000) {}', { eval: true });
    try {
      await new Promise((go) => spinner.once('online', go));
      await new Promise((go) => setTimeout(go, 20));
      expect(ownRunning()).toBeGreaterThanOrEqual(2);
    } finally {
      await spinner.terminate();
    }
  });

  it('gives no more workers than the free cores, at least one, never more than asked', () => {
    expect(workersForLoad(2, 2, 0)).toBe(2);
    expect(workersForLoad(2, 2, 1)).toBe(1);
    expect(workersForLoad(4, 2, 0)).toBe(2);
    expect(workersForLoad(8, 16, 10)).toBe(6);
    expect(workersForLoad(4, 16, 40)).toBe(1);
    expect(workersForLoad(3, 16, 0)).toBe(3);
  });

  it('fits the count to one that keeps each last-level cache on one worker when tasks move', () => {
    const options: RunOptions = {
      cpus: 8,
      seed: 'fit',
      duration: '1ms',
      memoryMiB: 8,
      memoryLayout: 'one-zone',
      llcCpus: 4,
      tasks: [{ module: 'unused.mjs', perCpu: 1, pinned: false }],
    };
    // 3 workers would split the first LLC (cpus 0-3 over workers 0 and 1): 2 is the most that fits.
    const config = resolveRunConfig(options, 16);
    expect(withFewerWorkers(config, 3).workers).toBe(2);
    expect(withFewerWorkers(config, 1).workers).toBe(1);
    // The fitted configuration is the one the options would resolve to with that count: nothing else moves.
    expect(withFewerWorkers(config, 3)).toEqual(resolveRunConfig({ ...options, workers: 2 }, 16));
    // Pinned tasks never move: any count fits.
    const pinned = { ...options, tasks: [{ module: 'unused.mjs', perCpu: 1 }] };
    expect(withFewerWorkers(resolveRunConfig(pinned, 16), 3).workers).toBe(3);
  });
});

describe('a run on a host loaded on purpose', () => {
  const hogs: ChildProcess[] = [];
  afterEach(() => {
    for (const h of hogs.splice(0)) h.kill('SIGKILL');
  });
  const cores = os.availableParallelism();
  // Linux, and a process that may use every core (host-load.ts: loadIsOurs), of a host small enough to fill with
  // one busy process a core (32 at most).
  const fits = procsRunning() !== null && cores === os.cpus().length && cores >= 2 && cores <= 32;

  it.skipIf(!fits)('starts 1 worker of 2 while busy processes take every core, same digest', async () => {
    const options: RunOptions = {
      cpus: 4,
      workers: 2,
      seed: 'loaded',
      duration: '300us',
      memoryMiB: 8,
      memoryLayout: 'one-zone',
      tasks: [{ module: fileURLToPath(new URL('./tasks/mixed.mjs', import.meta.url)), perCpu: 1 }],
    };
    const quietAsked = await runSimulation(options, { followLoad: false });
    expect(quietAsked.error).toBeNull();
    expect(quietAsked.host.workers).toBe(2);
    expect(quietAsked.host.load).toBeNull();
    // An explicit count is a program's own: followed only when asked to.
    const explicit = await runSimulation(options);
    expect(explicit.host.load).toBeNull();

    for (let i = 0; i < cores; i++) hogs.push(spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
    // Until the kernel counts them (each hog is runnable from its first instruction on).
    for (let t = 0; t < 200 && (othersNow() ?? 0) < hogs.length; t++) await new Promise((go) => setTimeout(go, 10));
    const loaded = await runSimulation(options, { followLoad: true });
    expect(loaded.error).toBeNull();
    expect(loaded.host.load).not.toBeNull();
    expect(loaded.host.load!.asked).toBe(2);
    expect(loaded.host.load!.hostCores).toBe(cores);
    expect(loaded.host.load!.othersRunning).toBeGreaterThanOrEqual(cores);
    expect(loaded.host.workers).toBe(1);
    expect(loaded.host.phases).toHaveLength(1);
    expect(loaded.digest).toBe(quietAsked.digest);
    // Told not to follow the load, the run starts both workers on the busy host, and is still the same run.
    const insisted = await runSimulation(options, { followLoad: false });
    expect(insisted.host.workers).toBe(2);
    expect(insisted.digest).toBe(quietAsked.digest);
  });

  it('refuses a followLoad that is not a boolean, by name', async () => {
    const bad = { followLoad: 'yes' } as unknown as { followLoad: boolean };
    await expect(runSimulation({ cpus: 1, seed: 'x', duration: '1us', tasks: [] }, bad)).rejects.toThrow(
      /followLoad: yes; allowed: true or false/,
    );
  });
});
