// Locks: mutual exclusion and determinism across worker counts, spinning keeps the CPU, rwsem fairness (a waiting
// writer blocks new readers; handoff after a waiting time), lock deadlocks and misuse reported as the task's error.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runSimulation, type RunOptions } from '../dist/index.js';
import { LockCommitter } from '../dist/lock-commit.js';
import { CpuLocks, LOCK_TAKEN, LOCK_WAIT } from '../dist/locks.js';
import { LK_TRY, runLayout } from '../dist/layout.js';

const task = (name: string) => fileURLToPath(new URL(`./tasks/${name}`, import.meta.url));

const contended = (workers: number): RunOptions => ({
  cpus: 4,
  workers,
  seed: 'locks',
  duration: '20ms',
  window: '10us',
  memoryMiB: 8,
  memoryLayout: 'one-zone',
  locks: { m: { kind: 'mutex' }, s: { kind: 'spinlock', home: 0 }, sem: { kind: 'rwsem' } },
  tasks: [
    { module: task('locks.mjs'), export: 'critical', args: { lock: 'm', rounds: 100 } },
    {
      module: task('locks.mjs'),
      export: 'critical',
      cpus: [0, 1],
      args: { lock: 's', holdNs: 200, gapNs: 3_000, rounds: 100 },
    },
    { module: task('locks.mjs'), export: 'critical', cpus: [2, 3], args: { lock: 'sem', read: true, rounds: 100 } },
    { module: task('locks.mjs'), export: 'critical', cpus: [1], args: { lock: 'sem', holdNs: 5_000, rounds: 20 } },
  ],
});

describe('locks', () => {
  it('serialise holders, finish every round, and give the same digest on 1, 2 and 4 workers', async () => {
    const runs = await Promise.all([1, 2, 4].map((w) => runSimulation(contended(w))));
    for (const r of runs) {
      expect(r.error).toBeNull();
      expect(r.endReason).toBe('all-exited');
    }
    const [one, ...rest] = runs;
    for (const r of rest) {
      expect(r.digest).toBe(one!.digest);
      expect(r.tasks).toEqual(one!.tasks);
    }
    const byLock = (name: string) => one!.tasks.filter((t) => t.locks[name]).map((t) => t.locks[name]!);
    // Every round took its lock once; four CPUs on one mutex must have waited for each other.
    expect(byLock('m').map((c) => c.acquired)).toEqual([100, 100, 100, 100]);
    expect(byLock('m').reduce((s, c) => s + c.contended, 0)).toBeGreaterThan(0);
    expect(byLock('sem').map((c) => c.acquired)).toEqual([100, 100, 20]);
    expect(one!.locks!.grants).toBeGreaterThan(0);
    // The mutex's total hold time (4 x 100 x >= 1000 ns) fits in the run only one holder at a time.
    const mutexTasks = one!.tasks.filter((t) => t.locks.m);
    expect(Math.max(...mutexTasks.map((t) => t.exitedAtNs!))).toBeGreaterThan(400 * 1_000);
  });

  it('a spinning waiter keeps its CPU: a runnable task there does not run meanwhile', async () => {
    const r = await runSimulation({
      cpus: 2,
      workers: 2,
      seed: 'spin',
      duration: '2ms',
      window: '20us',
      scheduler: 'cfs', // the bystander's share below is CFS's
      memoryMiB: 8,
      memoryLayout: 'one-zone',
      locks: { s: { kind: 'spinlock', home: 0 } },
      tasks: [
        {
          module: task('locks.mjs'),
          export: 'critical',
          cpus: [0],
          args: { lock: 's', holdNs: 30_000, gapNs: 100, rounds: 1000 },
        },
        {
          module: task('locks.mjs'),
          export: 'critical',
          cpus: [1],
          args: { lock: 's', holdNs: 100, gapNs: 100, rounds: 1000 },
        },
        { module: task('locks.mjs'), export: 'bystander', cpus: [1] },
      ],
    });
    expect(r.error).toBeNull();
    expect(r.cpus[1]!.spinNs).toBeGreaterThan(100_000);
    // While its neighbour spins the bystander is not scheduled: CPU 1's busy time is all spinning or real work,
    // and the bystander got less than the half a fair share would give it.
    const bystander = r.tasks.find((t) => t.name.startsWith('locks.bystander'))!;
    expect(bystander.runNs).toBeLessThan(r.simulatedNs / 2);
    expect(r.cpus[1]!.idleNs).toBe(0);
  });

  it('a writer gets an rwsem that readers never leave free: new readers queue behind it, and the handoff ends their stealing', async () => {
    // Six readers hold the rwsem 50 us at a time with 1 us between; a writer wants it every millisecond.
    const run = (rwsemHandoffNs: number) =>
      runSimulation({
        cpus: 4,
        seed: 'rwsem',
        duration: '12ms',
        window: '20us',
        memoryMiB: 8,
        memoryLayout: 'one-zone',
        costs: { rwsemHandoffNs },
        locks: { sem: { kind: 'rwsem' } },
        tasks: [
          { module: task('locks.mjs'), export: 'reader', cpus: [1, 2, 3], perCpu: 2 },
          { module: task('locks.mjs'), export: 'writer', cpus: [0], args: { rounds: 8 } },
        ],
      });
    const [timeout, short] = await Promise.all([run(4_000_000), run(100_000)]);
    const w = (r: typeof short) => r.tasks.find((t) => t.name.includes('writer'))!.locks.sem!;
    // The last reader out wakes the writer, and a reader back 1 us later takes the free lock before the writer runs
    // (reader lock stealing), again and again, until the writer has waited RWSEM_WAIT_TIMEOUT: then the handoff.
    expect(timeout.error).toBeNull();
    expect(timeout.locks!.wokenMissed).toBeGreaterThan(20);
    expect(w(timeout).acquired).toBeGreaterThanOrEqual(2);
    expect(w(timeout).waitNs / w(timeout).acquired).toBeGreaterThan(3_900_000);
    expect(w(timeout).waitNs / w(timeout).acquired).toBeLessThan(4_200_000);
    // With a 100 us handoff it waits for the readers in the lock (50 us each) and the handoff, not forever.
    expect(short.error).toBeNull();
    expect(w(short).acquired).toBe(8);
    expect(w(short).waitNs / 8).toBeLessThan(200_000);
  });

  // rwsem.c's optimistic spinning, its fast path and downgrade_write (kernel/locking/rwsem.c, 5.13 .. 6.12).
  const spinRun = (tasks: RunOptions['tasks'], costs: RunOptions['costs'] = {}, workers = 1) =>
    runSimulation({
      cpus: 2,
      workers,
      seed: 'rwsem-spin',
      duration: '5ms',
      window: '2us',
      scheduler: 'cfs', // the rounds the sleeping writer loses to the bystander are CFS's
      memoryMiB: 8,
      memoryLayout: 'one-zone',
      costs,
      locks: { sem: { kind: 'rwsem' } },
      tasks,
    });

  it('an uncontended writer takes the rwsem at once, as the cmpxchg fast path does, instead of sleeping', async () => {
    // Two writers on two CPUs, out of step: the lock is free whenever one asks, but last held on the other CPU.
    const tasks: RunOptions['tasks'] = [
      { module: task('locks.mjs'), export: 'holder', cpus: [0], args: { lock: 'sem', gapNs: 10_000, rounds: 200 } },
      {
        module: task('locks.mjs'),
        export: 'holder',
        cpus: [1],
        args: { lock: 'sem', gapNs: 10_000, rounds: 200, startNs: 5_000 },
      },
      { module: task('locks.mjs'), export: 'bystander', cpus: [1] },
    ];
    const spin = await spinRun(tasks);
    const sleep = await spinRun(tasks, { lockSpinMaxNs: 0 });
    const writer = (r: Awaited<ReturnType<typeof spinRun>>) => r.tasks.find((t) => t.name.includes('holder/1'))!;
    expect(spin.error).toBeNull();
    // Spinning: granted at its own request time every time; nothing waited, no context switch for the lock.
    expect(writer(spin).locks.sem!.acquired).toBeGreaterThan(100);
    expect(writer(spin).locks.sem!.waitNs).toBe(0);
    expect(spin.locks!.spinStops).toBe(0);
    // Sleeping at once (the engine's old rule): it loses its CPU to the bystander every time it asks, and gets
    // through far fewer rounds.
    expect(sleep.cpus[1]!.contextSwitches).toBeGreaterThan(50 * Math.max(1, spin.cpus[1]!.contextSwitches));
    expect(writer(sleep).locks.sem!.acquired).toBeLessThan(0.7 * writer(spin).locks.sem!.acquired);
  });

  it('a writer spins while the writer that owns the rwsem runs, and sleeps at once when the owner sleeps', async () => {
    const running = await spinRun([
      { module: task('locks.mjs'), export: 'holder', cpus: [0], args: { lock: 'sem', holdNs: 20_000, rounds: 100 } },
      { module: task('locks.mjs'), export: 'holder', cpus: [1], args: { lock: 'sem', holdNs: 20_000, rounds: 100 } },
      { module: task('locks.mjs'), export: 'bystander', cpus: [1] },
    ]);
    expect(running.error).toBeNull();
    expect(running.locks!.spinGrants).toBeGreaterThan(20);
    // The spinning kept CPU 1 busy: time the bystander could not have.
    expect(running.cpus[1]!.spinNs).toBeGreaterThan(100_000);
    const sleeping = await spinRun([
      {
        module: task('locks.mjs'),
        export: 'holder',
        cpus: [0],
        args: { lock: 'sem', holdNs: 1_000, sleepHeldNs: 50_000, rounds: 50 },
      },
      { module: task('locks.mjs'), export: 'holder', cpus: [1], args: { lock: 'sem', holdNs: 1_000, rounds: 50 } },
    ]);
    expect(sleeping.error).toBeNull();
    // rwsem_spin_on_owner stops when the owner is off its CPU: the waiters stopped, and spun almost nothing.
    expect(sleeping.locks!.spinStops).toBeGreaterThan(10);
    expect(sleeping.cpus[1]!.spinNs).toBeLessThan(sleeping.locks!.spinStops * 3_000);
  });

  it('a writer spins on readers for rwsem_rspin_threshold, (20 + readers) / 2 us, then sleeps', async () => {
    const r = await spinRun([
      // 5 us between the reader's holds: the writer, woken at each release, runs and takes the lock before the
      // reader is back (with 100 ns, the reader steals it from the woken writer until the handoff).
      {
        module: task('locks.mjs'),
        export: 'longReader',
        cpus: [0],
        args: { holdNs: 200_000, rounds: 20, gapNs: 5_000 },
      },
      {
        module: task('locks.mjs'),
        export: 'holder',
        cpus: [1],
        args: { lock: 'sem', holdNs: 1_000, gapNs: 300_000, rounds: 10, startNs: 1_000 },
      },
    ]);
    expect(r.error).toBeNull();
    expect(r.locks!.wokenMissed).toBe(0);
    const stops = r.locks!.spinStops;
    expect(stops).toBeGreaterThan(3);
    // One reader: 10.5 us a spin, give or take the window the stop is seen in.
    expect(r.cpus[1]!.spinNs / stops).toBeGreaterThan(10_000);
    expect(r.cpus[1]!.spinNs / stops).toBeLessThan(13_000);
  });

  it('downgrade_write lets the queued readers in while the downgrader still reads; spinning is the same on 1 and 2 workers', async () => {
    const tasks = (downgrade: boolean): RunOptions['tasks'] => [
      { module: task('locks.mjs'), export: 'downgrader', cpus: [0], args: { downgrade } },
      { module: task('locks.mjs'), export: 'shortReader', cpus: [1] },
    ];
    const down = await spinRun(tasks(true));
    const held = await spinRun(tasks(false));
    const readerWait = (r: Awaited<ReturnType<typeof spinRun>>) =>
      r.tasks.find((t) => t.name.includes('shortReader'))!.locks.sem!;
    expect(down.error).toBeNull();
    // Held for write through the long part, the readers wait ~100 us a round; downgraded, only the 2 us write part.
    expect(readerWait(held).waitNs).toBeGreaterThan(10 * 80_000);
    expect(readerWait(down).waitNs).toBeLessThan(10 * 10_000);
    expect(readerWait(down).acquired).toBeGreaterThan(readerWait(held).acquired);
    const two = await spinRun(tasks(true), {}, 2);
    expect(two.digest).toBe(down.digest);
    const contended2 = await spinRun(
      [
        { module: task('locks.mjs'), export: 'holder', cpus: [0], args: { lock: 'sem', holdNs: 20_000, rounds: 50 } },
        { module: task('locks.mjs'), export: 'holder', cpus: [1], args: { lock: 'sem', holdNs: 20_000, rounds: 50 } },
      ],
      {},
      2,
    );
    const contended1 = await spinRun([
      { module: task('locks.mjs'), export: 'holder', cpus: [0], args: { lock: 'sem', holdNs: 20_000, rounds: 50 } },
      { module: task('locks.mjs'), export: 'holder', cpus: [1], args: { lock: 'sem', holdNs: 20_000, rounds: 50 } },
    ]);
    expect(contended2.digest).toBe(contended1.digest);
  });

  it('reports an AB-BA deadlock with the locks each task waits for', async () => {
    const r = await runSimulation({
      cpus: 2,
      seed: 'abba',
      duration: '10ms',
      memoryMiB: 8,
      memoryLayout: 'one-zone',
      locks: { a: { kind: 'mutex' }, b: { kind: 'mutex' } },
      tasks: [
        { module: task('locks.mjs'), export: 'ordered', cpus: [0], args: { order: ['a', 'b'] } },
        { module: task('locks.mjs'), export: 'ordered', cpus: [1], args: { order: ['b', 'a'] } },
      ],
    });
    expect(r.endReason).toBe('deadlock');
    expect(r.waits.join('\n')).toMatch(/blocked-lock \(mutex 'b'\)[\s\S]*blocked-lock \(mutex 'a'\)/);
  });

  it('reports exiting with a lock held, unlocking a lock not held, and an undeclared lock', async () => {
    const base = {
      cpus: 1,
      seed: 'misuse',
      duration: '1ms',
      memoryMiB: 8,
      memoryLayout: 'one-zone',
      locks: { m: { kind: 'mutex' as const, home: 0 } },
    };
    const exits = await runSimulation({ ...base, tasks: [{ module: task('locks.mjs'), export: 'exitsHolding' }] });
    expect(exits.error?.message).toMatch(/exited holding 'm'/);
    const unheld = await runSimulation({ ...base, tasks: [{ module: task('locks.mjs'), export: 'unlocksUnheld' }] });
    expect(unheld.error?.message).toMatch(/unlocks 'm', which it does not hold/);
    const undeclared = await runSimulation({
      ...base,
      locks: {},
      tasks: [{ module: task('locks.mjs'), export: 'unlocksUnheld' }],
    });
    expect(undeclared.error?.message).toMatch(/no lock named 'm'; the run declares: none/);
  });
});

describe('the lock commit', () => {
  // Two CPUs, one rwsem, driven through the CPU side and the commit directly.
  const setupLock = (handoffNs: number) => {
    const L = runLayout(2, 16, 1);
    const ctl = new Int32Array(new SharedArrayBuffer(L.controlI32 * 4));
    const rings = new Float64Array(new SharedArrayBuffer(L.ringF64 * 8));
    const specs = [{ name: 'sem', kind: 'rwsem' as const }];
    const committer = new LockCommitter(specs, ctl, rings, L, handoffNs, 3_000_000);
    const cpu = [0, 1].map((c) => new CpuLocks(specs, ctl, rings, L, c));
    const granted = (c: number) => {
      const out: number[] = [];
      cpu[c]!.grants((taskId) => out.push(taskId));
      return out;
    };
    const KIND = ['grant', 'stop', 'wake'];
    const answered = (c: number) => {
      const out: string[] = [];
      cpu[c]!.grants((taskId, _lock, atNs, kind) => out.push(`${taskId} ${KIND[kind]} ${atNs}`));
      return out;
    };
    const end = <T>(endNs: number, read: (c: number) => T) => {
      committer.commit(endNs);
      const g = [read(0), read(1)];
      for (const x of cpu) {
        x.clear();
        x.newWindow();
      }
      return g;
    };
    /** The window's answers, per CPU: the tasks granted (or woken, or told to sleep). */
    const window = (endNs: number) => end(endNs, granted);
    /** The window's answers, per CPU, as 'task kind time'. */
    const answers = (endNs: number) => end(endNs, answered);
    return { cpu, window, answers };
  };

  const queueReadersAroundWriter = (handoffNs: number) => {
    const { cpu, window } = setupLock(handoffNs);
    // Window 1: task 1 on CPU 0 asks for write (waits for the commit), and gets it at the end.
    expect(cpu[0]!.acquire(1_000, 0, 1, true)).toBe(LOCK_WAIT);
    expect(window(20_000)).toEqual([[1], []]);
    // Window 2: reader 2, writer 3, reader 4 queue on CPU 1 behind the held write lock.
    expect(cpu[1]!.acquire(21_000, 0, 2, false)).toBe(LOCK_WAIT);
    expect(cpu[1]!.acquire(22_000, 0, 3, true)).toBe(LOCK_WAIT);
    expect(cpu[1]!.acquire(23_000, 0, 4, false)).toBe(LOCK_WAIT);
    expect(window(40_000)).toEqual([[], []]);
    return { cpu, window };
  };

  it('wakes every queued reader, passing a writer that has waited less than the handoff time', () => {
    const { cpu, window } = queueReadersAroundWriter(4_000_000);
    cpu[0]!.release(45_000, 0, 1, true);
    expect(window(60_000)).toEqual([[], [2, 4]]);
    // The writer is next once the readers leave.
    cpu[1]!.release(61_000, 0, 2, false);
    cpu[1]!.release(62_000, 0, 4, false);
    expect(window(80_000)).toEqual([[], [3]]);
  });

  it('stops at a writer that has waited past the handoff time', () => {
    const { cpu, window } = queueReadersAroundWriter(10_000);
    cpu[0]!.release(45_000, 0, 1, true);
    expect(window(60_000)).toEqual([[], [2]]);
    cpu[1]!.release(61_000, 0, 2, false);
    expect(window(80_000)).toEqual([[], [3]]);
  });

  it('wakes a sleeping writer at the release; a reader steals the free lock, and the writer that finds it taken sleeps again until its handoff', () => {
    const { cpu, answers } = setupLock(50_000);
    // Window 1: writer 1 on CPU 0 asks while the lock is free: the fast path's, at its own time.
    expect(cpu[0]!.acquire(1_000, 0, 1, true)).toBe(LOCK_WAIT);
    expect(answers(20_000)).toEqual([['1 grant 1000'], []]);
    // Window 2: writer 3 on CPU 1 asks and sleeps (no spinning).
    expect(cpu[1]!.acquire(21_000, 0, 3, true)).toBe(LOCK_WAIT);
    expect(answers(40_000)).toEqual([[], []]);
    // Window 3: 1 releases; 3 is woken (rwsem_mark_wake), not granted. Reader 5 asks in its slow path while 3 has
    // not run yet: the lock is free, so it takes it at its own time (reader lock stealing).
    cpu[0]!.release(45_000, 0, 1, true);
    expect(cpu[0]!.acquire(46_000, 0, 5, false, LK_TRY)).toBe(LOCK_WAIT);
    expect(answers(60_000)).toEqual([['5 grant 46000'], ['3 wake 45000']]);
    // Window 4: 3 runs and tries (rwsem_try_write_lock): taken, so it sleeps then; 5's release wakes it again
    // (it has waited 41 us, short of the 50 us handoff).
    expect(cpu[1]!.retry(61_000, 0, 3, true)).toBe(true);
    cpu[0]!.release(62_000, 0, 5, false);
    expect(answers(80_000)).toEqual([[], ['3 stop 61000', '3 wake 62000']]);
    // Window 5: reader 6 steals again; 3 misses again. At 6's release 3 has waited past the handoff time: the lock
    // is its own at the release, and reader 7, asking after that, queues.
    expect(cpu[0]!.acquire(81_000, 0, 6, false, LK_TRY)).toBe(LOCK_WAIT);
    expect(cpu[1]!.retry(85_000, 0, 3, true)).toBe(true);
    cpu[0]!.release(101_000, 0, 6, false);
    expect(cpu[0]!.acquire(102_000, 0, 7, false, LK_TRY)).toBe(LOCK_WAIT);
    expect(answers(120_000)).toEqual([
      ['6 grant 81000', '7 stop 102000'],
      ['3 stop 85000', '3 grant 101000'],
    ]);
  });

  it('lets readers in at once on any CPU while no writer holds or waits, and writers only through the commit', () => {
    const { cpu, window } = setupLock(4_000_000);
    expect(cpu[0]!.acquire(100, 0, 1, false)).toBe(LOCK_TAKEN);
    expect(cpu[1]!.acquire(200, 0, 2, false)).toBe(LOCK_TAKEN);
    expect(cpu[1]!.acquire(300, 0, 3, true)).toBe(LOCK_WAIT);
    expect(window(20_000)).toEqual([[], []]);
    // A writer waits: new readers queue behind it.
    expect(cpu[0]!.acquire(21_000, 0, 4, false)).toBe(LOCK_WAIT);
    cpu[0]!.release(22_000, 0, 1, false);
    cpu[1]!.release(23_000, 0, 2, false);
    expect(window(40_000)).toEqual([[], [3]]);
  });

  it('wakes a sleeping mutex waiter to take the lock itself when it runs, and lets a spinner take it meanwhile', async () => {
    // A holds the mutex 100 us on CPU 0; B asks at 10 us on CPU 1, spins 1 us, sleeps. At A's release B is woken,
    // not given the lock (__mutex_unlock_slowpath wakes the first waiter; it takes the lock in __mutex_trylock).
    // With a hog running on CPU 1 from 20 us, B waits for the hog's preemption; meanwhile C on CPU 0 takes the
    // free mutex five times, 5 us each, without waiting behind B.
    const run = (hog: boolean) =>
      runSimulation({
        cpus: 2,
        seed: 'woken',
        duration: '2ms',
        window: '2us',
        memoryMiB: 8,
        memoryLayout: 'one-zone',
        costs: { lockSpinMaxNs: 1_000 },
        locks: { m: { kind: 'mutex' } },
        tasks: [
          { module: task('locks.mjs'), export: 'critical', cpus: [0], args: { lock: 'm', holdNs: 100_000, rounds: 1 } },
          { module: task('locks.mjs'), export: 'critical', cpus: [1], args: { lock: 'm', rounds: 1, startNs: 10_000 } },
          {
            module: task('locks.mjs'),
            export: 'critical',
            cpus: [0],
            args: { lock: 'm', rounds: 5, holdNs: 5_000, gapNs: 20_000, startNs: 150_000 },
          },
          ...(hog
            ? [{ module: task('locks.mjs'), export: 'hog', cpus: [1], args: { ns: 1_500_000, startNs: 20_000 } }]
            : []),
        ],
      });
    const [busy, idle] = await Promise.all([run(true), run(false)]);
    const b = (r: typeof busy) => r.tasks[1]!.locks.m!;
    const c = (r: typeof busy) => r.tasks[2]!.locks.m!;
    for (const r of [busy, idle]) {
      expect(r.error).toBeNull();
      expect(b(r).acquired).toBe(1);
      expect(c(r).acquired).toBe(5);
    }
    // Idle CPU 1: B runs a context switch after the release and takes the mutex; C never meets it held.
    expect(b(idle).waitNs).toBeLessThan(100_000);
    expect(idle.locks!.wakes).toBe(1);
    expect(idle.locks!.wokenMissed).toBe(0);
    expect(c(idle).waitNs).toBe(0);
    // Busy CPU 1: B waits for its CPU with the mutex free, and C takes it at once each time (lock stealing):
    // under the old rule (granted at the release, held while B waited) C waited behind B for the hog's slice.
    expect(b(busy).waitNs).toBeGreaterThan(200_000);
    expect(busy.locks!.wakes).toBeGreaterThanOrEqual(1);
    expect(busy.locks!.steals).toBeGreaterThanOrEqual(5);
    expect(c(busy).waitNs).toBeLessThan(5 * 1_000);
  });

  it('lists who still waits at the end in the same order on any worker count', async () => {
    // CPU 0 holds the mutex past the run's end; the tasks on the other CPUs still wait for it then.
    const run = (workers: number) =>
      runSimulation({
        cpus: 4,
        workers,
        seed: 'waits',
        duration: '1ms',
        window: '10us',
        memoryMiB: 8,
        memoryLayout: 'one-zone',
        locks: { m: { kind: 'mutex' } },
        tasks: [
          {
            module: task('locks.mjs'),
            export: 'critical',
            cpus: [0],
            args: { lock: 'm', holdNs: 5_000_000, rounds: 1 },
          },
          {
            module: task('locks.mjs'),
            export: 'critical',
            cpus: [1, 2, 3],
            args: { lock: 'm', rounds: 1, startNs: 10_000 },
          },
        ],
      });
    const [one, two, four] = await Promise.all([1, 2, 4].map(run));
    expect(one.waits.some((w) => w.startsWith('lock '))).toBe(true);
    expect(one.waits.some((w) => w.startsWith('task '))).toBe(true);
    expect(two.waits).toEqual(one.waits);
    expect(four.waits).toEqual(one.waits);
  });
});
