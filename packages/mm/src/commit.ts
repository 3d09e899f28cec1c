// commit: between windows, the mm module's commit worker (worker 0, or another one: the module declares
// parallelCommit, so it runs beside worker 0's commits) applies every CPU's page-table log in (time, CPU, sequence)
// order. It touches only the module's shared memory; the pages it frees go through CommitFrees, which worker 0
// replays in the same order at the module's place in the round's commits.
// - An install of an entry someone installed first loses, as when the kernel re-checks under the page-table lock:
//   its page is freed at once (pte_free).
// - A speculative install whose address space changed since the fault read its sequence count (a writer took
//   mmap_lock for write, mapped or unmapped), or whose address is no longer mapped, is aborted: its page is freed
//   and the fault counts as aborted; the address stays unmapped, so the next touch faults again.
// - munmap detaches the VMA under mmap_lock for write (K_MUNMAP_DETACH: from then on no fault finds it), and once
//   it has zapped under the downgraded lock (K_MUNMAP) frees its data pages and sends the page tables wholly inside
//   it back to the unmapping CPU in the batches its task allocated (tlb_remove_table), which that CPU frees through
//   RCU with their batch pages; the tables beyond the last batch go with it. When a batch page could not be had, or
//   the machine frees tables natively (after the TLB flush, no grace period), the tables are freed at once
//   (tlb_remove_table_one; native_tlb_remove_table). A file page (FILE_PAGE_PFN) is the file's and the zero page
//   (ZERO_PAGE_PFN) the kernel's: neither is freed here.
// - A write fault's copy of the zero page replaces its entry (wp_page_copy); a second copy of the same entry loses.
// - When every task of an address space (those naming it in args.mm) has been OOM-killed, it is torn down as
//   exit_mmap does: its page tables are freed (its data pages went with the OOM kill; tables already handed to RCU
//   are freed by RCU).
import { logAppend, logOf, logsInOrder, type CommitFrees } from '@faultline/engine/module';
import type { AddressSpace } from './address-space.js';
import {
  FILE_PAGE_PFN,
  K_EXIT,
  K_COPY,
  K_INSTALL,
  K_MMAP,
  K_MUNMAP,
  K_MUNMAP_DETACH,
  K_WRITE_BEGIN,
  K_TABLE_BATCH,
  K_WRITE_END,
  L_F64,
  MAX_TABLE_BATCH,
  MUNMAP_TABLES_NOW,
  batchEnd,
  L_FLAGS,
  L_KEY,
  L_KIND,
  L_MM,
  L_PFN,
  L_TASK,
  L_TIME,
  T_RACES_LOST,
  T_SPEC_ABORTED,
  TASK_F64,
  VMA_ANON_VMA,
  ZERO_PAGE_PFN,
  type MmLayout,
} from './layout.js';
import { LEVEL_PAGE, keyAddress, keyLevel } from './page-table.js';

const PAGE_BYTES = 4096;

export class MmCommitter {
  private readonly order: number[] = [];
  /** Per CPU, the batch pages its unmapping task allocated for the munmap that follows in its log. */
  private readonly batches: number[][];
  /** Per CPU, whether its unmapping task's VMA was there when it detached it (null: no detach pending). */
  private readonly detached: Array<boolean | null>;
  mmapFailures = 0;

  constructor(
    private readonly m: Float64Array,
    private readonly L: MmLayout,
    private readonly spaces: AddressSpace[],
    private readonly node: CommitFrees,
    /** Tasks per address space that name it (args.mm); counted down as they are killed. */
    private readonly members: number[],
  ) {
    this.batches = Array.from({ length: L.cpus }, () => []);
    this.detached = new Array<boolean | null>(L.cpus).fill(null);
  }

  /** Count for the task (word -1: nothing). */
  private count(task: number, word: number): void {
    if (word >= 0) this.m[this.L.taskOffset + task * TASK_F64 + word]!++;
  }

  commit(): boolean {
    const { m, L } = this;
    const slots = logsInOrder(m, L.logOffset, L.logStride, L.cpus, L_F64, L_TIME, this.order);
    for (const s of slots) {
      const cpu = logOf(s, L.logOffset, L.logStride);
      const as = this.spaces[m[s + L_MM]!]!;
      const task = m[s + L_TASK]!;
      const key = m[s + L_KEY]!;
      const pfn = m[s + L_PFN]!;
      switch (m[s + L_KIND]) {
        case K_INSTALL:
        case K_COPY: {
          const flags = m[s + L_FLAGS]!;
          // Per-VMA: stale only if its own VMA went away; speculative: if the address space changed at all.
          const stale = flags < 0 ? !as.hasVmaGen(-flags - 1) : flags % 2 === 1 && Math.floor(flags / 2) !== as.seq;
          const page = keyLevel(key) === LEVEL_PAGE;
          const copy = m[s + L_KIND] === K_COPY;
          if (stale || (page && as.vmaOf(keyAddress(key)) === null)) {
            // Someone's install of the entry wins over the abort (as the kernel's re-check under the lock does); the
            // zero page a copy set out to replace is no one's win.
            this.release(cpu, pfn);
            const found = as.tables.get(key);
            const taken = found >= 0 && !(copy && found === ZERO_PAGE_PFN);
            this.count(task, taken ? T_RACES_LOST : page ? T_SPEC_ABORTED : -1);
          } else if (copy) {
            if (as.tables.get(key) === ZERO_PAGE_PFN) {
              // wp_page_copy: the copy replaces the zero page (pte_same held under the PTE lock).
              as.tables.remove(key);
              as.tables.insertIfAbsent(key, pfn);
              as.setFlag(keyAddress(key), VMA_ANON_VMA);
            } else {
              // Another copy (or an unmap) changed the entry first: the kernel frees its page and faults again.
              this.release(cpu, pfn);
              this.count(task, T_RACES_LOST);
            }
          } else if (as.tables.insertIfAbsent(key, pfn) >= 0) {
            // Someone installed first (a read's zero page among them): pte_none failed under the PTE lock.
            this.release(cpu, pfn);
            this.count(task, T_RACES_LOST);
          } else if (page && pfn !== ZERO_PAGE_PFN) as.setFlag(keyAddress(key), VMA_ANON_VMA); // anon_vma_prepare ran
          break;
        }
        case K_MMAP:
          as.bumpSeq();
          if (!as.map(key, key + pfn * PAGE_BYTES, m[s + L_FLAGS]!)) this.mmapFailures++;
          break;
        case K_EXIT:
          if (--this.members[m[s + L_MM]!]! === 0) this.tearDown(as, cpu);
          break;
        case K_TABLE_BATCH:
          this.batches[cpu]!.push(pfn);
          break;
        case K_MUNMAP_DETACH:
          as.bumpSeq();
          this.detached[cpu] = as.unmap(key, key + pfn * PAGE_BYTES);
          break;
        case K_MUNMAP: {
          as.bumpSeq();
          const batches = this.batches[cpu]!;
          const was = this.detached[cpu];
          this.detached[cpu] = null;
          if (was ?? as.unmap(key, key + pfn * PAGE_BYTES))
            this.unmapTables(as, cpu, key, key + pfn * PAGE_BYTES, m[s + L_FLAGS] === MUNMAP_TABLES_NOW, batches);
          else for (const b of batches) this.node.free(cpu, b);
          batches.length = 0;
          break;
        }
        case K_WRITE_BEGIN:
          as.bumpSeq();
          as.writer = true;
          as.writeLock(key, key + pfn * PAGE_BYTES);
          break;
        case K_WRITE_END:
          as.bumpSeq();
          as.writer = false;
          as.writeUnlockAll();
          break;
      }
    }
    return slots.length > 0;
  }

  /** exit_mmap: every VMA and page table goes (free_pgtables, in key order); data pages were freed with their
   * tasks. */
  private tearDown(as: AddressSpace, cpu: number): void {
    for (const pfn of as.tables.allTablePfns()) this.node.free(cpu, pfn);
    as.tables.clear();
  }

  /** Free a data page that is the node's: a file's page stays with the file, and the zero page is never freed. */
  private release(cpu: number, pfn: number): void {
    if (pfn !== FILE_PAGE_PFN && pfn !== ZERO_PAGE_PFN) this.node.free(cpu, pfn);
  }

  /** The RCU ring of `cpu` gets each batch as its tables' pfns and then batchEnd(batch page, or -1 for none). */
  private unmapTables(
    as: AddressSpace,
    cpu: number,
    start: number,
    end: number,
    now: boolean,
    batches: number[],
  ): void {
    const ring = this.L.rcuOffset + cpu * this.L.rcuStride;
    const push = (v: number) => {
      const s = logAppend(this.m, ring, this.L.slots, 1);
      if (s < 0) throw new Error(`more than ${this.L.slots} page tables freed in one window on cpu ${cpu}`);
      this.m[s] = v;
    };
    let b = 0;
    let inBatch = 0;
    for (const key of as.tables.keysWithin(start, end)) {
      const pfn = as.tables.remove(key);
      if (keyLevel(key) === LEVEL_PAGE) this.release(cpu, pfn);
      else if (now) this.node.free(cpu, pfn);
      else {
        if (inBatch === MAX_TABLE_BATCH && b < batches.length - 1) {
          push(batchEnd(batches[b++]!));
          inBatch = 0;
        }
        push(pfn);
        inBatch++;
      }
    }
    if (inBatch > 0) push(batchEnd(batches[b++] ?? -1));
    // Batch pages allocated for tables that someone else's munmap freed meanwhile: freed with an empty batch.
    while (b < batches.length) push(batchEnd(batches[b++]!));
  }
}
