// The real kernel as the oracle: every field of every captured boot (test/fixtures/real-kernel/, Debian's 6.1 under
// QEMU, 256 MiB .. 4 GiB, 1 .. 4 CPUs; README.md there says how they were made) against the node the model boots.
// Two checks per boot: the model's own managed pages within 1% of the kernel's, and, given the kernel's managed
// pages, every derived field - min_free_kbytes, THP, watermarks, protection, pcp high and batch, vmstat threshold,
// spans - as the kernel printed it.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  bootNode,
  captureSection,
  formatZoneinfo,
  parseZoneinfo,
  type BootNode,
  type ZoneinfoZone,
} from '@faultline/zone';

const dir = fileURLToPath(new URL('./fixtures/real-kernel/', import.meta.url));

interface Boot {
  readonly file: string;
  readonly memoryMiB: number;
  readonly cpus: number;
  readonly minFreeKbytes: number;
  readonly thp: string;
  readonly zones: ZoneinfoZone[];
}

function section(text: string, name: string): string {
  const s = captureSection(text, name);
  if (s === null) throw new Error(`no ${name} section`);
  return s;
}

const boots: Boot[] = readdirSync(dir)
  .filter((f) => /^real-\d+[MG]-\d+\.log$/.test(f))
  .map((file) => {
    const [, size, unit, cpus] = /^real-(\d+)([MG])-(\d+)\.log$/.exec(file)!;
    const text = readFileSync(dir + file, 'utf8');
    return {
      file,
      memoryMiB: Number(size) * (unit === 'G' ? 1024 : 1),
      cpus: Number(cpus),
      minFreeKbytes: Number(section(text, 'min_free_kbytes').trim()),
      thp: /\[(\w+)\]/.exec(section(text, 'thp_enabled'))![1]!,
      zones: parseZoneinfo(section(text, 'zoneinfo')).filter((z) => z.present > 0),
    };
  });

function expectSameZones(model: BootNode, real: Boot): void {
  expect(
    model.zones.map((z) => z.type),
    real.file,
  ).toEqual(real.zones.map((z) => z.zone));
  model.zones.forEach((z, i) => {
    const k = real.zones[i]!;
    const where = `${real.file} ${k.zone}`;
    expect({ spanned: z.spanned, present: z.present, start: z.startPfn }, where).toEqual({
      spanned: k.spanned,
      present: k.present,
      start: k.startPfn,
    });
    expect({ min: z.minPages, low: z.lowPages, high: z.highPages }, where).toEqual({
      min: k.min,
      low: k.low,
      high: k.high,
    });
    expect(z.protection, where).toEqual(k.protection);
    for (const p of k.pagesets) {
      expect({ high: z.pcpHigh, batch: z.pcpBatch, threshold: z.statThreshold }, `${where} cpu ${p.cpu}`).toEqual({
        high: p.high,
        batch: p.batch,
        threshold: p.threshold,
      });
    }
    expect(k.pagesets.length, where).toBe(real.cpus);
  });
}

describe('the boot-time node against the real kernel', () => {
  it('has every captured configuration to check (256 MiB x 1/2/4, 512 MiB x 1/4, 1 GiB x 2/4, 4 GiB x 1/4)', () => {
    expect(boots.map((b) => `${b.memoryMiB}/${b.cpus}`).sort()).toEqual([
      '1024/2',
      '1024/4',
      '256/1',
      '256/2',
      '256/4',
      '4096/1',
      '4096/4',
      '512/1',
      '512/4',
    ]);
  });

  for (const real of boots) {
    it(`${real.file}: given the kernel's managed pages, every zoneinfo field and min_free_kbytes are the kernel's`, () => {
      const model = bootNode({
        memoryMiB: real.memoryMiB,
        cpus: real.cpus,
        managedPages: real.zones.map((z) => z.managed),
      });
      expect(model.thp, real.file).toBe(real.thp);
      // Without THP, min_free_kbytes comes from a square root of lowmem taken before the init memory is freed: the
      // model's estimate of that moment is within 1 kB.
      expect(Math.abs(model.minFreeKbytes - real.minFreeKbytes), real.file).toBeLessThanOrEqual(
        real.thp === 'never' ? 1 : 0,
      );
      expectSameZones(
        bootNode({
          memoryMiB: real.memoryMiB,
          cpus: real.cpus,
          managedPages: real.zones.map((z) => z.managed),
          tunables: { minFreeKbytes: real.minFreeKbytes },
        }),
        real,
      );
    });

    it(`${real.file}: the model's own managed pages are within 1% of the kernel's in every zone`, () => {
      const model = bootNode({ memoryMiB: real.memoryMiB, cpus: real.cpus });
      expect(model.thp, real.file).toBe(real.thp);
      model.zones.forEach((z, i) => {
        const k = real.zones[i]!;
        expect(
          Math.abs(z.managed - k.managed) / k.managed,
          `${real.file} ${k.zone}: model ${z.managed}, kernel ${k.managed}`,
        ).toBeLessThan(0.01);
      });
      const total = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
      expect(
        Math.abs(total(model.zones.map((z) => z.managed)) - total(real.zones.map((z) => z.managed))) /
          total(real.zones.map((z) => z.managed)),
      ).toBeLessThan(0.005);
      expect(Math.abs(model.minFreeKbytes - real.minFreeKbytes) / real.minFreeKbytes, real.file).toBeLessThan(0.01);
    });
  }

  it("prints /proc/zoneinfo that the kernel's own parser reads back to the same fields", () => {
    const model = bootNode({ memoryMiB: 4096, cpus: 4 });
    const back = parseZoneinfo(formatZoneinfo(model));
    expect(back.map((z) => z.zone)).toEqual(['DMA', 'DMA32', 'Normal', 'Movable', 'Device']);
    const populated = back.filter((z) => z.present > 0);
    expect(populated.map((z) => [z.min, z.low, z.high, z.managed])).toEqual(
      model.zones.map((z) => [z.minPages, z.lowPages, z.highPages, z.managed]),
    );
    expect(populated[0]!.pagesets).toHaveLength(4);
  });

  it('refuses what the kernel would not do, naming the field', () => {
    expect(() => bootNode({ memoryMiB: 256, cpus: 2, thp: 'always' })).toThrow(
      /thp: 'always' .* below 512 MiB \(hugepage_init\)/,
    );
    expect(() => bootNode({ memoryMiB: 1024, cpus: 2, tunables: { watermarkScaleFactor: 5000 } })).toThrow(
      /watermark_scale_factor: 5000; allowed: integers 1 \.\. 3000/,
    );
    expect(() => bootNode({ memoryMiB: 1024, cpus: 2, tunables: { percpuPagelistHighFraction: 4 } })).toThrow(
      /percpu_pagelist_high_fraction: 4; allowed: integers 8/,
    );
    expect(() => bootNode({ memoryMiB: 32, cpus: 2 })).toThrow(/memoryMiB: 32; allowed: integers 128 \.\. 65536/);
  });

  it('honours the tunables: a larger watermark_scale_factor widens the gaps, madvise THP still raises min_free_kbytes', () => {
    const base = bootNode({ memoryMiB: 1024, cpus: 2 });
    const wide = bootNode({ memoryMiB: 1024, cpus: 2, tunables: { watermarkScaleFactor: 200 } });
    expect(wide.zones[1]!.lowPages - wide.zones[1]!.minPages).toBeGreaterThan(
      base.zones[1]!.lowPages - base.zones[1]!.minPages,
    );
    expect(bootNode({ memoryMiB: 1024, cpus: 2, thp: 'madvise' }).minFreeKbytes).toBe(45_056);
    expect(bootNode({ memoryMiB: 1024, cpus: 2, thp: 'never' }).minFreeKbytes).toBeLessThan(5_000);
    const fraction = bootNode({ memoryMiB: 1024, cpus: 2, tunables: { percpuPagelistHighFraction: 8 } });
    expect(fraction.zones[1]!.pcpHigh).toBe(Math.floor(Math.floor(fraction.zones[1]!.managed / 8) / 2));
  });
});
