// kernel: which kernel a run models. Everything in this package that differs between kernels takes one of these and
// nothing else; the allocator's behaviour has two forms, and the mm module tells two later kernels apart.
//   v5.18 - the kernel of the May 2022 discussion (ALLOC_HARDER, __GFP_ATOMIC exists, GFP_NOWAIT has no __GFP_NOWARN)
//   v6.3+ - today's (ALLOC_NON_BLOCK / ALLOC_MIN_RESERVE, no __GFP_ATOMIC, GFP_NOWAIT includes __GFP_NOWARN); its
//           per-VMA locks handle file-backed faults too (since 6.7)
//   v6.4  - today's allocator, with per-VMA locks as first merged: anonymous VMAs only
// Only the allocator's tables differ between v5.18 and the others: ALLOCATOR_BEHAVIOURS lists the two.

export const KERNEL_BEHAVIOURS = ['v5.18', 'v6.4', 'v6.3+'] as const;
/** The kernels whose allocators differ (v6.4's is v6.3+'s). */
export const ALLOCATOR_BEHAVIOURS = ['v5.18', 'v6.3+'] as const;
export type KernelBehaviour = (typeof KERNEL_BEHAVIOURS)[number];
export const KERNEL_DEFAULT: KernelBehaviour = 'v6.3+';

export function isKernelBehaviour(value: unknown): value is KernelBehaviour {
  return typeof value === 'string' && (KERNEL_BEHAVIOURS as readonly string[]).includes(value);
}

export function assertKernelBehaviour(value: unknown, what = 'kernel'): KernelBehaviour {
  if (!isKernelBehaviour(value)) {
    throw new RangeError(
      `${what}: '${String(value)}' is not a modelled kernel behaviour; allowed: ${KERNEL_BEHAVIOURS.join(', ')}`,
    );
  }
  return value;
}
