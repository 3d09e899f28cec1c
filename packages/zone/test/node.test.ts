// The kernel's boot-time node as a run uses it (MemoryNode.boot): the zones bootNode describes, the zonelist with
// lowmem_reserve, a DMA zone whose protection exceeds its size, pgdat_balanced's any-zone test, the allocator's
// watermark band, and should_reclaim_retry's per-zone test.
import { describe, expect, it } from 'vitest';
import { ALLOC_MAY_RECLAIM, bootNode, checkZoneInvariants, MemoryNode } from '../src/index.js';

/** Allocate GFP_KERNEL pages on CPU 0 until the allocator would reclaim; returns the pfns. */
function fill(node: MemoryNode): number[] {
  const plan = node.plan('GFP_KERNEL');
  const pfns: number[] = [];
  for (;;) {
    const pfn = node.alloc(0, plan, 0);
    if (pfn < 0) {
      expect(pfn).toBe(ALLOC_MAY_RECLAIM);
      return pfns;
    }
    pfns.push(pfn);
  }
}

describe('MemoryNode.boot: the node the kernel builds for the machine', () => {
  it("has bootNode's zones, managed pages, watermarks, protection against ZONE_NORMAL and per-CPU sizes", () => {
    const b = bootNode({ memoryMiB: 256, cpus: 4 });
    const node = MemoryNode.boot({ memoryMiB: 256, cpus: 4, owners: 3 });
    expect(node.zones.map((z) => z.config.type)).toEqual(['DMA', 'DMA32']);
    expect(node.boot).toEqual(b);
    node.zones.forEach((z, i) => {
      const bz = b.zones[i]!;
      expect([z.config.pages, z.watermarks.minPages, z.watermarks.lowPages, z.watermarks.highPages]).toEqual([
        bz.managed,
        bz.minPages,
        bz.lowPages,
        bz.highPages,
      ]);
      expect(z.lowmemReservePages).toBe(bz.protection[2]);
      expect([z.config.pcpHigh, z.config.pcpBatch, z.config.statThreshold]).toEqual([
        bz.pcpHigh,
        bz.pcpBatch,
        bz.statThreshold,
      ]);
    });
    expect(node.zones[0]!.lowmemReservePages).toBe(188);
    expect(node.pages).toBe(b.zones.reduce((s, z) => s + z.managed, 0));
    expect([node.cpus, node.owners]).toEqual([4, 3]);
  });

  it("takes DMA32 first, falls back to DMA below DMA32's low line, and leaves DMA its reserve", () => {
    const node = MemoryNode.boot({ memoryMiB: 256, cpus: 1, owners: 1 });
    const [dma, dma32] = node.zones;
    const pfns = fill(node);
    const zoneOf = pfns.map((p) => node.zoneIndexOf(p));
    const firstDma = zoneOf.indexOf(0);
    expect(firstDma).toBeGreaterThan(0);
    // Everything before the first DMA page came from DMA32, and DMA32 was then at its low watermark.
    expect(zoneOf.slice(0, firstDma).every((z) => z === 1)).toBe(true);
    expect(dma32!.counts().pagesGranted).toBeGreaterThanOrEqual(
      dma32!.config.pages - dma32!.watermarks.lowPages - dma32!.config.pcpBatch,
    );
    // A GFP_KERNEL allocation passes DMA's line only above min + protection: the reserve stays free.
    for (let c = 0; c < node.cpus; c++) node.drainCpu(c);
    expect(dma!.freePagesExact()).toBeGreaterThanOrEqual(dma!.watermarks.minPages + dma!.lowmemReservePages);
    expect(dma!.freePagesExact()).toBeLessThanOrEqual(dma!.watermarks.lowPages + dma!.lowmemReservePages + 1);
    expect(node.counts().pagesGranted).toBe(pfns.length);
    for (const p of pfns) node.free(0, p);
    node.drainCpu(0);
    expect(node.counts().freePagesExact).toBe(node.pages);
    for (const z of node.zones) checkZoneInvariants(z);
  });

  it('builds the 4 GiB node whose DMA protection (3899) exceeds its 3840 pages; Normal-class allocations never get DMA', () => {
    const node = MemoryNode.boot({ memoryMiB: 4096, cpus: 1, owners: 1 });
    expect(node.zones.map((z) => z.config.type)).toEqual(['DMA', 'DMA32', 'Normal']);
    const dma = node.zones[0]!;
    expect(dma.lowmemReservePages).toBeGreaterThan(dma.config.pages);
    expect(node.boot!.thp).toBe('always');
    expect(node.boot!.minFreeKbytes).toBe(67_584);
    const plan = node.plan('GFP_KERNEL');
    const first = node.alloc(0, plan, 0);
    expect(node.zoneIndexOf(first)).toBe(2);
    // Exhaust Normal and DMA32 cheaply: lower their free counts below every line by allocating a batch at a time.
    const pfns = fill(node);
    expect(pfns.some((p) => node.zoneIndexOf(p) === 1)).toBe(true);
    expect(pfns.some((p) => node.zoneIndexOf(p) === 0)).toBe(false);
    expect(dma.freePagesExact()).toBe(dma.config.pages);
  });
});

describe('the node-wide questions reclaim asks', () => {
  it('pgdat_balanced: the node is balanced when any zone is above high plus its reserve', () => {
    const node = MemoryNode.boot({ memoryMiB: 256, cpus: 1, owners: 1 });
    const [dma, dma32] = node.zones;
    const pfns = fill(node);
    for (const z of node.zones) z.foldVmstat(0);
    expect(node.balanced()).toBe(false);
    expect(node.watermarkBand()).toBe(0);
    // Free DMA pages until DMA alone is above its high + reserve: DMA32 is still below min, and the node is
    // balanced (kswapd would sleep).
    const dmaPages = pfns.filter((p) => node.zoneIndexOf(p) === 0);
    const need = dma!.watermarks.highPages + dma!.lowmemReservePages + 1 - dma!.freePages();
    for (const p of dmaPages.slice(0, need + dma!.config.pcpHigh + dma!.config.pcpBatch)) node.free(0, p);
    node.drainCpu(0);
    for (const z of node.zones) z.foldVmstat(0);
    expect(dma32!.freePages()).toBeLessThan(dma32!.watermarks.highPages);
    expect(node.balanced()).toBe(true);
    expect(node.watermarkBand()).toBe(3);
    // The usable free count leaves DMA's reserve out.
    expect(node.usableFreePages()).toBe(dma!.freePages() - dma!.lowmemReservePages + dma32!.freePages());
  });

  it('should_reclaim_retry: retry while some zone would pass min with its own reclaimable pages', () => {
    const node = MemoryNode.boot({ memoryMiB: 256, cpus: 1, owners: 1 });
    fill(node);
    for (const z of node.zones) z.foldVmstat(0);
    expect(node.couldPassMin(0, () => 0)).toBe(false);
    const dma32 = node.zones[1]!;
    const short = dma32.watermarks.minPages - dma32.freePagesSnapshot() + 1;
    expect(node.couldPassMin(0, (z) => (z === 1 ? short : 0))).toBe(true);
    expect(node.couldPassMin(0, (z) => (z === 1 ? short - 1 : 0))).toBe(false);
    // A higher order needs 2^order - 1 pages more (__zone_watermark_ok's unusable pages).
    expect(node.couldPassMin(3, (z) => (z === 1 ? short : 0))).toBe(false);
    expect(node.couldPassMin(3, (z) => (z === 1 ? short + 7 : 0))).toBe(true);
    // DMA sits on its line, min plus its reserve: one reclaimable page of its own would pass it.
    const dma = node.zones[0]!;
    expect(dma.freePagesSnapshot()).toBe(dma.watermarks.minPages + dma.lowmemReservePages);
    expect(node.couldPassMin(0, (z) => (z === 0 ? 1 : 0))).toBe(true);
  });
});
