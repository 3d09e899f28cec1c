// composites: the GFP_* masks callers actually write, per kernel behaviour (include/linux/gfp_types.h).
// GFP_NOWAIT gained __GFP_NOWARN in about 6.8; the v6.3+ behaviour models today's kernel, so it has it.
import {
  __GFP_ACCOUNT,
  __GFP_ATOMIC,
  __GFP_FS,
  __GFP_HIGH,
  __GFP_IO,
  __GFP_KSWAPD_RECLAIM,
  __GFP_NOWARN,
  __GFP_RECLAIM,
  __GFP_ZERO,
  type GfpMask,
} from './flags.js';
import type { KernelBehaviour } from './kernel.js';

export const GFP_COMPOSITE_NAMES = [
  'GFP_KERNEL',
  'GFP_NOWAIT',
  'GFP_ATOMIC',
  'GFP_NOIO',
  'GFP_NOFS',
  'GFP_KERNEL_ACCOUNT',
  'GFP_PGTABLE_KERNEL',
  'GFP_PGTABLE_USER',
] as const;
export type GfpCompositeName = (typeof GFP_COMPOSITE_NAMES)[number];

export function gfpComposites(kernel: KernelBehaviour): Readonly<Record<GfpCompositeName, GfpMask>> {
  const GFP_KERNEL = __GFP_RECLAIM | __GFP_IO | __GFP_FS;
  const GFP_PGTABLE_KERNEL = GFP_KERNEL | __GFP_ZERO;
  return Object.freeze({
    GFP_KERNEL,
    GFP_NOWAIT: kernel === 'v5.18' ? __GFP_KSWAPD_RECLAIM : __GFP_KSWAPD_RECLAIM | __GFP_NOWARN,
    GFP_ATOMIC:
      kernel === 'v5.18' ? __GFP_HIGH | __GFP_ATOMIC | __GFP_KSWAPD_RECLAIM : __GFP_HIGH | __GFP_KSWAPD_RECLAIM,
    GFP_NOIO: __GFP_RECLAIM,
    GFP_NOFS: __GFP_RECLAIM | __GFP_IO,
    GFP_KERNEL_ACCOUNT: GFP_KERNEL | __GFP_ACCOUNT,
    GFP_PGTABLE_KERNEL,
    GFP_PGTABLE_USER: GFP_PGTABLE_KERNEL | __GFP_ACCOUNT,
  });
}
