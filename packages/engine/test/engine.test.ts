// The engine: determinism across worker counts and repeated runs, the scheduler's basics, and what a user sees
// when a task throws, frees twice, deadlocks, or the configuration is wrong.
// Workers load the built worker.js, so these tests use the built package (the test command builds first).
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  cpusOfWorker,
  EnginePool,
  resolveRunConfig,
  runSimulation,
  RunConfigError,
  type RunOptions,
} from '../dist/index.js';

const task = (name: string) => fileURLToPath(new URL(`./tasks/${name}`, import.meta.url));

const eight: RunOptions = {
  cpus: 8,
  seed: 'determinism',
  duration: '3ms',
  window: '10us',
  memoryMiB: 8,
  memoryLayout: 'one-zone',
  tasks: [
    { module: task('mixed.mjs'), perCpu: 2, args: { receiver: true } },
    { module: task('mixed.mjs'), export: 'pinger', cpus: [0, 5] },
  ],
};

describe('determinism', () => {
  it('gives the same digest and statistics for 8 CPUs on 1, 2, 4 and 8 workers', async () => {
    const results = [];
    for (const workers of [1, 2, 4, 8]) results.push(await runSimulation({ ...eight, workers }));
    for (const r of results) {
      expect(r.error).toBeNull();
      expect(r.endReason).toBe('duration');
    }
    const [first, ...rest] = results;
    // The run did real cross-CPU work, so equality means something.
    expect(first!.cpus.reduce((s, c) => s + c.messagesSent, 0)).toBeGreaterThan(100);
    expect(first!.cpus.reduce((s, c) => s + c.zoneDeferred, 0)).toBeGreaterThan(50);
    expect(first!.tasks.some((t) => Object.values(t.allocs).some((a) => a.failed + a.mayReclaim > 0))).toBe(true);
    for (const r of rest) {
      expect(r.digest).toBe(first!.digest);
      expect(r.tasks).toEqual(first!.tasks);
      expect(r.cpus).toEqual(first!.cpus);
      expect(r.node.nrFree).toEqual(first!.node.nrFree);
    }
  });

  it('gives the same digest on repeated runs, and another digest for another seed', async () => {
    const a = await runSimulation({ ...eight, workers: 2 });
    const b = await runSimulation({ ...eight, workers: 2 });
    const c = await runSimulation({ ...eight, workers: 2, seed: 'another' });
    expect(b.digest).toBe(a.digest);
    expect(c.digest).not.toBe(a.digest);
  });

  it('gives the same digest with 64 CPUs on 2 workers as on 1', async () => {
    const many: RunOptions = {
      cpus: 64,
      seed: 'many',
      duration: '300us',
      memoryMiB: 16,
      memoryLayout: 'one-zone',
      tasks: [{ module: task('mixed.mjs') }],
    };
    const one = await runSimulation({ ...many, workers: 1 });
    const two = await runSimulation({ ...many, workers: 2 });
    expect(two.digest).toBe(one.digest);
    expect(one.cpus).toHaveLength(64);
  });

  it('the barrier spin policy is speed only: none and long spins give the same run; bad ones are refused', async () => {
    const opts = { ...eight, workers: 2 };
    const [none, long] = await Promise.all([
      runSimulation(opts, { barrierSpins: 0 }),
      runSimulation(opts, { barrierSpins: 100_000 }),
    ]);
    expect(long.digest).toBe(none.digest);
    await expect(runSimulation(opts, { barrierSpins: -1 })).rejects.toThrow(/barrierSpins: -1; allowed: integers 0/);
    await expect(runSimulation(opts, { barrierSpins: 1.5 })).rejects.toThrow(/barrierSpins/);
  });
});

describe('scheduling', () => {
  it('runs tasks to completion and ends the run when all have exited', async () => {
    const r = await runSimulation({
      cpus: 2,
      seed: 'fin',
      duration: '1s',
      tasks: [{ module: task('bad.mjs'), export: 'finisher', perCpu: 3 }],
    });
    expect(r.endReason).toBe('all-exited');
    expect(r.tasks.every((t) => t.state === 'exited')).toBe(true);
    // Three tasks of 10 us each on one CPU, with context switches between them.
    expect(r.simulatedNs).toBeLessThan(1_000_000);
    expect(r.cpus[0]!.contextSwitches).toBeGreaterThan(0);
    expect(r.cpus[0]!.busyNs).toBeGreaterThanOrEqual(30_000);
  });

  it("ctx.count keeps a task's own counters in its statistics, the same on any number of workers", async () => {
    const run = (workers: number) =>
      runSimulation({
        cpus: 2,
        workers,
        seed: 'count',
        duration: '1ms',
        tasks: [
          { module: task('counter.mjs'), export: 'counter', perCpu: 2 },
          { module: task('bad.mjs'), export: 'finisher', cpus: [0] },
        ],
      });
    const [one, two] = [await run(1), await run(2)];
    expect(one.error).toBeNull();
    expect(two.digest).toBe(one.digest);
    const counters = one.tasks.map((t) => t.counters);
    expect(counters.slice(0, 4)).toEqual([
      { rounds: 10, cpu: 0, refused: 1 },
      { rounds: 10, cpu: 0, refused: 1 },
      { rounds: 10, cpu: 10, refused: 1 },
      { rounds: 10, cpu: 10, refused: 1 },
    ]);
    expect(counters[4]).toBeUndefined(); // a task that counts nothing has no counters
  });
});

describe('failures', () => {
  it('a task that throws stops the run with its name, CPU and time, and returns what was gathered', async () => {
    const r = await runSimulation({
      cpus: 4,
      workers: 2,
      seed: 'x',
      duration: '1ms',
      tasks: [{ module: task('bad.mjs'), export: 'thrower', args: { cpu: 2, afterNs: 5000 } }],
    });
    expect(r.endReason).toBe('task-error');
    expect(r.error?.message).toMatch(/task 'bad\.thrower\/2' \(#2\) on cpu 2 at 5000 ns: threw: boom/);
    expect(r.error?.cpu).toBe(2);
    expect(r.error?.timeNs).toBe(5000);
    expect(r.tasks).toHaveLength(4);
    expect(r.tasks[2]!.state).toBe('failed');
    expect(r.cpus.every((c) => c.events > 0)).toBe(true);
  });

  it("a double free is reported as the task's error", async () => {
    const r = await runSimulation({
      cpus: 1,
      seed: 'df',
      duration: '1ms',
      tasks: [{ module: task('bad.mjs'), export: 'doubleFree' }],
    });
    expect(r.endReason).toBe('task-error');
    expect(r.error?.message).toMatch(/double free of pfn \d+/);
  });

  it('reports a deadlock with what each task waits for', async () => {
    const r = await runSimulation({
      cpus: 3,
      seed: 'dl',
      duration: '1s',
      tasks: [{ module: task('bad.mjs'), export: 'waiter' }],
    });
    expect(r.endReason).toBe('deadlock');
    expect(r.waits).toHaveLength(3);
    expect(r.waits[0]).toMatch(/task 'bad\.waiter\/0' \(#0\) on cpu 0: blocked-recv \(a message on its CPU\)/);
    expect(r.simulatedNs).toBeLessThan(1_000_000);
  });

  it('a worker that dies is named with the task, CPU and time it ran, and the other workers still report', async () => {
    const r = await runSimulation({
      cpus: 4,
      workers: 2,
      seed: 'q',
      duration: '5ms',
      tasks: [{ module: task('bad.mjs'), export: 'quitter' }],
    });
    expect(r.endReason).toBe('aborted');
    expect(r.error?.message).toBe(
      "worker 0 died: exited with code 7, while cpu 1 ran task 'bad.quitter/1' (#1), its step from 501.000us simulated",
    );
    expect(r.lostCpus).toEqual([0, 1]);
    // Worker 1's CPUs ran to the last window every worker finished, and their tasks came back.
    expect(r.cpus.map((c) => c.cpu)).toEqual([2, 3]);
    expect(r.tasks.map((t) => t.name)).toEqual(['bad.quitter/2', 'bad.quitter/3']);
    expect(r.cpus[0]!.events).toBeGreaterThan(400);
    expect(r.simulatedNs).toBe(500_000);
  });

  it('a warm pool takes back the workers of a run whose task failed, never those of one whose worker died', async () => {
    const pool = new EnginePool();
    try {
      const base = { cpus: 4, workers: 2, seed: 'pool', duration: '5ms' } as const;
      const thrown = await runSimulation(
        { ...base, tasks: [{ module: task('bad.mjs'), export: 'thrower', args: { cpu: 2, afterNs: 5000 } }] },
        { pool },
      );
      expect(thrown.error?.message).toMatch(/boom/);
      expect(pool.size).toBe(2);
      const quit = await runSimulation({ ...base, tasks: [{ module: task('bad.mjs'), export: 'quitter' }] }, { pool });
      expect(quit.endReason).toBe('aborted');
      expect(quit.lostCpus).toEqual([0, 1]);
      // Both were taken; neither came back: the dead one, and the one whose run was aborted.
      expect(pool.size).toBe(0);
      const after = await runSimulation(
        { ...base, tasks: [{ module: task('bad.mjs'), export: 'finisher' }] },
        { pool },
      );
      const fresh = await runSimulation({ ...base, tasks: [{ module: task('bad.mjs'), export: 'finisher' }] });
      expect(after.digest).toBe(fresh.digest);
      expect(pool.spawned).toBe(4);
    } finally {
      await pool.close();
    }
  });

  it('the watchdog ends a run whose task never yields, naming it, and the others report', async () => {
    const r = await runSimulation({
      cpus: 4,
      workers: 2,
      seed: 'w',
      duration: '5ms',
      watchdog: '1s',
      tasks: [{ module: task('bad.mjs'), export: 'spinner' }],
    });
    expect(r.endReason).toBe('aborted');
    expect(r.error?.message).toMatch(
      /^worker 0 made no progress for 1 s of host time \(watchdog\), while cpu 1 ran task 'bad\.spinner\/1' \(#1\)/,
    );
    expect(r.cpus.map((c) => c.cpu)).toEqual([2, 3]);
    expect(() =>
      resolveRunConfig(
        { cpus: 1, seed: 's', duration: '1ms', watchdog: '10ms', tasks: [{ module: task('bad.mjs') }] },
        1,
      ),
    ).toThrow(/watchdog: 10ms is too short; allowed: 0 \(never\) or at least 100ms/);
  });

  it('names a missing module or export and lists what the module has', async () => {
    await expect(
      runSimulation({ cpus: 1, seed: 's', duration: '1ms', tasks: [{ module: task('nope.mjs') }] }),
    ).rejects.toThrow(/could not be loaded/);
    await expect(
      runSimulation({
        cpus: 1,
        seed: 's',
        duration: '1ms',
        tasks: [{ module: task('bad.mjs'), export: 'notAFunction' }],
      }),
    ).rejects.toThrow(
      /no task export 'notAFunction' \(a generator function or XState actor logic\); its task exports: .*thrower/,
    );
  });

  it('refuses a bad configuration, naming each field and what is allowed', async () => {
    const bad = runSimulation({ cpus: 0, seed: '', duration: 'ten', tasks: [] } as never);
    await expect(bad).rejects.toThrow(RunConfigError);
    await expect(bad).rejects.toThrow(/cpus: Too small: expected number to be >=1/);
    await expect(
      runSimulation({ cpus: 2, workers: 3, seed: 's', duration: '1ms', tasks: [{ module: task('mixed.mjs') }] }),
    ).rejects.toThrow(/workers: 3 is more than cpus \(2\)/);
    await expect(
      runSimulation({ cpus: 2, seed: 's', duration: '1 fortnight', tasks: [{ module: task('mixed.mjs') }] }),
    ).rejects.toThrow(/duration: '1 fortnight' is not a duration; write a number with a unit/);
    await expect(
      runSimulation({ cpus: 2, seed: 's', duration: '1ms', tasks: [{ module: task('mixed.mjs'), cpus: [5] }] }),
    ).rejects.toThrow(/tasks\.0\.cpus: cpu 5 does not exist; allowed: 0 \.\. 1/);
    await expect(
      runSimulation({ cpus: 2, seed: 's', duration: '1ms', window: '10ns', tasks: [{ module: task('mixed.mjs') }] }),
    ).rejects.toThrow(/window: 10 ns is too short/);
    await expect(
      runSimulation({
        cpus: 2,
        seed: 's',
        duration: '1ms',
        locks: { m: { kind: 'futex' } },
        tasks: [{ module: task('mixed.mjs') }],
      } as never),
    ).rejects.toThrow(/locks\.m\.kind: Invalid option: expected one of "spinlock"\|"mutex"\|"rwsem"/);
    await expect(
      runSimulation({
        cpus: 2,
        seed: 's',
        duration: '1ms',
        locks: { m: { kind: 'mutex', home: 2 } },
        tasks: [{ module: task('mixed.mjs') }],
      }),
    ).rejects.toThrow(/locks\.m\.home: cpu 2 does not exist; allowed: 0 \.\. 1/);
  });

  it("builds the kernel's node for the machine, or one zone when asked; refuses what the layout cannot honour", async () => {
    const tasks = [{ module: task('mixed.mjs') }];
    const c = resolveRunConfig({ cpus: 2, seed: 's', duration: '1ms', tasks }, 2);
    expect(c.memory).toEqual({
      mib: 256,
      layout: 'kernel',
      thp: 'never',
      vm: expect.objectContaining({ watermarkScaleFactor: 10 }),
    });
    expect(resolveRunConfig({ cpus: 2, seed: 's', duration: '1ms', memoryMiB: 1024, tasks }, 2).memory.thp).toBe(
      'always',
    );
    const r = await runSimulation({ cpus: 2, seed: 's', duration: '200us', tasks });
    expect(r.zones.map((z) => [z.name, z.pages])).toEqual([
      ['DMA', 3840],
      ['DMA32', 48282],
    ]);
    expect(r.node.pages).toBe(3840 + 48282);
    const one = await runSimulation({
      cpus: 2,
      seed: 's',
      duration: '200us',
      memoryMiB: 16,
      memoryLayout: 'one-zone',
      tasks,
    });
    expect(one.zones.map((z) => [z.name, z.pages])).toEqual([['Normal', 4096]]);
    const refused = (o: Partial<RunOptions>) =>
      runSimulation({ cpus: 2, seed: 's', duration: '1ms', tasks, ...o } as RunOptions);
    await expect(refused({ memoryMiB: 64 })).rejects.toThrow(
      /memoryMiB: 64 is too small for the kernel's layout; allowed: 128 \.\. 65536, or memoryLayout 'one-zone'/,
    );
    await expect(refused({ memoryLayout: 'one-zone', thp: 'always' })).rejects.toThrow(
      /thp: 'always' needs memoryLayout 'kernel'/,
    );
    await expect(refused({ memoryLayout: 'one-zone', vm: { watermarkScaleFactor: 100 } })).rejects.toThrow(
      /vm: the vm tunables need memoryLayout 'kernel'/,
    );
    await expect(refused({ thp: 'always' })).rejects.toThrow(
      /thp: 'always' with \d+ managed pages: the kernel leaves THP off below 512 MiB/,
    );
    await expect(refused({ vm: { watermarkScaleFactor: 5000 } })).rejects.toThrow(
      /watermark_scale_factor: 5000; allowed: integers 1 \.\. 3000/,
    );
    await expect(refused({ vm: { watermarkBoostFactor: 0 } } as never)).rejects.toThrow(
      /vm: Unrecognized key: "watermarkBoostFactor"/,
    );
    // A tunable is honoured: a larger watermark_scale_factor widens the gaps between the watermarks.
    const wide = await runSimulation({
      cpus: 2,
      seed: 's',
      duration: '200us',
      tasks,
      vm: { watermarkScaleFactor: 200 },
    });
    expect(wide.zones[1]!.watermarks.highPages - wide.zones[1]!.watermarks.minPages).toBeGreaterThan(
      2 * (r.zones[1]!.watermarks.highPages - r.zones[1]!.watermarks.minPages),
    );
  });

  it('hosts a worker per 64 CPUs on the host cores but one by default, and as many as asked', () => {
    const tasks = [{ module: task('mixed.mjs') }];
    const by = (cpus: number, cores: number) =>
      resolveRunConfig({ cpus, seed: 's', duration: '1ms', tasks }, cores).workers;
    expect(by(8, 2)).toBe(1);
    expect(by(8, 16)).toBe(1);
    expect(by(1, 16)).toBe(1);
    expect(by(128, 16)).toBe(2);
    expect(by(1024, 16)).toBe(15);
    expect(by(1024, 2)).toBe(1);
    expect(by(1024, 1)).toBe(1);
    expect(resolveRunConfig({ cpus: 64, workers: 2, seed: 's', duration: '1ms', tasks }, 2).workers).toBe(2);
    expect(cpusOfWorker(64, 2, 1)).toEqual(Array.from({ length: 32 }, (_, i) => 32 + i));
  });
});

describe('task errors', () => {
  const doubleFree = (workers: number, freeAtNs: Record<number, number>) =>
    runSimulation({
      cpus: 3,
      workers,
      seed: 'double-free',
      duration: '1ms',
      memoryMiB: 8,
      memoryLayout: 'one-zone',
      tasks: [
        { module: task('double-free.mjs'), export: 'giver', cpus: [0] },
        { module: task('double-free.mjs'), export: 'receiver', cpus: [1, 2], args: { freeAtNs: freeAtNs } },
      ],
    });

  it('two CPUs freeing one page blame the second free by simulated time, on any number of workers', async () => {
    // The same time on both: CPU order decides, so CPU 2's task (#2) is the culprit. Then CPU 2 frees first.
    for (const [at, culprit, first] of [
      [{ 1: 20_000, 2: 20_000 }, 2, 1],
      [{ 1: 20_300, 2: 20_000 }, 1, 2],
    ] as const) {
      const runs = await Promise.all([1, 1, 1, 1, 3, 3, 3, 3, 3, 3].map((w) => doubleFree(w, at)));
      for (const r of runs) {
        expect(r.endReason).toBe('task-error');
        expect(r.error?.taskId).toBe(culprit);
        expect(r.error?.cpu).toBe(culprit);
        expect(r.error?.timeNs).toBe(at[culprit]);
        expect(r.error?.message).toMatch(
          new RegExp(`double free of pfn \\d+: task #${first} on cpu ${first} freed it first, at ${at[first]} ns`),
        );
      }
    }
  });
});
