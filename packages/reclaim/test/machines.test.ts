// The reclaim machines (the allocator's slow path and kswapd): the compiled stepper the simulator uses agrees with
// XState's own transitions, guards included, on random walks.
import { describe, expect, it } from 'vitest';
import { crossCheckMachine } from '@faultline/engine/module';
import { __GFP_NOFAIL, __GFP_NORETRY, __GFP_RETRY_MAYFAIL } from '@faultline/gfp';
import { KSWAPD_GUARDS, kswapdMachine, type KswapdRun } from '../src/kswapd.js';
import { SLOW_PATH_GUARDS, slowPathMachine, type SlowRun } from '../src/slow-path.js';

const MASK_BITS = [__GFP_NORETRY, __GFP_RETRY_MAYFAIL, __GFP_NOFAIL];

describe('reclaim machines', () => {
  it("the slow path: every combination of NORETRY, RETRY_MAYFAIL and NOFAIL takes XState's transitions", () => {
    const r = crossCheckMachine(slowPathMachine, SLOW_PATH_GUARDS, {
      walks: 2_000,
      seed: 'slow-path',
      context: (rng) => ({ mask: MASK_BITS.reduce((m, b) => (rng() < 0.5 ? m | b : m), 0) }) as unknown as SlowRun,
    });
    expect(r.disagreement).toBeNull();
    expect(r.transitions).toBeGreaterThan(5_000);
  });

  it('kswapd: runs down to priority 1 at most, giving up on a node 16 fruitless runs made hopeless, as XState decides it', () => {
    const r = crossCheckMachine(kswapdMachine, KSWAPD_GUARDS, {
      walks: 1_000,
      seed: 'kswapd',
      context: () => ({ failures: 0, priority: 12, passes: 0, reclaimed: 0 }) as unknown as KswapdRun,
      perturb: (k, rng) => {
        k.failures = rng() < 0.3 ? 16 : Math.floor(rng() * 16);
        k.priority = rng() < 0.3 ? 0 : 1 + Math.floor(rng() * 12);
      },
    });
    expect(r.disagreement).toBeNull();
    expect(r.transitions).toBeGreaterThan(5_000);
  });
});
