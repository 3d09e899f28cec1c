// The numbers the kernel derives from sizes, checked against the kernel's own examples (kernel-facts.md section 5).
import { describe, expect, it } from 'vitest';
import { lowmemReserves, minFreeKbytes, pcpBatch, pcpHigh, statThresholdNormal, zoneWatermarks } from '../src/index.js';

const GiB = 262_144; // pages of 4 KiB

describe('zone sizing', () => {
  it('min_free_kbytes: 1 GiB gives 4096 kB, 16 GiB gives 16384 kB, clamped to 128 kB .. 256 MB', () => {
    expect(minFreeKbytes(GiB)).toBe(4096);
    expect(minFreeKbytes(16 * GiB)).toBe(16384);
    expect(minFreeKbytes(16)).toBe(128);
    expect(minFreeKbytes(2 ** 40)).toBe(262_144);
  });
  it("a 16 GiB machine's Normal zone of about 3.5 M pages has min ~3584, low ~7168, high ~10752", () => {
    // Its share of pages_min (4096) is 7/8; delta = max(min/4, managed*10/10000) = 3670 for 3.67 M pages.
    const normal = (16 * GiB * 7) / 8;
    const w = zoneWatermarks(normal, 16 * GiB, minFreeKbytes(16 * GiB));
    expect(w).toEqual({ minPages: 3584, lowPages: 3584 + 3670, highPages: 3584 + 2 * 3670 });
    expect(Math.abs(w.lowPages - 7168) / 7168).toBeLessThan(0.02);
    expect(Math.abs(w.highPages - 10752) / 10752).toBeLessThan(0.02);
  });
  it('the delta is min/4 when watermark_scale_factor gives less', () => {
    const w = zoneWatermarks(GiB, GiB, 4096, 1);
    expect(w.minPages).toBe(1024);
    expect(w.lowPages - w.minPages).toBe(256);
  });
  it('pcp batch is 63 for zones of 1 GiB and more, smaller below; high is low/CPUs, at least 4 batches', () => {
    expect(pcpBatch(GiB)).toBe(63);
    expect(pcpBatch(16 * GiB)).toBe(63);
    expect(pcpBatch(16384)).toBe(3);
    expect(pcpBatch(10)).toBe(1);
    expect(pcpHigh(7168, 2, 63)).toBe(3584);
    expect(pcpHigh(1000, 16, 63)).toBe(252);
  });
  it('lowmem_reserve: DMA32 keeps Normal/256 from Normal-class allocations', () => {
    const r = lowmemReserves([
      { type: 'DMA32', pages: 4 * GiB },
      { type: 'Normal', pages: 12 * GiB },
    ]);
    expect(r[0]![1]).toBe(Math.floor((12 * GiB) / 256));
    expect(r[1]![1]).toBe(0);
  });
  it('the vmstat threshold grows with CPUs and memory, at most 125', () => {
    expect(statThresholdNormal(GiB, 2)).toBe(2 * 2 * (1 + 4));
    expect(statThresholdNormal(64 * GiB, 64)).toBe(125);
  });
});
