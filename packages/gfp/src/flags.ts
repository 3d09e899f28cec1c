// flags: the individual __GFP_* bits (include/linux/gfp_types.h; the low bits are stable since 4.x).
// One table; the names, the type of a name and the list of known flags are all derived from it.
import type { KernelBehaviour } from './kernel.js';

export const GFP_FLAG_BITS = {
  __GFP_HIGH: 0x20,
  __GFP_IO: 0x40,
  __GFP_FS: 0x80,
  __GFP_ZERO: 0x100,
  __GFP_ATOMIC: 0x200,
  __GFP_DIRECT_RECLAIM: 0x400,
  __GFP_KSWAPD_RECLAIM: 0x800,
  __GFP_NOWARN: 0x2000,
  __GFP_RETRY_MAYFAIL: 0x4000,
  __GFP_NOFAIL: 0x8000,
  __GFP_NORETRY: 0x10000,
  __GFP_MEMALLOC: 0x20000,
  __GFP_NOMEMALLOC: 0x80000,
  __GFP_ACCOUNT: 0x400000,
} as const;

export type GfpFlagName = keyof typeof GFP_FLAG_BITS;
/** A GFP mask: an OR of GFP_FLAG_BITS values. */
export type GfpMask = number;

export const __GFP_HIGH = GFP_FLAG_BITS.__GFP_HIGH;
export const __GFP_IO = GFP_FLAG_BITS.__GFP_IO;
export const __GFP_FS = GFP_FLAG_BITS.__GFP_FS;
export const __GFP_ZERO = GFP_FLAG_BITS.__GFP_ZERO;
export const __GFP_ATOMIC = GFP_FLAG_BITS.__GFP_ATOMIC;
export const __GFP_DIRECT_RECLAIM = GFP_FLAG_BITS.__GFP_DIRECT_RECLAIM;
export const __GFP_KSWAPD_RECLAIM = GFP_FLAG_BITS.__GFP_KSWAPD_RECLAIM;
export const __GFP_RECLAIM = __GFP_DIRECT_RECLAIM | __GFP_KSWAPD_RECLAIM;
export const __GFP_NOWARN = GFP_FLAG_BITS.__GFP_NOWARN;
export const __GFP_RETRY_MAYFAIL = GFP_FLAG_BITS.__GFP_RETRY_MAYFAIL;
export const __GFP_NOFAIL = GFP_FLAG_BITS.__GFP_NOFAIL;
export const __GFP_NORETRY = GFP_FLAG_BITS.__GFP_NORETRY;
export const __GFP_MEMALLOC = GFP_FLAG_BITS.__GFP_MEMALLOC;
export const __GFP_NOMEMALLOC = GFP_FLAG_BITS.__GFP_NOMEMALLOC;
export const __GFP_ACCOUNT = GFP_FLAG_BITS.__GFP_ACCOUNT;

const FLAG_NAMES = Object.keys(GFP_FLAG_BITS) as GfpFlagName[];

/** The single flags a kernel knows: __GFP_ATOMIC is gone from 6.3. */
export function gfpFlagNames(kernel: KernelBehaviour): GfpFlagName[] {
  return kernel === 'v5.18' ? [...FLAG_NAMES] : FLAG_NAMES.filter((n) => n !== '__GFP_ATOMIC');
}

/** Every bit any modelled kernel knows. */
export const GFP_KNOWN_BITS: number = FLAG_NAMES.reduce((acc, n) => acc | GFP_FLAG_BITS[n], 0);

export function gfpKnownBits(kernel: KernelBehaviour): number {
  return gfpFlagNames(kernel).reduce((acc, n) => acc | GFP_FLAG_BITS[n], 0);
}

export function hasFlags(mask: GfpMask, flags: number): boolean {
  return (mask & flags) === flags;
}
