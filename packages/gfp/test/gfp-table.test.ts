// The GFP table: for every mask of kernel-facts.md and each watermark band, the outcome equals the kernel's rule.
// The expected rows are written out by hand from the kernel's code paths, not computed by the code under test.
import { describe, expect, it } from 'vitest';
import {
  decideAllocation,
  formatDecision,
  gfpBandTable,
  parseGfp,
  planAllocation,
  watermarkBands,
  type KernelBehaviour,
} from '../src/index.js';

// A zone with min 4000, low 5000, high 6000: the bands' midpoints are
// >high 6500 | low..high 5500 | min..low 4500 | 3/4..min 3500 | 1/2..3/4 2500 | 3/8..1/2 1750 | 1/4..3/8 1250 | 0..1/4 500 | empty 0
const W = { minPages: 4000, lowPages: 5000, highPages: 6000 };
const BANDS = [
  '> high',
  'low..high',
  'min..low',
  '3/4 min..min',
  '1/2 min..3/4 min',
  '3/8 min..1/2 min',
  '1/4 min..3/8 min',
  '0..1/4 min',
  'empty',
];

// fast = granted at LOW; slow+k = granted at MIN after waking kswapd; emergency = NO_WATERMARKS or ALLOC_OOM;
// FAIL = gives up before reclaim; reclaim = may direct-reclaim and retry.
const EXPECTED: Record<KernelBehaviour, Record<string, string[]>> = {
  'v5.18': {
    GFP_KERNEL: [
      'fast',
      'fast',
      'slow+k',
      'reclaim+k',
      'reclaim+k',
      'reclaim+k',
      'reclaim+k',
      'reclaim+k',
      'reclaim+k',
    ],
    GFP_PGTABLE_USER: [
      'fast',
      'fast',
      'slow+k',
      'reclaim+k',
      'reclaim+k',
      'reclaim+k',
      'reclaim+k',
      'reclaim+k',
      'reclaim+k',
    ],
    GFP_NOWAIT: ['fast', 'fast', 'slow+k', 'FAIL+k', 'FAIL+k', 'FAIL+k', 'FAIL+k', 'FAIL+k', 'FAIL+k'],
    'SPF mask': ['fast', 'fast', 'slow+k', 'FAIL+k', 'FAIL+k', 'FAIL+k', 'FAIL+k', 'FAIL+k', 'FAIL+k'],
    // HIGH halves min, HARDER takes a further quarter: 3/8 of min.
    GFP_ATOMIC: ['fast', 'fast', 'slow+k', 'slow+k', 'slow+k', 'slow+k', 'FAIL+k', 'FAIL+k', 'FAIL+k'],
    'GFP_KERNEL|__GFP_HIGH': [
      'fast',
      'fast',
      'slow+k',
      'slow+k',
      'slow+k',
      'reclaim+k',
      'reclaim+k',
      'reclaim+k',
      'reclaim+k',
    ],
    // v5.18 realtime: ALLOC_HARDER, 3/4 of min.
    'GFP_KERNEL, realtime task': [
      'fast',
      'fast',
      'slow+k',
      'slow+k',
      'reclaim+k',
      'reclaim+k',
      'reclaim+k',
      'reclaim+k',
      'reclaim+k',
    ],
    // ALLOC_OOM replaces the flags: 1/2 of min.
    'GFP_KERNEL, OOM victim': [
      'fast',
      'fast',
      'slow+k',
      'emergency+k',
      'emergency+k',
      'reclaim+k',
      'reclaim+k',
      'reclaim+k',
      'reclaim+k',
    ],
    // PF_MEMALLOC: NO_WATERMARKS while any page is free; never recurses into reclaim.
    'GFP_KERNEL, PF_MEMALLOC': [
      'fast',
      'fast',
      'slow+k',
      'emergency+k',
      'emergency+k',
      'emergency+k',
      'emergency+k',
      'emergency+k',
      'FAIL+k',
    ],
    'GFP_NOWAIT|__GFP_MEMALLOC': [
      'fast',
      'fast',
      'slow+k',
      'emergency+k',
      'emergency+k',
      'emergency+k',
      'emergency+k',
      'emergency+k',
      'FAIL+k',
    ],
  },
  'v6.3+': {
    GFP_KERNEL: [
      'fast',
      'fast',
      'slow+k',
      'reclaim+k',
      'reclaim+k',
      'reclaim+k',
      'reclaim+k',
      'reclaim+k',
      'reclaim+k',
    ],
    GFP_PGTABLE_USER: [
      'fast',
      'fast',
      'slow+k',
      'reclaim+k',
      'reclaim+k',
      'reclaim+k',
      'reclaim+k',
      'reclaim+k',
      'reclaim+k',
    ],
    // ALLOC_NON_BLOCK alone gives no dip below min.
    GFP_NOWAIT: ['fast', 'fast', 'slow+k', 'FAIL+k', 'FAIL+k', 'FAIL+k', 'FAIL+k', 'FAIL+k', 'FAIL+k'],
    'SPF mask': ['fast', 'fast', 'slow+k', 'FAIL+k', 'FAIL+k', 'FAIL+k', 'FAIL+k', 'FAIL+k', 'FAIL+k'],
    // MIN_RESERVE halves, NON_BLOCK takes a further quarter: 3/8 of min.
    GFP_ATOMIC: ['fast', 'fast', 'slow+k', 'slow+k', 'slow+k', 'slow+k', 'FAIL+k', 'FAIL+k', 'FAIL+k'],
    'GFP_KERNEL|__GFP_HIGH': [
      'fast',
      'fast',
      'slow+k',
      'slow+k',
      'slow+k',
      'reclaim+k',
      'reclaim+k',
      'reclaim+k',
      'reclaim+k',
    ],
    // v6.3+ realtime with direct reclaim: ALLOC_MIN_RESERVE, 1/2 of min.
    'GFP_KERNEL, realtime task': [
      'fast',
      'fast',
      'slow+k',
      'slow+k',
      'slow+k',
      'reclaim+k',
      'reclaim+k',
      'reclaim+k',
      'reclaim+k',
    ],
    'GFP_KERNEL, OOM victim': [
      'fast',
      'fast',
      'slow+k',
      'emergency+k',
      'emergency+k',
      'reclaim+k',
      'reclaim+k',
      'reclaim+k',
      'reclaim+k',
    ],
    'GFP_KERNEL, PF_MEMALLOC': [
      'fast',
      'fast',
      'slow+k',
      'emergency+k',
      'emergency+k',
      'emergency+k',
      'emergency+k',
      'emergency+k',
      'FAIL+k',
    ],
    'GFP_NOWAIT|__GFP_MEMALLOC': [
      'fast',
      'fast',
      'slow+k',
      'emergency+k',
      'emergency+k',
      'emergency+k',
      'emergency+k',
      'emergency+k',
      'FAIL+k',
    ],
  },
};

describe('the GFP band table', () => {
  it('has the bands in order, each strictly inside its interval', () => {
    const bands = watermarkBands(W);
    expect(bands.map((b) => b.name)).toEqual(BANDS);
    expect(bands.map((b) => b.freePages)).toEqual([6500, 5500, 4500, 3500, 2500, 1750, 1250, 500, 0]);
  });

  for (const kernel of ['v5.18', 'v6.3+'] as const) {
    it(`matches the kernel's rule for every mask and band (${kernel})`, () => {
      const table = gfpBandTable(kernel, W);
      const got = Object.fromEntries(table.rows.map((r) => [r.label, r.cells.map(formatDecision)]));
      expect(got).toEqual(EXPECTED[kernel]);
    });
  }

  it('the SPF mask never gets below min in either kernel, while GFP_ATOMIC does', () => {
    for (const kernel of ['v5.18', 'v6.3+'] as const) {
      const spf = planAllocation(parseGfp('GFP_NOWAIT|__GFP_NOMEMALLOC|__GFP_NOWARN', kernel).mask, 0, kernel);
      const atomic = planAllocation(parseGfp('GFP_ATOMIC', kernel).mask, 0, kernel);
      for (let free = 0; free <= W.minPages; free += 7) {
        expect(decideAllocation(spf, { ...W, freePages: free }).verdict).toBe('fail');
      }
      expect(decideAllocation(atomic, { ...W, freePages: W.minPages }).verdict).toBe('granted');
    }
  });

  it('a failing GFP_NOWAIT warns on v5.18 but not on v6.3+ (which added __GFP_NOWARN to it)', () => {
    const old = decideAllocation(planAllocation(parseGfp('GFP_NOWAIT', 'v5.18').mask, 0, 'v5.18'), {
      ...W,
      freePages: 10,
    });
    const now = decideAllocation(planAllocation(parseGfp('GFP_NOWAIT', 'v6.3+').mask, 0, 'v6.3+'), {
      ...W,
      freePages: 10,
    });
    expect(old.warnFailure).toBe(true);
    expect(now.warnFailure).toBe(false);
  });
});
