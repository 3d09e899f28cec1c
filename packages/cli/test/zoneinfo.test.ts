// `faultline zoneinfo` as a user runs it: the model's boot-time /proc/zoneinfo for a captured machine, read back
// with the kernel format's parser and diffed field by field against what the real kernel printed.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { captureSection, parseZoneinfo } from '@faultline/zone';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const bin = fileURLToPath(new URL('../bin/faultline.mjs', import.meta.url));
const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: root });

describe('faultline zoneinfo', () => {
  it('prints, for 1 GiB and 2 CPUs, the zoneinfo the real kernel printed (managed pages to within one page)', () => {
    const r = run('zoneinfo', '--memory', '1024', '--cpus', '2');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^# thp=always {2}min_free_kbytes=45056 /m);
    const real = readFileSync(`${root}test/fixtures/real-kernel/real-1G-2.log`, 'utf8');
    const kernel = parseZoneinfo(captureSection(real, 'zoneinfo')!);
    const model = parseZoneinfo(r.stdout);
    expect(model.map((z) => z.zone)).toEqual(kernel.map((z) => z.zone));
    model.forEach((z, i) => {
      const k = kernel[i]!;
      expect([z.min, z.low, z.high, z.spanned, z.present, z.protection], k.zone).toEqual([
        k.min,
        k.low,
        k.high,
        k.spanned,
        k.present,
        k.protection,
      ]);
      expect(Math.abs(z.managed - k.managed), k.zone).toBeLessThanOrEqual(1);
      expect(
        z.pagesets.map((p) => [p.cpu, p.high, p.batch, p.threshold]),
        k.zone,
      ).toEqual(k.pagesets.map((p) => [p.cpu, p.high, p.batch, p.threshold]));
    });
  });

  it('honours the tunables and refuses what the kernel would not do', () => {
    const wide = run(
      'zoneinfo',
      '--memory',
      '1024',
      '--cpus',
      '2',
      '--watermark-scale-factor',
      '200',
      '--thp',
      'never',
    );
    expect(wide.status, wide.stderr).toBe(0);
    const dma32 = parseZoneinfo(wide.stdout).find((z) => z.zone === 'DMA32')!;
    // delta = managed x factor / 10000 (the watermarks are set while the init memory is still reserved: within 2%).
    expect(
      Math.abs(dma32.low - dma32.min - (dma32.managed * 200) / 10_000) / ((dma32.managed * 200) / 10_000),
    ).toBeLessThan(0.02);
    expect(wide.stdout).toMatch(/thp=never .* watermark_scale_factor=200/);
    const ratio = run('zoneinfo', '--memory', '256', '--cpus', '1', '--lowmem-reserve-ratio', '128,256,32');
    expect(parseZoneinfo(ratio.stdout)[0]!.protection[1]).toBe(
      Math.floor(parseZoneinfo(ratio.stdout)[1]!.managed / 128),
    );
    const thp = run('zoneinfo', '--memory', '256', '--cpus', '1', '--thp', 'always');
    expect(thp.status).toBe(1);
    expect(thp.stderr).toMatch(/the kernel leaves THP off below 512 MiB/);
    const bad = run('zoneinfo', '--memory', '1024', '--cpus', '2', '--lowmem-reserve-ratio', '1,2');
    expect(bad.stderr).toMatch(/--lowmem-reserve-ratio must be three whole numbers/);
  });
});
