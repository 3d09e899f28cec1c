// GFP flags and composites, parsing and formatting, warnings, the conversion to ALLOC_* flags, and the watermark
// check's reserve arithmetic (kernel-facts.md sections 2 and 3).
import { describe, expect, it } from 'vitest';
import {
  ALLOC_HARDER,
  ALLOC_HIGHATOMIC,
  ALLOC_KSWAPD,
  ALLOC_MIN_RESERVE,
  ALLOC_NO_WATERMARKS,
  ALLOC_NON_BLOCK,
  ALLOC_OOM,
  formatGfp,
  gfpComposites,
  gfpPfmemallocFlags,
  gfpToAllocFlags,
  parseGfp,
  planAllocation,
  reservedMinPages,
  zoneWatermarkOk,
  GfpParseError,
} from '../src/index.js';

describe('GFP composites', () => {
  it('have the kernel values for v5.18', () => {
    const c = gfpComposites('v5.18');
    expect(c.GFP_KERNEL).toBe(0xcc0);
    expect(c.GFP_NOWAIT).toBe(0x800);
    expect(c.GFP_ATOMIC).toBe(0xa20);
    expect(c.GFP_KERNEL_ACCOUNT).toBe(0x400cc0);
    expect(c.GFP_PGTABLE_USER).toBe(0x400dc0);
  });
  it('have the kernel values for v6.3+', () => {
    const c = gfpComposites('v6.3+');
    expect(c.GFP_NOWAIT).toBe(0x2800);
    expect(c.GFP_ATOMIC).toBe(0x820);
    expect(c.GFP_PGTABLE_KERNEL).toBe(0xdc0);
  });
});

describe('parseGfp', () => {
  it('parses the discussion mask as the kernel writes it', () => {
    expect(parseGfp('GFP_NOWAIT|__GFP_NOMEMALLOC|__GFP_NOWARN', 'v5.18').mask).toBe(0x800 | 0x80000 | 0x2000);
    expect(parseGfp(' GFP_KERNEL | __GFP_NOWARN ', 'v6.3+').mask).toBe(0xcc0 | 0x2000);
    expect(parseGfp('0x400', 'v6.3+').mask).toBe(0x400);
  });
  it('names an unknown flag and lists the known ones', () => {
    expect(() => parseGfp('GFP_KERNEL|__GFP_BOGUS', 'v6.3+')).toThrow(GfpParseError);
    expect(() => parseGfp('GFP_KERNEL|__GFP_BOGUS', 'v6.3+')).toThrow(
      /unknown flag '__GFP_BOGUS'.*known: GFP_KERNEL, GFP_NOWAIT/,
    );
  });
  it('refuses __GFP_ATOMIC on v6.3+ and says why', () => {
    expect(parseGfp('__GFP_ATOMIC', 'v5.18').mask).toBe(0x200);
    expect(() => parseGfp('__GFP_ATOMIC', 'v6.3+')).toThrow(/removed in 6\.3/);
  });
  it('refuses empty masks, empty tokens and unknown bits', () => {
    expect(() => parseGfp('', 'v6.3+')).toThrow(/empty/);
    expect(() => parseGfp('GFP_KERNEL||__GFP_NOWARN', 'v6.3+')).toThrow(/empty flag/);
    expect(() => parseGfp('0x1', 'v6.3+')).toThrow(/bits 0x1 are not flags/);
  });
  it('warns about __GFP_NOFAIL without direct reclaim, as the kernel does', () => {
    const w = parseGfp('GFP_NOWAIT|__GFP_NOFAIL', 'v6.3+').warnings;
    expect(w.map((x) => x.code)).toEqual(['nofail-without-direct-reclaim']);
    expect(parseGfp('GFP_KERNEL|__GFP_NOFAIL', 'v6.3+').warnings).toEqual([]);
    expect(
      planAllocation(parseGfp('GFP_KERNEL|__GFP_NOFAIL', 'v6.3+').mask, 4, 'v6.3+').warnings.map((x) => x.code),
    ).toEqual(['nofail-costly-order']);
  });
  it('formats masks back to names that parse to the same mask', () => {
    for (const kernel of ['v5.18', 'v6.3+'] as const) {
      for (const text of [
        'GFP_KERNEL',
        'GFP_NOWAIT|__GFP_NOMEMALLOC|__GFP_NOWARN',
        'GFP_ATOMIC',
        'GFP_PGTABLE_USER',
        '__GFP_HIGH|__GFP_NOFAIL',
      ]) {
        const mask = parseGfp(text, kernel).mask;
        expect(parseGfp(formatGfp(mask, kernel), kernel).mask).toBe(mask);
      }
    }
    expect(formatGfp(0x400dc0, 'v6.3+')).toBe('GFP_PGTABLE_USER');
  });
});

describe('gfp_to_alloc_flags', () => {
  const m = (t: string, k: 'v5.18' | 'v6.3+') => parseGfp(t, k).mask;
  it('v5.18: __GFP_ATOMIC gives ALLOC_HARDER unless __GFP_NOMEMALLOC', () => {
    expect(gfpToAllocFlags(m('GFP_ATOMIC', 'v5.18'), 0, 'v5.18') & ALLOC_HARDER).toBeTruthy();
    expect(gfpToAllocFlags(m('GFP_ATOMIC|__GFP_NOMEMALLOC', 'v5.18'), 0, 'v5.18') & ALLOC_HARDER).toBe(0);
    expect(gfpToAllocFlags(m('GFP_KERNEL', 'v5.18'), 0, 'v5.18', { realtime: true }) & ALLOC_HARDER).toBeTruthy();
    expect(
      gfpToAllocFlags(m('GFP_KERNEL', 'v5.18'), 0, 'v5.18', { realtime: true, inInterrupt: true }) & ALLOC_HARDER,
    ).toBe(0);
  });
  it('v6.3+: a non-blocking caller gets ALLOC_NON_BLOCK unless __GFP_NOMEMALLOC; high orders get HIGHATOMIC', () => {
    const nowait = gfpToAllocFlags(m('GFP_NOWAIT', 'v6.3+'), 0, 'v6.3+');
    expect(nowait & ALLOC_NON_BLOCK).toBeTruthy();
    expect(nowait & ALLOC_KSWAPD).toBeTruthy();
    expect(gfpToAllocFlags(m('GFP_NOWAIT|__GFP_NOMEMALLOC', 'v6.3+'), 0, 'v6.3+') & ALLOC_NON_BLOCK).toBe(0);
    expect(gfpToAllocFlags(m('GFP_NOWAIT', 'v6.3+'), 2, 'v6.3+') & ALLOC_HIGHATOMIC).toBeTruthy();
    expect(gfpToAllocFlags(m('GFP_KERNEL', 'v6.3+'), 0, 'v6.3+', { realtime: true }) & ALLOC_MIN_RESERVE).toBeTruthy();
    expect(gfpToAllocFlags(m('GFP_NOWAIT', 'v6.3+'), 0, 'v6.3+', { realtime: true }) & ALLOC_MIN_RESERVE).toBe(0);
  });
  it('emergency access: first match wins, __GFP_NOMEMALLOC over everything', () => {
    expect(gfpPfmemallocFlags(m('GFP_KERNEL|__GFP_MEMALLOC|__GFP_NOMEMALLOC', 'v6.3+'))).toBe(0);
    expect(gfpPfmemallocFlags(m('GFP_KERNEL|__GFP_MEMALLOC', 'v6.3+'))).toBe(ALLOC_NO_WATERMARKS);
    expect(gfpPfmemallocFlags(m('GFP_KERNEL', 'v6.3+'), { pfMemalloc: true, oomVictim: true })).toBe(
      ALLOC_NO_WATERMARKS,
    );
    expect(gfpPfmemallocFlags(m('GFP_KERNEL', 'v6.3+'), { oomVictim: true })).toBe(ALLOC_OOM);
    expect(gfpPfmemallocFlags(m('GFP_KERNEL', 'v6.3+'), { pfMemalloc: true, inInterrupt: true })).toBe(0);
  });
});

describe('the watermark check', () => {
  it('reduces min by the reserve fractions of kernel-facts.md with integer arithmetic', () => {
    const mark = 1000;
    expect(reservedMinPages(mark, 0, 'v5.18')).toBe(1000);
    expect(reservedMinPages(mark, ALLOC_MIN_RESERVE, 'v5.18')).toBe(500);
    expect(reservedMinPages(mark, ALLOC_MIN_RESERVE | ALLOC_HARDER, 'v5.18')).toBe(375);
    expect(reservedMinPages(mark, ALLOC_HARDER, 'v5.18')).toBe(750);
    expect(reservedMinPages(mark, ALLOC_OOM, 'v5.18')).toBe(500);
    expect(reservedMinPages(mark, ALLOC_OOM | ALLOC_MIN_RESERVE, 'v5.18')).toBe(250);
    expect(reservedMinPages(mark, ALLOC_NON_BLOCK, 'v6.3+')).toBe(1000);
    expect(reservedMinPages(mark, ALLOC_MIN_RESERVE | ALLOC_NON_BLOCK, 'v6.3+')).toBe(375);
    expect(reservedMinPages(mark, ALLOC_MIN_RESERVE, 'v6.3+')).toBe(500);
    expect(reservedMinPages(mark, ALLOC_OOM, 'v6.3+')).toBe(500);
    expect(reservedMinPages(mark, ALLOC_OOM | ALLOC_MIN_RESERVE, 'v6.3+')).toBe(250);
    expect(reservedMinPages(1001, ALLOC_MIN_RESERVE, 'v6.3+')).toBe(501);
  });
  it('fails at exactly the line (free must be strictly above it) and honours lowmem_reserve', () => {
    const c = { markPages: 100, order: 0, allocFlags: 0, kernel: 'v6.3+' as const };
    expect(zoneWatermarkOk({ ...c, freePages: 100 })).toBe(false);
    expect(zoneWatermarkOk({ ...c, freePages: 101 })).toBe(true);
    expect(zoneWatermarkOk({ ...c, freePages: 101, lowmemReservePages: 1 })).toBe(false);
  });
  it('counts the highatomic reserve as unusable unless the caller may use reserves', () => {
    const c = { markPages: 100, order: 0, freePages: 150, reservedHighatomicPages: 60, kernel: 'v6.3+' as const };
    expect(zoneWatermarkOk({ ...c, allocFlags: 0 })).toBe(false);
    expect(zoneWatermarkOk({ ...c, allocFlags: ALLOC_NON_BLOCK })).toBe(true);
    expect(zoneWatermarkOk({ ...c, allocFlags: ALLOC_HARDER, kernel: 'v5.18' })).toBe(true);
  });
  it('for order > 0, needs 2^order - 1 more pages and a free block of that order', () => {
    const c = { markPages: 100, allocFlags: 0, kernel: 'v6.3+' as const };
    expect(zoneWatermarkOk({ ...c, order: 3, freePages: 108 })).toBe(true);
    expect(zoneWatermarkOk({ ...c, order: 3, freePages: 107 })).toBe(false);
    expect(zoneWatermarkOk({ ...c, order: 3, freePages: 500, hasFreeBlock: () => false })).toBe(false);
  });
  it('refuses orders outside 0..10', () => {
    expect(() => planAllocation(0xcc0, 11, 'v6.3+')).toThrow(/allowed: integers 0\.\.10/);
    expect(() => planAllocation(0xcc0, -1, 'v6.3+')).toThrow(/order/);
  });
});
