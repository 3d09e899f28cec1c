// lines: the address space's shared cache lines that a fault updates, as the run's lock table names them (kind
// 'line', served by the engine's line server when the run charges lines):
//   mm<i>.vma<s>.vm_lock  the lock word of the VMA in slot s: vma->vm_lock->lock.count, which lock_vma_under_rcu's
//                         vma_start_read (down_read_trylock) and vma_end_read (up_read) update (include/linux/mm.h,
//                         6.4-6.12; a slot's next VMA reuses its line, as vm_area_cachep reuses a freed object).
//   mm<i>.rss_stat        mm->rss_stat[MM_ANONPAGES]'s lock and count, which percpu_counter_add_batch updates when a
//                         CPU's per-CPU count reaches the batch (lib/percpu_counter.c; per-CPU since 6.2).
// mmap_lock's own word is the rwsem 'mm<i>.mmap_lock' (module.ts), whose line the engine charges at every lock
// operation.

export const vmaLockLineName = (mm: number, slot: number) => `mm${mm}.vma${slot}.vm_lock`;
export const rssStatLineName = (mm: number) => `mm${mm}.rss_stat`;

/** The lines an address space's faults update: its rss_stat and a vm_lock per VMA slot. */
export function mmLineNames(mm: number, vmaSlots: number): string[] {
  return [rssStatLineName(mm), ...Array.from({ length: vmaSlots }, (_, s) => vmaLockLineName(mm, s))];
}
