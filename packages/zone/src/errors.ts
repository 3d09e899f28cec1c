// errors: what the zone reports instead of silently accepting bad input or a broken free.
import { PAGE_BUDDY, PAGE_PCP, pageCpu, pageKind, pageOrder } from './page-state.js';

/** A configuration the zone cannot be built with; names the field and what is allowed. */
export class ZoneConfigError extends RangeError {
  override readonly name = 'ZoneConfigError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

/** A free of a page that is free already (in the buddy lists or on a per-CPU list). */
export class DoubleFreeError extends Error {
  override readonly name = 'DoubleFreeError';
  /** `racy`: another CPU freed it meanwhile (it is on that CPU's list, or won the exchange), so while CPUs run in
   * parallel, which of the two frees came second is for simulated time to say, not this thread. */
  constructor(
    readonly pfn: number,
    readonly where: string,
    readonly racy = false,
  ) {
    super(`double free of pfn ${pfn}: the page is already free (${where})`);
  }
}

/** A free of a pfn that is not the first page of an allocated block, or outside the node. */
export class BadFreeError extends Error {
  override readonly name = 'BadFreeError';
  constructor(
    readonly pfn: number,
    message: string,
  ) {
    super(`bad free of pfn ${pfn}: ${message}`);
  }
}

/** The error for a free of pfn (on `cpu`) whose state word is not an allocated block's head (free_page_is_bad, in
 * mm/page_alloc.c, says why a page is bad; here a double free is told apart from a page never allocated). */
export function badFreeOf(pfn: number, word: number, cpu: number): Error {
  const kind = pageKind(word);
  if (kind === PAGE_BUDDY)
    return new DoubleFreeError(pfn, `first page of a free order-${pageOrder(word)} block in the buddy lists`);
  if (kind === PAGE_PCP)
    return new DoubleFreeError(pfn, `on cpu ${pageCpu(word)}'s per-CPU list`, pageCpu(word) !== cpu);
  return new BadFreeError(pfn, 'not the first page of an allocated block (never allocated, or inside a block)');
}
