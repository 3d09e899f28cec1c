// zoneinfo: `faultline zoneinfo --memory M --cpus N [--thp MODE] [tunables]`: the model's boot-time /proc/zoneinfo
// for a machine of that size (@faultline/zone's bootNode), in the kernel's format, so that a user can diff it
// against their own machine's. A header comment says what the model assumed.
import { bootNode, formatZoneinfo, type ThpMode, type VmTunables } from '@faultline/zone';

export interface ZoneinfoOptions {
  readonly memory: number;
  readonly cpus: number;
  readonly thp?: ThpMode;
  readonly minFreeKbytes?: number;
  readonly watermarkScaleFactor?: number;
  readonly watermarkBoostFactor?: number;
  readonly lowmemReserveRatio?: readonly [number, number, number];
  readonly percpuPagelistHighFraction?: number;
}

export function zoneinfoCommand(o: ZoneinfoOptions): string {
  const tunables: Partial<{ -readonly [K in keyof VmTunables]: VmTunables[K] }> = {};
  if (o.minFreeKbytes !== undefined) tunables.minFreeKbytes = o.minFreeKbytes;
  if (o.watermarkScaleFactor !== undefined) tunables.watermarkScaleFactor = o.watermarkScaleFactor;
  if (o.watermarkBoostFactor !== undefined) tunables.watermarkBoostFactor = o.watermarkBoostFactor;
  if (o.lowmemReserveRatio !== undefined) tunables.lowmemReserveRatio = o.lowmemReserveRatio;
  if (o.percpuPagelistHighFraction !== undefined) tunables.percpuPagelistHighFraction = o.percpuPagelistHighFraction;
  const n = bootNode({ memoryMiB: o.memory, cpus: o.cpus, ...(o.thp ? { thp: o.thp } : {}), tunables });
  const t = n.tunables;
  return [
    `# faultline zoneinfo: the boot-time node of an x86-64 machine with ${n.memoryMiB} MiB and ${n.cpus} CPUs (QEMU pc, Debian 6.1)`,
    `# thp=${n.thp}  min_free_kbytes=${n.minFreeKbytes}  watermark_scale_factor=${t.watermarkScaleFactor}  ` +
      `watermark_boost_factor=${t.watermarkBoostFactor}  lowmem_reserve_ratio=${t.lowmemReserveRatio.join(' ')}  ` +
      `percpu_pagelist_high_fraction=${t.percpuPagelistHighFraction}`,
    formatZoneinfo(n),
  ].join('\n');
}
