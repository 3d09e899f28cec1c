// invariants: a full check of a zone's bookkeeping, for tests and for a run's end (check_free_page and friends,
// all at once). Call it when no other thread is allocating or freeing in the zone. It walks the free lists and the
// per-CPU lists, then every page, and throws on the first broken rule with the pfn it concerns.
import {
  H_FREE_HEAD,
  H_NR_FREE,
  H_NR_FREE_EXACT,
  ORDER_COUNT,
  PAGE_RECORD_I32,
  PG_STATE,
  PG_NEXT,
  PG_PREV,
} from './layout.js';
import { PAGE_ALLOCATED, PAGE_BUDDY, PAGE_PCP, PAGE_TAIL, pageCpu, pageKind, pageOrder } from './page-state.js';
import type { Zone } from './zone.js';

export class ZoneInvariantError extends Error {
  override readonly name = 'ZoneInvariantError';
}

export interface ZoneInventory {
  readonly freePages: number;
  readonly pcpPages: number;
  readonly allocatedPages: number;
}

export function checkZoneInvariants(zone: Zone): ZoneInventory {
  const { a, config } = zone;
  const L = config.layout;
  const seen = new Uint8Array(L.pages);
  const fail = (msg: string): never => {
    throw new ZoneInvariantError(`zone ${config.name}: ${msg}`);
  };
  const claim = (head: number, order: number, what: string): void => {
    for (let p = head; p < head + (1 << order); p++) {
      if (p >= L.pages) fail(`${what} at pfn ${head} order ${order} runs past the zone`);
      if (seen[p]) fail(`pfn ${p} is in two places (found again in ${what} at pfn ${head})`);
      seen[p] = 1;
      if (p !== head && pageKind(Atomics.load(a, L.pageOffset + p * PAGE_RECORD_I32 + PG_STATE)) !== PAGE_TAIL)
        fail(`pfn ${p} inside ${what} at pfn ${head} is not a tail page`);
    }
  };
  let free = 0;
  for (let o = 0; o < ORDER_COUNT; o++) {
    let n = 0;
    let prev = -1;
    for (let pfn = a[H_FREE_HEAD + o]!; pfn !== -1; pfn = a[L.pageOffset + pfn * PAGE_RECORD_I32 + PG_NEXT]!) {
      if (n > L.pages) fail(`free list of order ${o} loops`);
      const w = Atomics.load(a, L.pageOffset + pfn * PAGE_RECORD_I32 + PG_STATE);
      if (pageKind(w) !== PAGE_BUDDY || pageOrder(w) !== o)
        fail(`pfn ${pfn} on the order-${o} free list has state ${pageKind(w)}/${pageOrder(w)}`);
      if (pfn % (1 << o) !== 0) fail(`pfn ${pfn} on the order-${o} free list is not aligned`);
      if (a[L.pageOffset + pfn * PAGE_RECORD_I32 + PG_PREV] !== prev)
        fail(`pfn ${pfn}'s prev link is ${a[L.pageOffset + pfn * PAGE_RECORD_I32 + PG_PREV]}, expected ${prev}`);
      claim(pfn, o, `the order-${o} free block`);
      prev = pfn;
      n++;
    }
    if (n !== a[H_NR_FREE + o]) fail(`nr_free[${o}] is ${a[H_NR_FREE + o]} but the list holds ${n}`);
    free += n << o;
  }
  if (free !== a[H_NR_FREE_EXACT])
    fail(`the free lists hold ${free} pages but the exact count is ${a[H_NR_FREE_EXACT]}`);
  let pcp = 0;
  for (let cpu = 0; cpu < config.cpus; cpu++) {
    for (const pfn of zone.pcpList(cpu)) {
      const w = Atomics.load(a, L.pageOffset + pfn * PAGE_RECORD_I32 + PG_STATE);
      if (pageKind(w) !== PAGE_PCP || pageCpu(w) !== cpu)
        fail(`pfn ${pfn} on cpu ${cpu}'s list has state kind ${pageKind(w)} cpu ${pageCpu(w)}`);
      claim(pfn, 0, `cpu ${cpu}'s list`);
      pcp++;
    }
  }
  let allocated = 0;
  for (let pfn = 0; pfn < L.pages; pfn++) {
    const w = Atomics.load(a, L.pageOffset + pfn * PAGE_RECORD_I32 + PG_STATE);
    if (pageKind(w) === PAGE_ALLOCATED) {
      claim(pfn, pageOrder(w), 'the allocated block');
      allocated += 1 << pageOrder(w);
    }
  }
  for (let pfn = 0; pfn < L.pages; pfn++)
    if (!seen[pfn]) fail(`pfn ${pfn} is nowhere: not free, not on a CPU list, not allocated`);
  const snapshot = zone.freePagesSnapshot();
  if (snapshot !== free) fail(`NR_FREE_PAGES snapshot ${snapshot} differs from the pages in the free lists ${free}`);
  return { freePages: free, pcpPages: pcp, allocatedPages: allocated };
}
