// buddy: the free area (mm/page_alloc.c __rmqueue_smallest, expand, __free_one_page). Free blocks of order 0..10 sit
// on one doubly linked list per order, threaded through the next/prev arrays by page frame number. BuddyArea's
// methods must be called with the zone lock held; they keep nr_free and the exact free count, not the vmstat
// counter. A block of order > 0 comes and goes through rmqueueBuddy and freeOnePage, which take the lock and keep
// NR_FREE_PAGES (vmstat.ts); order-0 pages go through the per-CPU lists (pcp.ts).
import { DoubleFreeError } from './errors.js';
import {
  ORDER_COUNT,
  H_FREE_HEAD,
  H_NR_FREE,
  H_NR_FREE_EXACT,
  PAGE_RECORD_I32,
  PG_NEXT,
  PG_PREV,
  PG_STATE,
  type ZoneLayout,
} from './layout.js';
import { PAGE_ALLOCATED, PAGE_BUDDY, PAGE_TAIL, pageWord } from './page-state.js';
import { modZoneFreePages } from './vmstat.js';
import { zoneLock, zoneUnlock } from './zone-lock.js';

export class BuddyArea {
  private readonly base: number;

  constructor(
    private readonly a: Int32Array,
    private readonly L: ZoneLayout,
  ) {
    this.base = L.pageOffset;
  }

  /** Carve [0, pages) into the largest aligned blocks and put them on the free lists (memblock_free_all). */
  init(): void {
    const a = this.a;
    for (let o = 0; o < ORDER_COUNT; o++) {
      a[H_FREE_HEAD + o] = -1;
      a[H_NR_FREE + o] = 0;
    }
    a[H_NR_FREE_EXACT] = 0;
    for (let pfn = 0; pfn < this.L.pages; pfn++)
      Atomics.store(a, this.base + pfn * PAGE_RECORD_I32 + PG_STATE, pageWord(PAGE_TAIL, 0));
    let pfn = 0;
    while (pfn < this.L.pages) {
      let o = ORDER_COUNT - 1;
      while (o > 0 && (pfn % (1 << o) !== 0 || pfn + (1 << o) > this.L.pages)) o--;
      this.addFree(pfn, o);
      pfn += 1 << o;
    }
  }

  private addFree(pfn: number, order: number): void {
    const a = this.a;
    const head = a[H_FREE_HEAD + order]!;
    a[this.base + pfn * PAGE_RECORD_I32 + PG_NEXT] = head;
    a[this.base + pfn * PAGE_RECORD_I32 + PG_PREV] = -1;
    if (head !== -1) a[this.base + head * PAGE_RECORD_I32 + PG_PREV] = pfn;
    a[H_FREE_HEAD + order] = pfn;
    a[H_NR_FREE + order]!++;
    a[H_NR_FREE_EXACT]! += 1 << order;
    Atomics.store(a, this.base + pfn * PAGE_RECORD_I32 + PG_STATE, pageWord(PAGE_BUDDY, order));
  }

  private delFree(pfn: number, order: number): void {
    const a = this.a;
    const n = a[this.base + pfn * PAGE_RECORD_I32 + PG_NEXT]!;
    const p = a[this.base + pfn * PAGE_RECORD_I32 + PG_PREV]!;
    if (p === -1) a[H_FREE_HEAD + order] = n;
    else a[this.base + p * PAGE_RECORD_I32 + PG_NEXT] = n;
    if (n !== -1) a[this.base + n * PAGE_RECORD_I32 + PG_PREV] = p;
    a[H_NR_FREE + order]!--;
    a[H_NR_FREE_EXACT]! -= 1 << order;
    Atomics.store(a, this.base + pfn * PAGE_RECORD_I32 + PG_STATE, pageWord(PAGE_TAIL, 0));
  }

  hasFreeBlock(order: number): boolean {
    for (let o = order; o < ORDER_COUNT; o++) if (this.a[H_NR_FREE + o]! > 0) return true;
    return false;
  }

  /** Take a block of this order, splitting a larger one if needed; -1 if none. The head is left ALLOCATED. */
  take(order: number): number {
    const a = this.a;
    for (let o = order; o < ORDER_COUNT; o++) {
      const pfn = a[H_FREE_HEAD + o]!;
      if (pfn === -1) continue;
      this.delFree(pfn, o);
      // expand: give back the upper halves until the block has the wanted order.
      let high = o;
      while (high > order) {
        high--;
        this.addFree(pfn + (1 << high), high);
      }
      Atomics.store(a, this.base + pfn * PAGE_RECORD_I32 + PG_STATE, pageWord(PAGE_ALLOCATED, order));
      return pfn;
    }
    return -1;
  }

  /** Give a block back, merging with its buddy while the buddy is a free block of the same order. */
  give(pfn: number, order: number): void {
    const a = this.a;
    let o = order;
    let head = pfn;
    while (o < ORDER_COUNT - 1) {
      const buddy = head ^ (1 << o);
      if (buddy >= this.L.pages) break;
      if (Atomics.load(a, this.base + buddy * PAGE_RECORD_I32 + PG_STATE) !== pageWord(PAGE_BUDDY, o)) break;
      this.delFree(buddy, o);
      head = Math.min(head, buddy);
      o++;
    }
    // The pages absorbed into the merged block are tails; the old head of a block that merged upward is one too.
    if (head !== pfn) Atomics.store(a, this.base + pfn * PAGE_RECORD_I32 + PG_STATE, pageWord(PAGE_TAIL, 0));
    this.addFree(head, o);
  }

  /** The free lists as sorted pfn arrays per order (for tests and reports). */
  freeLists(): number[][] {
    const out: number[][] = [];
    for (let o = 0; o < ORDER_COUNT; o++) {
      const list: number[] = [];
      for (let pfn = this.a[H_FREE_HEAD + o]!; pfn !== -1; pfn = this.a[this.base + pfn * PAGE_RECORD_I32 + PG_NEXT]!)
        list.push(pfn);
      out.push(list.sort((x, y) => x - y));
    }
    return out;
  }
}

/** rmqueue_buddy (mm/page_alloc.c): a block of this order from the free lists under one hold of the zone lock, its
 * pages taken off this CPU's NR_FREE_PAGES; -1 if there is none. */
export function rmqueueBuddy(a: Int32Array, L: ZoneLayout, buddy: BuddyArea, cpu: number, order: number): number {
  zoneLock(a);
  const pfn = buddy.take(order);
  zoneUnlock(a);
  if (pfn >= 0) modZoneFreePages(a, L, cpu, -(1 << order));
  return pfn;
}

/** free_one_page (mm/page_alloc.c, from __free_pages_ok): the allocated block at pfn, whose state word is `word`,
 * back to the free lists under the zone lock, claimed by an exchange of that word (another thread's free of it first
 * is a DoubleFreeError), its pages added to this CPU's NR_FREE_PAGES. */
export function freeOnePage(
  a: Int32Array,
  L: ZoneLayout,
  buddy: BuddyArea,
  cpu: number,
  pfn: number,
  word: number,
  order: number,
): void {
  const si = L.pageOffset + pfn * PAGE_RECORD_I32 + PG_STATE;
  zoneLock(a);
  if (Atomics.compareExchange(a, si, word, pageWord(PAGE_BUDDY, order)) !== word) {
    zoneUnlock(a);
    throw new DoubleFreeError(pfn, 'freed concurrently by another thread');
  }
  buddy.give(pfn, order);
  zoneUnlock(a);
  modZoneFreePages(a, L, cpu, 1 << order);
}
