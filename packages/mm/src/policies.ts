// policies: the page-fault handler's policies, each a kernel path run in the faulting task's context (the engine's
// fault hook). The shapes follow mm/memory.c and the discussion (kernel-facts §1, §7, §9):
//   classic               mmap_lock for read; missing levels and the page allocated with sleeping masks
//                         (GFP_PGTABLE_USER, may direct-reclaim); the lock released.
//   spf-nowait            speculative: no mmap_lock; the VMA and tables walked under rcu_read_lock, missing levels
//                         allocated with GFP_NOWAIT and nothing else: the first proposal's rules (never sleep, never
//                         reclaim) with nothing done on failure but VM_FAULT_RETRY - the task returns to user space,
//                         touches the address again and faults again, speculatively, until a page is free above
//                         min. It never reclaims for its tables: the case Weiner warned of. A writer holding
//                         mmap_lock or a missing VMA still means the classic path. (Falling back to the classic path
//                         on failure instead would make the task reclaim below min like any GFP_KERNEL caller:
//                         spf-nomemalloc-retry's accountability.)
//   spf-nomemalloc-retry  Wilcox's mask GFP_NOWAIT|__GFP_NOMEMALLOC|__GFP_NOWARN; on failure rcu_read_unlock,
//                         one direct-reclaim pass, one speculative retry, then the classic path.
//   spf-fallback          speculative only when every level exists (Lespinasse's SPF v2: "at least one
//                         non-speculative fault per PMD"); a missing level means the classic path.
//   per-vma-lock          6.4: the VMA found under RCU and read-locked; tables and page allocated with sleeping
//                         GFP_PGTABLE_USER under it; a VMA being changed means the classic path.
// Speculative installs carry the address space's sequence count as the fault read it; the commit aborts them if a
// writer intervened. The data page is allocated outside the read-side section with the user mask (GFP_HIGHUSER_
// MOVABLE's bits that matter here: GFP_KERNEL|__GFP_ACCOUNT); in a file-backed VMA the file's resident page is
// mapped and only page tables are allocated.
import type { KernelPath, TaskContext, TaskOp } from '@faultline/engine';
import { rcuReadLock, rcuReadUnlock } from '@faultline/rcu';
import { allocPages, reclaimPass } from '@faultline/reclaim';
import { FILE_PAGE_PFN, T_CLASSIC, T_FAULT_OOM, T_FELL_BACK, T_FILE_PAGES, T_PAGES, T_RETRIED, T_SEGV, T_SPEC_DONE, T_TABLE_FAILS, T_TABLES } from './layout.js';
import { LEVEL_PAGE, LEVEL_PMD, LEVEL_PTE, LEVEL_PUD } from './page-table.js';

export const GFP_PGTABLE_USER = 'GFP_PGTABLE_USER';
export const GFP_DATA_PAGE = 'GFP_KERNEL|__GFP_ACCOUNT';
// User page tables are always charged to the task's memcg (GFP_PGTABLE_USER has __GFP_ACCOUNT); so are the
// speculative path's.
export const GFP_SPF_NOWAIT = 'GFP_NOWAIT|__GFP_ACCOUNT';
export const GFP_SPF_NOMEMALLOC = 'GFP_NOWAIT|__GFP_NOMEMALLOC|__GFP_NOWARN|__GFP_ACCOUNT';
const TABLE_LEVELS = [LEVEL_PUD, LEVEL_PMD, LEVEL_PTE] as const;
/** Result of a fault: the data page's pfn, or one of these. */
export const FAULT_SEGV = -1;
export const FAULT_OOM = -2;
const RETRY = -3;
/** What one VM_FAULT_RETRY costs a task that faults again: the return to user space, the trap, the walk. */
export const REFAULT_NS = 1_000;

/** What a policy works with: the faulting task and address, and the address space as its CPU sees it. */
export interface FaultContext {
  readonly task: TaskContext;
  readonly mm: number;
  readonly address: number;
  readonly write: boolean;
  /** The engine lock name of this address space's mmap_lock. */
  readonly mmapLock: string;
  /** The pfn holding `level` for the address, or -1 if it is missing. */
  lookup(level: number): number;
  /** The VMA holding the address, or null. */
  vma(): [number, number] | null;
  /** Whether that VMA maps a resident file (its pages need no allocation). */
  fileBacked(): boolean;
  /** The address space's sequence count, and whether a writer holds mmap_lock for write, as of this window. */
  seq(): number;
  writerActive(): boolean;
  /** Log an install; speculative ones carry the sequence count they read. */
  install(level: number, pfn: number, speculative: boolean, seqSeen: number): void;
  /** Count an event in the task's fault counters (T_* in layout.ts). */
  count(word: number): void;
  /** Simulated cost of taking the page-table lock and writing one entry. */
  readonly ptlNs: number;
}

export type FaultPolicy = (f: FaultContext) => KernelPath;
type Path = Generator<TaskOp, number, number>;

function* allocTables(f: FaultContext, mask: string, speculative: boolean, seq: number): Generator<TaskOp, boolean, number> {
  for (const level of TABLE_LEVELS) {
    if (f.lookup(level) >= 0) continue;
    // allocPages: the slow path when the mask may reclaim, and the memcg charge either way.
    const pfn = yield* allocPages(f.task, mask);
    if (pfn < 0) {
      f.count(T_TABLE_FAILS);
      return false;
    }
    f.count(T_TABLES);
    yield f.task.compute(f.ptlNs);
    f.install(level, pfn, speculative, seq);
  }
  return true;
}

function* dataPage(f: FaultContext, speculative: boolean, seq: number): Path {
  if (f.fileBacked()) {
    yield f.task.compute(f.ptlNs); // find the page in the page cache, take the PTL, set the entry
    f.install(LEVEL_PAGE, FILE_PAGE_PFN, speculative, seq);
    f.count(T_FILE_PAGES);
    return FILE_PAGE_PFN;
  }
  const page = yield* allocPages(f.task, GFP_DATA_PAGE);
  if (page < 0) {
    f.count(T_FAULT_OOM);
    return FAULT_OOM;
  }
  yield f.task.compute(f.ptlNs);
  f.install(LEVEL_PAGE, page, speculative, seq);
  f.count(T_PAGES);
  return page;
}

export function* classicFault(f: FaultContext): Path {
  f.count(T_CLASSIC);
  yield f.task.lockRead(f.mmapLock);
  try {
    if (f.vma() === null) {
      f.count(T_SEGV);
      return FAULT_SEGV;
    }
    if (!(yield* allocTables(f, GFP_PGTABLE_USER, false, 0))) {
      f.count(T_FAULT_OOM);
      return FAULT_OOM;
    }
    return yield* dataPage(f, false, 0);
  } finally {
    yield f.task.unlock(f.mmapLock);
  }
}

/** The speculative attempt: RETRY when it must not or cannot go on, FAULT_OOM when a table allocation failed. */
function* speculative(f: FaultContext, mask: string | null): Path {
  if (f.writerActive()) return RETRY;
  const seq = f.seq();
  rcuReadLock(f.task);
  let ok: boolean;
  try {
    if (f.vma() === null) return RETRY;
    if (mask === null) ok = TABLE_LEVELS.every((l) => f.lookup(l) >= 0);
    else ok = yield* allocTables(f, mask, true, seq);
  } finally {
    rcuReadUnlock(f.task);
  }
  if (!ok) return mask === null ? RETRY : FAULT_OOM;
  const page = yield* dataPage(f, true, seq);
  if (page >= 0) f.count(T_SPEC_DONE);
  return page;
}

function* fallBack(f: FaultContext): Path {
  f.count(T_FELL_BACK);
  return yield* classicFault(f);
}

export function* spfNowait(f: FaultContext): Path {
  for (;;) {
    const r = yield* speculative(f, GFP_SPF_NOWAIT);
    if (r === RETRY) return yield* fallBack(f);
    if (r !== FAULT_OOM) return r;
    // VM_FAULT_RETRY: back to user space, and the same instruction faults again.
    f.count(T_RETRIED);
    yield f.task.compute(REFAULT_NS);
  }
}

export function* spfNomemallocRetry(f: FaultContext): Path {
  let r = yield* speculative(f, GFP_SPF_NOMEMALLOC);
  if (r === FAULT_OOM) {
    // Out of the read-side section: reclaim for ourselves, then try once more.
    f.count(T_RETRIED);
    yield* reclaimPass(f.task);
    r = yield* speculative(f, GFP_SPF_NOMEMALLOC);
  }
  return r === RETRY || r === FAULT_OOM ? yield* fallBack(f) : r;
}

export function* spfFallback(f: FaultContext): Path {
  const r = yield* speculative(f, null);
  return r === RETRY ? yield* fallBack(f) : r;
}

export function* perVmaLock(f: FaultContext): Path {
  rcuReadLock(f.task);
  const usable = f.vma() !== null && !f.writerActive();
  const seq = f.seq();
  rcuReadUnlock(f.task);
  if (!usable) return yield* fallBack(f);
  if (!(yield* allocTables(f, GFP_PGTABLE_USER, true, seq))) {
    f.count(T_FAULT_OOM);
    return FAULT_OOM;
  }
  const page = yield* dataPage(f, true, seq);
  if (page >= 0) f.count(T_SPEC_DONE);
  return page;
}

export const BUILTIN_POLICIES: Readonly<Record<string, FaultPolicy>> = {
  classic: classicFault,
  'spf-nowait': spfNowait,
  'spf-nomemalloc-retry': spfNomemallocRetry,
  'spf-fallback': spfFallback,
  'per-vma-lock': perVmaLock,
};
