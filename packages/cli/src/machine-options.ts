// machine-options: the options that choose the simulated machine, shared by `run` (a scenario or your tasks),
// `compare` and `sweep`: its memory's size, its layout (the kernel's boot-time node or one zone), THP and the vm
// sysctls the boot-time node takes, and its kernel's configuration (CONFIG_HZ, the platform, how page tables are
// freed). Each is validated where it is parsed; the run's configuration checks the combination.
import type { Command } from 'commander';
import {
  HZ_DEFAULT,
  COHERENCE_MODES,
  HZ_VALUES,
  PLACEMENTS,
  PLATFORMS,
  TABLE_FREEING,
  TOPOLOGY_NAMES,
  type Hz,
  type Platform,
  type RunOptions,
  type TableFreeing,
} from '@faultline/engine';
import { BOOT_MEMORY_MIB_MIN } from '@faultline/zone';
import { intOption, ratioOption, thpOption } from './options.js';
import { InvalidArgumentError } from 'commander';

export const LAYOUTS = ['kernel', 'one-zone'] as const;

export interface MachineCliOptions {
  readonly memory?: number;
  readonly layout?: (typeof LAYOUTS)[number];
  readonly thp?: 'never' | 'madvise' | 'always';
  readonly minFreeKbytes?: number;
  readonly watermarkScaleFactor?: number;
  readonly lowmemReserveRatio?: [number, number, number];
  readonly percpuPagelistHighFraction?: number;
  readonly hz?: Hz;
  readonly platform?: Platform;
  readonly tableFreeing?: TableFreeing;
  readonly topology?: (typeof TOPOLOGY_NAMES)[number];
  readonly placement?: (typeof PLACEMENTS)[number];
  readonly coherence?: (typeof COHERENCE_MODES)[number];
}

function layoutOption(value: string): (typeof LAYOUTS)[number] {
  if (!(LAYOUTS as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`--layout must be one of ${LAYOUTS.join(', ')}; got '${value}'`);
  }
  return value as (typeof LAYOUTS)[number];
}

/** An option whose value is one of a list; refused with the list. */
function choiceOption<T extends string | number>(name: string, allowed: readonly T[]): (value: string) => T {
  return (value: string) => {
    const v = allowed.find((a) => String(a) === value.trim());
    if (v === undefined) throw new InvalidArgumentError(`${name} must be one of ${allowed.join(', ')}; got '${value}'`);
    return v;
  };
}

/** Add the machine's options to a command. */
export function addMachineOptions(c: Command): Command {
  return c
    .option(
      '--memory <MiB>',
      `memory size in MiB (default 256; ${BOOT_MEMORY_MIB_MIN}-65536 with the kernel's ` +
        'layout, from 4 with one zone)',
      intOption('--memory', 4, 65_536),
    )
    .option(
      '--layout <l>',
      'memory layout: kernel (the node the kernel builds at boot: DMA, DMA32, Normal above ' +
        '4 GiB; the default) or one-zone (one zone of exactly --memory)',
      layoutOption,
    )
    .option(
      '--thp <mode>',
      "transparent hugepages (kernel layout): never, madvise or always; sets khugepaged's " +
        'min_free_kbytes (default: as the kernel picks for the size)',
      thpOption,
    )
    .option(
      '--min-free-kbytes <kB>',
      'vm.min_free_kbytes (kernel layout; default: the kernel computes it)',
      intOption('--min-free-kbytes', 0, 2 ** 31 - 1),
    )
    .option(
      '--watermark-scale-factor <n>',
      'vm.watermark_scale_factor (kernel layout; 1-3000, default 10)',
      intOption('--watermark-scale-factor', 1, 3000),
    )
    .option(
      '--lowmem-reserve-ratio <a,b,c>',
      'vm.lowmem_reserve_ratio for DMA, DMA32, Normal (kernel layout; ' + 'default 256,256,32)',
      ratioOption,
    )
    .option(
      '--percpu-pagelist-high-fraction <n>',
      'vm.percpu_pagelist_high_fraction (kernel layout; 0, or 8 and up)',
      intOption('--percpu-pagelist-high-fraction', 0, 2 ** 31 - 1),
    )
    .option(
      '--hz <n>',
      `CONFIG_HZ: ${HZ_VALUES.join(', ')} (default ${HZ_DEFAULT}, Debian's); RCU's tick and jiffy timeouts follow it`,
      choiceOption('--hz', HZ_VALUES),
    )
    .option(
      '--platform <p>',
      'bare-metal (default) or paravirt (a KVM, Xen or Hyper-V guest: page tables freed through RCU)',
      choiceOption('--platform', PLATFORMS),
    )
    .option(
      '--table-freeing <f>',
      "how page tables are freed: native (after the TLB flush) or rcu (tlb_remove_table's batches); default the " +
        "platform's, or rcu for a fault policy that walks page tables under RCU (spf-*)",
      choiceOption('--table-freeing', TABLE_FREEING),
    )
    .option(
      '--topology <preset>',
      `the machine's sockets, cores, SMT and caches, with measured cache-line transfer latencies: ` +
        `${TOPOLOGY_NAMES.join(', ')} (default none)`,
      choiceOption('--topology', TOPOLOGY_NAMES),
    )
    .option(
      '--placement <p>',
      "with --topology: which of the machine's CPUs the run's are: kernel (run CPU k is the machine's k; the " +
        'default), spread (a socket at a time, then an LLC at a time, SMT siblings last) or socket-first (a ' +
        "socket's cores, then their siblings, then the next socket)",
      choiceOption('--placement', PLACEMENTS),
    )
    .option(
      '--coherence <c>',
      "with --topology: lines (charge every atomic on a lock's word the cache-line transfers it waits for; a first " +
        'version, not yet checked against the kernel) or off (the default)',
      choiceOption('--coherence', COHERENCE_MODES),
    );
}

/** The topology the options choose, or undefined; --placement alone is refused. */
export function topologyOf(o: MachineCliOptions): RunOptions['topology'] {
  if (o.placement !== undefined && o.topology === undefined)
    throw new InvalidArgumentError(`--placement ${o.placement}: give --topology too (${TOPOLOGY_NAMES.join(', ')})`);
  if (o.topology === undefined) return undefined;
  return o.placement === undefined ? o.topology : { preset: o.topology, placement: o.placement };
}

/** The run options these choose; what was not given is left to the run's defaults. */
export function machineRunOptions(
  o: MachineCliOptions,
): Pick<
  RunOptions,
  'memoryMiB' | 'memoryLayout' | 'thp' | 'vm' | 'hz' | 'platform' | 'tableFreeing' | 'topology' | 'coherence'
> {
  const vm = {
    ...(o.minFreeKbytes !== undefined ? { minFreeKbytes: o.minFreeKbytes } : {}),
    ...(o.watermarkScaleFactor !== undefined ? { watermarkScaleFactor: o.watermarkScaleFactor } : {}),
    ...(o.lowmemReserveRatio !== undefined ? { lowmemReserveRatio: o.lowmemReserveRatio } : {}),
    ...(o.percpuPagelistHighFraction !== undefined ? { percpuPagelistHighFraction: o.percpuPagelistHighFraction } : {}),
  };
  return {
    ...(o.memory !== undefined ? { memoryMiB: o.memory } : {}),
    ...(o.layout !== undefined ? { memoryLayout: o.layout } : {}),
    ...(o.thp !== undefined ? { thp: o.thp } : {}),
    ...(Object.keys(vm).length > 0 ? { vm } : {}),
    ...(o.hz !== undefined ? { hz: o.hz } : {}),
    ...(o.platform !== undefined ? { platform: o.platform } : {}),
    ...(o.tableFreeing !== undefined ? { tableFreeing: o.tableFreeing } : {}),
    ...(o.topology !== undefined ? { topology: topologyOf(o) } : {}),
    ...(o.coherence !== undefined ? { coherence: o.coherence } : {}),
  };
}

/** The same choices as command-line flags, for a replay line. */
export function machineFlags(m: { mib: number; layout: string; thp: string | null }, o: MachineCliOptions): string {
  const vm = [
    o.minFreeKbytes !== undefined ? ` --min-free-kbytes ${o.minFreeKbytes}` : '',
    o.watermarkScaleFactor !== undefined ? ` --watermark-scale-factor ${o.watermarkScaleFactor}` : '',
    o.lowmemReserveRatio !== undefined ? ` --lowmem-reserve-ratio ${o.lowmemReserveRatio.join(',')}` : '',
    o.percpuPagelistHighFraction !== undefined
      ? ` --percpu-pagelist-high-fraction ${o.percpuPagelistHighFraction}`
      : '',
    o.hz !== undefined ? ` --hz ${o.hz}` : '',
    o.platform !== undefined ? ` --platform ${o.platform}` : '',
    o.tableFreeing !== undefined ? ` --table-freeing ${o.tableFreeing}` : '',
    o.topology !== undefined ? ` --topology ${o.topology}` : '',
    o.placement !== undefined ? ` --placement ${o.placement}` : '',
    o.coherence !== undefined ? ` --coherence ${o.coherence}` : '',
  ].join('');
  return `--memory ${m.mib} --layout ${m.layout}${m.thp !== null ? ` --thp ${m.thp}` : ''}${vm}`;
}
