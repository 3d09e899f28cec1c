// RCU: the reader-pipe check of rcutorture (no read-side section may see two grace periods complete), shown able
// to fail by a deliberately broken RCU; grace periods through idle CPUs; synchronize_rcu; kfree_rcu frees every
// page, and kfreeRcuBatch every page of its batches; sleeping in a read-side section is the task's error; the same
// digest on 1 and 4 workers.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runSimulation, type RunOptions } from '@faultline/engine';
import { rcuModulePath, type RcuReport } from '../dist/index.js';

const tasks = fileURLToPath(new URL('./tasks/pipe.mjs', import.meta.url));

const torture = (workers: number, args: Record<string, unknown> = {}, longNs = 30_000): RunOptions => ({
  cpus: 4,
  workers,
  seed: 'rcutorture',
  duration: '40ms',
  window: '20us',
  memoryMiB: 16,
  memoryLayout: 'one-zone',
  modules: [{ module: rcuModulePath, args }],
  tasks: [
    { module: tasks, export: 'reader', perCpu: 2, args: { longNs } },
    { module: tasks, export: 'updater', cpus: [0, 2] },
  ],
});

const rcu = (r: { modules: Record<string, unknown> }) => r.modules.rcu as RcuReport;

describe('rcu', () => {
  it('passes the reader pipe: no read-side section sees two grace periods complete; same digest on 1 and 4 workers', async () => {
    const [one, four] = await Promise.all([runSimulation(torture(1)), runSimulation(torture(4))]);
    expect(one.error).toBeNull();
    expect(four.digest).toBe(one.digest);
    const r = rcu(one);
    expect(r.readSections).toBeGreaterThan(1_000);
    expect(r.gpCompleted).toBeGreaterThanOrEqual(3); // 4-8 ms each at HZ=250
    expect(r.pipe[1]).toBeGreaterThan(0); // grace periods did complete while readers were inside
    expect(r.pipe[2]).toBe(0);
    expect(r.callbacksInvoked).toBeGreaterThan(0);
    expect(r.callbacksInvoked + r.backlog).toBe(r.callbacksQueued);
    // Grace periods take milliseconds, as in the kernel: at least the first FQS interval when a CPU must be scanned.
    expect(r.gpDurationNs.max).toBeGreaterThan(100_000);
  });

  it('the pipe check catches an RCU that ignores readers', async () => {
    const broken = await runSimulation(torture(2, { brokenIgnoreReaders: true }, 8_000_000));
    expect(rcu(broken).pipe[2]).toBeGreaterThan(0);
    const sound = await runSimulation(torture(2, {}, 8_000_000));
    expect(rcu(sound).pipe[2]).toBe(0);
  });

  it('kfree_rcu frees every page it was given once the grace periods are over', async () => {
    const r = await runSimulation({
      ...torture(2),
      duration: '200ms',
      tasks: [{ module: tasks, export: 'replacer', cpus: [0] }],
    });
    const report = rcu(r);
    const granted = r.tasks[0]!.allocs.GFP_KERNEL!.granted;
    expect(report.callbacksQueued).toBe(granted - 1); // every page but the current one was given to kfree_rcu
    expect(report.callbacksInvoked).toBeGreaterThan(granted / 2);
    // In use at the end: the current page and those whose grace period has not yet ended.
    expect(r.node.pages - r.node.freePagesExact - r.node.pcpPages).toBe(1 + report.backlog);
  });

  it('kfreeRcuBatch frees every page of each batch in one callback once its grace period is over', async () => {
    const r = await runSimulation({
      ...torture(1),
      duration: '60ms',
      tasks: [{ module: tasks, export: 'batcher', cpus: [1], args: { pages: 5 } }],
    });
    expect(r.error).toBeNull();
    const report = rcu(r);
    const granted = r.tasks[0]!.allocs.GFP_KERNEL!.granted;
    // One callback per batch of five; the pages of a round not yet handed over are still the task's.
    const unbatched = granted - 5 * report.callbacksQueued;
    expect(unbatched).toBeGreaterThanOrEqual(0);
    expect(unbatched).toBeLessThan(5);
    expect(report.callbacksInvoked).toBeGreaterThan(granted / 10);
    // In use at the end: those, and the five pages of each batch whose grace period has not yet ended.
    expect(r.node.pages - r.node.freePagesExact - r.node.pcpPages).toBe(unbatched + 5 * report.backlog);
    expect(r.owners[0]!.pagesFreed).toBe(5 * report.callbacksInvoked);
  });

  it('synchronize_rcu sleeps until a grace period has passed; idle CPUs are seen by the FQS scan', async () => {
    const r = await runSimulation({
      cpus: 4,
      seed: 'sync',
      duration: '50ms',
      memoryMiB: 8,
      memoryLayout: 'one-zone',
      hz: 1000,
      modules: [{ module: rcuModulePath }],
      tasks: [{ module: tasks, export: 'syncOnce', cpus: [1] }],
    });
    expect(r.error).toBeNull();
    expect(r.endReason).toBe('duration');
    const t = r.tasks[0]!;
    expect(t.state).toBe('exited');
    const report = rcu(r);
    expect(report.gpCompleted).toBeGreaterThanOrEqual(1);
    expect(report.fqsScans).toBeGreaterThanOrEqual(1);
    // CPUs 0, 2, 3 are idle: only the FQS scan, 3 ms into the GP, can report for them.
    expect(t.blockedNs).toBeGreaterThanOrEqual(3_000_000);
    expect(t.blockedNs).toBeLessThan(10_000_000);
    expect(report.gpState).toBe('WAIT_GPS');
  });

  // What kernel/rcu/tree.c implies. With every CPU busy, a GP that starts at s is noticed by each CPU at its next
  // tick, whose quiescent state is noted and reported at the tick after: it ends in (1, 2] jiffies plus a window.
  // With a CPU idle, only the FQS scan jiffies_till_first_fqs after the start reports it: 3 jiffies at HZ=1000, 1 at
  // HZ=250 (RCU_JIFFIES_TILL_FORCE_QS). Expedited, it ends within a few windows.
  const gps = async (spinners: number[], args: Record<string, unknown> = {}, hz = 1000) => {
    const r = await runSimulation({
      cpus: 4,
      hz,
      seed: 'gp-length',
      duration: '60ms',
      window: '10us',
      memoryMiB: 8,
      memoryLayout: 'one-zone',
      modules: [{ module: rcuModulePath, args }],
      tasks: [
        { module: tasks, export: 'caller', cpus: [0] },
        ...spinners.map((c) => ({ module: tasks, export: 'spinner', cpus: [c] })),
      ],
    });
    expect(r.error).toBeNull();
    return rcu(r).gpDurationNs;
  };

  it('grace periods span ticks, as at HZ=1000: 1-2 ms on busy CPUs, the 3 ms FQS with an idle one', async () => {
    const busy = await gps([1, 2, 3]);
    expect(busy.count).toBeGreaterThan(15);
    expect(busy.min).toBeGreaterThan(1_000_000);
    expect(busy.max).toBeLessThanOrEqual(2_000_000 + 10_000);
    const idle = await gps([1, 2]);
    expect(idle.count).toBeGreaterThan(10);
    expect(idle.min).toBeGreaterThanOrEqual(3_000_000);
    expect(idle.max).toBeLessThanOrEqual(3_000_000 + 10_000);
    const expedited = await gps([1, 2, 3], { expedited: true });
    expect(expedited.count).toBeGreaterThan(busy.count);
    expect(expedited.max).toBeLessThan(100_000);
  });

  it("at HZ=250, the default and Debian's, a jiffy is 4 ms: GPs of 4-8 ms busy, the 1-jiffy FQS with an idle CPU", async () => {
    const busy = await gps([1, 2, 3], {}, 250);
    expect(busy.count).toBeGreaterThan(4);
    expect(busy.min).toBeGreaterThan(4_000_000);
    expect(busy.max).toBeLessThanOrEqual(8_000_000 + 10_000);
    const idle = await gps([1, 2], {}, 250);
    // The idle CPU is reported by the scan a jiffy in, the busy ones still take their 1-2 jiffies.
    expect(idle.min).toBeGreaterThanOrEqual(4_000_000);
    expect(idle.max).toBeLessThanOrEqual(8_000_000 + 10_000);
    // The default is 250.
    const r = await runSimulation({ ...torture(1), duration: '1ms' });
    expect(r.config.hz).toBe(250);
    expect(r.config.jiffyNs).toBe(4_000_000);
    await expect(runSimulation({ ...torture(1), hz: 200 as never })).rejects.toThrow(
      /hz: allowed: 100, 250, 300, 1000/,
    );
  });

  it('refuses bad module arguments, naming each and what is allowed', async () => {
    await expect(
      runSimulation({ ...torture(1), modules: [{ module: rcuModulePath, args: { blimit: 0, hz: 100 } }] }),
    ).rejects.toThrow(
      /rcu module args:[\s\S]*blimit: Too small: expected number to be >=1[\s\S]*Unrecognized key: "hz"/,
    );
  });

  it("sleeping inside a read-side section is the task's error", async () => {
    const r = await runSimulation({
      cpus: 1,
      seed: 'sleepy',
      duration: '1ms',
      memoryMiB: 8,
      memoryLayout: 'one-zone',
      modules: [{ module: rcuModulePath }],
      tasks: [{ module: tasks, export: 'sleepsInside' }],
    });
    expect(r.endReason).toBe('task-error');
    expect(r.error?.message).toMatch(
      /pipe\.sleepsInside\/0' \(#0\) on cpu 0 at 1000 ns: would sleep \(sleeping\) inside an RCU read-side critical section \(rcu_read_lock nesting 1\)/,
    );
  });
});
