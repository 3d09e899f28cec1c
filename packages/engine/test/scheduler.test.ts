// The scheduler. CFS (6.1): a task waking from a sleep preempts a CPU hog (check_preempt_wakeup) instead of waiting
// for the hog's time slice to end; with the wakeup granularity set beyond reach it waits, so the check can fail;
// hogs sharing a CPU still take turns by time slice. EEVDF (6.12): the expected figures are worked out from the
// kernel's rules (pick_eevdf, RUN_TO_PARITY, update_deadline, place_entity's lag, DELAY_DEQUEUE), step by step in
// the comments, not read off a run. The default follows the kernel; an explicit scheduler wins.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runSimulation } from '../dist/index.js';

const sched = fileURLToPath(new URL('./tasks/sched.mjs', import.meta.url));
const run = (
  costs: Record<string, number> = {},
  more: Record<string, unknown> = {},
  sleeperArgs = {},
  sleeper = 'countingSleeper',
) =>
  runSimulation({
    cpus: 1,
    seed: 'sched',
    duration: '30ms',
    costs,
    ...more,
    tasks: [
      { module: sched, export: 'hog', name: 'hog-a', cpus: [0] },
      { module: sched, export: 'hog', name: 'hog-b', cpus: [0] },
      { module: sched, export: sleeper, name: 'sleeper', cpus: [0], args: sleeperArgs },
    ],
  });
type Run = Awaited<ReturnType<typeof runSimulation>>;
const task = (r: Run, n: string) => r.tasks.find((t) => t.name.startsWith(n))!;

describe('scheduler: CFS', () => {
  it('a sleeper preempts CPU hogs within one of their compute pieces when it wakes', async () => {
    const r = await run({}, { scheduler: 'cfs' }, {}, 'sleeper');
    expect(r.error).toBeNull();
    // Woken about 29 times, each time running within 200 us of its due time, although two hogs share the CPU.
    expect(task(r, 'sleeper').runNs).toBeGreaterThan(25 * 10_000);
    // The hogs still share what is left by time slice, evenly.
    const a = task(r, 'hog-a').runNs;
    const b = task(r, 'hog-b').runNs;
    expect(Math.abs(a - b) / (a + b)).toBeLessThan(0.15);
  });

  it('without wakeup preemption the sleeper waits for a time slice to end', async () => {
    const r = await run({ wakeupGranularityNs: 10_000_000_000 }, { scheduler: 'cfs' }, {}, 'sleeper');
    expect(r.error?.message).toMatch(/sleeper.*woke \d+ ns late/);
  });
});

describe('scheduler: EEVDF', () => {
  it('a sleeper beside two CPU hogs runs within two base slices of its wake-up, and the hogs share the rest', async () => {
    // 1 CPU: base slice 0.75 ms x (1 + log2 1) = 750 us; a context switch is 2 us. A zero-lag waker may wait for
    // the running hog to reach its deadline (at most one slice: RUN_TO_PARITY) and then for the other hog, whose
    // deadline can be earlier than the waker's when its vruntime is below V (one more slice); after that the
    // waker is the eligible task with the earliest deadline. With lag above 0 it waits less.
    const slice = 750_000;
    const bound = 2 * slice + 2 * 2_000;
    const r = await run({}, { scheduler: 'eevdf' }, { maxLateNs: bound });
    expect(r.config.costs.baseSliceNs).toBe(slice);
    expect(r.error).toBeNull();
    const s = task(r, 'sleeper');
    // Each round is 1 ms of sleep, at most `bound` late, and 10 us of work: at least 30 ms / 2.514 ms of them.
    expect(s.counters!.rounds).toBeGreaterThanOrEqual(Math.floor(30_000_000 / (1_000_000 + bound + 10_000)));
    // The first wake-up, worked out: all three start at vruntime 0 with half a slice (375 us, deadlines tied,
    // queue order). hog-a runs to its deadline (375 us), hog-b is switched in (2 us) and runs to 375 (t = 750 us),
    // the sleeper (deadline 375, the earliest eligible) runs at 752 us and sleeps at vruntime 2 with lag
    // floor((375 + 375 + 2) / 3) - 2 = 248 us, so it is due at 1752 us. hog-a (queued before hog-b) runs its new
    // request to vruntime 1125 (t = 1502 us), then hog-b, switched in on its request (deadline 1125). At 1752 us
    // the sleeper is placed at V less 248 x 3/2: V = (1125 + 625) / 2 = 875, so at 503 (deadline 1253), which
    // leaves hog-b (625) eligible with the earlier deadline: it keeps the CPU to it (t = 2252 us). Then the
    // sleeper is the eligible one with the earliest deadline: it runs at 2254 us, 502 us late. (CFS: within one
    // 100 us compute piece.)
    expect(s.counters!.firstLateNs).toBe(502_000);
    const a = task(r, 'hog-a').runNs;
    const b = task(r, 'hog-b').runNs;
    expect(Math.abs(a - b) / (a + b)).toBeLessThan(0.05);
  });

  // One CPU, base slice 1 ms, free context switches; a hog computing in 100 us pieces and a task that sleeps once
  // and wakes in the middle of one of the hog's pieces. The hog's deadline comes at vruntime 0.5 ms (half a slice
  // at the start), then every 1 ms of its CPU time.
  const once = (waker: Record<string, number>, wakerFirst: boolean, hogs = 1) => {
    const hog = Array.from({ length: hogs }, (_, i) => ({ module: sched, export: 'hog', name: `hog${i}`, cpus: [0] }));
    const w = { module: sched, export: 'waker', name: 'waker', cpus: [0], args: waker };
    return runSimulation({
      cpus: 1,
      seed: 'sched',
      duration: '10ms',
      scheduler: 'eevdf',
      costs: { contextSwitchNs: 0, baseSliceNs: 1_000_000 },
      tasks: wakerFirst ? [w, ...hog] : [...hog, w],
    });
  };

  it('a woken task with lag above 0 preempts at once (the next compute boundary) and keeps its lag', async () => {
    // The hog runs first, to its deadline at 0.5 ms; the waker (deadline 0.5, eligible at V = 0.25) runs at 0.5 ms
    // and sleeps at once, owed lag V - 0 = 0.25 ms, until 5.75 ms. Alone, the hog runs on from 0.5 ms (vruntime
    // 0.5 to 5.75 ms, deadline renewed to 6.5 at 5.5). The waker comes back at V - 0.25 x (1 + 1) / 1 = 5.25 ms
    // (deadline 6.25): V is now 5.5, the hog is past it, not eligible, so the waker is what pick_eevdf chooses and
    // it preempts: at the end of the hog's piece, 5.8 ms, 50 us late. It runs its request, 1 ms to its deadline
    // (6.8 ms); then the hog (5.8, deadline 6.5) is the eligible one and runs 0.7 ms to its deadline (7.5 ms);
    // then the waker (6.25 < V = 6.375) runs its last 1 ms: done at 8.5 ms.
    const r = await once({ sleepNs: 5_250_000, thenNs: 2_000_000 }, false);
    expect(r.error).toBeNull();
    const w = task(r, 'waker');
    expect(w.counters).toEqual({ latencyNs: 50_000, doneAtNs: 8_500_000 });
  });

  it('a woken task with no lag waits for the running task to reach its deadline', async () => {
    // The waker runs first (tie, queue order): 0.3 ms, then sleeps with vruntime 0.3 > V = 0.15, not eligible, so
    // it stays queued (DELAY_DEQUEUE) while the hog runs from 0.3 ms. At the hog's deadline (vruntime 0.5, t =
    // 0.8 ms) V = 0.4: the hog is not eligible, the waker is and has the earliest deadline, so it is picked and
    // dequeued, its lag 0.1 ms clipped to 0 (DELAY_ZERO), and the hog runs on alone (its deadline renewed, no
    // longer the one it was switched in with). At 5.55 ms the waker is placed at V = the hog's vruntime, 5.25 ms,
    // deadline 6.25; the hog is eligible and its deadline, 5.5, is earlier: no preemption. The hog runs to it
    // (t = 5.8 ms), then is past V and the waker runs: 250 us late, where lag above 0 got it 50 us.
    const r = await once({ computeNs: 300_000, sleepNs: 5_250_000 }, true);
    expect(r.error).toBeNull();
    expect(task(r, 'waker').counters!.latencyNs).toBe(250_000);
  });

  it('a woken task that used more than its share does not preempt', async () => {
    // As above, but the waker wakes at 0.4 ms, still queued: vruntime 0.3 against V = (0.1 + 0.3) / 2 = 0.2, lag
    // -0.1 ms. It keeps its place (requeue_delayed_entity), is not eligible, and the hog, switched in on its
    // request, keeps the CPU to its deadline (vruntime 0.5, t = 0.8 ms); then V = 0.4 and the waker runs, 400 us
    // after its wake-up.
    const r = await once({ computeNs: 300_000, sleepNs: 100_000 }, true);
    expect(r.error).toBeNull();
    expect(task(r, 'waker').counters!.latencyNs).toBe(400_000);
  });

  it('RUN_TO_PARITY: the running task keeps the CPU to the end of its request while it is eligible', async () => {
    // Three hogs, then the waker. Each hog runs its first half slice in turn (to 1.5 ms); the waker (still at 0,
    // deadline 0.5) runs at 1.5 ms and sleeps at once owed V = 1.5 / 4 = 0.375 ms, until 2.55 ms. hog0 (tie,
    // queue order) runs its request from 0.5 to 1.5 (t = 2.5 ms); hog1 is switched in on its request, 0.5 to 1.5.
    // At 2.55 ms: hog0 1.5, hog1 0.55, hog2 0.5, V = 0.85; the waker is placed at 0.85 - 0.375 x 4/3 = 0.35,
    // deadline 1.35, the earliest of all, and V becomes 0.725. hog1 (0.55) is still eligible and on the request it
    // was switched in with, so it is not preempted (without RUN_TO_PARITY the waker would run at the end of hog1's
    // piece, 50 us on). hog1 reaches its deadline at vruntime 1.5, t = 3.5 ms; V = 0.9625 and the waker, eligible
    // with the earliest deadline, runs: 950 us after its wake-up.
    const r = await once({ sleepNs: 1_050_000 }, false, 3);
    expect(r.error).toBeNull();
    expect(task(r, 'waker').counters!.latencyNs).toBe(950_000);
  });
});

describe('scheduler: the default', () => {
  it('follows the kernel (CFS for v5.18 and v6.4, EEVDF for v6.3+); an explicit scheduler wins', async () => {
    const digest = async (more: Record<string, unknown>) => {
      const r = await run({}, more, { maxLateNs: 1e9 });
      return [r.config.scheduler, r.digest];
    };
    const [cfs518, eevdf518, def518, def64, cfs63, eevdf63, def63] = await Promise.all([
      digest({ kernel: 'v5.18', scheduler: 'cfs' }),
      digest({ kernel: 'v5.18', scheduler: 'eevdf' }),
      digest({ kernel: 'v5.18' }),
      digest({ kernel: 'v6.4' }),
      digest({ kernel: 'v6.3+', scheduler: 'cfs' }),
      digest({ kernel: 'v6.3+', scheduler: 'eevdf' }),
      digest({}),
    ]);
    expect(def518).toEqual(cfs518);
    expect(def64![0]).toBe('cfs');
    expect(def63).toEqual(eevdf63);
    expect(eevdf518![0]).toBe('eevdf');
    expect(eevdf518![1]).not.toBe(cfs518![1]);
    expect(cfs63![0]).toBe('cfs');
    expect(cfs63![1]).not.toBe(eevdf63![1]);
  });
});

describe('scheduler: the preemption model', () => {
  // Debian boots PREEMPT_DYNAMIC as voluntary: a task in the kernel (here: holding a lock) is not preempted; a waking
  // task waits for the section to end. Under full preemption it runs within a compute piece (100 us).
  const lateness = async (preempt: 'voluntary' | 'full', scheduler: 'cfs' | 'eevdf') => {
    const r = await runSimulation({
      cpus: 1,
      seed: 'preempt',
      duration: '30ms',
      preempt,
      scheduler,
      locks: { m: { kind: 'mutex', home: 0 } },
      tasks: [
        { module: sched, export: 'lockedHog', name: 'hog', cpus: [0] },
        { module: sched, export: 'countingSleeper', name: 'sleeper', cpus: [0], args: { maxLateNs: 1e9 } },
      ],
    });
    expect(r.error).toBeNull();
    expect(r.config.preempt).toBe(preempt);
    const c = task(r, 'sleeper').counters!;
    return { rounds: c.rounds!, firstLateNs: c.firstLateNs! };
  };

  it('voluntary (the default) waits for the kernel section to end; full preempts inside it', async () => {
    for (const scheduler of ['cfs', 'eevdf'] as const) {
      const full = await lateness('full', scheduler);
      const voluntary = await lateness('voluntary', scheduler);
      // Full: at the hog's next compute piece (100 us, plus a context switch).
      expect(full.firstLateNs, scheduler).toBeLessThanOrEqual(100_000 + 2_000);
      // Voluntary: the sleeper's first wake-up falls inside one of the hog's 2 ms sections (they fill 20 of every 21
      // pieces), so it waits for the section's end: more than a piece, at most the section and a switch.
      expect(voluntary.firstLateNs, scheduler).toBeGreaterThan(100_000 + 2_000);
      expect(voluntary.firstLateNs, scheduler).toBeLessThanOrEqual(2_000_000 + 2_000);
      // ... and so on every round: fewer rounds in the same 30 ms.
      expect(voluntary.rounds, scheduler).toBeLessThan(full.rounds);
    }
    const r = await runSimulation({ cpus: 1, seed: 'p', duration: '1ms', tasks: [{ module: sched, export: 'hog' }] });
    expect(r.config.preempt).toBe('voluntary');
  });
});
