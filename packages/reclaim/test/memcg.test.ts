// memcg: memory.max refuses a non-blocking charge and makes a blocking one reclaim inside its group, then kill inside
// it; memory.high lets the charge through and makes the task sleep a penalty on its way back to user space; tasks
// outside the group are untouched; the same digest on 1 and 4 workers; an undeclared group is named.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { reportOf, runSimulation, type RunResult } from '@faultline/engine';
import { MEMCG_CHARGE_BATCH, highPenaltyNs, RECLAIM, reclaimModulePath, type ReclaimReport } from '../dist/index.js';

const tasks = fileURLToPath(new URL('./tasks/memcg.mjs', import.meta.url));
const report = (r: RunResult): ReclaimReport => reportOf(r, RECLAIM)!;
const group = (r: RunResult, name: string) => report(r).memcgs!.find((g) => g.name === name)!;
const granted = (r: RunResult, task: string, mask: string) =>
  r.tasks.filter((t) => t.name.startsWith(task)).reduce((s, t) => s + (t.allocs[mask]?.granted ?? 0), 0);
const run = (memcgs: unknown[], taskList: unknown[], o: { cpus?: number; workers?: number; duration?: string } = {}) =>
  runSimulation({
    seed: 'memcg',
    cpus: o.cpus ?? 2,
    ...(o.workers ? { workers: o.workers } : {}),
    memoryMiB: 64,
    memoryLayout: 'one-zone',
    duration: o.duration ?? '10ms',
    modules: [{ module: reclaimModulePath, args: { memcgs } }],
    tasks: taskList as never,
  });

describe('memcg', () => {
  it('memory.max: a non-blocking charge fails at the limit; a task outside the group is not limited', async () => {
    const r = await run(
      [{ name: 'box', maxPages: 300 }],
      [
        {
          module: tasks,
          export: 'hog',
          name: 'inside',
          cpus: [0],
          args: { memcg: 'box', pages: 1_000, mask: 'GFP_NOWAIT|__GFP_ACCOUNT' },
        },
        {
          module: tasks,
          export: 'hog',
          name: 'outside',
          cpus: [1],
          args: { pages: 1_000, mask: 'GFP_NOWAIT|__GFP_ACCOUNT' },
        },
      ],
    );
    expect(r.error).toBeNull();
    const box = group(r, 'box');
    expect(box.peakPages).toBeGreaterThanOrEqual(300 - MEMCG_CHARGE_BATCH);
    // One task in the group: at a commit it may hold one page more than the limit - a page granted whose charge
    // is refused in the next window, or given back in this one but not yet freed.
    expect(box.peakPages).toBeLessThanOrEqual(301);
    expect(box.tasks[0]!.chargeFailures).toBe(700);
    expect(box.oomKills).toBe(0);
    expect(report(r).tasks.find((t) => t.name.startsWith('inside'))!.allocFailures).toBe(700);
    // The refused pages went back to the zone: the task holds only what was charged.
    expect(r.owners[0]!.pagesCharged - r.owners[0]!.pagesUncharged).toBe(box.usagePages);
    expect(granted(r, 'outside', 'GFP_NOWAIT|__GFP_ACCOUNT')).toBe(1_000);
  });

  it("memory.max: a blocking charge reclaims the group's own page cache, then the memcg OOM killer takes the group's largest task", async () => {
    const r = await run(
      [{ name: 'box', maxPages: 400 }],
      [
        { module: tasks, export: 'hog', name: 'reader', cpus: [0], args: { memcg: 'box', cache: 300, pages: 300 } },
        { module: tasks, export: 'hog', name: 'outside', cpus: [1], args: { cache: 300, pages: 300 } },
      ],
      { duration: '20ms' },
    );
    expect(r.error).toBeNull();
    const box = group(r, 'box');
    const reader = box.tasks[0]!;
    // 600 pages wanted against 400: about 200 of its own page cache reclaimed, nobody else's.
    expect(reader.pagesReclaimed).toBeGreaterThanOrEqual(190);
    expect(reader.chargeFailures).toBe(0);
    expect(box.peakPages).toBeLessThanOrEqual(401);
    expect(box.oomKills).toBe(0);
    const outside = r.tasks.find((t) => t.name.startsWith('outside'))!;
    expect(outside.allocs.GFP_KERNEL_ACCOUNT!.granted).toBe(600); // the engine names the mask as the kernel does

    // Nothing reclaimable in the group: the memcg OOM killer picks its largest task, not the one outside.
    const k = await run(
      [{ name: 'box', maxPages: 200 }],
      [
        { module: tasks, export: 'hog', name: 'small', cpus: [0], args: { memcg: 'box', pages: 50 } },
        { module: tasks, export: 'hog', name: 'big', cpus: [1], args: { memcg: 'box', pages: 1_000 } },
        { module: tasks, export: 'hog', name: 'outside', cpus: [1], args: { pages: 1_000 } },
      ],
      { duration: '20ms' },
    );
    expect(k.error).toBeNull();
    expect(group(k, 'box').oomKills).toBe(1);
    expect(report(k).oomKills.map((v) => v.name.split('/')[0])).toEqual(['big']);
    expect(k.tasks.find((t) => t.name.startsWith('outside'))!.state).not.toBe('killed');
  });

  it('memory.high: charges go through, and the task sleeps a penalty that grows with the square of the overage', async () => {
    const r = await run(
      [{ name: 'high', highPages: 200 }, { name: 'free' }],
      [
        {
          module: tasks,
          export: 'hog',
          name: 'limited',
          cpus: [0],
          args: { memcg: 'high', pages: 2_000, mask: 'GFP_NOWAIT|__GFP_ACCOUNT' },
        },
        {
          module: tasks,
          export: 'hog',
          name: 'unlimited',
          cpus: [1],
          args: { memcg: 'free', pages: 2_000, mask: 'GFP_NOWAIT|__GFP_ACCOUNT' },
        },
      ],
      { duration: '100ms' },
    );
    expect(r.error).toBeNull();
    const limited = group(r, 'high').tasks[0]!;
    expect(limited.chargeFailures).toBe(0);
    expect(limited.penaltyNs).toBeGreaterThan(10_000_000);
    // The unlimited twin finished its 2,000 pages; the penalised one is far behind.
    expect(granted(r, 'unlimited', 'GFP_NOWAIT|__GFP_ACCOUNT')).toBe(2_000);
    expect(granted(r, 'limited', 'GFP_NOWAIT|__GFP_ACCOUNT')).toBeLessThan(1_000);
    // calculate_high_delay's shape: nothing under 10 ms, quadratic in the overage, capped at 2 s.
    expect(highPenaltyNs(201, 200, 64)).toBe(0); // 0.5% over: 1.6 ms, skipped
    expect(highPenaltyNs(210, 200, 64)).toBe(160_000_000); // 5% over, a batch of pages: (0.05)^2 x 64 s
    expect(highPenaltyNs(300, 200, 64)).toBe(2_000_000_000); // 50% over: 16 s, capped
    expect(highPenaltyNs(220, 200, 64) / highPenaltyNs(210, 200, 64)).toBeCloseTo(4, 5);
  });

  it('gives the same digest and group figures on 1 and 4 workers', async () => {
    const opts = (workers: number) =>
      run(
        [{ name: 'box', maxPages: 300, highPages: 200 }],
        [{ module: tasks, export: 'hog', name: 'a', args: { memcg: 'box', cache: 100, pages: 200 } }],
        { cpus: 4, workers, duration: '5ms' },
      );
    const [one, four] = await Promise.all([opts(1), opts(4)]);
    expect(one.error).toBeNull();
    expect(four.digest).toBe(one.digest);
    expect(report(four).memcgs).toEqual(report(one).memcgs);
    expect(group(one, 'box').peakPages).toBeGreaterThan(200);
  });

  it('names a group that was not declared and lists the declared ones', async () => {
    await expect(
      run([{ name: 'box' }], [{ module: tasks, export: 'hog', name: 'x', cpus: [0], args: { memcg: 'bx' } }]),
    ).rejects.toThrow(/memcg 'bx' is not declared; allowed: box/);
  });
});
