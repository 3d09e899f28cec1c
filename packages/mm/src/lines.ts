// lines: the shared cache lines and locks that a fault updates beyond mmap_lock, as the run's lock table names them
// (served by the engine's line server when the run charges lines):
//   mm<i>.vma<s>.vm_lock  the lock word of the VMA in slot s: vma->vm_lock->lock.count, which lock_vma_under_rcu's
//                         vma_start_read (down_read_trylock) and vma_end_read (up_read) update (include/linux/mm.h,
//                         6.4-6.12; a slot's next VMA reuses its line, as vm_area_cachep reuses a freed object).
//   mm<i>.rss_stat        mm->rss_stat[MM_ANONPAGES]'s lock and count, which percpu_counter_add_batch updates when a
//                         CPU's per-CPU count reaches the batch (lib/percpu_counter.c; per-CPU since 6.2).
//   node0.lru_lock        lruvec->lru_lock's word: folio_add_lru puts a new page in this CPU's lru_add folio_batch
//                         and, when the batch is full (PAGEVEC_SIZE: 15, 31 from 6.10), folio_batch_move_lru takes
//                         the spinlock once (its cmpxchg), moves them all onto the LRU list and releases it (a
//                         store): two writes of the word's line around the batch's work (mm/swap.c). One lruvec: the
//                         model has one memory node and charges every page to one memcg's lruvec.
//                         Simplified: the line, not the lock - two holds overlap where the line's service does not
//                         keep them apart. As an engine spinlock (15-page batches) it made pft-threads' figures move
//                         with the window (12 threads, 6.2's layout: 4.97 M faults/s at 0.5 us, 4.21 at 4 us), a fact
//                         about the engine's lock replay; as a line, 4.95 and 4.74 (without it, 4.93 and 4.71). Its
//                         holds are short and rare: a batch's list insertions once a batch of a CPU's faults. Not
//                         charged: the lines the holder writes under it (the list head, the previous head folio's
//                         lru.prev, lru_zone_size), which follow the lock from CPU to CPU (a few more moves a batch).
//   memcg.l<k>.usage      page_counter->usage of the k-th memcg up from the faulting task's (k = 0: its own; the last:
//                         the root's): try_charge_memcg takes pages from this CPU's memcg_stock and, when it runs out,
//                         charges MEMCG_CHARGE_BATCH pages (32 before 6.1, 64 since) with page_counter_try_charge, an
//                         atomic_long_add_return on each level's usage up to the root (mm/memcontrol.c,
//                         mm/page_counter.c). Not charged: the store of a new high to c->watermark, on the counter's
//                         next line, which a growing usage (pft's) makes at each charge.
// mmap_lock's own word is the rwsem 'mm<i>.mmap_lock' (module.ts), whose line the engine charges at every lock
// operation; zone->lock's is charged by the engine's zone commit.

export const vmaLockLineName = (mm: number, slot: number) => `mm${mm}.vma${slot}.vm_lock`;
export const rssStatLineName = (mm: number) => `mm${mm}.rss_stat`;
export const LRU_LOCK_NAME = 'node0.lru_lock';
export const memcgUsageLineName = (level: number) => `memcg.l${level}.usage`;

/** The page counters a charge updates by default: a login session's cgroup on Debian (session-N.scope, under
 * user-UID.slice, under user.slice) and the root's. */
export const MEMCG_LEVELS_DEFAULT = 4;

/** The lines an address space's faults update: its rss_stat and a vm_lock per VMA slot. */
export function mmLineNames(mm: number, vmaSlots: number): string[] {
  return [rssStatLineName(mm), ...Array.from({ length: vmaSlots }, (_, s) => vmaLockLineName(mm, s))];
}

/** Every line a run that charges lines needs for `mms` address spaces of `vmaSlots` slots each: theirs, the LRU
 * lock's and the memcg page counters'. */
export function mmLineLocks(
  mms: number,
  vmaSlots: number,
  memcgLevels = MEMCG_LEVELS_DEFAULT,
): Record<string, { kind: 'line' }> {
  const out: Record<string, { kind: 'line' }> = {};
  for (let i = 0; i < mms; i++) for (const l of mmLineNames(i, vmaSlots)) out[l] = { kind: 'line' };
  out[LRU_LOCK_NAME] = { kind: 'line' };
  for (let k = 0; k < memcgLevels; k++) out[memcgUsageLineName(k)] = { kind: 'line' };
  return out;
}
