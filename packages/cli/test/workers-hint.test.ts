// The workers hint: printed after a run on several workers whose barriers took a large share of the loop, with what
// the workers' own figures say; never for one worker; and the engine reports the figures it is made of.
import { describe, expect, it } from 'vitest';
import { runSimulation, type RunResult } from '@faultline/engine';
import { BARRIER_SHARE_HINT, workersHint } from '../src/workers-hint.js';

type Host = RunResult['host'];
const phase = (worker: number, barrierMs: number, barrierSleeps = 0, barrierSleptMs = 0) => ({
  worker,
  loopMs: 100,
  runMs: 100 - barrierMs,
  barrierMs,
  barrierSleeps,
  barrierSleptMs,
  commitMs: 0,
  commitWaitMs: 0,
});
const host = (workers: number, phases: Host['phases'], load: Host['load'] = null): Host => ({
  workers,
  load,
  wallMs: 120,
  loopMs: 100,
  barrierRounds: 1000,
  barrierMs: Math.max(...phases.map((p) => p.barrierMs)),
  subRounds: 0,
  lagCarried: 0,
  phases,
  criticalPath: { runMs: 50, commitMs: 10 },
});

describe('workers hint', () => {
  it('speaks when a worker waited more than the threshold share of the loop, with the sleeps', () => {
    const h = workersHint(host(2, [phase(0, 10), phase(1, 45, 4, 10)]));
    expect(h).toHaveLength(1);
    expect(h[0]).toContain('a worker waited 45% of the loop at window barriers');
    expect(h[0]).toContain('4 waits outlasted the spin and slept, 2.5 ms each');
    expect(h[0]).toContain('--workers 1 may be faster');
    expect(workersHint(host(2, [phase(0, 10), phase(1, 100 * BARRIER_SHARE_HINT - 1)]))).toEqual([]);
    expect(workersHint(host(1, [phase(0, 90)]))).toEqual([]);
  });

  it('says when the run started fewer workers than asked because the host was busy, and only then', () => {
    const fitted = workersHint(host(1, [phase(0, 0)], { asked: 2, othersRunning: 2, hostCores: 2 }));
    expect(fitted).toEqual([
      "host: 1 worker of the 2 asked: 2 threads of other processes were running on the host's 2 cores at the " +
        'start (--no-follow-load starts them all); the results are the same',
    ]);
    // More workers than cores on a quiet host: the cores are the reason.
    expect(workersHint(host(2, [phase(0, 0), phase(1, 0)], { asked: 4, othersRunning: 0, hostCores: 2 }))).toEqual([
      'host: 2 workers of the 4 asked: the host has 2 cores (--no-follow-load starts them all); ' +
        'the results are the same',
    ]);
    expect(workersHint(host(2, [phase(0, 0), phase(1, 0)], { asked: 2, othersRunning: 0, hostCores: 2 }))).toEqual([]);
  });

  it('is made of figures the engine reports for each worker: with no spin, waits sleep and are counted', async () => {
    const options = {
      cpus: 4,
      workers: 2,
      seed: 'hint',
      duration: '200us',
      tasks: [{ module: new URL('../../../examples/alloc-churn.ts', import.meta.url).pathname, perCpu: 1 }],
    };
    const r = await runSimulation(options, { barrierSpins: 0, followLoad: false });
    expect(r.error).toBeNull();
    expect(r.host.phases).toHaveLength(2);
    const sleeps = r.host.phases.reduce((n, p) => n + p.barrierSleeps, 0);
    expect(sleeps).toBeGreaterThan(0);
    for (const p of r.host.phases) {
      expect(p.barrierSleptMs).toBeLessThanOrEqual(p.barrierMs + 1e-6);
      if (p.barrierSleeps === 0) expect(p.barrierSleptMs).toBe(0);
      else expect(p.barrierSleptMs).toBeGreaterThan(0);
    }
    // The same run: host figures are not part of it.
    expect((await runSimulation(options, { followLoad: false })).digest).toBe(r.digest);
  });
});
