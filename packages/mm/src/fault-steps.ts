// fault-steps: the steps the fault-handler machines are made of (fault-machines.ts). Each is a generator of engine
// operations run in the faulting task's context, returning the event its state's transitions choose from. A run of
// the handler carries a little state from step to step (FaultRun): whether the fault is still speculative, the
// sequence count it read, how often it retried. Users' machines may use these steps and add their own.
import type { TaskOp } from '@faultline/engine';
import type { MachineStep } from '@faultline/engine/module';
import { rcuReadLock, rcuReadUnlock } from '@faultline/rcu';
import { allocPages, reclaimPass } from '@faultline/reclaim';
import {
  FILE_PAGE_PFN,
  T_CLASSIC,
  T_FELL_BACK,
  T_FILE_PAGES,
  T_PAGES,
  T_RETRIED,
  T_SPEC_DONE,
  T_TABLE_FAILS,
  T_TABLES,
  T_ZERO_COPIES,
  T_ZERO_PAGES,
  ZERO_PAGE_PFN,
} from './layout.js';
import { LEVEL_PAGE, LEVEL_PMD, LEVEL_PTE, LEVEL_PUD } from './page-table.js';
import type { FaultContext } from './policies.js';

export const GFP_PGTABLE_USER = 'GFP_PGTABLE_USER';
export const GFP_DATA_PAGE = 'GFP_KERNEL|__GFP_ACCOUNT';
// User page tables are always zeroed and charged to the task's memcg (GFP_PGTABLE_USER is GFP_KERNEL|__GFP_ZERO|
// __GFP_ACCOUNT); so are the speculative path's. (__GFP_ZERO is also how the OOM killer knows a page table: the
// address space's, not the thread's.)
export const GFP_SPF_NOWAIT = 'GFP_NOWAIT|__GFP_ZERO|__GFP_ACCOUNT';
export const GFP_SPF_NOMEMALLOC = 'GFP_NOWAIT|__GFP_NOMEMALLOC|__GFP_NOWARN|__GFP_ZERO|__GFP_ACCOUNT';
export const TABLE_LEVELS = [LEVEL_PUD, LEVEL_PMD, LEVEL_PTE] as const;
/** What one VM_FAULT_RETRY costs a task that faults again: the return to user space, the trap, the walk. */
export const REFAULT_NS = 1_000;

/** One run of the fault handler: the fault, and what its steps learnt so far. */
export interface FaultRun {
  readonly f: FaultContext;
  /** Installs are speculative (checked against `seq` at the commit) until the classic path takes mmap_lock. */
  speculative: boolean;
  /** The address space's sequence count as the speculative walk read it. */
  seq: number;
  /** The data page's pfn once mapped. */
  page: number;
  /** Reclaim-and-retry rounds so far. */
  retries: number;
  /** The generation of the VMA a per-VMA-lock fault holds read-locked, or -1 (installs checked by `seq`). */
  vmaGen: number;
  /** The line of the VMA lock it holds, when the run charges lines (vma_end_read updates it again), else null. */
  vmaLine: string | null;
}

export function newFaultRun(f: FaultContext): FaultRun {
  return { f, speculative: true, seq: 0, page: -1, retries: 0, vmaGen: -1, vmaLine: null };
}

type Step = Generator<TaskOp, string, number>;

/** One page charged to the task's memcg, once f.memcgCharge() said this CPU's stock ran out (and the run charges
 * lines): the batch's atomic_long_add_return on each page counter's usage, from the task's memcg up
 * (page_counter_try_charge). The callers ask first, so that a charge from the stock makes no generator. */
function* chargeMemcg(f: FaultContext): Generator<TaskOp, void, number> {
  for (const line of f.memcgLines) yield f.task.atomic(line);
}

/** Allocate every missing table level with `mask` (allocPages: the slow path if the mask may reclaim, and the memcg
 * charge), installing each; false at the first failure. */
function* allocTables(r: FaultRun, mask: string): Generator<TaskOp, boolean, number> {
  const f = r.f;
  for (const level of TABLE_LEVELS) {
    if (f.lookup(level) >= 0) continue;
    const pfn = yield* allocPages(f.task, mask);
    if (pfn < 0) {
      f.count(T_TABLE_FAILS);
      return false;
    }
    f.count(T_TABLES);
    if (f.memcgCharge()) yield* chargeMemcg(f); // __GFP_ACCOUNT: __memcg_kmem_charge_page, the same per-CPU stock
    yield f.task.compute(f.ptlNs);
    f.install(level, pfn, r.speculative, r.seq, r.vmaGen);
  }
  return true;
}

/** __handle_mm_fault's walk from mm->pgd (pgd_offset), then the missing levels. Where the kernel's mm_struct puts
 * pgd on mmap_lock's line (6.2 and before), the read of pgd is a read of that line. */
function* tables(r: FaultRun, mask: string): Step {
  const pgd = r.f.pgdLine();
  if (pgd !== null) yield r.f.task.readLine(pgd);
  return (yield* allocTables(r, mask)) ? 'ok' : 'fail';
}

export const FAULT_STEPS: Readonly<Record<string, MachineStep<FaultRun>>> = {
  /** The classic path begins: mmap_lock for read (queueing behind a writer). Events: done. */
  *lockMmap(r) {
    r.f.count(T_CLASSIC);
    r.speculative = false;
    r.vmaGen = -1;
    // get_mmap_lock_carefully's mmap_read_trylock reads sem->count before its cmpxchg (kernel/locking/rwsem.c,
    // __down_read_trylock, since 5.16: commit 14c240488411): the read fetches the line, the cmpxchg (the lock
    // operation) must then take it exclusively.
    if (r.f.task.linesCharged) yield r.f.task.readLine(r.f.mmapLock);
    yield r.f.task.lockRead(r.f.mmapLock);
    return 'done';
  },
  /** Events: done. */
  *unlockMmap(r) {
    yield r.f.task.unlock(r.f.mmapLock);
    return 'done';
  },
  /** Is there a VMA at the address? Events: found, none. */
  *vma(r) {
    return r.f.vma() === null ? 'none' : 'found';
  },
  /** Does a writer hold mmap_lock for write? If not, read the sequence count (the speculative entry's cost).
   * Events: active, clear. */
  *writer(r) {
    if (r.f.writerActive()) return 'active';
    r.seq = r.f.seq();
    if (r.f.spfEntryNs > 0) yield r.f.task.compute(r.f.spfEntryNs);
    return 'clear';
  },
  /** lock_vma_under_rcu's checks on the VMA found (mm/memory.c): not write-locked by a writer (vma_start_read), of
   * a kind the kernel handles under the VMA lock (anonymous with its anon_vma; file-backed only where the run's
   * kernel has it); then its read lock. Events: locked, busy, unsupported. Where the run's kernel checks anon_vma
   * only when a fault prepares one (vmf_anon_prepare, 6.10 on), a read fault (the zero page: none needed) takes the
   * VMA lock without it; a write fault without it still falls back (the kernel first tries mmap_read_trylock to
   * prepare it under the VMA lock: not modelled). */
  *lockVma(r) {
    const f = r.f;
    if (f.vmaWriteLocked()) return 'busy';
    const needsAnonVma = f.write || !f.anonVmaAtPrepare;
    if (f.fileBacked() ? !f.perVmaFileFaults : needsAnonVma && !f.vmaHasAnonVma()) return 'unsupported';
    if (f.vmaLockNs > 0) yield f.task.compute(f.vmaLockNs);
    r.vmaLine = f.vmaLockLine();
    if (r.vmaLine !== null) {
      // vma_start_read's down_read_trylock: the read of the lock's count, then the cmpxchg (as mmap_read_trylock's).
      yield f.task.readLine(r.vmaLine);
      yield f.task.atomic(r.vmaLine);
    }
    r.vmaGen = f.vmaGen();
    return 'locked';
  },
  /** Events: done. */
  *rcuLock(r) {
    rcuReadLock(r.f.task);
    return 'done';
  },
  /** Events: done. */
  *rcuUnlock(r) {
    rcuReadUnlock(r.f.task);
    return 'done';
  },
  /** Does every table level exist? Events: present, missing. */
  *levels(r) {
    return TABLE_LEVELS.every((l) => r.f.lookup(l) >= 0) ? 'present' : 'missing';
  },
  /** Missing levels with GFP_PGTABLE_USER (may sleep and reclaim). Events: ok, fail. */
  tablesSleeping: (r) => tables(r, GFP_PGTABLE_USER),
  /** Missing levels with GFP_NOWAIT|__GFP_ZERO|__GFP_ACCOUNT. Events: ok, fail. */
  tablesNowait: (r) => tables(r, GFP_SPF_NOWAIT),
  /** Missing levels with GFP_NOWAIT|__GFP_NOMEMALLOC|__GFP_NOWARN|__GFP_ZERO|__GFP_ACCOUNT. Events: ok, fail. */
  tablesNomemalloc: (r) => tables(r, GFP_SPF_NOMEMALLOC),
  /** The data page: a file's resident page, or a new anonymous one (GFP_KERNEL|__GFP_ACCOUNT). Events: ok, fail. */
  *dataPage(r) {
    const f = r.f;
    if (f.fileBacked()) {
      yield f.task.compute(f.ptlNs); // find the page in the page cache, take the PTL, set the entry
      f.install(LEVEL_PAGE, FILE_PAGE_PFN, r.speculative, r.seq, r.vmaGen);
      f.count(T_FILE_PAGES);
      r.page = FILE_PAGE_PFN;
      return 'ok';
    }
    if (!f.write) {
      // do_anonymous_page: a read maps the zero page, read-only, under the PTE lock; nothing allocated or charged,
      // and no anon_vma prepared.
      yield f.task.compute(f.ptlNs);
      f.install(LEVEL_PAGE, ZERO_PAGE_PFN, r.speculative, r.seq, r.vmaGen);
      f.count(T_ZERO_PAGES);
      r.page = ZERO_PAGE_PFN;
      return 'ok';
    }
    // A write to the zero page copies it (do_wp_page -> wp_page_copy: a zeroed page of its own, charged and added
    // to the LRU like a new one, replacing the zero page's entry under the PTE lock). Not charged: the flush of the
    // old entry from the TLB (ptep_clear_flush).
    const copy = f.lookup(LEVEL_PAGE) === ZERO_PAGE_PFN;
    const page = yield* allocPages(f.task, GFP_DATA_PAGE);
    if (page < 0) return 'fail';
    if (f.memcgCharge()) yield* chargeMemcg(f); // mem_cgroup_charge, before the PTE lock (do_anonymous_page)
    yield f.task.compute(f.ptlNs + f.dataPageNs);
    // folio_add_lru_vma under the PTE lock: a full batch moves onto the LRU under lru_lock (folio_batch_move_lru):
    // the spinlock's cmpxchg and its release, a write each of the lock word's line, around the batch's work.
    const lru = f.lruLock();
    if (lru !== null) {
      yield f.task.atomic(lru);
      yield f.task.compute(f.lruBatchNs());
      yield f.task.atomic(lru);
    }
    f.install(LEVEL_PAGE, page, r.speculative, r.seq, r.vmaGen, copy);
    f.count(T_PAGES);
    if (copy) f.count(T_ZERO_COPIES);
    const rss = f.rssStatLine();
    if (rss !== null) yield f.task.atomic(rss); // the fold: fbc->lock and fbc->count, one line
    r.page = page;
    return 'ok';
  },
  /** VM_FAULT_RETRY: back to user space - exit_to_user_mode's check, where a due reschedule happens - and the
   * instruction faults again. Events: done. */
  *refault(r) {
    r.f.count(T_RETRIED);
    yield r.f.task.condResched();
    yield r.f.task.compute(REFAULT_NS);
    return 'done';
  },
  /** Out of the read-side section: one direct-reclaim pass for ourselves. Events: done. */
  *reclaim(r) {
    r.f.count(T_RETRIED);
    r.retries++;
    yield* reclaimPass(r.f.task);
    return 'done';
  },
  /** The speculative path gives up; the classic path follows. Events: done. */
  *fellBack(r) {
    r.f.count(T_FELL_BACK);
    return 'done';
  },
  /** A speculative fault completed (a per-VMA-lock fault's vma_end_read: up_read on the lock's count). Events: done. */
  *speculativeDone(r) {
    r.f.count(T_SPEC_DONE);
    if (r.vmaLine !== null) {
      const line = r.vmaLine;
      r.vmaLine = null;
      yield r.f.task.atomic(line);
    }
    return 'done';
  },
};
