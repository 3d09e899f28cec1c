// config: a zone's options, validated and resolved into the plain object that travels to workers with the buffer.
// Every limit is named here and every error names the field and what is allowed.
import { assertKernelBehaviour, KERNEL_DEFAULT, type KernelBehaviour, type Watermarks } from '@faultline/gfp';
import { ZoneConfigError } from './errors.js';
import { zoneLayout, type ZoneLayout } from './layout.js';
import {
  minFreeKbytes,
  pcpBatch,
  pcpHigh,
  statThresholdNormal,
  WATERMARK_SCALE_FACTOR_DEFAULT,
  zoneWatermarks,
  ZONE_TYPES,
  MIN_FREE_KBYTES_MIN,
  MIN_FREE_KBYTES_MAX,
  type ZoneType,
} from './sizing.js';

/** 2^25 pages of 4 KiB = 128 GiB per zone; its buffer is 32 bytes a page, 1 GiB at the limit. */
export const ZONE_PAGES_MAX = 1 << 25;
export const ZONE_CPUS_MAX = 1024;
export const ZONE_OWNERS_MAX = 4096;
export const ZONE_OWNERS_DEFAULT = 64;
export const WATERMARK_SCALE_FACTOR_MAX = 3000;
/** lowmem_reserve is a long in the kernel; here an Int32 slot of the zone's header. */
export const LOWMEM_RESERVE_MAX = 2 ** 31 - 1;

export interface ZoneOptions {
  /** Pages of 4 KiB in the zone: 1 .. 2^26. */
  readonly pages: number;
  /** CPUs that may allocate from it, each with its own per-CPU list: 1 .. 1024. */
  readonly cpus: number;
  readonly name?: string;
  readonly type?: ZoneType;
  readonly kernel?: KernelBehaviour;
  /** Accounting owners (tasks, kernel threads) numbered 0 .. owners-1: 1 .. 4096, default 64. */
  readonly owners?: number;
  /** Pages of the node's lowmem, for this zone's share of min_free_kbytes; default this zone's pages. */
  readonly lowmemPages?: number;
  readonly minFreeKbytes?: number;
  readonly watermarkScaleFactor?: number;
  /** Override any of the computed watermarks. */
  readonly watermarks?: Partial<Watermarks>;
  readonly lowmemReservePages?: number;
  readonly reservedHighatomicPages?: number;
  readonly pcpBatch?: number;
  readonly pcpHigh?: number;
  readonly statThreshold?: number;
}

export interface ZoneConfig {
  readonly name: string;
  readonly type: ZoneType;
  readonly kernel: KernelBehaviour;
  readonly pages: number;
  readonly cpus: number;
  readonly owners: number;
  readonly minFreeKbytes: number;
  readonly watermarkScaleFactor: number;
  readonly watermarks: Watermarks;
  readonly lowmemReservePages: number;
  readonly reservedHighatomicPages: number;
  readonly pcpBatch: number;
  readonly pcpHigh: number;
  readonly statThreshold: number;
  readonly layout: ZoneLayout;
}

function int(field: string, value: unknown, min: number, max: number, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ZoneConfigError(field, `${String(value)} is not allowed; allowed: integers ${min} .. ${max} (${what})`);
  }
  return value;
}

export function resolveZoneConfig(o: ZoneOptions): ZoneConfig {
  if (o === null || typeof o !== 'object')
    throw new ZoneConfigError('options', 'expected an object with at least pages and cpus');
  const pages = int(
    'pages',
    o.pages,
    1,
    ZONE_PAGES_MAX,
    `pages of 4 KiB; ${ZONE_PAGES_MAX} pages = 128 GiB, the most one zone's SharedArrayBuffer holds here`,
  );
  const cpus = int('cpus', o.cpus, 1, ZONE_CPUS_MAX, 'CPUs with a per-CPU page list');
  const owners = int('owners', o.owners ?? ZONE_OWNERS_DEFAULT, 1, ZONE_OWNERS_MAX, 'accounting owners');
  const kernel = assertKernelBehaviour(o.kernel ?? KERNEL_DEFAULT, 'kernel');
  const type = o.type ?? 'Normal';
  if (!(ZONE_TYPES as readonly string[]).includes(type))
    throw new ZoneConfigError('type', `'${type}' is not a zone type; allowed: ${ZONE_TYPES.join(', ')}`);
  const lowmemPages = int(
    'lowmemPages',
    o.lowmemPages ?? pages,
    pages,
    Number.MAX_SAFE_INTEGER,
    "the node's lowmem pages, at least this zone's",
  );
  const minFreeKb = int(
    'minFreeKbytes',
    o.minFreeKbytes ?? minFreeKbytes(lowmemPages),
    MIN_FREE_KBYTES_MIN,
    MIN_FREE_KBYTES_MAX,
    'vm.min_free_kbytes',
  );
  const scale = int(
    'watermarkScaleFactor',
    o.watermarkScaleFactor ?? WATERMARK_SCALE_FACTOR_DEFAULT,
    1,
    WATERMARK_SCALE_FACTOR_MAX,
    'vm.watermark_scale_factor',
  );
  const computed = zoneWatermarks(pages, lowmemPages, minFreeKb, scale);
  const w = { ...computed, ...(o.watermarks ?? {}) };
  const minPages = int('watermarks.minPages', w.minPages, 0, pages, 'pages');
  const lowPages = int('watermarks.lowPages', w.lowPages, minPages, pages, 'pages, at least min');
  const highPages = int('watermarks.highPages', w.highPages, lowPages, pages, 'pages, at least low');
  const batch = int('pcpBatch', o.pcpBatch ?? pcpBatch(pages), 1, 4096, 'pages moved per refill or drain');
  const high = int(
    'pcpHigh',
    o.pcpHigh ?? pcpHigh(lowPages, cpus, batch),
    batch,
    1 << 20,
    'pages a CPU list may hold before it drains, at least pcpBatch',
  );
  const statThreshold = int(
    'statThreshold',
    o.statThreshold ?? statThresholdNormal(pages, cpus),
    0,
    125,
    'pages of per-CPU NR_FREE_PAGES drift before a fold',
  );
  // A zone's protection may exceed its size (the kernel's 4 GiB DMA zone: 3898 against 3840 managed pages): then
  // allocations that could have used a higher zone never get it.
  const lowmemReservePages = int('lowmemReservePages', o.lowmemReservePages ?? 0, 0, LOWMEM_RESERVE_MAX, 'pages');
  const reservedHighatomicPages = int('reservedHighatomicPages', o.reservedHighatomicPages ?? 0, 0, pages, 'pages');
  const layout = zoneLayout({ pages, cpus, owners, pcpCapacity: high + batch });
  return {
    name: o.name ?? type,
    type,
    kernel,
    pages,
    cpus,
    owners,
    minFreeKbytes: minFreeKb,
    watermarkScaleFactor: scale,
    watermarks: { minPages, lowPages, highPages },
    lowmemReservePages,
    reservedHighatomicPages,
    pcpBatch: batch,
    pcpHigh: high,
    statThreshold,
    layout,
  };
}

/** The SharedArrayBuffer a zone of this configuration lives in, or the reason this process cannot have one. */
export function zoneBuffer(config: ZoneConfig): SharedArrayBuffer {
  try {
    return new SharedArrayBuffer(config.layout.byteLength);
  } catch (e) {
    throw new ZoneConfigError(
      'pages',
      `a zone of ${config.pages} pages needs a SharedArrayBuffer of ${config.layout.byteLength} bytes, ` +
        `which this process cannot allocate (${(e as Error).message})`,
    );
  }
}

/** Watermarks a running zone may be given (min_free_kbytes or watermark_scale_factor written). */
export function checkWatermarks(minPages: number, lowPages: number, highPages: number, pages: number): void {
  if (
    !(
      Number.isInteger(minPages) &&
      Number.isInteger(lowPages) &&
      Number.isInteger(highPages) &&
      minPages >= 0 &&
      minPages <= lowPages &&
      lowPages <= highPages &&
      highPages <= pages
    )
  ) {
    throw new ZoneConfigError(
      'watermarks',
      `{min ${minPages}, low ${lowPages}, high ${highPages}} not allowed; ` +
        `need integers 0 <= min <= low <= high <= ${pages}`,
    );
  }
}

/** A lowmem reserve a running zone may be given (lowmem_reserve_ratio written). */
export function checkLowmemReservePages(pages: number): void {
  if (!Number.isInteger(pages) || pages < 0 || pages > LOWMEM_RESERVE_MAX) {
    throw new ZoneConfigError('lowmemReservePages', `${pages}: allowed integers 0 .. ${LOWMEM_RESERVE_MAX}`);
  }
}

/** A vmstat fold threshold a running zone may be given (calculate_pressure_threshold's, or the normal one). */
export function checkStatThreshold(pages: number): void {
  if (!Number.isInteger(pages) || pages < 0 || pages > 125)
    throw new ZoneConfigError('statThreshold', `${pages}: allowed integers 0 .. 125`);
}
