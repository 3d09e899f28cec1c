// The built-in scenarios: every policy runs each without error, a scenario's digest is the same on 1 and 4
// workers, mmap-contention shows what the published per-VMA-lock and SPF results show, and bad names list choices.
import { describe, expect, it } from 'vitest';
import { runSimulation } from '@faultline/engine';
import { getScenario, POLICIES, SCENARIOS } from '../dist/index.js';

describe('scenarios', () => {
  it('runs every scenario under every policy', async () => {
    for (const s of SCENARIOS) {
      const runs = await Promise.all(POLICIES.map((policy) => runSimulation(s.build({ policy, cpus: 2, workers: 1, seed: 'smoke', duration: '3ms' }))));
      for (const [i, r] of runs.entries()) {
        expect(r.error, `${s.name} / ${POLICIES[i]}`).toBeNull();
        expect(Object.values(s.figures(r)).every((v) => Number.isFinite(v)), `${s.name} / ${POLICIES[i]}`).toBe(true);
      }
    }
  });

  it('nowait-starvation gives the same digest and figures on 1 and 4 workers', async () => {
    const s = getScenario('nowait-starvation');
    const [one, four] = await Promise.all([1, 4].map((workers) => runSimulation(s.build({ policy: 'spf-nowait', cpus: 4, workers, seed: 'same', duration: '10ms' }))));
    expect(one!.error).toBeNull();
    expect(four!.digest).toBe(one!.digest);
    expect(s.figures(four!)).toEqual(s.figures(one!));
    expect(s.figures(one!)['storm table pages']).toBeGreaterThan(100);
  });

  it('mmap-contention: speculative and per-VMA-lock faults go around the writer; classic faults queue behind it', async () => {
    const s = getScenario('mmap-contention');
    const [classic, fallback, vma] = await Promise.all(['classic', 'spf-fallback', 'per-vma-lock'].map((policy) => runSimulation(s.build({ policy, cpus: 4, workers: 1, seed: 'contention', duration: '10ms' }))));
    const f = (r: typeof classic) => s.figures(r!);
    expect(f(fallback)['faults/s (k)']).toBeGreaterThan(f(classic)['faults/s (k)']!);
    expect(f(vma)['faults/s (k)']).toBeGreaterThan(f(classic)['faults/s (k)']!);
    expect(f(fallback)['mmap_lock wait (ms)']).toBeLessThan(f(classic)['mmap_lock wait (ms)']!);
    // Some speculative faults collide with the writer and are aborted - a few percent, as in the published SPF runs.
    expect(f(fallback).aborted).toBeGreaterThan(0);
    expect(f(fallback).aborted).toBeLessThan(f(fallback).speculative! * 0.2);
    expect(f(classic).speculative).toBe(0);
  });

  it('names an unknown scenario or policy and lists the choices', () => {
    expect(() => getScenario('nowhere')).toThrow(/unknown scenario 'nowhere'; allowed: nowait-starvation, mmap-contention/);
    expect(() => getScenario('nowait-starvation').build({ policy: 'yolo', cpus: 2, seed: 's', duration: '1ms' })).toThrow(/unknown policy 'yolo'; allowed: classic, spf-nowait/);
  });
});
