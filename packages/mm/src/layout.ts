// layout: the mm module's shared memory, one Float64Array: per address space a header, its VMAs and its page-table
// hash (written only by the commit); per CPU a log of installs and mmap changes and a ring of page tables to free
// through RCU; per task its fault counters (written only by the task's CPU).
import { logStride as ringStride } from '@faultline/engine/module';
import { pageTableWords } from './page-table.js';

// Address space header
export const MM_SEQ = 0; // bumped when a writer takes mmap_lock for write, maps, unmaps, and releases it
export const MM_WRITER = 1; // 1 while a writer holds mmap_lock for write (as seen at the last commit)
export const MM_VMAS = 2; // VMAs in use
export const MM_PGD = 3; // the PGD's pfn
export const MM_VMA_GEN = 4; // the last VMA generation handed out (each new VMA gets the next)
export const MM_HEADER_F64 = 8;
// VMA slot: [start, end), flags and its generation (unique in the address space); end 0 marks a free slot.
export const VMA_START = 0;
export const VMA_END = 1;
export const VMA_FLAGS = 2;
export const VMA_GEN = 3;
export const VMA_F64 = 4;
/** VMA flag: a shared mapping of a file whose pages are resident (tmpfs without swap): a fault maps the file's page
 * and allocates nothing but page tables. */
export const VMA_FILE = 1;
/** VMA flag: an anonymous VMA has its anon_vma (set by its first fault's install, which in the kernel prepared it
 * under mmap_lock: lock_vma_under_rcu refuses an anonymous VMA without one). */
export const VMA_ANON_VMA = 2;
/** VMA flag: write-locked by a writer holding mmap_lock for write (vma_start_write; vm_lock_seq equal to the mm's
 * mm_lock_seq) until it releases it (mmap_write_unlock -> vma_end_write_all), as of the last commit. */
export const VMA_WRITE_LOCKED = 4;
/** The pfn recorded for a file page in the page tables: the file's pages are not this zone's to free. */
export const FILE_PAGE_PFN = 2 ** 40;
/** The pfn recorded for the zero page (my_zero_pfn): what an anonymous read fault maps, read-only, allocating
 * nothing; a later write to it faults again and copies it (wp_page_copy). Never freed, never counted in RSS. */
export const ZERO_PAGE_PFN = 2 ** 40 + 1;

// Per-CPU log entry (a log-ring of the engine; the sequence is the position): [timeNs, kind, task, mm, key or
// start, pfn or pages, flags]
export const L_TIME = 0;
export const L_KIND = 1;
export const L_TASK = 2;
export const L_MM = 3;
export const L_KEY = 4;
export const L_PFN = 5;
export const L_FLAGS = 6;
export const L_F64 = 7;
export const K_INSTALL = 1; // key, pfn, flags = installFlags(...)
export const K_MMAP = 2; // key = start, pfn = pages, flags = VMA flags
export const K_MUNMAP = 3; // key = start, pfn = pages
export const K_WRITE_BEGIN = 4; // key = start, pfn = pages of the range whose VMAs it write-locks
export const K_WRITE_END = 5;
export const K_EXIT = 7; // a task of the address space was killed
export const K_TABLE_BATCH = 6; // key = the munmap's start, pfn = a tlb_remove_table batch page
export const K_MUNMAP_DETACH = 8; // key = start, pfn = pages: the VMA leaves the tree (before the downgrade)
export const K_COPY = 9; // key, pfn, flags as K_INSTALL: a write fault's copy of the zero page (wp_page_copy)
/** The munmap's flags when its batch page could not be allocated: its tables are freed at once (tlb_remove_table_one). */
export const MUNMAP_TABLES_NOW = 1;
/** Page tables one batch page holds (MAX_TABLE_BATCH: a page of pointers less the batch's header). */
export const MAX_TABLE_BATCH = 509;

/** The ring's end-of-batch marker for a batch page (or -1, none): negative, so never a pfn. */
export function batchEnd(batchPfn: number): number {
  return -(batchPfn + 2);
}

/** The batch page an end-of-batch marker names, or -1. */
export function batchPage(marker: number): number {
  return -marker - 2;
}

/** An install's flags: 0 under mmap_lock; checked against the address space's sequence count (speculative); or
 * against the generation of the VMA it was read-locked in (a per-VMA-lock fault). */
export function installFlags(speculative: boolean, seqSeen: number, vmaGen: number): number {
  if (!speculative) return 0;
  return vmaGen >= 0 ? -(1 + vmaGen) : 1 + 2 * seqSeen;
}

// Per task
export const T_FAULTS = 0;
export const T_SPEC_DONE = 1;
export const T_SPEC_ABORTED = 2;
export const T_FELL_BACK = 3;
export const T_RETRIED = 4;
export const T_TABLES = 5;
export const T_TABLE_FAILS = 6;
export const T_SEGV = 7;
export const T_RACES_LOST = 8;
export const T_FAULT_OOM = 9;
export const T_FAULT_NS = 10;
export const T_PAGES = 11;
export const T_CLASSIC = 12;
export const T_FILE_PAGES = 13;
/** Anonymous read faults that mapped the zero page, and write faults that replaced it with a page of their own. */
export const T_ZERO_PAGES = 14;
export const T_ZERO_COPIES = 15;
export const TASK_F64 = 16;
export const TASK_COUNTERS = [
  'faults',
  'speculativeDone',
  'speculativeAborted',
  'fellBack',
  'retried',
  'tablePages',
  'tableAllocFailures',
  'segv',
  'installRacesLost',
  'faultOom',
  'faultNs',
  'dataPages',
  'classic',
  'filePages',
] as const;
/** Counters a task's report has only where they are not 0, by name, with their words (a run without anonymous read
 * faults reports what it did before the zero page was modelled). */
export const TASK_COUNTERS_IF_USED = { zeroPages: T_ZERO_PAGES, zeroPageCopies: T_ZERO_COPIES } as const;

export interface MmLayout {
  readonly mms: number;
  readonly vmaSlots: number;
  readonly tableSlots: number;
  readonly mmStride: number;
  readonly cpus: number;
  readonly slots: number;
  readonly logOffset: number;
  readonly logStride: number;
  readonly rcuOffset: number;
  readonly rcuStride: number;
  readonly taskOffset: number;
  readonly f64: number;
}

export function mmLayout(
  mms: number,
  vmaSlots: number,
  tableSlots: number,
  cpus: number,
  tasks: number,
  slots: number,
): MmLayout {
  const mmStride = MM_HEADER_F64 + vmaSlots * VMA_F64 + pageTableWords(tableSlots);
  const logOffset = mms * mmStride;
  const logStride = ringStride(slots, L_F64);
  const rcuOffset = logOffset + cpus * logStride;
  const rcuStride = ringStride(slots, 1);
  const taskOffset = rcuOffset + cpus * rcuStride;
  const f64 = taskOffset + tasks * TASK_F64;
  return {
    mms,
    vmaSlots,
    tableSlots,
    mmStride,
    cpus,
    slots,
    logOffset,
    logStride,
    rcuOffset,
    rcuStride,
    taskOffset,
    f64,
  };
}

export const mmBase = (L: MmLayout, mm: number) => mm * L.mmStride;
export const vmaBase = (L: MmLayout, mm: number) => mm * L.mmStride + MM_HEADER_F64;
export const tableBase = (L: MmLayout, mm: number) => mm * L.mmStride + MM_HEADER_F64 + L.vmaSlots * VMA_F64;
