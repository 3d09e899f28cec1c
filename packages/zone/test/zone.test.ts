// The zone on one thread: bad input, buddy invariants under long seeded random sequences, double frees, the
// decision at each step agreeing with @faultline/gfp, vmstat drift, accounting, and the multi-zone node.
import seedrandom from 'seedrandom';
import { describe, expect, it } from 'vitest';
import { decideAllocation, parseGfp } from '@faultline/gfp';
import {
  ACCT,
  ALLOC_DEFERRED,
  ALLOC_FAILED,
  ALLOC_MAY_RECLAIM,
  BadFreeError,
  checkZoneInvariants,
  DoubleFreeError,
  MemoryNode,
  Zone,
  ZoneConfigError,
  ZONE_PAGES_MAX,
} from '../src/index.js';

describe('zone configuration', () => {
  it('refuses bad sizes with the field and the allowed range', () => {
    expect(() => Zone.create({ pages: 0, cpus: 1 })).toThrow(ZoneConfigError);
    expect(() => Zone.create({ pages: 0, cpus: 1 })).toThrow(
      /pages: 0 is not allowed; allowed: integers 1 \.\. 33554432/,
    );
    expect(() => Zone.create({ pages: ZONE_PAGES_MAX + 1, cpus: 1 })).toThrow(/SharedArrayBuffer/);
    expect(() => Zone.create({ pages: 1024, cpus: 0 })).toThrow(/cpus: 0/);
    expect(() => Zone.create({ pages: 1024, cpus: 1, kernel: 'v4.9' as never })).toThrow(
      /allowed: v5\.18, v6\.4, v6\.3\+/,
    );
    expect(() => Zone.create({ pages: 1024, cpus: 1, watermarks: { minPages: 10, lowPages: 5 } })).toThrow(
      /watermarks\.lowPages/,
    );
  });
  it('refuses an order above the maximum and an unknown flag', () => {
    const z = Zone.create({ pages: 4096, cpus: 1 });
    expect(() => z.plan('GFP_KERNEL', 11)).toThrow(/allowed: integers 0\.\.10/);
    expect(() => z.plan('GFP_KERNEL|__GFP_WHATEVER')).toThrow(/unknown flag '__GFP_WHATEVER'/);
  });
  it('starts with every page in maximal aligned free blocks', () => {
    const z = Zone.create({ pages: 3000, cpus: 1 });
    const lists = z.freeLists();
    expect(lists[10]).toEqual([0, 1024]);
    expect(lists[9]).toEqual([2048]);
    expect(lists[8]).toEqual([2560]);
    expect(lists[7]).toEqual([2816]);
    expect(lists[5]).toEqual([2944]);
    expect(lists[4]).toEqual([2976]);
    expect(lists[3]).toEqual([2992]);
    expect(checkZoneInvariants(z)).toEqual({ freePages: 3000, pcpPages: 0, allocatedPages: 0 });
  });
});

describe('buddy allocator under seeded random sequences', () => {
  for (const seed of ['buddy-1', 'buddy-2', 'buddy-3']) {
    it(`conserves pages, never hands a page out twice, and merges back to the initial lists (seed ${seed})`, () => {
      const rng = seedrandom(seed);
      const cpus = 3;
      const z = Zone.create({
        pages: 5000,
        cpus,
        watermarks: { minPages: 0, lowPages: 0, highPages: 0 },
        pcpBatch: 7,
        pcpHigh: 30,
        statThreshold: 4,
      });
      const initial = z.freeLists();
      const plans = [0, 1, 2, 3, 5, 10].map((o) => z.plan('GFP_KERNEL', o));
      const held: Array<[number, number]> = []; // [pfn, order], removed by swapping with the last
      const owned = new Uint8Array(5000);
      let ownedCount = 0;
      for (let step = 0; step < 20_000; step++) {
        const cpu = Math.floor(rng() * cpus);
        if (held.length > 0 && rng() < 0.48) {
          const i = Math.floor(rng() * held.length);
          const [pfn, order] = held[i]!;
          held[i] = held[held.length - 1]!;
          held.pop();
          expect(z.free(cpu, pfn)).toBe(order);
          for (let p = pfn; p < pfn + (1 << order); p++) owned[p] = 0;
          ownedCount -= 1 << order;
        } else {
          const cp = plans[Math.floor(rng() * plans.length)]!;
          const pfn = z.alloc(cpu, cp, 0);
          if (pfn < 0) continue;
          if (pfn % (1 << cp.plan.order) !== 0) throw new Error(`pfn ${pfn} not aligned to order ${cp.plan.order}`);
          for (let p = pfn; p < pfn + (1 << cp.plan.order); p++) {
            if (owned[p]) throw new Error(`pfn ${p} handed out twice (step ${step})`);
            owned[p] = 1;
          }
          ownedCount += 1 << cp.plan.order;
          held.push([pfn, cp.plan.order]);
        }
        if (step % 2500 === 0) {
          const inv = checkZoneInvariants(z);
          expect(inv.allocatedPages).toBe(ownedCount);
          expect(inv.freePages + inv.pcpPages + inv.allocatedPages).toBe(5000);
        }
      }
      for (const [pfn] of held) z.free(0, pfn);
      for (let cpu = 0; cpu < cpus; cpu++) z.drainCpu(cpu);
      expect(checkZoneInvariants(z)).toEqual({ freePages: 5000, pcpPages: 0, allocatedPages: 0 });
      expect(z.freeLists()).toEqual(initial);
    });
  }
});

describe('bad frees', () => {
  it('detects a double free on the per-CPU list, in the buddy lists, and of a high-order block', () => {
    const z = Zone.create({ pages: 1024, cpus: 2, watermarks: { minPages: 0, lowPages: 0, highPages: 0 } });
    const p0 = z.alloc(0, z.plan('GFP_KERNEL'), 0);
    z.free(0, p0);
    expect(() => z.free(1, p0)).toThrow(DoubleFreeError);
    expect(() => z.free(1, p0)).toThrow(/cpu 0's per-CPU list/);
    z.drainCpu(0);
    expect(() => z.free(0, p0)).toThrow(/buddy lists/);
    const p3 = z.alloc(0, z.plan('GFP_KERNEL', 3), 0);
    z.free(0, p3);
    expect(() => z.free(0, p3)).toThrow(DoubleFreeError);
    expect(checkZoneInvariants(z).allocatedPages).toBe(0);
  });
  it('detects a free of a page that was never allocated, of a tail page, and outside the zone', () => {
    const z = Zone.create({ pages: 1024, cpus: 1, watermarks: { minPages: 0, lowPages: 0, highPages: 0 } });
    const p2 = z.alloc(0, z.plan('GFP_KERNEL', 2), 0);
    expect(() => z.free(0, p2 + 1)).toThrow(BadFreeError);
    expect(() => z.free(0, p2 + 1)).toThrow(/not the first page of an allocated block/);
    expect(() => z.free(0, 1024)).toThrow(/outside zone/);
    expect(() => z.free(0, -3)).toThrow(/outside zone/);
    expect(() => z.free(5, p2)).toThrow(/cpu: 5/);
    expect(checkZoneInvariants(z).allocatedPages).toBe(4);
  });
});

describe('allocation decisions', () => {
  const masks = [
    'GFP_KERNEL',
    'GFP_NOWAIT',
    'GFP_NOWAIT|__GFP_NOMEMALLOC|__GFP_NOWARN',
    'GFP_ATOMIC',
    'GFP_KERNEL|__GFP_HIGH',
    'GFP_NOWAIT|__GFP_MEMALLOC',
  ];
  for (const kernel of ['v5.18', 'v6.3+'] as const) {
    it(`match decideAllocation at every free level (${kernel})`, () => {
      const w = { minPages: 400, lowPages: 500, highPages: 600 };
      const z = Zone.create({ pages: 2048, cpus: 1, kernel, watermarks: w, statThreshold: 0, pcpBatch: 1, pcpHigh: 4 });
      const filler = z.plan('GFP_KERNEL|__GFP_MEMALLOC');
      const held: number[] = [];
      // Walk the free count down from 2048 to 0, asking every mask at each level.
      for (let level = 2048; level >= 0; level -= 7) {
        while (z.freePages() > level) {
          const p = z.alloc(0, filler, 1);
          expect(p).toBeGreaterThanOrEqual(0);
          held.push(p);
        }
        for (const mask of masks) {
          const cp = z.plan(mask);
          const free = z.freePages();
          const expected = decideAllocation(cp.plan, { ...w, freePages: free });
          const pfn = z.alloc(0, cp, 0);
          const out = z.outcome;
          if (expected.verdict === 'granted') {
            expect(pfn, `${mask} at ${free}`).toBeGreaterThanOrEqual(0);
            expect(out.step).toBe(expected.step);
            z.free(0, pfn);
            z.drainCpu(0);
          } else {
            expect(pfn, `${mask} at ${free}`).toBe(expected.verdict === 'fail' ? ALLOC_FAILED : ALLOC_MAY_RECLAIM);
            expect(out.warnFailure).toBe(expected.warnFailure);
          }
          expect(out.kswapdWoken).toBe(expected.wakeKswapd);
        }
      }
      expect(checkZoneInvariants(z).allocatedPages).toBe(held.length);
    });
  }

  it('wakes kswapd below low, as a signal another thread could wait on', () => {
    const z = Zone.create({ pages: 1024, cpus: 1, watermarks: { minPages: 100, lowPages: 1024, highPages: 1024 } });
    const seq = z.kswapdWakeSeq();
    expect(z.alloc(0, z.plan('GFP_KERNEL'), 0)).toBeGreaterThanOrEqual(0);
    expect(z.outcome.step).toBe('slow');
    expect(z.waitForKswapdWake(seq, 0)).toBe(seq + 1);
    expect(z.counts().kswapdWakes).toBe(1);
    expect(z.alloc(0, z.plan(parseGfp('GFP_KERNEL', 'v6.3+').mask & ~0x800), 0)).toBeGreaterThanOrEqual(0);
    expect(z.counts().kswapdWakes).toBe(1);
  });

  it('accounts grants, failures and frees per owner, and holdings per owner and mask', () => {
    const z = Zone.create({
      pages: 256,
      cpus: 2,
      owners: 4,
      watermarks: { minPages: 50, lowPages: 60, highPages: 70 },
      statThreshold: 0,
    });
    const nowait = z.plan('GFP_NOWAIT|__GFP_NOMEMALLOC|__GFP_NOWARN');
    const kernel = z.plan('GFP_KERNEL', 1);
    const got: number[] = [];
    for (let i = 0; i < 300; i++) {
      const p = z.alloc(i % 2, nowait, 3);
      if (p >= 0) got.push(p);
    }
    const k = z.alloc(0, kernel, 2);
    expect(k).toBe(ALLOC_MAY_RECLAIM);
    const row = z.accountOf(3);
    expect(row.allocCalls).toBe(300);
    expect(row.pagesGranted).toBe(got.length);
    expect(row.fails).toBe(300 - got.length);
    expect(row.minFreeSeenAtGrant).toBeGreaterThan(50);
    expect(z.accountOf(2).reclaimVerdicts).toBe(1);
    const h = z.holdings();
    expect(h).toEqual([
      { owner: 3, mask: nowait.plan.mask, maskText: 'GFP_NOWAIT|__GFP_NOMEMALLOC', pages: got.length },
    ]);
    for (const p of got) z.free(0, p, 1);
    expect(z.accountOf(3).pagesFreed).toBe(got.length);
    expect(z.accountOf(1).pagesReclaimed).toBe(got.length);
    // Every owner's row at once (a result's table) is each owner's, minima included; totals over every owner too.
    const rows = z.accountRows();
    expect(rows).toEqual([0, 1, 2, 3].map((o) => z.accountOf(o)));
    expect(rows[3]!.minFreeSeenAtGrant).toBe(row.minFreeSeenAtGrant);
    expect(rows[0]!.minFreeSeenAtGrant).toBe(Infinity);
    expect(z.accountTotal(ACCT.pagesGranted)).toBe(rows.reduce((s, r) => s + r.pagesGranted, 0));
    expect(z.accountTotal(ACCT.pagesGranted)).toBeGreaterThan(0);
  });
});

describe('NR_FREE_PAGES with per-CPU drift', () => {
  it('drifts by at most threshold pages per CPU, and the snapshot is exact', () => {
    const cpus = 4;
    const t = 10;
    const z = Zone.create({
      pages: 8192,
      cpus,
      statThreshold: t,
      pcpBatch: 3,
      pcpHigh: 12,
      watermarks: { minPages: 0, lowPages: 0, highPages: 0 },
    });
    const rng = seedrandom('drift');
    const held: number[] = [];
    for (let i = 0; i < 5000; i++) {
      const cpu = Math.floor(rng() * cpus);
      if (held.length && rng() < 0.45) z.free(cpu, held.splice(Math.floor(rng() * held.length), 1)[0]!);
      else held.push(z.alloc(cpu, z.plan('GFP_KERNEL', Math.floor(rng() * 3)), 0));
      const exact = z.counts().freePagesExact;
      expect(Math.abs(z.freePages() - exact)).toBeLessThanOrEqual(cpus * t);
      expect(z.freePagesSnapshot()).toBe(exact);
    }
    for (let cpu = 0; cpu < cpus; cpu++) z.foldVmstat(cpu);
    expect(z.freePages()).toBe(z.counts().freePagesExact);
  });
});

describe('a node of several zones', () => {
  it('allocates from Normal first, falls back to DMA32, and leaves DMA32 its lowmem reserve', () => {
    const node = MemoryNode.create({
      zones: [
        { type: 'DMA32', pages: 4096 },
        { type: 'Normal', pages: 1024 },
      ],
      cpus: 1,
      statThreshold: 0,
      pcpBatch: 1,
      pcpHigh: 4,
    });
    const [dma32, normal] = node.zones;
    expect(dma32!.lowmemReservePages).toBe(Math.floor(1024 / 256));
    expect(normal!.lowmemReservePages).toBe(0);
    expect(normal!.watermarks.minPages).toBeLessThan(dma32!.watermarks.minPages);
    const plan = node.plan('GFP_KERNEL');
    const first = node.alloc(0, plan, 0);
    expect(node.locate(first).zone).toBe(1);
    let pfn = first;
    let fromDma32 = 0;
    while (pfn >= 0) {
      pfn = node.alloc(0, plan, 0);
      if (pfn >= 0 && node.locate(pfn).zone === 0) fromDma32++;
    }
    expect(pfn).toBe(ALLOC_MAY_RECLAIM);
    expect(fromDma32).toBeGreaterThan(0);
    // DMA32 stopped above its min plus its reserve; Normal stopped above its own min.
    expect(dma32!.freePages()).toBe(dma32!.watermarks.minPages + dma32!.lowmemReservePages);
    expect(normal!.freePages()).toBe(normal!.watermarks.minPages);
    expect(() => node.free(0, node.pages)).toThrow(/outside the node/);
    checkZoneInvariants(dma32!);
    checkZoneInvariants(normal!);
  });
});

describe('deferring shared work (for a deterministic engine)', () => {
  it('never takes the zone lock while deferring, and applies the work when cleared', () => {
    const z = Zone.create({
      pages: 1024,
      cpus: 2,
      pcpBatch: 4,
      pcpHigh: 8,
      statThreshold: 0,
      watermarks: { minPages: 0, lowPages: 0, highPages: 0 },
    });
    const order0 = z.plan('GFP_KERNEL');
    const order2 = z.plan('GFP_KERNEL', 2);
    const locks = z.counts().lockAcquires;
    z.deferShared = true;
    expect(z.alloc(0, order0, 1)).toBe(ALLOC_DEFERRED);
    expect(z.alloc(0, order2, 1)).toBe(ALLOC_DEFERRED);
    expect(z.counts().lockAcquires).toBe(locks);
    expect(z.accountOf(1).allocCalls).toBe(0);
    z.deferShared = false;
    const pages = Array.from({ length: 16 }, () => z.alloc(0, order0, 1));
    const big = z.alloc(0, order2, 1);
    expect(z.accountOf(1).allocCalls).toBe(17);
    z.deferShared = true;
    const before = z.counts().lockAcquires;
    const late = pages.filter((p) => z.free(0, p) === ALLOC_DEFERRED);
    expect(z.pcpList(0).length).toBe(12); // the list's capacity, pcpHigh + pcpBatch: the rest wait
    expect(late).toHaveLength(4);
    expect(z.free(0, big)).toBe(ALLOC_DEFERRED);
    expect(() => z.free(0, big + 1)).toThrow(BadFreeError);
    expect(z.counts().lockAcquires).toBe(before);
    z.deferShared = false;
    // The frees past high: two bulk frees of a batch each, as free_unref_page_commit would have done one by one.
    expect(z.trimCpu(0)).toBe(2);
    expect(z.pcpList(0).length).toBe(4);
    for (const p of late) z.free(0, p);
    z.free(0, big);
    z.drainCpu(0);
    expect(checkZoneInvariants(z)).toEqual({ freePages: 1024, pcpPages: 0, allocatedPages: 0 });
  });

  it('caps per-CPU lists at four batches while kswapd reclaims, and frees in growing batches (nr_pcp_high, nr_pcp_free)', () => {
    // 256 MiB on one CPU: batch 15, high 512, so the cap (60) bites.
    const freeAll = (active: boolean) => {
      const z = Zone.create({ pages: 65_536, cpus: 1 });
      const plan = z.plan('GFP_KERNEL');
      const pages = Array.from({ length: 300 }, () => z.alloc(0, plan, 1));
      z.setReclaimActive(active);
      const drainsBefore = z.counts().pcpDrains;
      const lengths: number[] = [];
      for (const p of pages) {
        z.free(0, p);
        lengths.push(z.pcpList(0).length);
      }
      return { z, lengths, drains: z.counts().pcpDrains - drainsBefore };
    };
    const idle = freeAll(false);
    expect(Math.max(...idle.lengths)).toBeGreaterThanOrEqual(300); // under high: every page stays on the list
    expect(idle.drains).toBe(0);
    const busy = freeAll(true);
    expect(Math.max(...busy.lengths)).toBeLessThan(60); // never reaches min(batch << 2, high)
    // Bulk frees of 15, 30, then 45 (high - batch) pages each while no allocation comes between.
    const drops = busy.lengths
      .slice(1)
      .map((n, i) => busy.lengths[i]! + 1 - n)
      .filter((d) => d > 0);
    expect(drops.slice(0, 4)).toEqual([15, 30, 45, 45]);
    // An allocation halves the factor (rmqueue_pcplist), so the next bulk free is smaller again.
    const factor = busy.z.pcpFreeFactor(0);
    expect(factor).toBeGreaterThanOrEqual(2);
    busy.z.alloc(0, busy.z.plan('GFP_KERNEL'), 1);
    expect(busy.z.pcpFreeFactor(0)).toBe(factor >> 1);
  });
});
